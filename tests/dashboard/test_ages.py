"""The review queue ages and orders by submission, not by when a revision was written; returned submissions
by decision, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.dashboard.services import Section, my_work
from sdl_tracker.db import utcnow
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, revise_evidence, submit_evidence
from tests.dashboard.test_pages import _page, _section
from tests.factories import attach, login, make_product, member

TODAY = utcnow().date()


def _days_ago(days: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days), time(12), tzinfo=UTC)


def _section_of(sections: list[Section], key: str) -> list[tuple[str, int | None]]:
    (section,) = [s for s in sections if s.key == key]
    return [(item.title, item.age_days) for item in section.items]


def test_the_queue_counts_from_submission_oldest_first(client: FlaskClient, session: Session) -> None:
    product = make_product(session, "Plc")
    officer = member(session, product, "security_officer", "officer@example.com")
    developer = member(session, product, "developer", "dev@example.com")
    drafted = attach(session, developer, product, "Drafted long ago", draft=True)
    waiting = attach(session, developer, product, "Submitted ten days ago")
    edited = attach(session, developer, product, "Edited yesterday")
    drafted.current.created_at = _days_ago(20)  # written 20 days ago, submitted only today
    waiting.current.created_at = waiting.current.submitted_at = _days_ago(10)
    edited.current.created_at = edited.current.submitted_at = _days_ago(30)
    session.flush()
    submit_evidence(session, developer, drafted.id)
    revision = revise_evidence(session, developer, edited.id, data=EvidenceInput(description="tool version named"))
    revision.created_at = revision.submitted_at = _days_ago(1)  # an edit of submitted evidence submits it anew
    session.commit()
    queue = _section_of(my_work(session, officer), "review")
    assert queue == [("Submitted ten days ago", 10), ("Edited yesterday", 1), ("Drafted long ago", 0)]
    login(client, "officer@example.com")
    page = _section(_page(client, "/"), "Awaiting my review")
    assert page.index("Submitted ten days ago") < page.index("Edited yesterday") < page.index("Drafted long ago")
    assert "10 days" in page and "1 day<" in page and "0 days" in page
    detail = client.get(f"/evidence/{drafted.id}").get_data(as_text=True)
    assert f"Submitted by</dt><dd>{developer.label} on {TODAY.isoformat()}" in detail


def test_returned_submissions_come_newest_decision_first(session: Session) -> None:
    product = make_product(session, "Plc")
    officer = member(session, product, "security_officer", "officer@example.com")
    developer = member(session, product, "developer", "dev@example.com")
    early, late = (attach(session, developer, product, title) for title in ("Submitted early", "Submitted late"))
    for evidence, submitted, decided in ((early, 10, 1), (late, 5, 3)):
        revision = review_evidence(session, officer, evidence.id, accept=False, reason="no tool version")
        revision.created_at = revision.submitted_at = _days_ago(submitted)
        revision.reviewed_at = _days_ago(decided)
    session.commit()
    returned = _section_of(my_work(session, developer), "returned")
    assert returned == [("Submitted early", 1), ("Submitted late", 3)]  # aged from the decision
