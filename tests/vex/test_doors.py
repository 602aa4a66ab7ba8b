"""VEX decisions through their doors: the API (problem+json naming the rule, 403 for developers, 404 for other
products), the pages (a release's VEX page and its form, with CSRF; the panels on the case and component pages)
and the command line (decide, list, confirm, delete; refusals one line, exit 2)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.cli import cli
from sdl_tracker.evidence.services import Upload
from sdl_tracker.products.models import Product, Release
from sdl_tracker.psirt.services import create_case
from sdl_tracker.sboms.models import Sbom, SbomComponent
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.models import DecisionOrigin, VexDecision
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member
from tests.sboms.builders import xml_bom

pytestmark = pytest.mark.db

OFFICER, DEVELOPER, AUDITOR, STRANGER = "so@example.com", "dev@example.com", "auditor@example.com", "other@example.com"
CVE = "CVE-2024-3094"
PROBLEM = "application/problem+json"


@pytest.fixture
def plc(session: Session) -> Product:
    """PLC 1.0 (with an SBOM) and its officer, developer and auditor; Elsewhere with an officer of its own."""
    product = make_product(session, "PLC")
    release = make_release(session, product, "1.0")
    import_sbom(session, OPERATOR, release.id, Upload("fw.xml", "", io.BytesIO(xml_bom())))
    member(session, product, "security_officer", OFFICER)
    member(session, product, "developer", DEVELOPER)
    member(session, product, "auditor", AUDITOR)
    elsewhere = make_product(session, "Elsewhere")
    make_release(session, elsewhere, "3.0")
    member(session, elsewhere, "security_officer", STRANGER)
    session.commit()
    return product


def release_of(session: Session, product: Product, version: str = "1.0") -> Release:
    return session.scalars(select(Release).where(Release.product_id == product.id, Release.version == version)).one()


def written(session: Session) -> tuple[int, int]:
    """How many decisions and VEX audit events there are (sign-ins and tokens are audited too)."""
    session.expire_all()
    decisions = session.scalar(select(func.count()).select_from(VexDecision)) or 0
    audited = session.scalar(select(func.count()).where(AuditEvent.action.startswith("vex:"))) or 0
    return decisions, audited


# --- the API ---------------------------------------------------------------------------------------------------


def test_a_decision_is_recorded_changed_listed_confirmed_and_deleted_through_the_api(
    api: ApiClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    officer = api.as_user(OFFICER)
    path = f"/api/v1/releases/{release.id}/vex-decisions"
    body = {
        "vulnerability": "cve-2024-3094",
        "component": "pkg:generic/openssl@3.0.13",
        "status": "not_affected",
        "justification": "vulnerable_code_cannot_be_controlled_by_adversary",
        "cdx_justification": "requires_configuration",
        "impact": "Only with the debug port enabled.",
    }
    created = api.call("POST", path, officer, json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    decision = created.get_json()
    assert decision["vulnerability"] == CVE and decision["component"] == "pkg:generic/openssl"
    assert decision["confirmed"] and decision["origin"] == "officer" and decision["release"] == "1.0"
    changed = api.call(
        "POST",
        path,
        officer,
        json={**body, "status": "affected", "action": "Update.", "justification": None, "cdx_justification": None},
    )
    assert changed.status_code == 200 and changed.get_json()["id"] == decision["id"]
    record_decision(
        session,
        OPERATOR,
        release.id,
        "GHSA-jfh8-c2jp-5v3q",
        DecisionInput("under_investigation"),
        origin=DecisionOrigin.MATCH,
    )
    session.commit()

    reader = api.as_user(AUDITOR)
    listed = api.call("GET", f"{path}?status=under_investigation", reader).get_json()
    assert [d["vulnerability"] for d in listed["items"]] == ["GHSA-jfh8-c2jp-5v3q"] and listed["total"] == 1
    assert api.call("GET", f"{path}?component=pkg:generic/openssl@1", reader).get_json()["total"] == 1
    proposal = listed["items"][0]
    assert not proposal["confirmed"] and proposal["origin"] == "match"
    confirmed = api.call("POST", f"/api/v1/vex-decisions/{proposal['id']}/confirm", officer)
    assert confirmed.status_code == 200 and confirmed.get_json()["confirmed"]
    again = api.call("POST", f"/api/v1/vex-decisions/{proposal['id']}/confirm", officer)
    assert again.status_code == 422 and "already confirmed" in again.get_json()["detail"]

    shown = api.call("GET", f"/api/v1/vex-decisions/{decision['id']}", reader).get_json()
    assert shown["status"] == "affected" and shown["action"] == "Update."
    on_component = api.call("GET", "/api/v1/vex-decisions?component=pkg:generic/openssl", reader).get_json()
    assert [d["id"] for d in on_component["items"]] == [decision["id"]]
    vulnerability = api.call("GET", "/api/v1/vulnerabilities/cve-2024-3094", reader).get_json()
    assert vulnerability["name"] == CVE and vulnerability["source"] == "officer" and vulnerability["case"] is None
    assert api.call("GET", f"/api/v1/vulnerabilities/{CVE}/vex-decisions", reader).get_json()["total"] == 1
    assert api.call("GET", "/api/v1/vulnerabilities/CVE-2020-0001", reader).status_code == 404

    assert api.call("DELETE", f"/api/v1/vex-decisions/{decision['id']}", officer).status_code == 204
    assert api.call("GET", f"/api/v1/vex-decisions/{decision['id']}", reader).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "not_affected"}, "not affected needs a justification"),
        ({"status": "affected"}, "affected needs an action statement"),
        ({"status": "fixed", "justification": "component_not_present"}, "only a not-affected decision"),
        (
            {
                "status": "not_affected",
                "justification": "component_not_present",
                "cdx_justification": "code_not_reachable",
            },
            "falls under vulnerable_code_not_in_execute_path",
        ),
        ({"status": "affected", "action": "x" * 4001}, "at most 4000 characters"),
        ({"status": "affected", "action": "Update", "vulnerability": "log4shell"}, "not a vulnerability id"),
        ({"status": "affected", "action": "Update", "component": "openssl 3"}, "not a purl"),
        ({"status": "maybe"}, "Input should be"),
        ({"status": "affected", "action": "Update", "rating": 9}, "Extra inputs are not permitted"),
    ],
)
def test_bad_decisions_are_problems_naming_the_rule_and_nothing_is_written(
    api: ApiClient, session: Session, plc: Product, body: dict[str, object], message: str
) -> None:
    release = release_of(session, plc)
    before = written(session)
    response = api.call(
        "POST",
        f"/api/v1/releases/{release.id}/vex-decisions",
        api.as_user(OFFICER),
        json={"vulnerability": CVE, **body},
    )
    assert response.status_code == 422 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert message in json.dumps(problem), problem
    assert written(session) == before


def test_developers_and_auditors_are_refused_and_other_products_not_found(
    api: ApiClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    decision = record_decision(session, OPERATOR, release.id, CVE, DecisionInput("affected", action="Update"))
    session.commit()
    path = f"/api/v1/releases/{release.id}/vex-decisions"
    body = {"vulnerability": CVE, "status": "fixed"}
    for email in (DEVELOPER, AUDITOR):
        token = api.as_user(email)
        assert api.call("POST", path, token, json=body).status_code == 403
        assert api.call("DELETE", f"/api/v1/vex-decisions/{decision.id}", token).status_code == 403
        assert api.call("GET", path, token).get_json()["total"] == 1
    stranger = api.as_user(STRANGER)
    for method, url in (
        ("POST", path),
        ("GET", path),
        ("GET", f"/api/v1/vex-decisions/{decision.id}"),
        ("POST", f"/api/v1/vex-decisions/{decision.id}/confirm"),
        ("DELETE", f"/api/v1/vex-decisions/{decision.id}"),
    ):
        response = api.call(method, url, stranger, json=body if method == "POST" else None)
        assert response.status_code == 404 and response.mimetype == PROBLEM, url
    assert api.call("GET", f"/api/v1/vulnerabilities/{CVE}/vex-decisions", stranger).get_json()["total"] == 0
    assert written(session)[0] == 1


def test_a_cases_decisions_through_the_api_and_on_its_page(
    app: Flask, api: ApiClient, client: FlaskClient, session: Session, plc: Product
) -> None:
    case = create_case(
        session, OPERATOR, plc.id, kind="vulnerability", title="Overflow", source="researcher",
        received_at=datetime.now(UTC) - timedelta(hours=2), facts={"cve_ids": ["CVE-2026-1234"]},
    )  # fmt: skip
    release = release_of(session, plc)
    record_decision(session, OPERATOR, release.id, case.reference, DecisionInput("affected", action="Apply 1.0.1."))
    session.commit()
    listed = api.call("GET", f"/api/v1/psirt/cases/{case.id}/vex-decisions", api.as_user(DEVELOPER)).get_json()
    assert [(d["vulnerability"], d["status"]) for d in listed["items"]] == [("CVE-2026-1234", "affected")]
    shown = api.call("GET", "/api/v1/vulnerabilities/CVE-2026-1234", api.as_user(OFFICER)).get_json()
    assert shown["case"] == case.reference and shown["source"] == "case"
    assert api.call("GET", "/api/v1/vulnerabilities/CVE-2026-1234", api.as_user(STRANGER)).get_json()["case"] is None
    assert api.call("GET", f"/api/v1/psirt/cases/{case.id}/vex-decisions", api.as_user(STRANGER)).status_code == 404
    login(client, AUDITOR)
    page = client.get(f"/psirt/cases/{case.id}").get_data(as_text=True)
    section = page[page.index('id="vex"') :]
    assert "CVE-2026-1234" in section and "Apply 1.0.1." in section and "PLC 1.0" in section


# --- the pages -------------------------------------------------------------------------------------------------


def test_an_officer_records_a_decision_on_the_release_page_and_changes_it(
    client: FlaskClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    login(client, OFFICER)
    path = f"/releases/{release.id}/vex"
    form = {
        "vulnerability": CVE,
        "component": "pkg:generic/zlib@1.3.1",
        "status": "not_affected",
        "justification": "vulnerable_code_not_present",
        "cdx_justification": "",
        "impact": "Built without the vulnerable inflate path.",
        "action": "",
    }
    response = client.post(path, data={**form, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "pkg:generic/zlib" in page and "Built without the vulnerable inflate path." in page
    decision = session.scalars(select(VexDecision)).one()
    assert f"decision={decision.id}" in page  # the Change link
    edit = client.get(f"{path}?decision={decision.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="not_affected">|<option value="not_affected" selected', edit)
    assert client.get(f"/releases/{release.id}/vex?decision=2147483647").status_code == 404
    filtered = client.get(f"{path}?status=affected").get_data(as_text=True)
    assert "No decision matches." in filtered
    refused = client.get(f"{path}?vulnerability=log4shell")
    assert refused.status_code == 422 and "not a vulnerability id" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"status": "not_affected", "justification": ""}, "not affected needs a justification"),
        ({"status": "affected"}, "affected needs an action statement"),
        ({"vulnerability": "log4shell"}, "not a vulnerability id"),
        ({"component": "zlib"}, "not a purl"),
        ({"status": ""}, "Choose a status."),
        ({"impact": "x" * 4001}, "Field cannot be longer than 4000 characters."),
    ],
)
def test_a_refused_form_shows_why_and_writes_nothing(
    client: FlaskClient, session: Session, plc: Product, changes: dict[str, str], shown: str
) -> None:
    release = release_of(session, plc)
    login(client, OFFICER)
    path = f"/releases/{release.id}/vex"
    before = written(session)
    form = {"vulnerability": CVE, "component": "", "status": "fixed", "justification": "", "cdx_justification": ""}
    response = client.post(path, data={**form, **changes, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 200 and shown in response.get_data(as_text=True)
    assert written(session) == before


def test_the_form_needs_its_csrf_token_and_readers_see_neither_form_nor_buttons(
    client: FlaskClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    record_decision(session, OPERATOR, release.id, CVE, DecisionInput("fixed"), origin=DecisionOrigin.MATCH)
    session.commit()
    before = written(session)
    path = f"/releases/{release.id}/vex"
    login(client, OFFICER)
    response = client.post(path, data={"vulnerability": CVE, "status": "fixed"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    officer_page = client.get(path).get_data(as_text=True)
    assert 'id="decide"' in officer_page and ">Confirm</button>" in officer_page
    for email in (DEVELOPER, AUDITOR):
        reader = client.application.test_client()
        login(reader, email)
        page = reader.get(path)
        assert page.status_code == 200 and CVE in page.get_data(as_text=True)
        text = page.get_data(as_text=True)
        assert 'id="decide"' not in text and ">Confirm</button>" not in text and ">Delete</button>" not in text
        token = csrf_token(reader, path)
        assert reader.post(path, data={"vulnerability": CVE, "status": "fixed", "csrf_token": token}).status_code == 403
        decision = session.scalars(select(VexDecision)).one()
        assert reader.post(f"/vex-decisions/{decision.id}/delete", data={"csrf_token": token}).status_code == 403
    assert written(session) == before


def test_confirming_and_deleting_on_the_page(client: FlaskClient, session: Session, plc: Product) -> None:
    release = release_of(session, plc)
    decision = record_decision(session, OPERATOR, release.id, CVE, DecisionInput("fixed"), origin=DecisionOrigin.MATCH)
    session.commit()
    login(client, OFFICER)
    path = f"/releases/{release.id}/vex"
    token = csrf_token(client, path)
    confirmed = client.post(f"/vex-decisions/{decision.id}/confirm", data={"csrf_token": token}, follow_redirects=True)
    assert "confirmed for this release" in confirmed.get_data(as_text=True)
    again = client.post(f"/vex-decisions/{decision.id}/confirm", data={"csrf_token": token}, follow_redirects=True)
    assert "already confirmed" in again.get_data(as_text=True)
    deleted = client.post(f"/vex-decisions/{decision.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "decision deleted" in deleted.get_data(as_text=True)
    assert written(session)[0] == 0


def test_the_component_page_shows_the_decisions_on_it_across_the_readers_releases(
    client: FlaskClient, session: Session, plc: Product
) -> None:
    release = release_of(session, plc)
    record_decision(
        session,
        OPERATOR,
        release.id,
        CVE,
        DecisionInput("affected", action="Rebuild with 3.0.14."),
        component="pkg:generic/openssl@3.0.13",
    )
    elsewhere = session.scalars(select(Release).join(Product).where(Product.name == "Elsewhere")).one()
    record_decision(session, OPERATOR, elsewhere.id, CVE, DecisionInput("fixed"), component="pkg:generic/openssl@3.1")
    session.commit()
    login(client, DEVELOPER)
    component = session.scalars(
        select(SbomComponent).join(Sbom).where(Sbom.release_id == release.id, SbomComponent.name == "openssl")
    ).one()
    page = client.get(f"/sboms/{component.sbom_id}/components/{component.position}").get_data(as_text=True)
    section = page[page.index('id="vex"') : page.index('id="dependents"')]
    assert "Rebuild with 3.0.14." in section and "PLC 1.0" in section and "Elsewhere" not in section
    zlib = session.scalars(
        select(SbomComponent).join(Sbom).where(Sbom.release_id == release.id, SbomComponent.name == "zlib")
    ).one()
    other = client.get(f"/sboms/{zlib.sbom_id}/components/{zlib.position}").get_data(as_text=True)
    assert "No release has a decision on this component." in other
    release_page = client.get(f"/products/releases/{release.id}").get_data(as_text=True)
    assert f"/releases/{release.id}/vex" in release_page


# --- the command line ------------------------------------------------------------------------------------------


def test_the_command_line_decides_lists_confirms_and_deletes(app: Flask, session: Session, plc: Product) -> None:
    runner = app.test_cli_runner()
    decide = [
        "vex", "decide", "PLC", "1.0", "cve-2024-3094", "--component", "pkg:generic/openssl@3.0.13",
        "--status", "not_affected", "--justification", "inline_mitigations_already_exist",
        "--cdx-justification", "protected_at_runtime", "--impact", "ASLR and a watchdog.", "--as", OFFICER,
    ]  # fmt: skip
    result = runner.invoke(cli, decide)
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["1.0:", CVE, "pkg:generic/openssl", "not_affected", "confirmed"]
    make_release(session, plc, "1.1")
    session.commit()
    listed = runner.invoke(cli, ["vex", "list", "PLC", "1.1", "--json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.output)
    assert [(i["vulnerability"], i["origin"], i["confirmed"]) for i in items] == [(CVE, "carried", False)]
    text = runner.invoke(cli, ["vex", "list", "PLC", "1.1"])
    assert "carried, unconfirmed" in text.output
    confirm = ["vex", "confirm", "PLC", "1.1", CVE, "--component", "pkg:generic/openssl"]
    unnamed = runner.invoke(cli, confirm)
    assert unnamed.exit_code == 2 and unnamed.output.strip() == (
        "error: a confirmation needs a named officer (on the command line: --as EMAIL)"
    )
    confirmed = runner.invoke(cli, [*confirm, "--as", OFFICER])
    assert confirmed.exit_code == 0 and confirmed.output.split()[-1] == "confirmed", confirmed.output
    deleted = runner.invoke(cli, ["vex", "delete", "PLC", "1.1", CVE, "--component", "pkg:generic/openssl@9"])
    assert deleted.exit_code == 0 and "deleted" in deleted.output
    missing = runner.invoke(cli, ["vex", "delete", "PLC", "1.1", CVE, "--component", "pkg:generic/openssl"])
    assert missing.exit_code == 2 and "has no decision on" in missing.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--status", "not_affected"], "error: not affected needs a justification (one of the five VEX labels)"),
        (["--status", "affected", "--as", DEVELOPER], "error: a developer may not do this (vex:decide)"),
        (["--status", "affected", "--action", "Update", "--component", "zlib"], "error: component: not a purl"),
        (["--status", "sometimes"], "error: invalid value for '--status'"),
    ],
)
def test_command_line_refusals_are_one_line_exit_2_and_write_nothing(
    app: Flask, session: Session, plc: Product, arguments: list[str], message: str
) -> None:
    before = written(session)
    result = app.test_cli_runner().invoke(cli, ["vex", "decide", "PLC", "1.0", CVE, *arguments])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith(message), result.output
    assert written(session) == before
