"""Claims pages as people read them: the editor starts with no status, and a comparison speaks in labels and
lists requirement ids in natural order (while the API keeps the enum values)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.claims.models import Claim
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.products.models import Release
from tests.factories import ApiClient, csrf_token, login, make_product, make_release, member


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
    assert re.search(r'<option selected value="supplier_test">Supplier test</option>', page)


def two_releases(session: Session) -> tuple[Release, Release]:
    product = make_product(session, "P")
    first = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer", email="so@example.com")
    set_claim(session, officer, first.id, "CR 1.2", ClaimInput("implemented"))
    set_claim(session, officer, first.id, "CR 1.10", ClaimInput("implemented"))
    set_claim(session, officer, first.id, "CR 3.3", ClaimInput("implemented"))
    second = make_release(session, product, "2.0")  # starts with a copy of 1.0's claims
    for ref, data in (
        ("CR 2.5", ClaimInput("implemented")),
        ("EDR 2.4", ClaimInput("implemented", "independent_test")),
        ("CR 1.10", ClaimInput("not_applicable", justification="No sessions", override_reason="No local UI")),
        ("CR 1.2", ClaimInput("partially_implemented")),
        ("CR 1.1 RE(1)", ClaimInput("not_implemented")),
        ("CR 3.3", ClaimInput("implemented", notes="Checked again")),
    ):
        set_claim(session, officer, second.id, ref, data)
    session.commit()
    return first, second


ORDER = ["CR 1.1 RE(1)", "CR 1.2", "CR 1.10", "EDR 2.4", "CR 2.5", "CR 3.3"]


def test_the_comparison_page_shows_labels_in_natural_order(app: Flask, session: Session) -> None:
    first, second = two_releases(session)
    page = officer_client(app).get(f"/releases/{second.id}/claims/compare?other={first.id}").get_data(as_text=True)
    changes = page[page.index("6 claims changed") :]
    rows = re.findall(r"<tr><td>([^<]+)</td>", changes)
    assert rows == ORDER
    for label in ("Not applicable", "Partially implemented", "Not implemented", "Implemented · Independent test"):
        assert label in changes, label
    for value in ("not_applicable", "partially_implemented", "not_implemented", "independent_test"):
        assert value not in page, value
    cr_3_3 = changes[changes.index("<td>CR 3.3</td>") :].split("</tr>")[0]
    assert "notes" in cr_3_3 and "status" not in cr_3_3  # a change the two status columns cannot show is named
    assert "new claim" in changes[changes.index("<td>EDR 2.4</td>") :].split("</tr>")[0]


def test_the_comparison_api_keeps_enum_values_in_natural_order(api: ApiClient, session: Session) -> None:
    first, second = two_releases(session)
    token = api.as_user("so@example.com")
    compared = api.call("GET", f"/api/v1/releases/{first.id}/compare/{second.id}", token).get_json()
    assert [c["requirement"] for c in compared["changed"]] == ORDER
    by_ref = {c["requirement"]: c for c in compared["changed"]}
    assert by_ref["CR 1.10"]["after"]["status"] == "not_applicable"
    assert by_ref["EDR 2.4"]["after"]["verification"] == "independent_test" and by_ref["EDR 2.4"]["before"] is None
