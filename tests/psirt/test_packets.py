"""Submission packets on the real database: read from what the case records, for whoever sees the case, writing
nothing, never carrying the reporter's contact; through the service and the command line, refusals included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid, NotFound
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.packaging import submission_packet
from sdl_tracker.psirt.packets import EXERCISE_LABEL, Packet, packet_json, packet_markdown
from sdl_tracker.psirt.services import (
    create_case,
    record_submission,
    request_intermediate,
    update_case,
    update_settings,
)
from tests.factories import make_product, make_release, member

pytestmark = pytest.mark.db

CONTACT = "alice@research.example, +49 170 0000000"


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


@pytest.fixture
def plc(session: Session) -> Product:
    product = make_product(session, "PLC")
    make_release(session, product, "1.0")
    make_release(session, product, "1.1")
    make_release(session, product, "1.2")
    return product


@pytest.fixture
def officer(session: Session, plc: Product) -> Principal:
    actor = member(session, plc, "security_officer", "so@example.com")
    update_settings(session, actor, plc.id, zone="Europe/Berlin", csirt="CERT-Bund", member_states=["de", "at"])
    return actor


def vulnerability(session: Session, actor: Principal, product: Product, **facts: Any) -> PsirtCase:
    return create_case(
        session,
        actor,
        product.id,
        kind="vulnerability",
        title=facts.pop("title", "Modbus frame overflow"),
        source="researcher",
        received_at=ago(hours=40),
        facts={"reporter_contact": CONTACT, **facts},
    )


def values(packet: Packet) -> dict[str, Any]:
    return {field.key: field.value for field in packet.fields}


def undone(packet: Packet) -> list[str]:
    return [item.item for item in packet.checklist if not item.done]


def counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        session.scalar(select(func.count()).select_from(PsirtCase)) or 0,
    )


def test_a_packet_states_what_the_case_records_and_never_the_reporters_contact(
    session: Session, plc: Product, officer: Principal
) -> None:
    case = vulnerability(
        session,
        officer,
        plc,
        aware_at=ago(hours=30),
        affected=["1.0", "1.1"],
        fixed_in=["1.2"],
        components=["pkg:deb/debian/openssl@3.0.11"],
        description="A crafted Modbus frame overflows the parser.",
        remediation="Firmware 1.2 bounds-checks the frame length.",
        mitigation="Block TCP 502 at the cell firewall.",
        sensitivity="High until the fix is deployed.",
        measure_available_at=ago(hours=3),
    )
    before = counts(session)
    early = submission_packet(session, officer, case.id, "early-warning")
    assert values(early)["member_states"] == ("AT", "DE") and values(early)["csirt"] == "CERT-Bund"
    assert values(early)["manufacturer"] == "Test Vendor" and values(early)["product"] == "PLC"
    assert early.complete
    notification = submission_packet(session, officer, case.id, "notification")
    shown = values(notification)
    assert shown["affected"] == ("1.0", "1.1") and shown["fixed_in"] == ("1.2",)
    assert shown["components"] == ("pkg:deb/debian/openssl@3.0.11",)
    assert notification.complete
    final = submission_packet(session, officer, case.id, "final-report")
    assert undone(final) == ["Its severity and impact", "Information on any malicious actor"]
    for packet in (early, notification, final):
        assert CONTACT not in json.dumps(packet_json(packet)) and "alice" not in packet_markdown(packet)
    assert counts(session) == before  # a read: nothing written, nothing audited
    facts = {"impact": "Remote code execution without authentication.", "malicious_actor": "Nothing is known."}
    update_case(session, officer, case.id, facts)
    final = submission_packet(session, officer, case.id, "final-report")
    assert final.complete and values(final)["malicious_actor"] == "Nothing is known."


def test_an_incident_packet_follows_its_submissions(session: Session, plc: Product, officer: Principal) -> None:
    case = create_case(
        session,
        officer,
        plc.id,
        kind="incident",
        title="Signing key exposed",
        source="internal",
        received_at=ago(hours=5),
        facts={"incident_criteria": ["malicious-code"], "malicious_suspected": True, "root_cause": "A phished token."},
    )
    early = submission_packet(session, officer, case.id, "early-warning")
    assert values(early)["malicious_suspected"] is True and early.complete
    assert values(early)["incident_criteria"] == (
        "led or can lead to malicious code in the product or in users' systems (Art. 14(5)(b))",
    )
    final = submission_packet(session, officer, case.id, "final-report")
    assert values(final)["due_at"] == "not yet defined" and values(final)["notification_submitted_at"] is None
    record_submission(
        session, officer, case.id, submitted_at=ago(hours=1), stages=["early-warning", "notification"], reference="S-1"
    )
    final = submission_packet(session, officer, case.id, "final-report")
    assert values(final)["notification_submitted_at"] is not None and values(final)["due_at"] != "not yet defined"
    assert values(final)["root_cause"] == "A phished token."
    request_intermediate(
        session, officer, case.id, requested_at=ago(minutes=30), due_at=ago(hours=-24), reference="C-9"
    )
    update = submission_packet(session, officer, case.id, "intermediate-1")
    assert values(update)["request_reference"] == "C-9"
    assert "The earlier report it updates" not in undone(update)


@pytest.mark.parametrize(
    ("facts", "stage", "message"),
    [
        ({}, "early-warning", "active exploitation is not known"),
        ({"aware_at": "__aware__"}, "summary", "unknown stage 'summary'"),
        ({"aware_at": "__aware__"}, "intermediate-1", "unknown stage 'intermediate-1'"),
    ],
)
def test_a_stage_that_does_not_run_is_refused(
    session: Session, plc: Product, officer: Principal, facts: dict[str, Any], stage: str, message: str
) -> None:
    given = {key: ago(hours=30) if value == "__aware__" else value for key, value in facts.items()}
    case = vulnerability(session, officer, plc, **given)
    with pytest.raises(Invalid, match=message) as refused:
        submission_packet(session, officer, case.id, stage)
    assert [error.field for error in refused.value.errors] == ["stage"]


def test_whoever_sees_the_case_reads_its_packets_and_no_one_else(
    session: Session, plc: Product, officer: Principal
) -> None:
    case = vulnerability(session, officer, plc, aware_at=ago(hours=30))
    developer = member(session, plc, "developer", "dev@example.com")
    assert submission_packet(session, developer, case.id, "early-warning").case == case.reference
    stranger = member(session, make_product(session, "Other"), "security_officer", "other@example.com")
    with pytest.raises(NotFound):
        submission_packet(session, stranger, case.id, "early-warning")


def test_the_command_line_prints_a_packet_as_markdown_or_json(
    app: Flask, session: Session, plc: Product, officer: Principal
) -> None:
    case = vulnerability(session, officer, plc, title="# x | y |", aware_at=ago(hours=30), exercise=True)
    runner = app.test_cli_runner()
    shown = runner.invoke(cli, ["psirt", "packet", case.reference, "early-warning"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"**{EXERCISE_LABEL}**"
    assert [line for line in lines if line.startswith("#")] == [
        f"# {case.reference}: Early warning (Art. 14(2)(a))",
        "## Information",
        "## Checklist (2 of 2)",
    ]
    assert r"- **Title**: # x \| y \|" in lines and CONTACT not in shown.output
    data = json.loads(
        runner.invoke(cli, ["psirt", "packet", case.reference, "notification", "--format", "json"]).output
    )
    assert data["exercise_label"] == EXERCISE_LABEL and data["stage"] == "notification" and not data["complete"]
    assert {f["key"]: f["value"] for f in data["fields"]}["title"] == "# x | y |"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["PSIRT-2026-9999", "early-warning"], "no case PSIRT-2026-9999"),
        (["__case__", "summary"], "stage: unknown stage 'summary'"),
        (["__case__", "early-warning", "--format", "pdf"], "'pdf' is not one of 'markdown', 'json'"),
    ],
)
def test_the_command_line_refuses_in_one_line(
    app: Flask, session: Session, plc: Product, officer: Principal, arguments: list[str], message: str
) -> None:
    case = vulnerability(session, officer, plc, aware_at=ago(hours=30))
    given = [case.reference if argument == "__case__" else argument for argument in arguments]
    refused = app.test_cli_runner().invoke(cli, ["psirt", "packet", *given])
    assert refused.exit_code == 2 and message in refused.output and len(refused.output.strip().splitlines()) == 1
