"""The review form on the evidence page: no decision preselected, and a refused review keeps what was chosen."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.evidence.models import Evidence, ReviewState
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.factories import csrf_token, login, make_product, member


def submitted_evidence(
    session: Session, product: str = "P", developer: str = "dev@example.com", officer: str = "so@example.com"
) -> Evidence:
    """Evidence the developer submitted to a new product, which its security officer `officer` may review."""
    made = make_product(session, product)
    submitter = member(session, made, "developer", email=developer)
    member(session, made, "security_officer", email=officer)
    files = [Upload("p.txt", "text/plain", io.BytesIO(b"x"))]
    return create_evidence(
        session,
        submitter,
        product_id=made.id,
        kind="other",
        data=EvidenceInput(title="Patch policy", requirements=["SM-2"], files=files),
    )


def submitted(session: Session) -> Evidence:
    evidence = submitted_evidence(session)
    session.commit()
    assert evidence.current.state is ReviewState.SUBMITTED
    return evidence


def officer(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "so@example.com")
    return client


def radio(page: str, value: str) -> str:
    match = re.search(rf'<input[^>]*name="decision"[^>]*value="{value}"[^>]*>', page)
    assert match, f"no {value} radio on the page"
    return match.group(0)


def reviews(session: Session) -> int:
    decisions = ("evidence:item:accept", "evidence:item:reject")
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(decisions)))


def test_nothing_is_preselected(app: Flask, session: Session) -> None:
    evidence = submitted(session)
    page = officer(app).get(f"/evidence/{evidence.id}").get_data(as_text=True)
    assert "Record review" in page
    assert "checked" not in radio(page, "accept") and "checked" not in radio(page, "reject")


def test_no_choice_is_a_form_error_and_nothing_is_written(app: Flask, session: Session) -> None:
    evidence = submitted(session)
    client = officer(app)
    detail = f"/evidence/{evidence.id}"
    before = reviews(session)
    for data in ({}, {"decision": ""}, {"decision": "maybe"}, {"reason": "looks fine"}):
        response = client.post(f"{detail}/review", data={**data, "csrf_token": csrf_token(client, detail)})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, data
        assert "Choose accept or reject." in page, data
        assert "checked" not in radio(page, "accept") and "checked" not in radio(page, "reject"), data
        session.refresh(evidence.current)
        assert evidence.current.state is ReviewState.SUBMITTED, data
        assert evidence.current.reviewed_by_user_id is None, data
    assert reviews(session) == before


def test_a_refused_reject_stays_a_reject_with_its_reason(app: Flask, session: Session) -> None:
    evidence = submitted(session)
    client = officer(app)
    detail = f"/evidence/{evidence.id}"
    too_long = "Missing the signature page. " * 200  # over the 5,000 characters a reason may have
    for reason, message in (
        ("", "a rejection needs a reason"),
        ("   ", "a rejection needs a reason"),
        (too_long, "cannot be longer than 5000"),
    ):
        response = client.post(
            f"{detail}/review", data={"decision": "reject", "reason": reason, "csrf_token": csrf_token(client, detail)}
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and message in page
        assert "checked" in radio(page, "reject") and "checked" not in radio(page, "accept")
        if reason.strip():
            assert too_long.strip() in page  # the typed reason is still there to fix
        session.refresh(evidence.current)
        assert evidence.current.state is ReviewState.SUBMITTED
    assert reviews(session) == 0
    rejected = client.post(
        f"{detail}/review",
        data={"decision": "reject", "reason": "No signature", "csrf_token": csrf_token(client, detail)},
        follow_redirects=True,
    )
    assert "Revision 1 rejected." in rejected.get_data(as_text=True)
    session.refresh(evidence.current)
    assert evidence.current.state is ReviewState.REJECTED and evidence.current.rejection_reason == "No signature"


def test_a_review_of_evidence_no_longer_submitted_says_why(app: Flask, session: Session) -> None:
    evidence = submitted(session)
    client = officer(app)
    detail = f"/evidence/{evidence.id}"
    token = csrf_token(client, detail)
    accepted = client.post(f"{detail}/review", data={"decision": "accept", "csrf_token": token})
    assert accepted.status_code == 302
    again = client.post(f"{detail}/review", data={"decision": "reject", "reason": "Too late", "csrf_token": token})
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and "only submitted evidence is reviewed; this revision is accepted" in page
    assert "Record review" not in page  # no form for a review that cannot happen
    session.refresh(evidence.current)
    assert evidence.current.state is ReviewState.ACCEPTED and reviews(session) == 1
