"""PSIRT cases through their doors: the API (happy paths, bad input as problem+json naming the field, other
products' cases as 404, developers refused with 403) and the pages (they render for officers, developers and
auditors; the forms post with CSRF and show errors with nothing written; the dashboard orders by next deadline)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase, PsirtIntermediateRequest, PsirtSettings, PsirtSubmission
from sdl_tracker.psirt.services import create_case
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member

pytestmark = pytest.mark.db

OFFICER, DEVELOPER, AUDITOR, STRANGER = (
    "so@example.com",
    "dev@example.com",
    "auditor@example.com",
    "other-so@example.com",
)
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
PROBLEM = "application/problem+json"


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def case_of(session: Session, product: Product, title: str, **facts: Any) -> PsirtCase:
    """A case recorded through the service (received 40 hours ago unless said)."""
    received = facts.pop("received_at", ago(hours=40))
    kind = facts.pop("kind", "vulnerability")
    return create_case(
        session, OPERATOR, product.id, kind=kind, title=title, source="researcher", received_at=received, facts=facts
    )


@pytest.fixture
def plc(session: Session) -> Product:
    """PLC 1.0 and 1.1 with an officer, a developer and an auditor; Elsewhere with an officer of its own."""
    product = make_product(session, "PLC")
    make_release(session, product, "1.0")
    make_release(session, product, "1.1")
    member(session, product, "security_officer", OFFICER)
    member(session, product, "developer", DEVELOPER)
    member(session, product, "auditor", AUDITOR)
    member(session, make_product(session, "Elsewhere"), "security_officer", STRANGER)
    session.commit()
    return product


def written(session: Session) -> tuple[int, ...]:
    """How many cases, submissions, requests, settings and audit events there are."""
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (PsirtCase, PsirtSubmission, PsirtIntermediateRequest, PsirtSettings, AuditEvent)
    )


# --- the API ---------------------------------------------------------------------------------------------------


def test_a_case_is_recorded_shown_listed_changed_and_its_timeline_read(
    api: ApiClient, session: Session, plc: Product
) -> None:
    officer = api.as_user(OFFICER)
    body = {
        "kind": "vulnerability",
        "title": "Modbus frame overflow",
        "source": "researcher",
        "received_at": iso(ago(hours=30)),
        "reporter_contact": "mallory@example.org",
        "cve_ids": ["cve-2026-12345"],
        "cwe_ids": ["CWE-787", 120],
        "cvss_v31": V31,
        "affected": ["1.0"],
        "components": ["pkg:generic/modbus-stack@2.1"],
    }
    created = api.call("POST", f"/api/v1/products/{plc.id}/psirt/cases", officer, json=body)
    assert created.status_code == 201, created.json
    case = created.json
    assert re.fullmatch(r"PSIRT-\d{4}-0001", case["reference"])
    assert (case["cve_ids"], case["cwe_ids"], case["severity_score"]) == (["CVE-2026-12345"], [787, 120], 9.8)
    assert case["affected"] == ["1.0"] and case["clocks"] == [] and case["reporter_contact"] == "mallory@example.org"

    developer = api.as_user(DEVELOPER)
    shown = api.call("GET", f"/api/v1/psirt/cases/{case['id']}", developer)
    assert shown.status_code == 200 and shown.json["reporter_contact"] is None  # officers only

    aware = ago(hours=26)
    changed = api.call(
        "PATCH",
        f"/api/v1/psirt/cases/{case['id']}",
        officer,
        json={"status": "investigating", "aware_at": iso(aware), "reporter_contact": "mallory@example.net"},
    )
    assert changed.status_code == 200, changed.json
    clocks = {c["stage"]: c for c in changed.json["clocks"]}
    assert clocks["early-warning"]["state"] == "overdue" and clocks["notification"]["state"] == "running"

    for query, total in (
        (f"product={plc.id}", 1),
        (f"product={plc.id}&status=investigating", 1),
        ("status=received&status=triaged", 0),
        ("status=&kind=", 1),  # a select's "any"
        ("kind=incident", 0),
        ("kind=vulnerability&per_page=1", 1),
    ):
        listed = api.call("GET", f"/api/v1/psirt/cases?{query}", developer)
        assert listed.status_code == 200 and listed.json["total"] == total, query
    page = api.call("GET", "/api/v1/psirt/cases", developer).json
    assert set(page) == {"items", "total", "page", "per_page"} and page["items"][0]["reporter_contact"] is None

    timeline = api.call("GET", f"/api/v1/psirt/cases/{case['id']}/timeline", officer).json
    actions = [e["action"] for e in timeline["items"]]
    assert actions[:2] == ["psirt:case:create", "psirt:case:update"] and "psirt:clock:breach" in actions
    update = timeline["items"][1]
    rows = {row["field"]: row for row in update["changes"]}
    assert rows["Status"]["old"] == "Received" and rows["Status"]["new"] == "Investigating"
    assert rows["Reporter contact"]["new"] == "(hidden: security officers only)"  # the log is read by auditors
    assert "mallory" not in str(timeline)
    hidden = api.call("GET", f"/api/v1/psirt/cases/{case['id']}/timeline", developer).json
    fields = {row["field"] for event in hidden["items"] for row in event["changes"]}
    assert "Status" in fields and not any("Reporter" in field for field in fields)
    assert "mallory" not in str(hidden)


def test_submissions_intermediate_requests_and_due_clocks(api: ApiClient, session: Session, plc: Product) -> None:
    case = case_of(session, plc, "Exploited", aware_at=ago(hours=30))
    calm = case_of(session, plc, "Later", aware_at=ago(hours=2))
    session.commit()
    officer = api.as_user(OFFICER)
    clocks = api.call("GET", "/api/v1/psirt/clocks", api.as_user(AUDITOR))
    assert clocks.status_code == 200
    first = [(item["case"], item["clock"]["stage"], item["clock"]["state"]) for item in clocks.json["items"]][:3]
    assert first == [
        (case.reference, "early-warning", "overdue"),
        (calm.reference, "early-warning", "running"),
        (case.reference, "notification", "running"),
    ]

    submitted = api.call(
        "POST",
        f"/api/v1/psirt/cases/{case.id}/submissions",
        officer,
        json={"submitted_at": iso(ago(hours=1)), "stages": ["early-warning", "notification"], "reference": "SRP-1"},
    )
    assert submitted.status_code == 201, submitted.json
    assert submitted.json["stages"] == ["early-warning", "notification"] and submitted.json["reference"] == "SRP-1"

    requested = api.call(
        "POST",
        f"/api/v1/psirt/cases/{case.id}/intermediate-requests",
        officer,
        json={"requested_at": iso(ago(minutes=30)), "due_at": iso(ago(hours=-48)), "reference": "CSIRT-7"},
    )
    assert requested.status_code == 201, requested.json
    shown = api.call("GET", f"/api/v1/psirt/cases/{case.id}", officer).json
    states = {c["stage"]: c["state"] for c in shown["clocks"]}
    assert states == {
        "early-warning": "breached",
        "notification": "submitted",
        "final-report": "not started",
        "intermediate-1": "running",
    }
    assert [s["reference"] for s in shown["submissions"]] == ["SRP-1"]
    assert [r["reference"] for r in shown["intermediate_requests"]] == ["CSIRT-7"]


def test_product_settings_are_read_by_members_and_set_by_officers(
    api: ApiClient, session: Session, plc: Product
) -> None:
    url = f"/api/v1/products/{plc.id}/psirt/settings"
    default = api.call("GET", url, api.as_user(AUDITOR))
    assert default.status_code == 200 and default.json["zone"] == "UTC" and default.json["updated_by"] is None
    body = {"zone": "Europe/Berlin", "csirt": "CERT-Bund", "member_states": ["de", "AT"]}
    saved = api.call("PUT", url, api.as_user(OFFICER), json=body)
    assert saved.status_code == 200, saved.json
    assert (saved.json["zone"], saved.json["member_states"]) == ("Europe/Berlin", ["AT", "DE"])
    assert api.call("GET", url, api.as_user(DEVELOPER)).json["csirt"] == "CERT-Bund"
    assert api.call("PUT", url, api.as_user(DEVELOPER), json=body).status_code == 403
    assert api.call("GET", url, api.as_user(STRANGER)).status_code == 404


NEW = {"kind": "vulnerability", "title": "T", "source": "researcher"}


@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        ("cases", "POST", {**NEW, "received_at": "2026-01-01T10:00:00"}, "received_at"),  # no zone
        ("cases", "POST", {**NEW, "received_at": "yesterday"}, "received_at"),
        ("cases", "POST", {**NEW, "received_at": "2999-01-01T10:00:00Z"}, "received_at"),  # the future
        ("cases", "POST", {**NEW, "received_at": "2026-01-01T10:00:00Z", "cvss_v31": "CVSS:3.1/AV:X"}, "cvss_v31"),
        ("cases", "POST", {**NEW, "received_at": "2026-01-01T10:00:00Z", "cve_ids": ["CVE-26-1"]}, "cve_ids"),
        ("cases", "POST", {**NEW, "received_at": "2026-01-01T10:00:00Z", "affected": ["9.9"]}, "affected"),
        ("cases", "POST", {**NEW, "received_at": "2026-01-01T10:00:00Z", "colour": "red"}, "colour"),
        ("cases", "POST", {**NEW, "kind": "rumour", "received_at": "2026-01-01T10:00:00Z"}, "kind"),
        ("cases", "POST", {**NEW, "received_at": "2026-01-01T10:00:00Z", "exercise": "yes"}, "exercise"),
        ("case", "PATCH", {"status": "rejected"}, "status_reason"),
        ("case", "PATCH", {"components": ["not a purl"]}, "components"),
        ("case", "PATCH", {"aware_at": "2026-01-01T10:00:00Z"}, "aware_at"),  # moved without a justification
        ("submissions", "POST", {"submitted_at": "2026-06-01T10:00:00Z", "stages": ["gossip"]}, "stages"),
        ("submissions", "POST", {"submitted_at": "2026-06-01T10:00:00Z", "stages": []}, "stages"),
        ("intermediate", "POST", {"requested_at": "2026-06-01T10:00:00Z"}, "due_at"),
        ("settings", "PUT", {"zone": "Europe"}, "zone"),  # a folder of zones, not one
        ("settings", "PUT", {"zone": "UTC", "member_states": ["Germany"]}, "member_states"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
    api: ApiClient, session: Session, plc: Product, path: str, method: str, body: dict[str, Any], field: str
) -> None:
    case = case_of(session, plc, "Exploited", aware_at=ago(hours=30))
    session.commit()
    url = {
        "cases": f"/api/v1/products/{plc.id}/psirt/cases",
        "case": f"/api/v1/psirt/cases/{case.id}",
        "submissions": f"/api/v1/psirt/cases/{case.id}/submissions",
        "intermediate": f"/api/v1/psirt/cases/{case.id}/intermediate-requests",
        "settings": f"/api/v1/products/{plc.id}/psirt/settings",
    }[path]
    token = api.as_user(OFFICER)  # a token is audited: made before counting
    before = written(session)
    response = api.call(method, url, token, json=body)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == PROBLEM
    assert field in {e["field"] for e in response.json["errors"]}, response.json
    assert written(session) == before


def test_a_bad_list_filter_is_a_problem(api: ApiClient, plc: Product) -> None:
    for query, field in (
        ("product=abc", "product"),
        ("status=pending", "status"),
        ("status=&status=pending", "status"),
        ("kind=rumour", "kind"),
    ):
        response = api.call("GET", f"/api/v1/psirt/cases?{query}", api.as_user(OFFICER))
        assert response.status_code == 422 and response.headers["Content-Type"] == PROBLEM, query
        assert [e["field"] for e in response.json["errors"]] == [field]


def test_other_products_cases_are_404_and_developers_writing_are_403(
    api: ApiClient, session: Session, plc: Product
) -> None:
    elsewhere = session.scalars(select(Product).where(Product.name == "Elsewhere")).one()
    theirs = case_of(session, elsewhere, "Not yours", aware_at=ago(hours=2))
    ours = case_of(session, plc, "Ours", aware_at=ago(hours=2))
    session.commit()
    officer = api.as_user(OFFICER)
    for method, url, body in (
        ("GET", f"/api/v1/psirt/cases/{theirs.id}", None),
        ("GET", f"/api/v1/psirt/cases/{theirs.id}/timeline", None),
        ("PATCH", f"/api/v1/psirt/cases/{theirs.id}", {"title": "Mine now"}),
        ("POST", f"/api/v1/psirt/cases/{theirs.id}/submissions", {"submitted_at": iso(ago(hours=1)), "stages": ["x"]}),
        ("GET", f"/api/v1/psirt/cases?product={elsewhere.id}", None),
        ("GET", f"/api/v1/products/{elsewhere.id}/psirt/settings", None),
    ):
        response = api.call(method, url, officer, json=body)
        assert response.status_code == 404 and response.headers["Content-Type"] == PROBLEM, (method, url)
    listed = api.call("GET", "/api/v1/psirt/cases", officer).json
    assert [item["reference"] for item in listed["items"]] == [ours.reference]
    assert {item["case"] for item in api.call("GET", "/api/v1/psirt/clocks", officer).json["items"]} == {ours.reference}

    tokens = {email: api.as_user(email) for email in (DEVELOPER, AUDITOR)}
    before = written(session)
    new = {**NEW, "received_at": iso(ago(hours=1))}
    submission = {"submitted_at": iso(ago(hours=1)), "stages": ["early-warning"]}
    requested = {"requested_at": iso(ago(hours=1)), "due_at": iso(ago(hours=-5))}
    for email, token in tokens.items():
        for method, url, body in (
            ("POST", f"/api/v1/products/{plc.id}/psirt/cases", new),
            ("PATCH", f"/api/v1/psirt/cases/{ours.id}", {"title": "Changed"}),
            ("POST", f"/api/v1/psirt/cases/{ours.id}/submissions", submission),
            ("POST", f"/api/v1/psirt/cases/{ours.id}/intermediate-requests", requested),
            ("PUT", f"/api/v1/products/{plc.id}/psirt/settings", {"zone": "UTC"}),
        ):
            response = api.call(method, url, token, json=body)
            assert response.status_code == 403 and response.headers["Content-Type"] == PROBLEM, (email, method, url)
    assert written(session) == before


# --- the pages -------------------------------------------------------------------------------------------------


def page_of(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_pages_render_for_officers_developers_and_auditors(app: Flask, session: Session, plc: Product) -> None:
    case = case_of(
        session,
        plc,
        "Modbus frame overflow",
        aware_at=ago(hours=30),
        reporter_contact="mallory@example.org",
        cwe_ids=["CWE-787"],
        cvss_v31=V31,
        affected=["1.0"],
        components=["pkg:generic/modbus-stack@2.1"],
    )
    drill = case_of(
        session, plc, "Signing key drill", kind="incident", exercise=True, incident_criteria=["malicious-code"]
    )
    session.commit()
    for email, officer in ((OFFICER, True), (DEVELOPER, False), (AUDITOR, False)):
        client = app.test_client()
        login(client, email)
        dashboard = page_of(client, "/psirt")
        assert case.reference in dashboard and drill.reference in dashboard and "Exercise" in dashboard
        assert "<svg" in dashboard and 'class="overdue"' in dashboard
        listed = page_of(client, f"/psirt/cases?product={plc.id}&status=received&kind=vulnerability")
        assert case.reference in listed and drill.reference not in listed
        shown = page_of(client, f"/psirt/cases/{case.id}")
        assert "Attack Vector" in shown and "9.8" in shown and "Critical" in shown
        assert "Out-of-bounds Write" in shown and "pkg:generic/modbus-stack@2.1" in shown
        assert "Early warning" in shown and "UTC" in shown and "psirt:case:create" in shown
        assert ("mallory@example.org" in shown) is officer  # the contact, in the facts (never in the timeline)
        assert (f'href="/psirt/cases/{case.id}/edit"' in shown) is officer
        assert "Exercise" in page_of(client, f"/psirt/cases/{drill.id}")
        home = page_of(client, "/")
        assert 'id="clocks"' in home and f'href="/psirt/cases/{case.id}"' in home and "(Exercise)" in home
        assert 'href="/psirt"' in home  # the navigation
        product_page = page_of(client, f"/products/{plc.id}")
        assert f"/psirt/cases?product={plc.id}" in product_page
        assert (f"/products/{plc.id}/psirt/new" in product_page) is officer
        page_of(client, f"/products/{plc.id}/psirt/settings")
        for form in (
            f"/products/{plc.id}/psirt/new",
            f"/psirt/cases/{case.id}/edit",
            f"/psirt/cases/{case.id}/submissions/new",
            f"/psirt/cases/{case.id}/intermediate-requests/new",
        ):
            page_of(client, form, 200 if officer else 403)
    stranger = app.test_client()
    login(stranger, STRANGER)
    page_of(stranger, f"/psirt/cases/{case.id}", 404)
    assert case.reference not in page_of(stranger, "/psirt")
    page_of(stranger, f"/psirt/cases?product={plc.id}", 404)
    assert "Not a valid choice" in page_of(stranger, "/psirt/cases?kind=rumour", 422)


def test_the_dashboard_puts_the_next_deadline_first(app: Flask, session: Session, plc: Product) -> None:
    later = case_of(session, plc, "Due in 14 hours", aware_at=ago(hours=10))
    overdue = case_of(session, plc, "Overdue by 6 hours", aware_at=ago(hours=30))
    soon = case_of(session, plc, "Due in 4 hours", aware_at=ago(hours=20))
    case_of(session, plc, "Not exploited")  # runs no clock: not on the dashboard
    session.commit()
    client = app.test_client()
    login(client, AUDITOR)
    page = page_of(client, "/psirt")
    rows = re.findall(r'<tr class="([^"]*)" id="case-(\d+)"', page)
    assert [int(case_id) for _, case_id in rows] == [overdue.id, soon.id, later.id]
    assert [css for css, _ in rows] == ["overdue", "", ""]
    assert "Not exploited" not in page and "overdue by 6 h" in page


def form_post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def test_the_case_forms_record_with_csrf_and_show_errors_with_nothing_written(
    app: Flask, session: Session, plc: Product
) -> None:
    client = app.test_client()
    login(client, OFFICER)
    new = f"/products/{plc.id}/psirt/new"
    before = written(session)
    refused = form_post(
        client,
        new,
        {
            "kind": "vulnerability",
            "title": "",
            "source": "customer",
            "received_at": "2026-01-05T09:30",
            "cvss_v31": "x",
        },
    )
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "This field is required." in page and 'value="2026-01-05T09:30"' in page and "Traceback" not in page
    refused = form_post(
        client,
        new,
        {"kind": "vulnerability", "title": "Bad vector", "source": "customer", "received_at": "2026-01-05T09:30",
         "cvss_v31": "CVSS:3.1/AV:X"},
    )  # fmt: skip
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'value="Bad vector"' in page and "has-error" in page
    assert client.post(new, data={"title": "No token"}).status_code == 400
    assert written(session) == before

    created = form_post(
        client,
        new,
        {
            "zone": "UTC",
            "kind": "vulnerability",
            "title": "Web UI XSS",
            "source": "researcher",
            "received_at": "2026-01-05T09:30",
            "cwe_ids": "CWE-79",
            "affected": ["1.0", "1.1"],
            "reporter_contact": "r@example.org",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    case = session.scalars(select(PsirtCase).where(PsirtCase.title == "Web UI XSS")).one()
    assert case.received_at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC) and case.cwe_ids == [79]
    assert created.headers["Location"].endswith(f"/psirt/cases/{case.id}")

    edit = f"/psirt/cases/{case.id}/edit"
    page = page_of(client, edit)
    assert 'value="2026-01-05T09:30:00"' in page and "r@example.org" in page
    form = {
        "zone": "UTC",
        "title": "Web UI XSS",
        "source": "researcher",
        "received_at": "2026-01-05T09:30:00",
        "status": "received",
        "cwe_ids": "CWE-79",
        "affected": ["1.0", "1.1"],
        "reporter_contact": "r@example.org",
    }
    before = written(session)
    unchanged = form_post(client, edit, form)
    assert unchanged.status_code == 302 and written(session) == before
    triaged = form_post(client, edit, {**form, "status": "triaged", "aware_at": "2026-01-05T10:30"})
    assert triaged.status_code == 302
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "psirt:case:update")).one()
    assert set(event.details["changes"]) == {"status", "aware_at"}  # only what the person changed
    session.refresh(case)
    moved = form_post(client, edit, {**form, "status": "triaged", "aware_at": "2026-01-05T11:00"})
    page = moved.get_data(as_text=True)
    assert moved.status_code == 200 and "needs a justification" in page and 'value="2026-01-05T11:00"' in page
    session.refresh(case)
    assert case.aware_at == datetime(2026, 1, 5, 10, 30, tzinfo=UTC)


def test_submissions_requests_and_settings_through_the_forms(app: Flask, session: Session, plc: Product) -> None:
    case = case_of(session, plc, "Exploited", aware_at=ago(hours=30))
    session.commit()
    client = app.test_client()
    login(client, OFFICER)
    settings = f"/products/{plc.id}/psirt/settings"
    bad = form_post(client, settings, {"zone": "Europe/Berlin", "member_states": "Germany"})
    assert bad.status_code == 200 and "not a two-letter country code" in bad.get_data(as_text=True)
    assert session.get(PsirtSettings, plc.id) is None
    assert form_post(client, settings, {"zone": "Europe/Berlin", "member_states": "DE AT"}).status_code == 302
    session.expire_all()
    assert session.get(PsirtSettings, plc.id).member_states == ["AT", "DE"]  # type: ignore[union-attr]

    submission = f"/psirt/cases/{case.id}/submissions/new"
    page = page_of(client, submission)
    assert "Europe/Berlin" in page and 'value="early-warning"' in page
    before = written(session)
    wrong = form_post(client, submission, {"zone": "UTC", "submitted_at": "2026-01-05T09:30", "stages": ["gossip"]})
    assert wrong.status_code == 200 and "not a valid choice" in wrong.get_data(as_text=True)
    late = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    early = form_post(
        client, submission, {"zone": "UTC", "submitted_at": "2020-01-05T09:30", "stages": ["notification"]}
    )
    assert early.status_code == 200 and "earlier than the awareness" in early.get_data(as_text=True)
    assert written(session) == before
    made = form_post(client, submission, {"zone": "UTC", "submitted_at": late, "stages": ["early-warning"]})
    assert made.status_code == 302

    intermediate = f"/psirt/cases/{case.id}/intermediate-requests/new"
    due = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    backwards = form_post(client, intermediate, {"zone": "UTC", "requested_at": late, "due_at": "2026-01-01T00:00"})
    assert backwards.status_code == 200 and "due before it was requested" in backwards.get_data(as_text=True)
    asked = form_post(client, intermediate, {"zone": "Europe/Berlin", "requested_at": late, "due_at": due})
    assert asked.status_code == 302
    shown = page_of(client, f"/psirt/cases/{case.id}")
    assert "Intermediate report 1" in shown and ("CET)" in shown or "CEST)" in shown)  # the establishment's clock
    request = session.scalars(select(PsirtIntermediateRequest)).one()
    berlin = datetime.strptime(due, "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo("Europe/Berlin"))
    assert request.due_at == berlin  # typed on Berlin's clock, as the form said


def test_a_stage_packet_shows_what_to_report_and_downloads_as_markdown_or_json(
    app: Flask, session: Session, plc: Product, api: ApiClient
) -> None:
    case = case_of(session, plc, "Exploited # overflow | x", aware_at=ago(hours=30), affected=["1.0"])
    session.commit()
    client = app.test_client()
    login(client, DEVELOPER)
    shown = page_of(client, f"/psirt/cases/{case.id}")
    assert f'href="/psirt/cases/{case.id}/packets/early-warning"' in shown
    page = page_of(client, f"/psirt/cases/{case.id}/packets/early-warning")
    assert "Checklist:" in page and "never submits" in page and "Download Markdown" in page
    markdown = client.get(f"/psirt/cases/{case.id}/packets/early-warning?format=markdown")
    assert markdown.status_code == 200 and markdown.mimetype == "text/markdown"
    assert markdown.headers["Content-Disposition"] == f'attachment; filename="{case.reference}-early-warning.md"'
    assert markdown.get_data(as_text=True).startswith(f"# {case.reference}: Early warning")
    downloaded = client.get(f"/psirt/cases/{case.id}/packets/notification?format=json")
    assert downloaded.mimetype == "application/json" and downloaded.json["stage"] == "notification"
    page_of(client, f"/psirt/cases/{case.id}/packets/final-words", 422)

    developer = api.as_user(DEVELOPER)
    packet = api.call("GET", f"/api/v1/psirt/cases/{case.id}/packets/early-warning", developer)
    assert packet.status_code == 200 and packet.json["case"] == case.reference
    assert {"item", "done", "why"} == set(packet.json["checklist"][0]) and packet.json["complete"] is False
    refused = api.call("GET", f"/api/v1/psirt/cases/{case.id}/packets/final-words", developer)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    stranger = api.call("GET", f"/api/v1/psirt/cases/{case.id}/packets/early-warning", api.as_user(STRANGER))
    assert stranger.status_code == 404


def test_what_the_reports_state_in_words_is_recorded_through_the_api_and_the_form(
    app: Flask, session: Session, plc: Product, api: ApiClient
) -> None:
    case = case_of(session, plc, "Exploited overflow", aware_at=ago(hours=30))
    session.commit()
    officer = api.as_user(OFFICER)
    changed = api.call(
        "PATCH", f"/api/v1/psirt/cases/{case.id}", officer, json={"impact": "Remote code execution", "root_cause": ""}
    )
    assert changed.status_code == 200 and changed.json["impact"] == "Remote code execution"
    too_long = api.call("PATCH", f"/api/v1/psirt/cases/{case.id}", officer, json={"sensitivity": "x" * 20_001})
    assert too_long.status_code == 422 and too_long.mimetype == "application/problem+json"
    client = app.test_client()
    login(client, OFFICER)
    form = page_of(client, f"/psirt/cases/{case.id}/edit")
    assert 'name="malicious_actor"' in form and "Remote code execution" in form
    shown = {**_form_fields(form), "zone": "UTC", "source": "researcher", "status": "received"}
    posted = form_post(client, f"/psirt/cases/{case.id}/edit", {**shown, "malicious_actor": "Unknown so far"})
    assert posted.status_code == 302
    assert "Unknown so far" in page_of(client, f"/psirt/cases/{case.id}")


def _form_fields(page: str) -> dict[str, Any]:
    """The values an edit form shows in its text inputs and text areas, as a browser posts them back."""
    fields: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        named, valued = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if named and valued and not re.search(r'type="(?:checkbox|radio|submit)"', tag):
            fields.setdefault(named.group(1), valued.group(1))
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page, re.DOTALL):
        fields[name] = value.strip()
    return fields
