"""Notifications: review requests to those who may review, decisions to who submitted, read with CSRF."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Notification, NotificationKind
from sdl_tracker.accounts.notifications import unread_count
from sdl_tracker.accounts.services import add_member, find_user, principal_for
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.claims.review import accept_claim
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.scoping import accept_scoping, propose_scoping, withdraw_scoping
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence, revise_evidence, submit_evidence
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member


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
        assert request.message == "Static analysis “Analysis” (revision 1) awaits review"  # the kind by its label
        assert request.actor == developer.label
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
    assert request.message == "CR 7.3 of 1.0: “Not applicable” awaits acceptance"
    assert not _of(session, officer)
    set_claim(session, officer, release.id, "CR 1.1", ClaimInput("implemented"))
    assert len(_of(session, second)) == 1  # an implemented claim awaits nobody
    accept_claim(session, second, release.id, "CR 7.3")
    (decision,) = _of(session, officer)
    assert decision.kind is NotificationKind.DECISION
    assert decision.message == "CR 7.3 of 1.0: “Not applicable” was accepted"


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
    assert 'class="count">1<' in client.get("/").get_data(as_text=True)  # the kept navigation moved with it
    _draft(session, developer, product.id, draft=False)
    session.commit()
    assert 'class="count">2<' in client.get("/").get_data(as_text=True)  # so does a new review request
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 302
    assert unread_count(session, officer) == 0
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts:notification:read")).all()
    assert [e.details.get("count") for e in events] == [1, 2]
    assert 'class="count"' not in client.get("/").get_data(as_text=True)


def _unread_requests(session: Session, subject_type: str, subject_id: int) -> dict[int, bool]:
    """Each recipient's review request about the subject: whether it is still unread."""
    query = select(Notification).where(
        Notification.kind == NotificationKind.REVIEW_REQUEST,
        Notification.subject_type == subject_type,
        Notification.subject_id == subject_id,
    )
    session.expire_all()  # the resolution is a bulk update
    return {n.user_id: n.read_at is None for n in session.scalars(query)}


def test_a_review_resolves_every_officers_request_for_that_item(session: Session) -> None:
    product = make_product(session)
    officers = [member(session, product, "security_officer") for _ in range(3)]
    developer = member(session, product, "developer")
    evidence_id, other_id = _draft(session, developer, product.id, draft=False), _draft(session, developer, product.id)
    submit_evidence(session, developer, other_id)
    assert [unread_count(session, o) for o in officers] == [2, 2, 2]
    review_evidence(session, officers[0], evidence_id, accept=True)
    assert _unread_requests(session, "evidence", evidence_id) == {o.user_id: False for o in officers}
    assert [unread_count(session, o) for o in officers] == [1, 1, 1]  # the other item still awaits them
    assert unread_count(session, developer) == 1  # the decision itself is news to the submitter
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts:notification:resolve"))
    assert (event.target_type, event.target_id) == ("notification", f"evidence:{evidence_id}")
    assert event.details == {"count": 3}
    review_evidence(session, officers[1], other_id, accept=False, reason="no tool version")  # a rejection too
    assert [unread_count(session, o) for o in officers] == [0, 0, 0]


def test_refused_reviews_leave_the_requests_unread(client: FlaskClient, session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer", "officer@example.com")
    second = member(session, product, "security_officer", "second@example.com")
    evidence_id = _draft(session, officer, product.id, draft=False)  # asks the second officer only
    session.commit()
    login(client, "officer@example.com")
    token = csrf_token(client, f"/evidence/{evidence_id}")
    own = client.post(f"/evidence/{evidence_id}/review", data={"csrf_token": token, "decision": "accept"})
    assert own.status_code == 403  # nobody reviews their own
    client.post("/logout", data={"csrf_token": token})
    login(client, "second@example.com")
    token = csrf_token(client, f"/evidence/{evidence_id}")
    reasonless = client.post(f"/evidence/{evidence_id}/review", data={"csrf_token": token, "decision": "reject"})
    assert "a rejection needs a reason" in reasonless.get_data(as_text=True)
    assert _unread_requests(session, "evidence", evidence_id) == {second.user_id: True}
    assert unread_count(session, second) == 1
    accepted = client.post(f"/evidence/{evidence_id}/review", data={"csrf_token": token, "decision": "accept"})
    assert accepted.status_code == 302
    assert _unread_requests(session, "evidence", evidence_id) == {second.user_id: False}
    assert 'class="count"' not in client.get("/").get_data(as_text=True)  # the badge shows no work done


def test_accepting_a_claim_or_a_scoping_out_resolves_the_other_officers_requests(session: Session) -> None:
    product = make_product(session)
    release = make_release(session, product, "1.0")
    setter, first, second = (member(session, product, "security_officer") for _ in range(3))
    data = ClaimInput("not_applicable", justification="no serial", override_reason="no serial port")
    claim_id = set_claim(session, setter, release.id, "CR 7.3", data).id
    assert _unread_requests(session, "claim", claim_id) == {first.user_id: True, second.user_id: True}
    accept_claim(session, first, release.id, "CR 7.3")
    assert _unread_requests(session, "claim", claim_id) == {first.user_id: False, second.user_id: False}
    accepted = propose_scoping(session, setter, product.id, requirement="SM-10", justification="No suppliers")
    withdrawn = propose_scoping(session, setter, product.id, requirement="SM-11", justification="No matrix")
    assert unread_count(session, second) == 2
    accept_scoping(session, second, accepted.id)
    withdraw_scoping(session, setter, withdrawn.id, reason="we do have a matrix")  # awaits nobody now
    for row in (accepted, withdrawn):
        assert _unread_requests(session, "requirement_scoping", row.id) == {first.user_id: False, second.user_id: False}
    assert unread_count(session, first) == 0 and unread_count(session, second) == 0


def test_a_new_revision_resolves_the_requests_about_the_one_it_overtook(client: FlaskClient, session: Session) -> None:
    product = make_product(session)
    officers = [member(session, product, "security_officer", f"officer{n}@example.com") for n in range(2)]
    developer = member(session, product, "developer", "dev@example.com")
    evidence_id = _draft(session, developer, product.id, draft=False)
    assert [unread_count(session, o) for o in officers] == [1, 1]
    revise_evidence(session, developer, evidence_id, data=EvidenceInput(title="Analysis, tool version named"))
    # One request per officer, for the revision that can be reviewed; the first is read, not deleted.
    assert [unread_count(session, o) for o in officers] == [1, 1]
    unread = [n for n in _of(session, officers[0]) if n.read_at is None]
    assert [n.message for n in unread] == ["Static analysis “Analysis, tool version named” (revision 2) awaits review"]
    assert len(_of(session, officers[0])) == 2
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts:notification:resolve"))
    assert (event.target_id, event.details, event.actor) == (f"evidence:{evidence_id}", {"count": 2}, developer.label)
    session.commit()
    # An edit that is refused changes nothing, the requests included (its transaction rolls back).
    login(client, "dev@example.com")
    edit = f"/evidence/{evidence_id}/edit"
    refused = client.post(
        edit,
        data={"csrf_token": csrf_token(client, edit), "title": "", "requirements": "SI-1"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 200 and "This field is required." in refused.get_data(as_text=True)
    assert [unread_count(session, o) for o in officers] == [1, 1]
    assert session.scalar(select(func.count()).where(AuditEvent.action == "accounts:notification:resolve")) == 1


def test_the_api_lists_and_marks_the_token_owners_notifications(api: ApiClient, session: Session) -> None:
    product, elsewhere = make_product(session), make_product(session)
    member(session, product, "security_officer", "officer@example.com")
    other = member(session, product, "security_officer", "other@example.com")
    developer = member(session, product, "developer", "dev@example.com")
    first, second = (_draft(session, developer, product.id, draft=False) for _ in range(2))
    member(session, elsewhere, "security_officer", "officer2@example.com")
    session.commit()
    token = api.as_user("officer@example.com")
    listed = api.call("GET", "/api/v1/notifications", token).get_json()
    assert listed["total"] == 2 and [n["subject_id"] for n in listed["items"]] == [second, first]
    assert {n["kind"] for n in listed["items"]} == {"review-request"} and listed["items"][0]["read_at"] is None
    one = api.call("GET", "/api/v1/notifications?per_page=1&page=2", token).get_json()
    assert [n["subject_id"] for n in one["items"]] == [first] and one["total"] == 2
    mine = listed["items"][1]["id"]
    theirs = next(n.id for n in _of(session, other) if n.subject_id == first)
    assert api.call("POST", f"/api/v1/notifications/{theirs}/read", token).status_code == 404  # not theirs
    assert api.call("POST", "/api/v1/notifications/2147483647/read", token).status_code == 404
    marked = api.call("POST", f"/api/v1/notifications/{mine}/read", token)
    assert marked.status_code == 200 and marked.get_json()["read_at"] is not None
    again = api.call("POST", f"/api/v1/notifications/{mine}/read", token).get_json()
    assert again["read_at"] == marked.get_json()["read_at"]  # already read: as it was, and audited once
    reordered = api.call("GET", "/api/v1/notifications", token).get_json()["items"]
    assert [n["subject_id"] for n in reordered] == [second, first]  # unread first
    assert api.call("POST", "/api/v1/notifications/read", token).get_json() == {"count": 1}
    assert api.call("POST", "/api/v1/notifications/read", token).get_json() == {"count": 0}
    assert unread_count(session, other) == 2  # another user's stay unread
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts:notification:read")).all()
    assert [(e.details.get("count"), e.actor.startswith("token:")) for e in events] == [(1, True), (1, True)]


def test_a_token_narrowed_to_a_product_reads_only_that_products_notifications(api: ApiClient, session: Session) -> None:
    first, second = make_product(session), make_product(session)
    member(session, first, "security_officer", "officer@example.com")
    add_member(session, OPERATOR, second.id, email="officer@example.com", role="security_officer")
    officer = principal_for(session, find_user(session, "officer@example.com"))
    developer = member(session, first, "developer", "dev@example.com")
    add_member(session, OPERATOR, second.id, email="dev@example.com", role="developer")
    developer = principal_for(session, find_user(session, "dev@example.com"))  # with both memberships
    in_first = _draft(session, developer, first.id, draft=False)
    in_second = _draft(session, developer, second.id, draft=False)
    session.commit()
    narrow = api.as_user("officer@example.com", product_ids=[first.id])
    listed = api.call("GET", "/api/v1/notifications", narrow).get_json()
    assert [n["subject_id"] for n in listed["items"]] == [in_first] and listed["total"] == 1
    hidden = next(n.id for n in _of(session, officer) if n.subject_id == in_second)
    assert api.call("POST", f"/api/v1/notifications/{hidden}/read", narrow).status_code == 404
    assert api.call("POST", "/api/v1/notifications/read", narrow).get_json() == {"count": 1}
    assert unread_count(session, officer) == 1  # the other product's request is still unread
    for method, path in (
        ("GET", "/notifications"),
        ("POST", "/notifications/read"),
        ("POST", f"/notifications/{hidden}/read"),
    ):
        assert api.call(method, f"/api/v1{path}", None).status_code == 401
    for query in ("per_page=0", "per_page=201", "page=x", "page=0", "page=%C2%B2"):
        assert api.call("GET", f"/api/v1/notifications?{query}", narrow).status_code == 422, query
