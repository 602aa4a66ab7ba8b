"""A PSIRT case walked in a real browser from receipt to disclosure: recorded, its exploitation known, the early
warning and notification submitted, a fix release and the measure recorded, the final report submitted, disclosed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sdl_tracker.app_access import app_db
from sdl_tracker.products.services import create_release
from tests.e2e.conftest import LiveServer
from tests.e2e.test_products_browser import _shot, sign_in
from tests.factories import OPERATOR, make_product

pytestmark = pytest.mark.browser


def typed(moment: datetime) -> str:
    """A time as a datetime-local input takes it, on UTC's clock (the forms' default zone)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def saved(page: Any, server: LiveServer, button: str) -> None:
    """Press the form's button and land back on the case page, the change confirmed."""
    page.click(f"button:has-text('{button}')")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/psirt/cases/\d+(#clocks)?$"))
    assert page.is_visible(".flash-success"), page.inner_text("main")


def clock_state(page: Any, label: str) -> str:
    return page.inner_text(f"#clocks tr:has(td:text-is('{label}')) .pill")


def test_a_case_from_receipt_to_disclosure(page: Any, live_server: LiveServer) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        product = make_product(session, "Field Gateway")
        create_release(session, OPERATOR, product.id, version="2.0")
        create_release(session, OPERATOR, product.id, version="2.1")
        product_id = product.id
    now = datetime.now(UTC)
    sign_in(page, live_server)

    # Receipt: a researcher's report, recorded from the product page.
    page.goto(f"{live_server.url}/products/{product_id}")
    page.click("text=New PSIRT case")
    page.fill("#title", "Web UI command injection")
    page.select_option("#source", "researcher")
    page.fill("#received_at", typed(now - timedelta(hours=3)))
    page.fill("#reporter_contact", "researcher@example.org")
    page.fill("#cvss_v31", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    page.fill("#cwe_ids", "CWE-78")
    page.check("#affected input[value='2.0']")
    _shot(page, "psirt-new-case")
    saved(page, live_server, "Record case")
    heading = page.inner_text("h1")
    assert re.match(r"PSIRT-\d{4}-\d{4}: Web UI command injection", heading)
    reference = heading.split(":")[0]
    main = page.inner_text("main")
    assert "Attack Vector" in main and "Critical" in main and "OS Command" in main
    assert "No clock runs" in main

    # Active exploitation becomes known: the clocks start.
    page.click("a:has-text('Edit')")
    page.fill("#aware_at", typed(now - timedelta(hours=2)))
    page.select_option("#status", "investigating")
    saved(page, live_server, "Save changes")
    assert clock_state(page, "Early warning") == "running"
    assert clock_state(page, "Final report") == "not started"
    page.click("nav.mainnav >> text=PSIRT")
    assert reference in page.inner_text("table.clock-table") and page.is_visible("svg.clock-timeline")
    _shot(page, "psirt-dashboard")
    page.click(f"text={reference}")

    # The early warning and the notification, submitted together.
    page.click("a:has-text('Record submission')")
    page.fill("#submitted_at", typed(now - timedelta(minutes=90)))
    page.check("#stages input[value='early-warning']")
    page.check("#stages input[value='notification']")
    page.fill("#reference", "SRP-2026-0042")
    saved(page, live_server, "Record submission")
    assert clock_state(page, "Early warning") == "submitted"
    assert clock_state(page, "Vulnerability notification") == "submitted"

    # A fix release and the corrective measure: the final report falls due 14 days later.
    page.click("a:has-text('Edit')")
    page.check("#fixed_in input[value='2.1']")
    page.fill("#measure_available_at", typed(now - timedelta(minutes=60)))
    page.select_option("#status", "fixed")
    page.fill("#remediation", "Update to 2.1.")
    saved(page, live_server, "Save changes")
    assert clock_state(page, "Final report") == "running"
    assert "2.1" in page.inner_text("#releases")

    # The final report.
    page.click("a:has-text('Record submission')")
    page.fill("#submitted_at", typed(now - timedelta(minutes=30)))
    page.check("#stages input[value='final-report']")
    saved(page, live_server, "Record submission")
    assert clock_state(page, "Final report") == "submitted"

    # Disclosure.
    page.click("a:has-text('Edit')")
    page.select_option("#status", "disclosed")
    saved(page, live_server, "Save changes")
    assert "Disclosed" in page.inner_text(".heading")
    timeline = page.inner_text("#timeline")
    assert timeline.count("psirt:submission:record") == 2 and "psirt:case:create" in timeline
    _shot(page, "psirt-case-disclosed")
    page.click("nav.mainnav >> text=PSIRT")
    assert reference not in page.inner_text("main")  # no clock runs any more
