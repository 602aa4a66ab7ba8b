"""The claims summary and the API's claim list are kept between requests: a change shows on the very next
request, on every page that reads them, and keeping never skips the access check."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.auth import Principal
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.products.models import Product, Release
from tests.factories import ApiClient, csrf_token, login, make_product, make_release, member

pytestmark = pytest.mark.db


def _claimed(session: Session, status: str) -> tuple[Product, Release, Principal]:
    """A release with an officer's claim on CR 1.3 (committed)."""
    product = make_product(session, "P")
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer", email="so@example.com")
    set_claim(session, officer, release.id, "CR 1.3", ClaimInput(status, "supplier_test"))
    session.commit()
    return product, release, officer


def test_a_change_shows_on_the_next_request_of_every_page_that_keeps_the_claims(
    app: Flask, session: Session, client: FlaskClient, api: ApiClient
) -> None:
    product, release, officer = _claimed(session, "partially_implemented")
    login(client, "so@example.com")
    token = api.as_user("so@example.com")
    claims, readiness = f"/releases/{release.id}/claims", f"/releases/{release.id}/readiness"

    def api_status() -> str:
        items = api.call("GET", f"/api/v1/releases/{release.id}/claims", token).get_json()["items"]
        return next(str(c["status"]) for c in items if c["requirement"] == "CR 1.3")

    for _ in range(2):  # the second read comes from what was kept
        assert 'claim-partially_implemented">Partially implemented' in client.get(claims).get_data(as_text=True)
        assert api_status() == "partially_implemented"
    assert "CR 1.3" in client.get(readiness).get_data(as_text=True)  # in the gap: partial does not count

    # Through the page's own form, as an officer changes it: the next reads show the change.
    edit = f"/releases/{release.id}/claims/CR%201.3"
    form = {"status": "not_implemented", "verification": "supplier_test", "csrf_token": csrf_token(client, edit)}
    assert client.post(edit, data=form).status_code == 302
    page = client.get(claims).get_data(as_text=True)
    assert 'claim-not_implemented">Not implemented' in page and "claim-partially_implemented" not in page
    assert api_status() == "not_implemented"

    # A change by another service (a review of linked evidence) moves the kept figures too.
    developer = member(session, product, "developer")
    reviewer = member(session, product, "security_officer")
    evidence_id = _evidence(session, developer, product.id)
    set_claim(session, officer, release.id, "CR 1.3", ClaimInput("implemented", evidence_ids=[evidence_id]))
    session.commit()
    assert f"#{evidence_id} ✗" in client.get(claims).get_data(as_text=True)  # submitted, not yet accepted
    review_evidence(session, reviewer, evidence_id, accept=True)
    session.commit()
    page = client.get(claims).get_data(as_text=True)
    assert f"#{evidence_id}</a>" in page and f"#{evidence_id} ✗" not in page


def _evidence(session: Session, developer: Principal, product_id: int) -> int:
    today = date.today()
    evidence = create_evidence(
        session,
        developer,
        product_id=product_id,
        kind="design-document",
        data=EvidenceInput(
            title="Login design",
            requirements=["CR 1.3"],
            release_versions=["1.0"],
            effective_date=today - timedelta(days=1),
            files=[Upload("design.txt", "text/plain", io.BytesIO(b"design"))],
        ),
        today=today,
    )
    return evidence.id


def test_what_is_kept_is_still_refused_to_someone_outside_the_product(
    app: Flask, session: Session, client: FlaskClient, api: ApiClient
) -> None:
    _product, release, _officer = _claimed(session, "implemented")
    member(session, make_product(session, "Other"), "security_officer", email="other@example.com")
    session.commit()
    login(client, "so@example.com")
    assert client.get(f"/releases/{release.id}/claims").status_code == 200
    assert api.call("GET", f"/api/v1/releases/{release.id}/claims", api.as_user("so@example.com")).status_code == 200
    outsider = app.test_client()
    login(outsider, "other@example.com")
    assert outsider.get(f"/releases/{release.id}/claims").status_code == 404
    assert outsider.get(f"/releases/{release.id}/readiness").status_code == 404
    token = api.as_user("other@example.com")
    assert api.call("GET", f"/api/v1/releases/{release.id}/claims", token).status_code == 404


def test_the_kept_claims_table_offers_editing_only_to_those_who_may(app: Flask, session: Session) -> None:
    """The unfiltered table is rendered once and kept per reader's right to manage claims: an auditor reading
    after an officer never gets the officer's edit links; a filtered table is its own."""
    product, release, _officer = _claimed(session, "implemented")
    member(session, product, "auditor", email="auditor@example.com")
    session.commit()
    readers = {}
    for email in ("so@example.com", "auditor@example.com"):  # signed in first: a sign-in moves the chain too
        readers[email] = app.test_client()
        login(readers[email], email)
    claims, edit = f"/releases/{release.id}/claims", f'href="/releases/{release.id}/claims/CR%201.3"'

    def table(email: str, query: str = "") -> str:
        page = readers[email].get(claims + query).get_data(as_text=True)
        start = page.index('<table class="table card claims-table">')
        return page[start : page.index("</table>", start)]

    assert edit in table("so@example.com")
    assert edit not in table("auditor@example.com") and "CR 1.3" in table("auditor@example.com")
    assert edit in table("so@example.com")  # the officer's own, kept
    filtered = table("so@example.com", "?status=implemented")
    assert edit in filtered and "CR 1.1 " not in filtered  # only the implemented claim
