"""Attempts to break the CRA file as a demanding assessor would: each test is one finding of the review, with what
was wrong in its docstring."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from sdl_tracker.cra.applicability import point_view, record_point
from sdl_tracker.cra.completeness import release_file
from sdl_tracker.cra.declarations import UserInformationInput, record_user_information
from sdl_tracker.cra.records import SupportPeriodInput, record_support_period
from sdl_tracker.cra.rules import Area
from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.review import review_evidence
from tests.cra.fixtures_points import Plc, make_plc, written
from tests.factories import OPERATOR, attach

pytestmark = pytest.mark.db


@pytest.fixture
def plc(session: Session) -> Plc:
    return make_plc(session)


def test_evidence_past_its_review_linked_to_a_point_shows_nothing(session: Session, plc: Plc) -> None:
    """A process document accepted long ago and past its review (24 months for its kind) counted as accepted
    evidence behind an Annex I point, so the point read complete, while 4-1 coverage calls the same document
    expired and meets nothing with it."""
    stale = attach(
        session, OPERATOR, plc.product, "2021 data policy", kind="process-document", effective=date(2021, 1, 4)
    )
    review_evidence(session, plc.officer, stale.id, accept=True)
    record_point(
        session, plc.officer, plc.release.id, "I.2g", applicable=True, justification="", measures="Collect only "
        "what the control loop needs.", evidence_ids=[stale.id],
    )  # fmt: skip
    point = point_view(session, plc.auditor, plc.release.id, "I.2g")
    [linked] = point.linked
    assert linked.state == "accepted" and linked.expired and not linked.accepted
    assert point.linked_accepted == 0
    missing = release_file(session, plc.auditor, plc.release.id).missing_in(Area.POINT)
    assert any(m.key == "I.2g" and "needs other evidence" in m.message for m in missing)


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u2060 \u200c", "\u00ad"])
def test_an_invisible_justification_or_reason_is_none(session: Session, plc: Plc, invisible: str) -> None:
    """A point marked not applicable with a justification of zero-width characters (no door refuses them, they are
    not control characters, and `strip()` keeps them) was recorded as justified; likewise a support period under 5
    years with an invisible reason."""
    before = written(session)
    with pytest.raises(Invalid) as refused:
        record_point(
            session, plc.officer, plc.release.id, "I.2g", applicable=False, justification=invisible, measures="",
            evidence_ids=[],
        )  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["justification"]
    assert written(session) == before
    short = SupportPeriodInput(
        date(2026, 1, 1), date(2028, 12, 31), "day", 36, "expected use time", invisible, "on the label"
    )
    with pytest.raises(Invalid) as refused:
        record_support_period(session, plc.officer, plc.product.id, short)
    assert [e.field for e in refused.value.errors] == ["shorter_reason"]
    assert plc.product.support_period_end is None


@pytest.mark.parametrize("state", ["draft", "submitted", "rejected"])
def test_a_user_information_item_counts_only_with_an_accepted_document(session: Session, plc: Plc, state: str) -> None:
    """An Annex II item whose only content was a draft, submitted or rejected document counted as done, so the
    file could read complete on a user manual nobody had accepted."""
    manual = attach(
        session, OPERATOR, plc.product, "Integration guide", kind="guideline-document", draft=state == "draft"
    )
    if state == "rejected":
        review_evidence(session, plc.officer, manual.id, accept=False, reason="Wrong product.")
    record_user_information(session, plc.officer, plc.release.id, {"AII.8f": UserInformationInput("", manual.id)})
    file = release_file(session, plc.auditor, plc.release.id)
    assert "AII.8f" in {m.key for m in file.missing_in(Area.USER_INFORMATION)}
    assert file.user_information_done == 0
    if state == "submitted":  # accepted, it counts
        review_evidence(session, plc.officer, manual.id, accept=True)
        file = release_file(session, plc.auditor, plc.release.id)
        assert "AII.8f" not in {m.key for m in file.missing_in(Area.USER_INFORMATION)}
