"""Coverage views kept per audit chain head: a figure that moves without an audit event (time passing) is
never read from what was kept for another day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from sdl_tracker.audit import services as audit_services
from sdl_tracker.audit.services import chain_head
from sdl_tracker.db import utcnow
from sdl_tracker.evidence.assessment import coverage, organisation_maturity
from sdl_tracker.evidence.coverage import CoverageState
from tests.evidence.test_assessment import _accepted
from tests.factories import OPERATOR, make_product, member


def test_expiry_at_midnight_moves_the_figures_without_an_event(session: Session) -> None:
    today = utcnow().date()
    product = make_product(session, "Kept")
    officer = member(session, product, "security_officer")
    _accepted(session, OPERATOR, officer, None, "process-document", ["SI-1"], review_due=today + timedelta(days=1))
    head = chain_head(session)

    def si1(day):  # type: ignore[no-untyped-def]
        return next(c for c in coverage(session, officer, product.id, None, today=day).cells if c.ref == "SI-1")

    def organisation(day):  # type: ignore[no-untyped-def]
        return {m.practice: m.organisation.level for m in organisation_maturity(session, officer, today=day)}

    assert si1(today).process.state is CoverageState.ACCEPTED
    kept_today = organisation(today)
    later = today + timedelta(days=2)  # the document stopped standing; nothing was recorded meanwhile
    assert si1(later).process.state is not CoverageState.ACCEPTED
    assert chain_head(session) == head
    kept_later = organisation(later)
    audit_services._KEPT.clear()  # judged afresh, nothing kept: the same figures
    assert si1(later).process.state is not CoverageState.ACCEPTED and si1(today).process.state is CoverageState.ACCEPTED
    assert organisation(later) == kept_later and organisation(today) == kept_today
