"""A person in a real browser: sign in, create a product, see it listed, see a form error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("SDL_TEST_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def sign_in(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/login")
    page.fill("#email", server.email)
    page.fill("#password", server.password)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


def test_sign_in_create_a_product_and_see_it_listed(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    assert "Signed in as admin@example.com" in page.inner_text(".flash-success")
    page.click("text=New product")
    page.fill("#name", "NW-Safety Controller")
    page.fill("#vendor", "Northwind")
    page.select_option("#component_type", "EDR")
    page.select_option("#target_fr1", "3")
    page.select_option("#cra_category", "important_class_ii")
    page.fill("#interfaces-0-name", "eth0")
    page.fill("#interfaces-0-protocol", "PROFINET")
    _shot(page, "product-form")
    page.click("button:has-text('Create product')")
    assert "Product NW-Safety Controller created." in page.inner_text(".flash-success")
    assert page.inner_text("h1") == "NW-Safety Controller"
    assert "PROFINET" in page.inner_text("main")
    _shot(page, "product-detail")
    page.click("nav.mainnav >> text=Products")
    assert "NW-Safety Controller" in page.inner_text("table.table")
    page.click("summary:has-text('Switch product')")
    assert page.is_visible("details.switcher >> text=NW-Safety Controller")


def test_bad_input_shows_a_form_error_and_keeps_the_input(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    page.goto(live_server.url + "/products/new")
    page.fill("#name", "Broken")
    page.fill("#cvd_policy_url", "not a url")
    page.fill("#interfaces-0-name", "eth0")
    page.fill("#interfaces-0-port", "70000")
    page.click("button:has-text('Create product')")
    errors = page.inner_text("main")
    assert "Invalid URL" in errors and "Number must be between 1 and 65535" in errors
    assert page.input_value("#name") == "Broken"  # nothing the person typed is lost
    _shot(page, "product-form-errors")
    page.goto(live_server.url + "/products/")
    assert "Broken" not in page.inner_text("main")


def test_sign_out_ends_the_session(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    page.click("button:has-text('Sign out')")
    page.wait_for_url(live_server.url + "/login")
    page.goto(live_server.url + "/products/")
    assert page.url.startswith(live_server.url + "/login")


def test_browse_the_catalog_from_a_cr_to_its_cra_point(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    page.click("nav.mainnav >> text=Catalogs")
    page.click("text=IEC 62443-4-2")
    page.select_option("#fr", "FR3")
    page.select_option("#level", "2")
    page.select_option("#component_type", "EDR")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**fr=FR3**")
    rows = page.inner_text("table.catalog-table")
    assert "CR 3.4" in rows and "EDR 3.2" in rows and "NDR 3.2" not in rows
    _shot(page, "catalog-edition")
    page.click("a:text-is('CR 3.4')")
    assert "Software and information integrity" in page.inner_text("h1")
    _shot(page, "catalog-requirement")
    page.click("a:has-text('Annex I Part I (2f)')")
    assert "Supported by" in page.inner_text("main") and "CR 3.4" in page.inner_text("main")
