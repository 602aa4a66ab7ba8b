"""Claims pages as people read them: the editor starts with no status."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.claims.models import Claim
from sdl_tracker.claims.services import ClaimInput, set_claim
from tests.factories import csrf_token, login, make_product, make_release, member


def selected_statuses(page: str) -> list[str]:
    """The values of the status select's selected options."""
    select_html = re.search(r'<select[^>]*name="status".*?</select>', page, re.S)
    assert select_html, "no status select"
    return re.findall(r'<option[^>]*\bselected\b[^>]*value="([^"]*)"', select_html.group(0))


def officer_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "so@example.com")
    return client


def test_a_new_claim_starts_with_no_status_and_needs_one(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    release = make_release(session, product, "1.0")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    client = officer_client(app)
    path = f"/releases/{release.id}/claims/CR%201.3"
    page = client.get(path).get_data(as_text=True)
    assert selected_statuses(page) == [""] and "— choose —" in page
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    for data in ({}, {"status": ""}, {"status": "", "notes": "to do", "verification": "design_review"}):
        response = client.post(path, data={**data, "csrf_token": csrf_token(client, path)})
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "Choose a status." in page, data
        assert selected_statuses(page) == [""], data
    assert session.scalar(select(func.count()).select_from(Claim)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_an_existing_claim_shows_its_status(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer", email="so@example.com")
    set_claim(session, officer, release.id, "CR 1.3", ClaimInput("partially_implemented", "supplier_test"))
    session.commit()
    page = officer_client(app).get(f"/releases/{release.id}/claims/CR%201.3").get_data(as_text=True)
    assert selected_statuses(page) == ["partially_implemented"]
    assert '<option selected value="supplier_test">' in page
