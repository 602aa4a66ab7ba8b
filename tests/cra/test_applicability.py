"""Annex I applicability through the services: every point of a release with what the pinned mapping brings,
recording a point (and every refusal, with nothing written), who may, and copying points to a new release."""

from __future__ import annotations

import io
import json
import re

import pytest
from flask import Flask, get_template_attribute
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.cli import cli
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
from tests.cra.fixtures_points import (
    AUDITOR,
    DEVELOPER,
    OFFICER,
    STRANGER,
    Plc,
    cra_events,
    make_plc,
    written,
)
from tests.factories import OPERATOR, ApiClient, attach, csrf_token, login, make_release, statements

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
    assert not sm9.met and sm9.detail == "no evidence" and sm9.standard == "IEC 62443-4-1"
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
    _record(session, plc, "I.2a", evidence_ids=[plc.product_evidence.id, plc.scoped_evidence.id])
    release_points(session, plc.officer, plc.release.id)  # coverage and the claims summary are kept
    with statements(app) as few:
        release_points(session, plc.officer, plc.release.id)
    for ref in ("I.2b", "I.2c", "II.1", "II.2"):
        linked = [plc.product_evidence.id, plc.organisation_evidence.id, plc.scoped_evidence.id]
        _record(session, plc, ref, evidence_ids=linked)
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


# --- the doors -------------------------------------------------------------------------------------------------


def _form(client: FlaskClient, path: str, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "applicable": "yes",
        "justification": "",
        "measures": "Hardened defaults (SG-3).",
        "csrf_token": csrf_token(client, path),
    }
    form.update(changes)
    return form


def test_the_point_page_shows_the_mapping_and_records_the_point(
    client: FlaskClient, session: Session, plc: Plc
) -> None:
    session.commit()
    path = f"/releases/{plc.release.id}/cra/points/I.2b"
    login(client, OFFICER)
    page = client.get(path).get_data(as_text=True)
    assert "Annex I Part I (2)(b)" in page and "IEC 62443-4-2 CR 7.4" in page and "IEC 62443-4-1 SR-3" in page
    assert "the reset to the original secure state of 2b" in page  # CR 7.4's rationale
    assert "mapped requirements met" in page and 'name="applicable"' in page
    assert f"#{plc.product_evidence.id} Data minimisation review" in page
    assert f"#{plc.foreign_evidence.id} " not in page and f"#{plc.other_release_evidence.id} " not in page
    form = _form(client, path, evidence_ids=[str(plc.product_evidence.id), str(plc.scoped_evidence.id)])
    saved = client.post(path, data=form)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(path)
    view = point_view(session, plc.officer, plc.release.id, "I.2b")
    assert view.assessed and view.measures == "Hardened defaults (SG-3)."
    assert [e.id for e in view.linked] == sorted([plc.product_evidence.id, plc.scoped_evidence.id])
    shown = client.get(path).get_data(as_text=True)
    assert "recorded by user:officer@plc.example" in shown and "1.0 pen test" in shown


@pytest.mark.parametrize(
    ("ref", "changes", "shown"),
    [
        ("II.5", {"applicable": "no", "justification": "We do not disclose."}, "cannot be marked not applicable"),
        ("I.1", {"applicable": "no", "justification": "n/a"}, "Part I (1) applies to every product"),
        ("I.2g", {"applicable": "no", "justification": ""}, "needs a justification (Art. 13(4))"),
        ("I.2g", {"applicable": ""}, "Say whether the point applies."),
        ("I.2g", {"measures": "x" * 10_001}, "Field cannot be longer than 10000 characters."),
        ("I.2g", {"evidence_ids": ["999999"]}, "&#39;999999&#39; is not a valid choice"),
    ],
)
def test_a_refused_point_form_shows_why_and_writes_nothing(
    client: FlaskClient, session: Session, plc: Plc, ref: str, changes: dict[str, object], shown: str
) -> None:
    session.commit()
    before = written(session)
    path = f"/releases/{plc.release.id}/cra/points/{ref}"
    login(client, OFFICER)
    response = client.post(path, data=_form(client, path, **changes))
    assert response.status_code == 422 and shown in response.get_data(as_text=True)
    assert written(session) == before


def test_evidence_of_another_product_is_refused_on_the_page(client: FlaskClient, session: Session, plc: Plc) -> None:
    # An item linked before that no longer covers the release is offered, and saving says why it cannot stay.
    session.commit()
    point = _record(session, plc, "I.2a", evidence_ids=[plc.scoped_evidence.id])
    review_evidence(session, plc.officer, plc.scoped_evidence.id, accept=True)
    assert point_view(session, plc.officer, plc.release.id, "I.2a").linked_accepted == 1
    plc.scoped_evidence.current.release_links[0].release_id = plc.release.id - 1  # now names 0.9 only
    session.commit()
    (linked,) = point_view(session, plc.officer, plc.release.id, "I.2a").linked
    assert linked.state == "accepted" and not linked.covers and not linked.accepted  # it shows nothing of 1.0
    before = written(session)
    path = f"/releases/{plc.release.id}/cra/points/I.2a"
    login(client, OFFICER)
    page = client.get(path).get_data(as_text=True)
    assert (
        f"#{plc.scoped_evidence.id} 1.0 pen test (does not cover 1.0)" in page and "does not cover 1.0</span>" in page
    )
    response = client.post(path, data=_form(client, path, evidence_ids=[str(plc.scoped_evidence.id)]))
    assert f"#{plc.scoped_evidence.id} covers other releases of PLC, not 1.0" in response.get_data(as_text=True)
    assert written(session) == before and point.id


def test_readers_see_the_point_without_the_form_and_cannot_post(
    client: FlaskClient, session: Session, plc: Plc
) -> None:
    session.commit()
    path = f"/releases/{plc.release.id}/cra/points/II.5"
    for email in (DEVELOPER, AUDITOR):
        reader = client.application.test_client()
        login(reader, email)
        page = reader.get(path).get_data(as_text=True)
        assert "Every Part II duty applies to every product" in page and 'name="applicable"' not in page
        assert reader.post(path, data=_form(reader, path)).status_code == 403
    stranger = client.application.test_client()
    login(stranger, STRANGER)
    assert stranger.get(path).status_code == 404
    login(client, OFFICER)
    assert client.get(f"/releases/{plc.release.id}/cra/points/I.3").status_code == 404
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'<input disabled[^>]*value="no"|<input[^>]*value="no"[^>]*disabled', page)


def test_the_points_table_macro(app: Flask, session: Session, plc: Plc) -> None:
    _record(session, plc, "I.2g", applicable=False, justification="Holds no personal data.")
    _record(session, plc, "I.2a", evidence_ids=[plc.product_evidence.id, plc.organisation_evidence.id])
    points = release_points(session, plc.officer, plc.release.id)
    with app.test_request_context():
        table = get_template_attribute("cra/_points.html", "points_table")(points, plc.release, True)
    rows = table.split("<tr>")[2:]
    assert len(rows) == 22
    i2a = next(row for row in rows if "Annex I Part I (2)(a)" in row)
    assert "applicable" in i2a and "Releases ship only with no known" in i2a and "2 linked, 1 accepted" in i2a
    assert re.search(r"0 of \d+ mapped requirements met", i2a)
    assert f'href="/releases/{plc.release.id}/cra/points/I.2a"' in i2a
    i2g = next(row for row in rows if "Annex I Part I (2)(g)" in row)
    assert "not applicable" in i2g and "Holds no personal data." in i2g and "needs other evidence" in i2g
    assert "none mapped" in i2g
    ii5 = next(row for row in rows if "Annex I Part II (5)" in row)
    assert "not assessed" in ii5 and "always applies" in ii5


def test_points_through_the_api(api: ApiClient, session: Session, plc: Plc) -> None:
    session.commit()
    base = f"/api/v1/releases/{plc.release.id}/cra/points"
    officer, auditor = api.as_user(OFFICER), api.as_user(AUDITOR)
    listed = api.call("GET", base, auditor).get_json()
    assert [p["ref"] for p in listed["items"]] == list(rules.ANNEX_I_POINTS)
    body = {"applicable": True, "measures": "Signed updates.", "evidence_ids": [plc.product_evidence.id]}
    put = api.call("PUT", f"{base}/II.7", officer, json=body)
    assert put.status_code == 200, put.get_data(as_text=True)
    point = put.get_json()
    assert point["assessed"] and point["measures"] == "Signed updates." and point["linked_accepted"] == 1
    assert {"SM-8", "SUM-4", "CR 3.10"} <= {m["ref"] for m in point["mapped"]}
    assert api.call("GET", f"{base}/II.7", auditor).get_json() == point
    assert api.call("GET", f"{base}/I.3", auditor).status_code == 404
    before = written(session)
    for ref, changes, status, fragment in (
        ("II.5", {"applicable": False, "justification": "No CVD."}, 422, "cannot be marked not applicable"),
        ("I.2g", {"applicable": False}, 422, "needs a justification"),
        ("I.2g", {"applicable": "no"}, 422, "applicable"),
        ("I.3", {}, 422, "'I.3' is not an Annex I point"),
        ("I.2a", {"evidence_ids": [plc.foreign_evidence.id]}, 422, f"#{plc.foreign_evidence.id} is not an evidence"),
        ("I.2a", {"evidence_ids": [plc.other_release_evidence.id]}, 422, "covers other releases of PLC, not 1.0"),
        ("I.2a", {"rationale": "x"}, 422, "rationale"),
    ):
        response = api.call("PUT", f"{base}/{ref}", officer, json={**body, **changes})
        assert response.status_code == status and response.content_type == "application/problem+json", ref
        problem = response.get_json()
        assert fragment in json.dumps(problem), problem
    for email, status in ((DEVELOPER, 403), (AUDITOR, 403), (STRANGER, 404)):
        assert api.call("PUT", f"{base}/I.2a", api.as_user(email), json=body).status_code == status
    assert written(session) == before


def test_points_on_the_command_line(app: Flask, session: Session, plc: Plc) -> None:
    session.commit()
    runner = app.test_cli_runner()
    listed = runner.invoke(cli, ["cra", "points", "PLC", "1.0"])
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == 22, listed.output
    assert "I.2g  not assessed" in listed.output and "needs other evidence" in listed.output
    recorded = runner.invoke(
        cli,
        [
            "cra", "point", "PLC", "1.0", "I.2m", "--applicable", "--measures", "Factory reset wipes keys.",
            "--evidence", str(plc.product_evidence.id), "--evidence", str(plc.organisation_evidence.id),
            "--as", OFFICER,
        ],
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    assert "I.2m Annex I Part I (2)(m)" in recorded.output and "measures: Factory reset wipes keys." in recorded.output
    # What is not given stays as recorded.
    changed = runner.invoke(cli, ["cra", "point", "PLC", "1.0", "I.2m", "--applicable", "--json"])
    assert changed.exit_code == 0, changed.output
    point = json.loads(changed.output)
    assert point["measures"] == "Factory reset wipes keys." and len(point["linked"]) == 2
    shown = runner.invoke(cli, ["cra", "points", "PLC", "1.0", "--json"])
    assert [p["ref"] for p in json.loads(shown.output)] == list(rules.ANNEX_I_POINTS)
    before = written(session)
    for arguments, message in (
        (["II.5", "--not-applicable", "--justification", "No CVD."], "(applicable: Annex I Part II (5) applies"),
        (["I.2g", "--not-applicable"], "(justification: a point marked not applicable needs a justification"),
        (["I.2a", "--applicable", "--evidence", str(plc.foreign_evidence.id)], f"#{plc.foreign_evidence.id} is not"),
        (["I.2a", "--measures", "x"], "error: say --applicable or --not-applicable to record the point"),
        (["I.2a", "--applicable", "--as", DEVELOPER], "error: a developer may not do this"),
        (["I.3"], "error: 'I.3' is not an Annex I point"),
    ):
        result = runner.invoke(cli, ["cra", "point", "PLC", "1.0", *arguments])
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
        assert result.output.startswith("error: ") and message in result.output, result.output
    assert written(session) == before
