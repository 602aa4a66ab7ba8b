"""A release's CRA file walked in a real browser from its checklist: a Part II duty that cannot be marked not
applicable, a Part I (2) point refused without a justification and then recorded, and a support period under
5 years refused without a reason and then recorded; each fix leaves the checklist."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sdl_tracker.app_access import app_db
from sdl_tracker.products.services import create_release
from tests.e2e.conftest import LiveServer
from tests.e2e.test_products_browser import _shot, sign_in
from tests.factories import OPERATOR, make_product

pytestmark = pytest.mark.browser


def checklist(page: Any) -> str:
    return page.inner_text("#completeness")


def submit(page: Any, button: str) -> None:
    """Press a form's button and wait for the answer (the page again with errors, or the redirect after saving)."""
    with page.expect_navigation():
        page.click(f"button:has-text('{button}')")


def test_an_officer_works_down_the_cra_checklist(page: Any, live_server: LiveServer) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        product = make_product(session, "Field Controller")
        release_id = create_release(session, OPERATOR, product.id, version="1.0").id
    sign_in(page, live_server)
    file_url = f"{live_server.url}/releases/{release_id}/cra"

    page.goto(f"{live_server.url}/products/releases/{release_id}")
    page.click("a:has-text('CRA file')")
    page.wait_for_url(file_url)
    assert "Annex I Part II (5): applicability not assessed" in checklist(page)
    assert "no support period recorded (Art. 13(8))" in checklist(page)
    _shot(page, "cra-file")

    # A Part II duty: the page does not even offer "not applicable".
    page.click("#completeness a:has-text('Annex I Part II (5): applicability not assessed')")
    page.wait_for_url(f"{file_url}/points/II.5")
    assert page.is_disabled("input[name=applicable][value=no]")
    assert "cannot be marked not applicable" in page.inner_text("main")

    # A Part I (2) point: not applicable needs a justification.
    page.goto(file_url)
    page.click("#completeness a:has-text('Annex I Part I (2)(g): applicability not assessed')")
    page.check("input[name=applicable][value=no]")
    submit(page, "Save")
    assert "needs a justification" in page.inner_text("main")
    page.fill("#justification", "The controller processes process values and its own configuration only.")
    submit(page, "Save")
    assert page.is_visible(".flash-success"), page.inner_text("main")
    page.goto(file_url)
    assert "Part I (2)(g)" not in checklist(page)

    # The support period: under 5 years only with a reason and a shorter expected use.
    page.click("#completeness a:has-text('no support period recorded')")
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/products/\d+/cra/support-period.*"))
    page.fill("#starts_on", "2026-01-01")
    page.fill("#ends_on", "2029-06")
    page.fill("#method", "The expected use time of this controller class.")
    page.fill("#published_where", "https://example.com/support")
    submit(page, "Save support period")
    assert "under 5 years" in page.inner_text("main")
    assert not page.is_visible(".flash-success")
    page.fill("#expected_use_months", "42")
    page.fill("#shorter_reason", "A pilot series, replaced by the next generation within four years.")
    submit(page, "Save support period")
    assert page.is_visible(".flash-success"), page.inner_text("main")
    _shot(page, "cra-support-period")
    page.goto(file_url)
    assert "support period" not in checklist(page).lower()
    assert "ends June 2029" in page.inner_text("#records")
