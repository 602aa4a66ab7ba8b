"""In a real browser: a developer uploads a file as evidence; a security officer reviews it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.app_access import app_db
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


def test_triage_filters_previews_and_bulk_accepts(page: Any, live_server: LiveServer) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        product = make_product(session, "NW-Triage")
        dev = member(session, product, "developer", email="dev.triage@example.com")
        member(session, product, "security_officer", email="so.triage@example.com")
        for title in ("Fuzz report eth0", "Fuzz report serial", "Design review minutes"):
            create_evidence(
                session,
                dev,
                product_id=product.id,
                kind="other",
                data=EvidenceInput(
                    title=title,
                    requirements=["SM-2"],
                    files=[Upload("notes.md", "text/markdown", io.BytesIO(b"# Findings\n\nNone open."))],
                ),
            )
        product_id = product.id
    sign_in_as(page, live_server, "so.triage@example.com")
    page.goto(f"{live_server.url}/products/{product_id}/evidence")
    page.select_option("#state", "submitted")
    page.fill("#q", "fuzz REPORT")
    page.click("button:has-text('Show')")
    assert "2 items" in page.inner_text("#evidence-count")
    _shot(page, "evidence-triage")
    page.click("a:has-text('notes.md') >> nth=0")
    assert page.locator("#preview h1", has_text="Findings").count() == 1  # Markdown, sanitised, from our server
    page.go_back()
    page.locator("input[name=items]").first.check()
    page.locator("input[name=items]").nth(1).check()
    page.check("input[name=decision][value=accept]")
    page.click("button:has-text('Review selected')")
    assert "2 of 2 reviewed; 0 refused." in page.inner_text("#bulk-summary")
    _shot(page, "evidence-bulk-result")
    page.click("a:has-text('Back to the list')")
    assert "0 items" in page.inner_text("#evidence-count")
