"""Annex I applicability through the services: every point of a release with what the pinned mapping brings,
recording a point (and every refusal, with nothing written), who may, and copying points to a new release."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.cra import rules
from sdl_tracker.cra.applicability import (
    copy_points_forward,
    point_view,
    record_point,
    release_points,
)
from sdl_tracker.cra.models import PointApplicability
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.cra.fixtures_points import Plc, cra_events, make_plc, written
from tests.factories import OPERATOR, attach, make_release, statements

pytestmark = pytest.mark.db


@pytest.fixture
def plc(session: Session) -> Plc:
    return make_plc(session)


def _record(session: Session, plc: Plc, ref: str = "I.2a", **changes: object) -> PointApplicability:
    values: dict[str, object] = {
        "applicable": True,
        "justification": "",
        "measures": "Releases ship only with no known exploitable vulnerability (SVV-3 scans, DM-4 fixes).",
        "evidence_ids": [],
    }
    values.update(changes)
    return record_point(session, plc.officer, plc.release.id, ref, **values)  # type: ignore[arg-type]


# --- reading ---------------------------------------------------------------------------------------------------


def test_a_release_lists_every_point_in_annex_order_with_what_the_mapping_brings(session: Session, plc: Plc) -> None:
    points = release_points(session, plc.auditor, plc.release.id)
    assert [p.ref for p in points] == list(rules.ANNEX_I_POINTS) and len(points) == 22
    by_ref = {p.ref: p for p in points}
    assert all(p.title for p in points) and not any(p.assessed for p in points)
    assert all(p.applicable for p in points)  # not assessed reads as applicable
    assert by_ref["I.2h"].label == "Annex I Part I (2)(h)" and by_ref["I.2h"].title.startswith("Availability")
    assert {ref for ref, p in by_ref.items() if p.always_applicable} == {"I.1", *rules.PART_II}
    flagged = {ref for ref, p in by_ref.items() if p.other_evidence_reason}
    assert flagged == {"I.2g", "I.2m", "II.8"}  # an EDR: its update capability is a 4-2 matter
    assert "data minimisation" in (by_ref["I.2g"].other_evidence_reason or "")
    # The release pins 2026.2: CR 3.6 supports (h) and (k), not (i); SVV-3 also II.1; SR-3 also (b) and (m).
    assert {(m.standard, m.ref) for m in by_ref["I.2h"].mapped} >= {("IEC 62443-4-2", "CR 3.6")}
    assert "CR 3.6" not in {m.ref for m in by_ref["I.2i"].mapped}
    assert {"SVV-3", "SM-9", "DM-2"} <= {m.ref for m in by_ref["II.1"].mapped}
    assert {"SR-3", "CR 7.4", "CR 7.7"} <= {m.ref for m in by_ref["I.2b"].mapped}
    assert by_ref["I.2g"].mapped == ()
    cr36 = next(m for m in by_ref["I.2h"].mapped if m.ref == "CR 3.6")
    assert not cr36.met and cr36.detail == "no claim" and "predetermined state" in cr36.rationale
    sm9 = next(m for m in by_ref["II.1"].mapped if m.ref == "SM-9")
    assert not sm9.met and sm9.detail == "not met: no evidence" and sm9.standard == "IEC 62443-4-1"
    assert by_ref["II.1"].mapped_met == 0 and by_ref["II.1"].linked_accepted == 0


def test_mapped_requirements_are_met_by_coverage_and_by_claims_that_stand(session: Session, plc: Plc) -> None:
    # DM-1's process in place and never exercised: met (II.5, II.6).
    process = attach(session, OPERATOR, None, "Vulnerability intake", kind="process-document", requirements=["DM-1"])
    review_evidence(session, plc.officer, process.id, accept=True)
    tests = create_evidence(
        session,
        OPERATOR,
        product_id=plc.product.id,
        kind="requirements-test",
        data=EvidenceInput(
            title="Output state tests",
            requirements=["CR 3.6"],
            files=[Upload("r.txt", "text/plain", io.BytesIO(b"ok"))],
        ),
    )
    review_evidence(session, plc.officer, tests.id, accept=True)
    set_claim(
        session,
        plc.officer,
        plc.release.id,
        "CR 3.6",
        ClaimInput("implemented", "supplier_test", evidence_ids=[tests.id]),
    )
    set_claim(session, plc.officer, plc.release.id, "CR 7.4", ClaimInput("implemented"))
    by_ref = {p.ref: p for p in release_points(session, plc.officer, plc.release.id)}
    dm1 = next(m for m in by_ref["II.5"].mapped if m.ref == "DM-1")
    assert dm1.met and dm1.detail.startswith("met")
    cr36 = next(m for m in by_ref["I.2h"].mapped if m.ref == "CR 3.6")
    assert cr36.met and cr36.detail == "claim: implemented, counts"
    cr74 = next(m for m in by_ref["I.2b"].mapped if m.ref == "CR 7.4")
    assert not cr74.met and cr74.detail.startswith("claim: implemented, does not count: no verification method")
    assert by_ref["I.2h"].mapped_met == 1 and by_ref["II.5"].mapped_met == 1
    # A CR stated only per component type is claimed on the EDR's item; one that does not apply is left out.
    assert any("EDR 2.4" in m.detail for m in by_ref["I.2f"].mapped if m.ref == "CR 2.4")


def test_reading_the_points_takes_a_fixed_number_of_statements(app: Flask, session: Session, plc: Plc) -> None:
    _record(session, plc, "I.2a", evidence_ids=[plc.product_evidence.id])
    release_points(session, plc.officer, plc.release.id)  # coverage and the claims summary are kept
    with statements(app) as few:
        release_points(session, plc.officer, plc.release.id)
    for ref in ("I.2b", "I.2c", "II.1", "II.2"):
        _record(session, plc, ref, evidence_ids=[plc.product_evidence.id, plc.organisation_evidence.id])
    release_points(session, plc.officer, plc.release.id)
    with statements(app) as many:
        release_points(session, plc.officer, plc.release.id)
    assert len(many) == len(few) <= 12, many


def test_one_point_and_an_unknown_one(session: Session, plc: Plc) -> None:
    view = point_view(session, plc.developer, plc.release.id, "II.5")
    assert view.label == "Annex I Part II (5)" and view.always_applicable
    with pytest.raises(NotFound, match="not an Annex I point"):
        point_view(session, plc.developer, plc.release.id, "I.3")
    with pytest.raises(NotFound):
        point_view(session, plc.stranger, plc.release.id, "II.5")


# --- recording -------------------------------------------------------------------------------------------------


def test_an_officer_records_a_point_with_evidence_and_the_change_is_audited(session: Session, plc: Plc) -> None:
    ids = [plc.product_evidence.id, plc.organisation_evidence.id, plc.scoped_evidence.id, plc.product_evidence.id]
    point = _record(
        session, plc, "I.2g", applicable=False, justification="  Holds no personal data.  ", evidence_ids=ids
    )
    assert not point.applicable and point.justification == "Holds no personal data."
    assert sorted(link.evidence_id for link in point.evidence) == sorted(set(ids))  # duplicates collapse
    view = point_view(session, plc.auditor, plc.release.id, "I.2g")
    assert view.assessed and not view.applicable and view.updated_by == plc.officer.label
    assert [e.id for e in view.linked] == sorted(set(ids)) and view.linked_accepted == 1
    assert {e.id: e.state for e in view.linked}[plc.organisation_evidence.id] == "submitted"
    (event,) = cra_events(session, "cra:point:record")
    assert event.product_id == plc.product.id and event.actor == plc.officer.label
    assert event.details["ref"] == "I.2g" and event.details["applicable"] is False
    assert event.details["evidence_ids"] == sorted(set(ids)) and event.details["release"] == "1.0"
    assert event.details["changed"] == ["applicable", "justification", "measures", "evidence_ids"]

    # The same again writes and audits nothing; a change replaces the linked evidence and says what changed.
    before = written(session)
    _record(session, plc, "I.2g", applicable=False, justification="Holds no personal data.", evidence_ids=ids)
    assert written(session) == before
    _record(
        session, plc, "I.2g", applicable=False, justification="Holds no personal data.",
        evidence_ids=[plc.scoped_evidence.id, plc.organisation_evidence.id],
    )  # fmt: skip
    changed = cra_events(session, "cra:point:record")[-1]
    assert changed.details["changed"] == ["evidence_ids"]
    assert [e.id for e in point_view(session, plc.officer, plc.release.id, "I.2g").linked] == sorted(
        [plc.scoped_evidence.id, plc.organisation_evidence.id]
    )


@pytest.mark.parametrize(
    ("ref", "changes", "field", "fragment"),
    [
        ("I.1", {"applicable": False, "justification": "No."}, "applicable", "Part I (1) applies to every product"),
        ("II.5", {"applicable": False, "justification": "No CVD."}, "applicable", "Part II (5) applies to every"),
        ("II.8", {"applicable": False, "justification": "Paid."}, "applicable", "cannot be marked not applicable"),
        ("I.2g", {"applicable": False, "justification": "  \n "}, "justification", "needs a justification"),
        ("I.3", {}, "ref", "'I.3' is not an Annex I point"),
        ("I.2a", {"measures": "x" * 10_001}, "measures", "at most 10,000 characters"),
        ("I.2a", {"evidence_ids": [2**31 - 1]}, "evidence_ids", "is not an evidence item of PLC"),
        ("I.2a", {"evidence_ids": [2**40]}, "evidence_ids", "is not an evidence item of PLC"),
    ],
)
def test_refused_points_write_nothing(
    session: Session, plc: Plc, ref: str, changes: dict[str, object], field: str, fragment: str
) -> None:
    before = written(session)
    with session.begin_nested(), pytest.raises(Invalid) as caught:
        _record(session, plc, ref, **changes)
    assert fragment in caught.value.one_line() and caught.value.errors[0].field == field, caught.value.one_line()
    assert written(session) == before


def test_evidence_of_another_product_or_release_is_refused_by_its_id(session: Session, plc: Plc) -> None:
    _record(session, plc, "I.2a", evidence_ids=[plc.product_evidence.id])
    before = written(session)
    for evidence, fragment in (
        (plc.foreign_evidence, f"evidence #{plc.foreign_evidence.id} is not an evidence item of PLC"),
        (
            plc.other_release_evidence,
            f"evidence #{plc.other_release_evidence.id} covers other releases of PLC, not 1.0",
        ),
    ):
        with session.begin_nested(), pytest.raises(Invalid) as caught:
            _record(session, plc, "I.2a", evidence_ids=[plc.product_evidence.id, evidence.id])
        assert fragment in caught.value.one_line()
    assert written(session) == before
    linked = point_view(session, plc.officer, plc.release.id, "I.2a").linked
    assert [e.id for e in linked] == [plc.product_evidence.id]


def test_only_the_products_officers_record_points(session: Session, plc: Plc) -> None:
    before = written(session)
    for actor, error in ((plc.developer, Forbidden), (plc.auditor, Forbidden), (plc.stranger, NotFound)):
        with session.begin_nested(), pytest.raises(error):
            record_point(
                session, actor, plc.release.id, "I.2a",
                applicable=True, justification="", measures="x", evidence_ids=[],
            )  # fmt: skip
    assert written(session) == before


# --- a new release ---------------------------------------------------------------------------------------------


def test_a_new_release_starts_with_the_previous_points_and_the_evidence_that_still_holds(
    session: Session, plc: Plc
) -> None:
    kept = [plc.product_evidence.id, plc.organisation_evidence.id]
    _record(session, plc, "I.2a", evidence_ids=[*kept, plc.scoped_evidence.id])
    _record(session, plc, "I.2g", applicable=False, justification="Holds no personal data.")
    later = make_release(session, plc.product, "1.1")
    copy_points_forward(session, release=later, actor=OPERATOR)
    points = {p.ref: p for p in release_points(session, plc.officer, later.id) if p.assessed}
    assert set(points) == {"I.2a", "I.2g"}
    assert [e.id for e in points["I.2a"].linked] == sorted(kept)  # 1.0's pen test does not cover 1.1
    assert not points["I.2g"].applicable and points["I.2g"].justification == "Holds no personal data."
    assert points["I.2a"].updated_by == "copied from 1.0"
    (event,) = cra_events(session, "cra:point:copy")
    assert event.details == {"from": "1.0", "points": ["I.2a", "I.2g"], "evidence_not_carried": 1}
    # Copying again (the signal sent twice) changes nothing.
    before = written(session)
    copy_points_forward(session, release=later, actor=OPERATOR)
    assert written(session) == before
    assert session.scalars(select(PointApplicability).where(PointApplicability.release_id == plc.release.id)).all()
