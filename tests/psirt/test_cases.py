"""PSIRT cases on the real database: recorded and changed by security officers only, audited, their clocks kept
as rows where a breach stays recorded, and bad input refused with nothing written."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import find_user, principal_for
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.errors import DomainError, Forbidden, Invalid, NotFound
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.services import Upload
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase, PsirtSubmission, ReportClock
from sdl_tracker.psirt.schemas import CaseDetailOut, CaseOut
from sdl_tracker.psirt.services import (
    case_clocks,
    create_case,
    due_clocks,
    get_case_by_reference,
    record_submission,
    refresh_clocks,
    update_case,
    update_settings,
)
from sdl_tracker.sboms.services import import_sbom
from tests.factories import OPERATOR, make_product, make_release, member
from tests.sboms.builders import dumps, json_bom

pytestmark = pytest.mark.db

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
CRITERIA = ["protection-affected"]


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


@pytest.fixture
def plc(session: Session) -> Product:
    product = make_product(session, "PLC")
    make_release(session, product, "1.0")
    make_release(session, product, "1.1")
    return product


def officer(session: Session, product: Product) -> Principal:
    """The product's security officer (made on first use)."""
    user = find_user(session, "so@example.com")
    if user is None:
        return member(session, product, "security_officer", "so@example.com")
    return principal_for(session, user)


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (PsirtCase, PsirtSubmission, ReportClock, AuditEvent)
    )


def vulnerability(session: Session, product: Product, received_at: object = None, **facts: Any) -> PsirtCase:
    return create_case(
        session,
        officer(session, product),
        product.id,
        kind="vulnerability",
        title="Modbus frame overflow",
        source="researcher",
        received_at=received_at or ago(hours=40),
        facts=facts,
    )


def test_a_case_is_numbered_per_year_audited_and_runs_no_clock_until_exploitation_is_known(
    session: Session, plc: Product
) -> None:
    first = vulnerability(session, plc, cve_ids=["cve-2026-12345"], cwe_ids=["CWE-787"], cvss_v31=V31)
    second = vulnerability(session, plc)
    assert first.reference.endswith("-0001") and second.reference.endswith("-0002")
    assert first.cve_ids == ["CVE-2026-12345"] and first.cwe_ids == [787] and first.severity_score == 9.8
    assert case_clocks(session, first) == ()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "psirt:case:create")).first()
    assert event is not None and event.details["case"] == first.reference

    actor = officer(session, plc)
    update_case(session, actor, first.id, {"aware_at": ago(hours=30), "affected": ["1.0", "1.1"]})
    clocks = {c.stage: c for c in case_clocks(session, first)}
    assert clocks["early-warning"].state == "overdue" and clocks["notification"].state == "running"
    assert clocks["final-report"].due_at is None and clocks["final-report"].state == "not started"
    rows = {r.stage: r for r in session.scalars(select(ReportClock).where(ReportClock.case_id == first.id))}
    assert rows["early-warning"].breached_at is not None and rows["notification"].open
    assert [d.clock.stage for d in due_clocks(session, actor)][:2] == ["early-warning", "notification"]
    breach = session.scalars(select(AuditEvent).where(AuditEvent.action == "psirt:clock:breach")).one()
    assert breach.details == {
        "case": first.reference,
        "stage": "early-warning",
        "due_at": rows["early-warning"].due_at.isoformat(),
        "exercise": False,
    }


def test_a_breach_stays_recorded_after_a_late_submission(session: Session, plc: Product) -> None:
    case = vulnerability(session, plc, aware_at=ago(hours=30))
    actor = officer(session, plc)
    missed = session.scalars(
        select(ReportClock.breached_at).where(ReportClock.case_id == case.id, ReportClock.stage == "early-warning")
    ).one()
    record_submission(session, actor, case.id, submitted_at=ago(hours=1), stages=["early-warning", "notification"])
    refresh_clocks(session, actor, case)
    rows = {r.stage: r for r in session.scalars(select(ReportClock).where(ReportClock.case_id == case.id))}
    assert rows["early-warning"].state == "breached" and rows["early-warning"].breached_at == missed
    assert rows["notification"].state == "submitted" and rows["notification"].breached_at is None
    assert session.scalar(select(func.count()).where(AuditEvent.action == "psirt:clock:breach")) == 1


def test_the_final_report_waits_for_the_measure_and_cannot_come_before_it(session: Session, plc: Product) -> None:
    case = vulnerability(session, plc, aware_at=ago(hours=10))
    actor = officer(session, plc)
    before = counts(session)
    with pytest.raises(Invalid, match="final report"), session.begin_nested():
        record_submission(session, actor, case.id, submitted_at=ago(hours=1), stages=["final-report"])
    assert counts(session) == before
    case = get_case_by_reference(session, actor, case.reference)
    update_case(session, actor, case.id, {"measure_available_at": ago(hours=2)})
    final = next(c for c in case_clocks(session, case) if c.stage == "final-report")
    assert final.state == "running" and final.due_at is not None
    assert final.due_at - case.measure_available_at <= timedelta(days=14)  # the earlier calendar reading


def test_anchor_times_move_only_with_a_justification(session: Session, plc: Product) -> None:
    actor = officer(session, plc)
    with pytest.raises(Invalid, match="justification"), session.begin_nested():
        vulnerability(session, plc, received_at=ago(hours=5), aware_at=ago(hours=8))
    case = create_case(
        session,
        actor,
        plc.id,
        kind="vulnerability",
        title="Back-dated",
        source="customer",
        received_at=ago(hours=5),
        facts={"aware_at": ago(hours=8)},
        justification="The customer saw exploitation three hours before writing to us.",
    )
    with pytest.raises(Invalid, match="justification"), session.begin_nested():
        update_case(session, actor, case.id, {"aware_at": ago(hours=4)})
    case = get_case_by_reference(session, actor, case.reference)
    update_case(session, actor, case.id, {"aware_at": ago(hours=4)}, justification="Log review dated it later.")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "psirt:case:update")).one()
    assert event.details["justification"] == "Log review dated it later."
    assert set(event.details["changes"]) == {"aware_at"}


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"cve_ids": ["CVE-26-1"]}, "cve_ids"),
        ({"cwe_ids": ["CWE-999999"]}, "cwe_ids"),
        ({"cvss_v31": "CVSS:3.1/AV:N"}, "cvss_v31"),
        ({"cvss_v31": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}, "cvss_v31"),
        ({"affected": ["9.9"]}, "affected"),
        ({"components": ["openssl"]}, "components"),
        ({"aware_at": "2026-12-01T10:00"}, "aware_at"),
        ({"aware_at": "2999-01-01T00:00Z"}, "aware_at"),
        ({"incident_criteria": CRITERIA}, "incident_criteria"),
        ({"status": "rejected"}, "status_reason"),
        ({"status": "duplicate", "status_reason": "same as another"}, "duplicate_of"),
        ({"status": "disclosed"}, "status"),
        ({"maintainer_reported_at": "2026-12-01T10:00Z"}, "upstream_component"),
        ({"title": "two\nlines"}, "title"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_facts_are_refused_and_nothing_is_written(
    session: Session, plc: Product, facts: dict[str, Any], field: str
) -> None:
    before = counts(session)
    with pytest.raises(Invalid) as refused, session.begin_nested():
        vulnerability(session, plc, **facts)
    assert [e.field for e in refused.value.errors] == [field]
    assert counts(session) == before


def test_releases_of_another_product_are_refused(session: Session, plc: Product) -> None:
    other = make_product(session, "Gateway")
    make_release(session, other, "7.0")
    case = vulnerability(session, plc)
    with pytest.raises(Invalid, match=r"no release '7\.0' of this case's product"):
        update_case(session, officer(session, plc), case.id, {"affected": ["7.0"]})


def test_only_the_products_officers_record_cases_and_read_reporters(session: Session, plc: Product) -> None:
    case = vulnerability(session, plc, reporter_contact="alice@research.example")
    developer = member(session, plc, "developer", "dev@example.com")
    stranger = member(session, make_product(session, "Other"), "security_officer", "other@example.com")
    with pytest.raises(Forbidden):
        update_case(session, developer, case.id, {"title": "Changed"})
    with pytest.raises(NotFound):
        get_case_by_reference(session, stranger, case.reference)
    assert CaseOut.of(case, developer).reporter_contact is None
    assert CaseOut.of(case, officer(session, plc)).reporter_contact == "alice@research.example"
    update_case(session, officer(session, plc), case.id, {"reporter_contact": "bob@research.example"})
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("psirt:%"))).all()
    assert "research.example" not in json.dumps([e.details for e in events])  # auditors read the log
    assert events[-1].details["changes"]["reporter_contact"]["new"] == "(hidden: security officers only)"


def test_an_incident_runs_its_clocks_from_receipt_and_needs_its_criteria(session: Session, plc: Product) -> None:
    actor = officer(session, plc)
    with pytest.raises(Invalid, match="severe"), session.begin_nested():
        create_case(
            session, actor, plc.id, kind="incident", title="Key leak", source="internal", received_at=ago(hours=2)
        )
    update_settings(session, actor, plc.id, zone="Europe/Berlin", csirt="CERT-Bund", member_states=["de", "AT"])
    case = create_case(
        session,
        actor,
        plc.id,
        kind="incident",
        title="Signing key exposed",
        source="internal",
        received_at=ago(hours=2),
        facts={"incident_criteria": ["malicious-code"], "malicious_suspected": True},
    )
    clocks = {c.stage: c for c in case_clocks(session, case)}
    assert clocks["early-warning"].due_at == case.aware_at + timedelta(hours=24)
    assert clocks["final-report"].state == "not started"
    record_submission(session, actor, case.id, submitted_at=ago(hours=1), stages=["early-warning", "notification"])
    final = next(c for c in case_clocks(session, case) if c.stage == "final-report")
    assert final.anchor is not None and final.due_at is not None and final.due_at > final.anchor + timedelta(days=27)
    detail = CaseDetailOut.read(session, case, actor)
    assert detail.malicious_suspected is True and [s.stages for s in detail.submissions] == [
        ["early-warning", "notification"]
    ]


def test_the_releases_holding_a_component_are_found_from_their_sboms(session: Session, plc: Product) -> None:
    release = make_release(session, plc, "2.0")
    document = json_bom(components=0, dependencies=[])
    document["components"] = [
        {
            "type": "library",
            "bom-ref": "ssl",
            "name": "openssl",
            "version": "3.0.13",
            "purl": "pkg:deb/debian/openssl@3.0.13",
        }
    ]
    import_sbom(session, OPERATOR, release.id, Upload("bom.json", "", io.BytesIO(dumps(document))), primary=True)
    case = vulnerability(session, plc, components=["pkg:deb/debian/openssl@3.0.11"])
    detail = CaseDetailOut.read(session, case, officer(session, plc))
    assert detail.releases_with_components == {"pkg:deb/debian/openssl@3.0.11": ["2.0"]}


def test_the_command_line_records_lists_shows_and_monitors(app: Flask, session: Session, plc: Product) -> None:
    runner = app.test_cli_runner()
    aware = ago(hours=80).isoformat()
    created = runner.invoke(
        cli,
        ["psirt", "create", "PLC", "Exploited in the wild", "--source", "coordinator", "--received-at", aware,
         "--aware-at", aware, "--cvss-v31", V31, "--affected", "1.0,1.1", "--json"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    reference = json.loads(created.output)["reference"]
    assert reference in runner.invoke(cli, ["psirt", "list"]).output
    shown = json.loads(runner.invoke(cli, ["psirt", "show", reference, "--json"]).output)
    assert shown["affected"] == ["1.0", "1.1"] and {c["state"] for c in shown["clocks"][:2]} == {"overdue"}
    clocks = runner.invoke(cli, ["psirt", "clocks"])
    assert clocks.exit_code == 1 and "2 clock(s) overdue" in clocks.output and reference in clocks.output
    submitted = runner.invoke(
        cli, ["psirt", "submit", reference, "early-warning", "notification", "--at", ago(minutes=5).isoformat()]
    )
    assert submitted.exit_code == 0, submitted.output
    after = runner.invoke(cli, ["psirt", "clocks", "--json"])
    assert after.exit_code == 0 and json.loads(after.output)["overdue"] == 0
    assert {i["clock"]["state"] for i in json.loads(after.output)["items"]} == {"breached"}
    bad = runner.invoke(cli, ["psirt", "update", reference, "--cvss-v31", "CVSS:3.1/AV:X"])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
    missing = runner.invoke(cli, ["psirt", "show", "PSIRT-2026-9999"])
    assert missing.exit_code == 2 and "no case PSIRT-2026-9999" in missing.output


def test_exercises_run_their_clocks_but_do_not_fail_monitoring(app: Flask, session: Session, plc: Product) -> None:
    vulnerability(session, plc, received_at=ago(hours=80), aware_at=ago(hours=80), exercise=True)
    clocks = app.test_cli_runner().invoke(cli, ["psirt", "clocks"])
    assert clocks.exit_code == 0 and "[exercise]" in clocks.output and "overdue" in clocks.output


def test_domain_errors_are_one_line(session: Session, plc: Product) -> None:
    with pytest.raises(DomainError) as refused:
        vulnerability(session, plc, aware_at="yesterday")
    assert "\n" not in refused.value.one_line()


def test_the_handling_becomes_dm_records_of_use_once_per_step(session: Session, plc: Product) -> None:
    actor = officer(session, plc)
    case = vulnerability(session, plc, affected=["1.0"])

    def records() -> dict[str, list[str]]:
        rows = session.scalars(select(Evidence).where(Evidence.product_id == plc.id)).all()
        return {row.current.title: [link.requirement.ref for link in row.current.requirement_links] for row in rows}

    assert records() == {f"{case.reference}: report received (DM-1)": ["DM-1"]}
    update_case(session, actor, case.id, {"status": "triaged"})
    update_case(session, actor, case.id, {"status": "investigating"})  # reviewed already: not again
    update_case(session, actor, case.id, {"fixed_in": ["1.1"], "status": "fixed"})
    update_case(session, actor, case.id, {"status": "disclosed", "remediation": "Update to 1.1."})
    assert sorted(records().values()) == [["DM-1"], ["DM-2"], ["DM-4"], ["DM-5"]]  # no severity yet: no DM-3
    received = session.scalars(select(Evidence).where(Evidence.product_id == plc.id)).first()
    assert received is not None and [link.release.version for link in received.current.release_links] == ["1.0"]
    assert set(case.records) == {"receipt", "review", "fix", "disclosure"}

    exercise = vulnerability(session, plc, exercise=True, affected=["1.0"])
    update_case(session, actor, exercise.id, {"status": "triaged"})
    assert len(records()) == 4 and exercise.records == {}
