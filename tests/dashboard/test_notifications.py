"""Notifications: review requests to those who may review, decisions to who submitted, read with CSRF."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Notification, NotificationKind
from sdl_tracker.accounts.notifications import unread_count
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.claims.review import accept_claim
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence, submit_evidence
from tests.factories import csrf_token, login, make_product, make_release, member


def _draft(session: Session, actor: Principal, product_id: int, *, draft: bool = True) -> int:
    upload = Upload("r.txt", "text/plain", io.BytesIO(b"report"))
    data = EvidenceInput(title="Analysis", requirements=["SI-1"], files=[upload])
    return create_evidence(session, actor, product_id=product_id, kind="static-analysis", data=data, draft=draft).id


def _of(session: Session, actor: Principal) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == actor.user_id)))


def test_submitting_tells_the_products_officers_and_the_decision_tells_the_submitter(session: Session) -> None:
    product, elsewhere = make_product(session), make_product(session)
    officer, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    developer, auditor = member(session, product, "developer"), member(session, product, "auditor")
    foreign_officer = member(session, elsewhere, "security_officer")
    evidence_id = _draft(session, developer, product.id)
    assert not _of(session, officer)  # a draft asks nobody yet
    submit_evidence(session, developer, evidence_id)
    for reviewer in (officer, second):
        (request,) = _of(session, reviewer)
        assert request.kind is NotificationKind.REVIEW_REQUEST and request.subject_id == evidence_id
        assert "awaits review" in request.message and request.actor == developer.label
    assert not _of(session, developer) and not _of(session, auditor) and not _of(session, foreign_officer)
    review_evidence(session, officer, evidence_id, accept=False, reason="no tool version")
    (decision,) = _of(session, developer)
    assert decision.kind is NotificationKind.DECISION and "rejected: no tool version" in decision.message
    assert unread_count(session, developer) == 1


def test_an_officers_own_submission_asks_only_the_others(session: Session) -> None:
    product = make_product(session)
    officer, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    _draft(session, officer, product.id, draft=False)
    assert not _of(session, officer) and len(_of(session, second)) == 1


def test_a_decision_awaiting_acceptance_asks_the_other_officers(session: Session) -> None:
    product = make_product(session)
    release = make_release(session, product, "1.0")
    officer, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    data = ClaimInput("not_applicable", justification="no serial", override_reason="no serial port")
    set_claim(session, officer, release.id, "CR 7.3", data)
    (request,) = _of(session, second)
    assert (request.subject_type, request.release_id, request.ref) == ("claim", release.id, "CR 7.3")
    assert not _of(session, officer)
    set_claim(session, officer, release.id, "CR 1.1", ClaimInput("implemented"))
    assert len(_of(session, second)) == 1  # an implemented claim awaits nobody
    accept_claim(session, second, release.id, "CR 7.3")
    (decision,) = _of(session, officer)
    assert decision.kind is NotificationKind.DECISION and "was accepted" in decision.message


def test_a_refused_review_leaves_no_notification(client: FlaskClient, session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer", "officer@example.com")
    member(session, product, "developer", "dev@example.com")
    evidence_id = _draft(session, officer, product.id, draft=False)
    session.commit()
    login(client, "officer@example.com")
    token = csrf_token(client, f"/evidence/{evidence_id}")
    response = client.post(f"/evidence/{evidence_id}/review", data={"csrf_token": token, "decision": "accept"})
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Notification)) == 0  # nobody reviews their own


def test_the_page_lists_and_marks_read_with_csrf_audited(client: FlaskClient, session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer", "officer@example.com")
    other = member(session, product, "security_officer", "other@example.com")
    developer = member(session, product, "developer", "dev@example.com")
    first = _draft(session, developer, product.id, draft=False)
    second = _draft(session, developer, product.id, draft=False)
    session.commit()
    login(client, "officer@example.com")
    home = client.get("/").get_data(as_text=True)
    assert 'class="count">2<' in home  # the unread indicator in the navigation
    page = client.get("/notifications").get_data(as_text=True)
    assert f"/evidence/{first}" in page and f"/evidence/{second}" in page
    (mine,) = [n for n in _of(session, officer) if n.subject_id == first]
    assert client.post(f"/notifications/{mine.id}/read").status_code == 400  # no CSRF token
    token = csrf_token(client, "/notifications")
    theirs = next(n for n in _of(session, other) if n.subject_id == first)
    assert client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token}).status_code == 302
    assert unread_count(session, other) == 2  # another user's notification is not theirs to mark
    assert client.post(f"/notifications/{mine.id}/read", data={"csrf_token": token}).status_code == 302
    assert unread_count(session, officer) == 1
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 302
    assert unread_count(session, officer) == 0
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts:notification:read")).all()
    assert [e.details.get("count") for e in events] == [1, 1]
    assert 'class="count"' not in client.get("/").get_data(as_text=True)
