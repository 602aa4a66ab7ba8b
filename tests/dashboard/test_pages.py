"""My work, the portfolio and release readiness, as each role sees them (issue 17 items 1 and 2)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import get_user_by_email, principal_for
from sdl_tracker.auth import Principal
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.db import utcnow
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.products.models import Product, Release
from tests.factories import login, make_product, make_release, make_user, member, statements

TODAY = utcnow().date()


@dataclass
class Desk:
    product: Product
    release: Release
    other_release: Release
    officer: Principal
    second_officer: Principal
    developer: Principal
    auditor: Principal


def _evidence(session: Session, actor: Principal, product: Product, title: str, **fields: Any) -> int:
    upload = Upload("report.txt", "text/plain", io.BytesIO(title.encode()))
    data = EvidenceInput(title=title, requirements=["SI-1"], files=[upload], **fields)
    return create_evidence(session, actor, product_id=product.id, kind="static-analysis", data=data).id


@pytest.fixture
def desk(session: Session) -> Desk:
    product = make_product(session, "Plc")
    release = make_release(session, product, "2.0", status="candidate", release_date=TODAY + timedelta(days=60))
    other = make_product(session, "Elsewhere")
    other_release = make_release(session, other, "9.0", status="development")
    desk = Desk(
        product,
        release,
        other_release,
        member(session, product, "security_officer", "officer@example.com"),
        member(session, product, "security_officer", "second@example.com"),
        member(session, product, "developer", "dev@example.com"),
        member(session, product, "auditor", "auditor@example.com"),
    )
    make_user(session, "admin@example.com", admin=True)
    member(session, other, "developer", "stranger@example.com")
    _evidence(session, desk.developer, product, "Waiting analysis", release_versions=["2.0"])
    returned = _evidence(session, desk.developer, product, "Sloppy analysis")
    review_evidence(session, desk.officer, returned, accept=False, reason="no tool version")
    _evidence(session, desk.officer, product, "Officer's own analysis")
    stale = _evidence(session, desk.developer, product, "Ageing analysis", review_due=TODAY + timedelta(days=10))
    review_evidence(session, desk.officer, stale, accept=True)
    _evidence(session, make_principal(session, "stranger@example.com"), other, "Foreign analysis")
    decision = ClaimInput("not_applicable", justification="no serial", override_reason="no serial port")
    set_claim(session, desk.officer, release.id, "CR 7.3", decision)
    session.commit()
    return desk


def make_principal(session: Session, email: str) -> Principal:
    return principal_for(session, get_user_by_email(session, email))


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _section(page: str, title: str) -> str:
    """The text of one section of the home page."""
    start = page.index(f"<h2>{title}")
    end = page.find("<section", start)
    return page[start : end if end != -1 else len(page)]


def test_the_officer_sees_the_review_queue_without_their_own(client: FlaskClient, desk: Desk) -> None:
    login(client, "officer@example.com")
    page = _page(client, "/")
    queue = _section(page, "Awaiting my review")
    assert "Waiting analysis" in queue and "0 days" in queue
    assert "Plc · Static analysis" in queue and "static-analysis" not in queue  # stored words by their labels
    assert "Officer&#39;s own analysis" not in queue and "Officer's own analysis" not in queue  # no self-review
    assert "Foreign analysis" not in page  # another product's evidence
    # The claim they set awaits another officer, not them.
    assert "No decision awaits your acceptance." in _section(page, "Decisions awaiting acceptance")
    assert "Ageing analysis" in _section(page, "Expired or expiring within 30 days")
    assert f"/releases/{desk.release.id}/readiness" in _section(page, "Releases in flight")


def test_my_work_is_kept_but_shows_a_change_on_the_next_request(
    client: FlaskClient, session: Session, desk: Desk
) -> None:
    login(client, "officer@example.com")
    for _ in range(2):  # the second read comes from what was kept
        assert "Fresh analysis" not in _section(_page(client, "/"), "Awaiting my review")
    _evidence(session, desk.developer, desk.product, "Fresh analysis")
    session.commit()
    assert "Fresh analysis" in _section(_page(client, "/"), "Awaiting my review")
    # Another officer of the same product, with the same roles, reads their own queue, not the kept one.
    second = client.application.test_client()
    login(second, "second@example.com")
    assert "Officer&#39;s own analysis" in _section(_page(second, "/"), "Awaiting my review")


def test_the_second_officer_accepts_the_first_ones_decisions(client: FlaskClient, desk: Desk) -> None:
    login(client, "second@example.com")
    page = _page(client, "/")
    decisions = _section(page, "Decisions awaiting acceptance")
    assert "CR 7.3" in decisions and f"/releases/{desk.release.id}/claims/CR%207.3" in decisions
    assert "CR 7.3 “Not applicable”" in decisions
    assert "Candidate · planned" in _section(page, "Releases in flight")
    assert "Officer&#39;s own analysis" in _section(page, "Awaiting my review")


def test_the_developer_sees_what_came_back_and_no_queue(client: FlaskClient, desk: Desk) -> None:
    login(client, "dev@example.com")
    page = _page(client, "/")
    assert "Awaiting my review" not in page and "Decisions awaiting acceptance" not in page
    returned = _section(page, "My submissions returned")
    assert "Sloppy analysis" in returned and "Rejected: no tool version" in returned and "/edit" in returned
    assert "Plc 2.0" in _section(page, "Releases in flight") and "Elsewhere" not in page


def test_the_auditor_reads_but_reviews_nothing(client: FlaskClient, desk: Desk) -> None:
    login(client, "auditor@example.com")
    page = _page(client, "/")
    assert "Awaiting my review" not in page and "Decisions awaiting acceptance" not in page
    assert "Plc 2.0" in _section(page, "Releases in flight")
    assert "Readiness" in _page(client, f"/products/{desk.product.id}")
    assert "IEC 62443-4-1 coverage" in _page(client, f"/releases/{desk.release.id}/readiness")


def test_an_administrator_without_memberships_sees_the_portfolio(client: FlaskClient, desk: Desk) -> None:
    login(client, "admin@example.com")
    page = _page(client, "/")
    flight = _section(page, "Releases in flight")
    assert "Plc 2.0" in flight and "Elsewhere 9.0" in flight
    assert "/portfolio" in page and "CR 7.3" in _section(page, "Decisions awaiting acceptance")
    portfolio = _page(client, "/portfolio")
    assert "Plc" in portfolio and "Elsewhere" in portfolio and "9.0" in portfolio


def test_readiness_shows_each_line_with_where_to_fix_it(client: FlaskClient, desk: Desk) -> None:
    login(client, "officer@example.com")
    page = _page(client, f"/releases/{desk.release.id}/readiness")
    for line, link in (
        ("IEC 62443-4-1 coverage", f"/products/{desk.product.id}/coverage?release=2.0"),
        ("SL-C achieved vs target", f"/releases/{desk.release.id}/claims"),
        ("Commits reviewed", f"/releases/{desk.release.id}/commits"),
        ("SBOMs", f"/releases/{desk.release.id}/sboms"),
        ("Evidence awaiting review", "Waiting analysis"),
        ("Decisions awaiting acceptance", "CR 7.3"),
        (f"Expires before {desk.release.release_date}", "Ageing analysis"),
    ):
        assert line in page and link in page, line
    assert "no SBOM for this release" in page


def test_readiness_shows_the_first_twenty_evidence_lines_and_links_the_rest(
    session: Session, client: FlaskClient, desk: Desk
) -> None:
    for n in range(21):
        _evidence(session, desk.developer, desk.product, f"Queued analysis {n:02}")
    session.commit()
    login(client, "officer@example.com")
    page = _page(client, f"/releases/{desk.release.id}/readiness")
    # Oldest first: the fixture's two, then 18 of these; the other three are on the list the link opens.
    assert "Waiting analysis" in page and "Queued analysis 17" in page and "Queued analysis 18" not in page
    assert f"/products/{desk.product.id}/evidence?release=2.0&amp;state=submitted" in page and "and 3 more" in page
    rest = _page(client, f"/products/{desk.product.id}/evidence?release=2.0&state=submitted")
    assert "Queued analysis 20" in rest
    assert _page(client, f"/products/{desk.product.id}/evidence?release=2.0&state=accepted&sort=expiry&order=asc")


def test_readiness_of_other_products_and_bad_ids_are_not_found(client: FlaskClient, desk: Desk) -> None:
    login(client, "dev@example.com")
    for path in (
        f"/releases/{desk.other_release.id}/readiness",
        "/releases/0/readiness",
        "/releases/99999999/readiness",
        "/releases/99999999999999999999/readiness",
        "/releases/abc/readiness",
        "/releases/-1/readiness",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/notifications/abc/read").status_code in (400, 404)


def test_the_product_page_shows_each_releases_readiness(client: FlaskClient, desk: Desk) -> None:
    login(client, "officer@example.com")
    page = _page(client, f"/products/{desk.product.id}")
    assert f"/releases/{desk.release.id}/readiness" in page
    assert "awaiting review" in page and "decisions to accept" in page


def test_statement_counts_do_not_grow_with_rows(app: Flask, client: FlaskClient, session: Session, desk: Desk) -> None:
    login(client, "admin@example.com")
    paths = ("/", "/portfolio", f"/products/{desk.product.id}")

    def counts() -> dict[str, int]:
        result = {}
        for path in paths:
            _page(client, path)  # warm: the first request may load what every later one reuses
            with statements(app) as seen:
                _page(client, path)
            result[path] = len(seen)
        return result

    before = counts()
    for n in range(3):
        product = make_product(session, f"More {n}")
        officer = member(session, product, "security_officer")
        for version in ("1.0", "1.1"):
            make_release(session, product, version, status="development")
        for i in range(3):
            _evidence(session, officer, product, f"more {n}.{i}", release_versions=["1.0"])
        _evidence(session, desk.developer, desk.product, f"plc {n}", release_versions=["2.0"])
    session.commit()
    assert counts() == before


def test_the_portfolio_pages_its_products_by_name(client: FlaskClient, session: Session) -> None:
    """Twenty products a page, so a big portfolio serves as fast as a small one; every product is on a page."""
    names = [f"Product {n:02d}" for n in range(23)]
    for name in names:
        make_release(session, make_product(session, name), "1.0")
    make_user(session, "reader@example.com", admin=True)  # sees every product
    session.commit()
    login(client, "reader@example.com")
    first, second = _page(client, "/portfolio"), _page(client, "/portfolio?page=2")
    assert [n for n in names if f">{n}<" in first] == names[:20]
    assert [n for n in names if f">{n}<" in second] == names[20:]
    assert "Products 1 to 20 of 23" in first and "Products 21 to 23 of 23" in second
    assert 'href="/portfolio?page=2"' in first and 'href="/portfolio?page=1"' in second
    past_the_end = _page(client, "/portfolio?page=99")
    assert "Products 21 to 23 of 23" in past_the_end  # the last page
    assert client.get("/portfolio?page=zero").status_code in (400, 422)


def test_a_portfolio_row_shows_the_first_releases_in_flight_and_counts_the_rest(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    """At most five releases in flight a product, oldest first; the rest are counted and left to the product page."""
    busy, calm = make_product(session, "Busy"), make_product(session, "Calm")
    versions = [f"1.{n}" for n in range(8)]
    for version in versions:
        make_release(session, busy, version)
    make_release(session, busy, "0.9", status="released")
    make_release(session, calm, "2.0")
    make_user(session, "reader@example.com", admin=True)
    session.commit()
    login(client, "reader@example.com")
    page = _page(client, "/portfolio")
    shown = [v for v in versions if f">{v}</a>" in page]
    assert shown == versions[:5] and ">0.9</a>" not in page and ">2.0</a>" in page
    assert "3 more releases in flight" in page and page.count("more release") == 1
    assert f'href="/products/{busy.id}"' in page
    table = page[page.index("<table") : page.index("</table>")]
    again = _page(client, "/portfolio")
    assert again[again.index("<table") : again.index("</table>")] == table  # the rows kept
    make_release(session, calm, "2.1")  # a change moves the chain: the rows are read afresh
    session.commit()
    assert ">2.1</a>" in _page(client, "/portfolio")
    member(session, calm, "auditor", email="auditor@example.com")
    session.commit()
    auditor = app.test_client()
    login(auditor, "auditor@example.com")  # another reader's page of products: rows of their products only
    mine = _page(auditor, "/portfolio")
    assert ">2.1</a>" in mine and ">1.0</a>" not in mine and "Busy" not in mine
