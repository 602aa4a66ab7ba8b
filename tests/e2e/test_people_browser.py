"""An officer in a real browser: a token from the navigation with checkboxes, then their product's team."""

from __future__ import annotations

from typing import Any

import pytest

from sdl_tracker.app_access import app_db
from tests.e2e.conftest import LiveServer
from tests.factories import PASSWORD, make_product, make_user, member

pytestmark = pytest.mark.browser


def test_an_officer_makes_a_ci_token_and_manages_their_team(page: Any, live_server: LiveServer) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        product = make_product(session, "NW-Gateway")
        member(session, product, "security_officer", email="so-browser@example.com")
        make_user(session, "new-dev@example.com")
        product_id = product.id
    page.goto(live_server.url + "/login")
    page.fill("#email", "so-browser@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    page.click("nav.mainnav >> text=Tokens")
    page.fill("#name", "GitLab CI")
    page.check("label:has-text('NW-Gateway')")
    page.check("label:has-text('Attach evidence')")
    page.check("label:has-text('Upload SBOMs')")
    page.click("button:has-text('Create token')")
    assert page.inner_text("code.secret").startswith("sdlt_")
    assert "Attach evidence" in page.inner_text("table.table") and "Upload SBOMs" in page.inner_text("table.table")

    page.goto(f"{live_server.url}/products/{product_id}/members")
    assert page.locator("#role option").all_inner_texts() == ["Developer", "Auditor"]
    page.fill("#email", "new-dev@example.com")
    page.click("button:has-text('Add member')")
    assert "new-dev@example.com is now a developer of NW-Gateway." in page.inner_text(".flash-success")
    row = page.locator("tr", has_text="new-dev@example.com")
    row.locator("select").select_option("auditor")
    row.locator("button:has-text('Change role')").click()
    assert "now an auditor" in page.inner_text(".flash-success")
    page.locator("tr", has_text="new-dev@example.com").locator("button:has-text('Remove')").click()
    assert "no longer a member" in page.inner_text(".flash-success")
    assert "new-dev@example.com" not in page.inner_text("table.table")
