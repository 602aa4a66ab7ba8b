"""In a real browser: a developer uploads a file as evidence; a security officer reviews it, and walks a
morning's work from the home page to a release's readiness."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.auth import Principal
from sdl_tracker.catalog.rules import FOUNDATIONAL_REQUIREMENTS
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.evidence.models import Evidence, ReviewState
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from tests.e2e.conftest import LiveServer
from tests.e2e.test_products_browser import _shot
from tests.evidence.test_review_page import submitted_evidence
from tests.factories import PASSWORD, make_product, make_release, member

pytestmark = pytest.mark.browser


def sign_in_as(page: Any, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


def test_upload_evidence_and_review_it(page: Any, live_server: LiveServer, tmp_path: Path) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        product = make_product(session, "NW-Gateway")
        make_release(session, product, "2.1.0")
        member(session, product, "developer", email="dev.e2e@example.com")
        member(session, product, "security_officer", email="so.e2e@example.com")
        product_id = product.id
    model = tmp_path / "gateway-threat-model.json"
    model.write_text(
        json.dumps(
            {
                "version": "2.4.0",
                "summary": {"title": "Gateway"},
                "detail": {
                    "diagrams": [
                        {
                            "diagramType": "STRIDE",
                            "cells": [
                                {
                                    "shape": "process",
                                    "data": {
                                        "name": "Web UI",
                                        "threats": [
                                            {"title": "Session hijack", "status": "Open", "type": "Spoofing"},
                                            {
                                                "title": "CSRF",
                                                "status": "Mitigated",
                                                "type": "Tampering",
                                                "mitigation": "Tokens",
                                            },
                                        ],
                                    },
                                }
                            ],
                        }
                    ]
                },
            }
        )
    )

    sign_in_as(page, live_server, "dev.e2e@example.com")
    page.goto(f"{live_server.url}/products/{product_id}")
    page.click("a:has-text('Evidence')")
    page.click("text=Attach evidence")
    page.click("a.kind-card:has-text('Threat model')")
    page.fill("#title", "Gateway STRIDE model")
    page.fill("#requirements-picker input[data-picker-filter]", "SR-")  # the picker's search narrows the list
    assert page.locator("input[name=requirements][value='SM-1']").is_hidden()
    page.check("input[name=requirements][value='SR-2']")
    page.check("input[name=requirements][value='SR-3']")
    page.check("input[name=releases][value='2.1.0']")
    page.fill("#effective_date", "2026-11-20")
    page.fill("#description", "Covers the **web UI** and the IPsec tunnel.")
    page.set_input_files("#threat_dragon", str(model))  # the model fills the threat counts
    page.fill("#details-scope", "Web UI and IPsec tunnel")
    _shot(page, "evidence-form")
    page.click("button:has-text('Attach and submit for review')")
    _shot(page, "evidence-after-submit")
    assert "attached" in page.inner_text(".flash-success")
    assert "Submitted" in page.inner_text("h1")
    assert "gateway-threat-model.json" in page.inner_text("main")
    assert "Session hijack" in page.inner_text("main") and "2 threats" in page.inner_text("main")
    assert page.locator("strong", has_text="web UI").count() == 1  # the Markdown is rendered
    evidence_url = page.url
    page.click("button:has-text('Sign out')")

    sign_in_as(page, live_server, "so.e2e@example.com")
    page.goto(evidence_url)
    page.check("input[name=decision][value=accept]")
    _shot(page, "evidence-review")
    page.click("button:has-text('Record review')")
    assert "Revision 1 accepted." in page.inner_text(".flash-success")
    assert "Accepted" in page.inner_text("h1")
    with page.expect_download() as download_info:
        page.click("a:has-text('gateway-threat-model.json')")
    downloaded = download_info.value.path()
    assert Path(downloaded).read_text() == model.read_text()


def test_the_heat_map_leads_from_a_gap_to_the_upload_form(page: Any, live_server: LiveServer) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        product = make_product(session, "NW-Heatmap")
        make_release(session, product, "1.0")
        member(session, product, "security_officer", email="so.heat@example.com")
        product_id = product.id
    sign_in_as(page, live_server, "so.heat@example.com")
    page.goto(f"{live_server.url}/products/{product_id}")
    page.click("a:has-text('Coverage')")
    page.wait_for_url(f"**/products/{product_id}/coverage")
    page.select_option("#release", "1.0")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/coverage?release=1.0")
    assert "0 of 47 requirements met (process and records of use) for this release" in page.inner_text("main")
    assert page.locator("span.cell.cov-none").count() == 47
    _shot(page, "coverage-heatmap")
    svv3 = page.locator("span.cell", has=page.locator("span.ref", has_text=re.compile(r"^SVV-3$")))
    assert svv3.locator("a.half").count() == 2  # the process half and the records half each lead somewhere
    svv3.locator("a.half[title^='Records']").click()
    page.wait_for_url("**/evidence/new?**")
    assert "Attach evidence: fuzz test campaign" in page.inner_text("h1")
    assert page.is_checked("input[name=requirements][value='SVV-3']")
    assert page.is_checked("input[name=releases][value='1.0']")
    assert page.locator("#details-target_interface").count() == 1  # the form adapted to the kind


def test_a_refused_rejection_stays_a_rejection(page: Any, live_server: LiveServer) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        evidence_id = submitted_evidence(session, "NW-Review", "dev.review@example.com", "so.review@example.com").id
    sign_in_as(page, live_server, "so.review@example.com")
    page.goto(f"{live_server.url}/evidence/{evidence_id}")
    accept, reject = (
        page.locator("input[name=decision][value=accept]"),
        page.locator("input[name=decision][value=reject]"),
    )
    assert not accept.is_checked() and not reject.is_checked()  # the reviewer chooses; nothing is preselected
    reject.check()
    page.fill("#reason", "")
    page.click("button:has-text('Record review')")
    page.wait_for_url(f"**/evidence/{evidence_id}/review")
    _shot(page, "evidence-review-refused")
    assert "a rejection needs a reason" in page.inner_text("#review")
    assert reject.is_checked() and not accept.is_checked()
    # The choice survives a second refusal too, and a reason then records the rejection.
    with page.expect_navigation():
        page.click("button:has-text('Record review')")
    assert "a rejection needs a reason" in page.inner_text("#review")
    assert reject.is_checked() and not accept.is_checked()
    page.fill("#reason", "The policy names no owner")
    page.click("button:has-text('Record review')")
    page.wait_for_url(f"**/evidence/{evidence_id}")
    assert "Revision 1 rejected." in page.inner_text(".flash-success")
    with app_db(live_server.app).unit_of_work() as session:
        revision = session.get_one(Evidence, evidence_id).current
        assert revision.state is ReviewState.REJECTED and revision.rejection_reason == "The policy names no owner"


def _morning(session: Session) -> dict[str, Any]:
    """A product whose officer has work waiting: three submissions of two developers (backdated 5, 3 and 1
    days), the officer's own, and a "not applicable" claim a second officer set for the release in flight."""
    product = make_product(session, "NW-Morning", target_sl=dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 1))
    release = make_release(session, product, "3.0", release_date=date.today() + timedelta(days=60))
    officer = member(session, product, "security_officer", email="so.morning@example.com")
    second = member(session, product, "security_officer", email="so2.morning@example.com")
    alice = member(session, product, "developer", email="alice.morning@example.com")
    bob = member(session, product, "developer", email="bob.morning@example.com")
    scan = io.BytesIO()
    Image.new("RGB", (80, 40), (20, 120, 200)).save(scan, "JPEG")

    def submit(actor: Principal, title: str, days: int, name: str, media: str, data: bytes) -> Evidence:
        evidence = create_evidence(
            session,
            actor,
            product_id=product.id,
            kind="other",
            data=EvidenceInput(
                title=title,
                requirements=["SVV-3"],
                release_versions=["3.0"],
                files=[Upload(name, media, io.BytesIO(data))],
            ),
        )
        evidence.current.created_at = evidence.current.submitted_at = datetime.now(UTC) - timedelta(days=days)
        return evidence

    notes = b"# Findings\n\nNone open."
    items = {
        # Created out of the order of their age: the queue sorts by how long each has waited.
        "alice": submit(alice, "Fuzz campaign eth0", 3, "crash-map.jpg", "image/jpeg", scan.getvalue()),
        "bob": submit(bob, "Fuzz campaign serial", 5, "serial.md", "text/markdown", notes),
        "bob2": submit(bob, "Pen test summary", 1, "pentest.md", "text/markdown", notes),
        "own": submit(officer, "Fuzz harness design", 2, "harness.md", "text/markdown", notes),
    }
    justification = ClaimInput("not_applicable", justification="no backup function", override_reason="stateless")
    set_claim(session, second, release.id, "CR 7.3", justification)
    session.flush()
    return {"product": product.id, "release": release.id, **{k: (e.id, e.current.number) for k, e in items.items()}}


def _unread(page: Any) -> str:
    return page.get_attribute("a.notify", "aria-label") or ""


def test_an_officers_morning(page: Any, live_server: LiveServer) -> None:
    """Sign in, read the queue, filter, preview, bulk-accept, then follow a readiness gap to its fix."""
    with app_db(live_server.app).unit_of_work() as session:
        ids = _morning(session)
    sign_in_as(page, live_server, "so.morning@example.com")
    # Home: the queue holds the developers' three items, oldest first with their age, not the officer's own.
    queue = page.locator("#review")
    assert queue.locator("h2 .pill").inner_text() == "3"
    assert queue.locator("td > a").all_inner_texts() == [
        "Fuzz campaign serial",
        "Fuzz campaign eth0",
        "Pen test summary",
    ]
    assert [a.split()[0] for a in queue.locator("span[title='days waiting']").all_inner_texts()] == ["5", "3", "1"]
    assert "alice.morning@example.com" in queue.inner_text() and "bob.morning@example.com" in queue.inner_text()
    assert "Fuzz harness design" not in page.inner_text("main")
    assert _unread(page) == "Notifications, 4 unread"  # three submissions and the claim to accept
    _shot(page, "morning-home")

    # From the queue to the product's evidence list, filtered to what awaits review.
    queue.locator("a", has_text="Fuzz campaign eth0").click()
    page.click("nav.breadcrumbs a:has-text('Evidence')")
    page.wait_for_url(f"**/products/{ids['product']}/evidence")
    page.select_option("#state", "submitted")
    page.fill("#q", "FUZZ campaign")
    page.click("button:has-text('Show')")
    assert "2 items" in page.inner_text("#evidence-count")
    page.fill("#q", "fuzz")
    page.click("button:has-text('Show')")
    assert "3 items" in page.inner_text("#evidence-count")  # the officer's own design too, without a box
    own_id, own_number = ids["own"]
    assert page.locator(f"#pick-{own_id}").count() == 0
    _shot(page, "morning-triage")

    # The image's preview is a PNG of our own; the artifact itself stays a download.
    page.click("a:has-text('crash-map.jpg')")
    image = page.locator("#preview img")
    # The PNG is rendered on first request (a subprocess): wait for the browser to have decoded it.
    image.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('#preview img'); return i && i.complete }")
    assert image.evaluate("img => img.naturalWidth") == 80
    source = page.request.get(live_server.url + image.get_attribute("src"))
    assert source.headers["content-type"] == "image/png" and source.body().startswith(b"\x89PNG")
    download = page.request.get(live_server.url + page.get_attribute("a:has-text('Download')", "href"))
    assert download.headers["content-disposition"].startswith("attachment")
    _shot(page, "morning-preview")
    page.go_back()

    # Bulk accept: both developers' fuzz campaigns, and the officer's own added by hand, refused on its own.
    page.check(f"#pick-{ids['bob'][0]}")
    page.check(f"#pick-{ids['alice'][0]}")
    page.evaluate(
        """([id, number]) => {
            const box = Object.assign(document.createElement('input'), {type: 'checkbox', name: 'items'});
            box.value = `${id}:${number}`; box.checked = true;
            document.querySelector('#bulk-review').append(box);
        }""",
        [own_id, own_number],
    )
    page.check("input[name=decision][value=accept]")
    page.click("button:has-text('Review selected')")
    assert "2 of 3 reviewed; 1 refused." in page.inner_text("#bulk-summary")
    results = page.locator("#bulk-results tbody tr").all()
    rows = {int(row.locator("td").first.inner_text()): row.inner_text() for row in results}
    assert "Fuzz campaign serial" in rows[ids["bob"][0]] and "accepted" in rows[ids["bob"][0]]
    assert "Fuzz campaign eth0" in rows[ids["alice"][0]] and "accepted" in rows[ids["alice"][0]]
    assert "refused: self-review" in rows[own_id] and "nobody reviews their own submission" in rows[own_id]
    _shot(page, "morning-bulk-result")
    page.click("a:has-text('Back to the list')")  # the same filters: only the officer's own is left
    assert "1 item" in page.inner_text("#evidence-count") and "Fuzz harness design" in page.inner_text("main")

    # Home again: the queue shrank, and the requests those reviews answered no longer count as unread.
    page.goto(live_server.url + "/")
    assert queue.locator("h2 .pill").inner_text() == "1"
    assert queue.locator("td > a").all_inner_texts() == ["Pen test summary"]
    assert _unread(page) == "Notifications, 2 unread"

    # The release's readiness: CR 7.3 is in the SL-C gap until its "not applicable" is accepted.
    page.locator("#releases a", has_text="3.0").first.click()
    page.wait_for_url(f"**/releases/{ids['release']}/readiness")
    assert "Pen test summary" in page.inner_text("#review")
    assert "CR 7.3" in page.inner_text("#decisions")
    gap = page.locator("#slc a.pill", has_text="CR 7.3")
    assert gap.count() == 1
    _shot(page, "morning-readiness")
    gap.click()
    page.wait_for_url(f"**/releases/{ids['release']}/claims/**")
    page.click("button:has-text('Accept for 3.0')")
    page.goto(f"{live_server.url}/releases/{ids['release']}/readiness")
    assert page.locator("#slc a.pill", has_text="CR 7.3").count() == 0
    assert "none" in page.inner_text("#decisions")
    assert _unread(page) == "Notifications, 1 unread"
    _shot(page, "morning-readiness-fixed")
