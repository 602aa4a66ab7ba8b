"""`sdl-tracker psirt create|list|show|update|submit|request|settings|clocks|packet`: PSIRT cases, server side."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import TEXT, emit, fail, json_option, say, say_json, server_command
from ..products.services import get_product_by_name
from ..zones import wall_time
from .models import CaseKind, CaseSource, CaseStatus
from .packaging import submission_packet
from .packets import packet_json, packet_markdown
from .rules import ClockState
from .schemas import CaseDetailOut, CaseOut, DueClockOut
from .services import (
    CaseFilter,
    create_case,
    due_clocks,
    get_case_by_reference,
    list_cases,
    record_submission,
    request_intermediate,
    update_case,
    update_settings,
)
from .vocabulary import cwe_label

psirt = AppGroup("psirt", help="PSIRT cases and their CRA Article 14 reporting clocks.")

# Options every field of a case can be given with (create and update); lists are comma- or space-separated.
FACT_OPTIONS: tuple[tuple[str, str, Any], ...] = (
    ("--description", "What was reported.", TEXT),
    ("--reporter-contact", "How to reach the reporter (shown to security officers only).", TEXT),
    (
        "--aware-at",
        "When active exploitation (or the incident) became known: the clocks start (ISO 8601 with zone).",
        None,
    ),
    ("--measure-available-at", "When a corrective or mitigating measure became available (ISO 8601 with zone).", None),
    ("--cve", "CVE ids.", None),
    ("--cwe", "CWE ids (CWE-79 or 79).", None),
    ("--cvss-v31", "A CVSS v3.1 vector.", None),
    ("--cvss-v40", "A CVSS v4.0 vector.", None),
    ("--affected", "Affected release versions.", None),
    ("--fixed-in", "Release versions that fix it.", None),
    ("--components", "Affected components, by purl.", None),
    ("--embargo-until", "The embargo's end (YYYY-MM-DD).", None),
    ("--remediation", "How to remediate.", TEXT),
    ("--mitigation", "How to mitigate until then.", TEXT),
    ("--impact", "Severity and impact, in words (what the reports state).", TEXT),
    ("--sensitivity", "How sensitive the reported information is (the reports say so).", TEXT),
    ("--malicious-actor", "What is known of whoever exploited it (a vulnerability's final report).", TEXT),
    ("--root-cause", "The threat type or root cause likely behind an incident (its final report).", TEXT),
    ("--incident-criteria", "Why an incident is severe (Art. 14(5)): protection-affected, malicious-code.", None),
    ("--upstream-component", "The third-party component the case is about (Art. 13(6)).", None),
    ("--maintainer-reported-at", "When it was reported to that component's maintainer.", None),
    ("--maintainer-reference", "The maintainer's reference for the report.", None),
    ("--users-informed-at", "When affected users were informed (Art. 14(8)).", None),
    ("--users-information", "What they were told.", TEXT),
)
LIST_FIELDS = {"cve": "cve_ids", "cwe": "cwe_ids", "incident_criteria": "incident_criteria"}


def fact_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add an option per recorded fact, plus --malicious-suspected/--no-... and --justification."""
    for name, help_text, kind in reversed(FACT_OPTIONS):
        f = click.option(name, help=help_text, type=kind)(f)
    f = click.option(
        "--malicious-suspected/--no-malicious-suspected", default=None, help="Whether malicious acts are suspected."
    )(f)
    return click.option("--justification", default="", type=TEXT, help="Why an anchor time is set or moved.")(f)


def _facts(options: dict[str, Any]) -> dict[str, Any]:
    """The facts given on the command line, named as the service names them."""
    facts = {}
    for name, value in options.items():
        if value is None:
            continue
        facts[LIST_FIELDS.get(name, name)] = value
    return facts


def _when(text: str) -> str:
    """A time from the JSON output as people read it, to the minute, in UTC."""
    return wall_time(datetime.fromisoformat(text.replace("Z", "+00:00")), "UTC")


def _case_line(data: dict[str, Any]) -> str:
    score = f" {data['severity_score']:.1f}" if data["severity_score"] is not None else ""
    exercise = " [exercise]" if data["exercise"] else ""
    return f"{data['reference']}  {data['status']:<13} {data['kind']:<13}{score}  {data['title']}{exercise}"


@psirt.command("create")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("title")
@click.option("--kind", type=click.Choice([k.value for k in CaseKind]), default=CaseKind.VULNERABILITY.value)
@click.option("--source", type=click.Choice([s.value for s in CaseSource]), required=True, help="Who reported it.")
@click.option("--received-at", required=True, help="When the report arrived (ISO 8601 with zone).")
@click.option("--exercise", is_flag=True, help="A tabletop exercise: runs every clock, counts for nothing.")
@fact_options
@json_option
@server_command()
def psirt_create(
    session: Session,
    actor: Principal,
    product_name: str,
    title: str,
    kind: str,
    source: str,
    received_at: str,
    exercise: bool,
    justification: str,
    as_json: bool,
    **options: Any,
) -> None:
    """Record a case of PRODUCT."""
    product = get_product_by_name(session, actor, product_name)
    facts = _facts(options) | ({"exercise": True} if exercise else {})
    case = create_case(
        session,
        actor,
        product.id,
        kind=kind,
        title=title,
        source=source,
        received_at=received_at,
        facts=facts,
        justification=justification,
    )
    data = CaseOut.of(case, actor).model_dump(mode="json")
    emit(data, as_json, lambda: say(f"created {_case_line(data)}"))


@psirt.command("update")
@click.argument("reference", metavar="CASE")
@click.option("--title")
@click.option("--source", type=click.Choice([s.value for s in CaseSource]))
@click.option("--status", type=click.Choice([s.value for s in CaseStatus]))
@click.option("--status-reason", type=TEXT, help="Why it is rejected or a duplicate.")
@click.option("--duplicate-of", metavar="CASE", help="The case this one duplicates.")
@fact_options
@json_option
@server_command()
def psirt_update(
    session: Session, actor: Principal, reference: str, justification: str, as_json: bool, **options: Any
) -> None:
    """Change what is recorded about CASE (PSIRT-YYYY-NNNN)."""
    case = get_case_by_reference(session, actor, reference)
    updated = update_case(session, actor, case.id, _facts(options), justification)
    data = CaseOut.of(updated, actor).model_dump(mode="json")
    emit(data, as_json, lambda: say(f"updated {_case_line(data)}"))


@psirt.command("list")
@click.option("--product", "product_name", metavar="PRODUCT", help="Only this product's cases.")
@click.option("--status", "statuses", multiple=True, type=click.Choice([s.value for s in CaseStatus]))
@click.option("--kind", type=click.Choice([k.value for k in CaseKind]))
@json_option
@server_command(read_only=True)
def psirt_list(
    session: Session,
    actor: Principal,
    product_name: str | None,
    statuses: tuple[str, ...],
    kind: str | None,
    as_json: bool,
) -> None:
    """The cases of the products you see, newest first."""
    product_id = get_product_by_name(session, actor, product_name).id if product_name else None
    where = CaseFilter(product_id, tuple(CaseStatus(s) for s in statuses), CaseKind(kind) if kind else None)
    items = [CaseOut.of(case, actor).model_dump(mode="json") for case in list_cases(session, actor, where)]

    def text() -> None:
        for item in items:
            say(_case_line(item))
        if not items:
            say("no cases")

    emit({"items": items, "total": len(items)}, as_json, text)


@psirt.command("show")
@click.argument("reference", metavar="CASE")
@json_option
@server_command(read_only=True)
def psirt_show(session: Session, actor: Principal, reference: str, as_json: bool) -> None:
    """Everything recorded about CASE, and its clocks now."""
    case = get_case_by_reference(session, actor, reference)
    data = CaseDetailOut.read(session, case, actor).model_dump(mode="json")

    def text() -> None:
        say(_case_line(data))
        for label, key in (("received", "received_at"), ("aware", "aware_at"), ("measure", "measure_available_at")):
            if data[key]:
                say(f"  {label}: {_when(data[key])}")
        for number in data["cwe_ids"]:
            say(f"  {cwe_label(number)}")
        for key in ("cve_ids", "affected", "fixed_in", "components"):
            if data[key]:
                say(f"  {key.replace('_', ' ')}: {', '.join(str(v) for v in data[key])}")
        for vector in ("cvss_v31", "cvss_v40"):
            if data[vector]:
                say(f"  {vector}: {data[vector]}")
        for clock in data["clocks"]:
            due = _when(clock["due_at"]) if clock["due_at"] else "not yet defined"
            say(f"  clock {clock['stage']}: {clock['state']}, due {due}")
        for submission in data["submissions"]:
            say(
                f"  submitted {submission['submitted_at']}: {', '.join(submission['stages'])} {submission['reference']}"
            )

    emit(data, as_json, text)


@psirt.command("submit")
@click.argument("reference", metavar="CASE")
@click.argument("stages", nargs=-1, required=True)
@click.option("--at", "submitted_at", required=True, help="When it was submitted (ISO 8601 with zone).")
@click.option("--reference", "platform_reference", default="", help="The Single Reporting Platform's reference.")
@click.option("--note", default="", type=TEXT)
@json_option
@server_command()
def psirt_submit(
    session: Session,
    actor: Principal,
    reference: str,
    stages: tuple[str, ...],
    submitted_at: str,
    platform_reference: str,
    note: str,
    as_json: bool,
) -> None:
    """Record that you submitted STAGES of CASE (early-warning, notification, final-report, intermediate-N)."""
    case = get_case_by_reference(session, actor, reference)
    submission = record_submission(
        session, actor, case.id, submitted_at=submitted_at, stages=stages, reference=platform_reference, note=note
    )
    data = {"case": case.reference, "submitted_at": submission.submitted_at.isoformat(), "stages": submission.stages}
    emit(data, as_json, lambda: say(f"{case.reference}: recorded {', '.join(submission.stages)}"))


@psirt.command("request")
@click.argument("reference", metavar="CASE")
@click.option("--requested-at", required=True, help="When the CSIRT asked (ISO 8601 with zone).")
@click.option("--due-at", required=True, help="When it is due (ISO 8601 with zone).")
@click.option("--reference", "csirt_reference", default="", help="The CSIRT's reference.")
@json_option
@server_command()
def psirt_request(
    session: Session,
    actor: Principal,
    reference: str,
    requested_at: str,
    due_at: str,
    csirt_reference: str,
    as_json: bool,
) -> None:
    """Record that the CSIRT asked for an intermediate report on CASE."""
    case = get_case_by_reference(session, actor, reference)
    request = request_intermediate(
        session, actor, case.id, requested_at=requested_at, due_at=due_at, reference=csirt_reference
    )
    data = {
        "case": case.reference,
        "requested_at": request.requested_at.isoformat(),
        "due_at": request.due_at.isoformat(),
    }
    emit(data, as_json, lambda: say(f"{case.reference}: intermediate report due {data['due_at']}"))


@psirt.command("settings")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--zone", required=True, help="The main establishment's time zone (IANA, e.g. Europe/Berlin).")
@click.option("--csirt", default="", help="The CSIRT of the main establishment.")
@click.option("--member-states", default="", help="Where the product is available (two-letter codes).")
@json_option
@server_command()
def psirt_settings(
    session: Session, actor: Principal, product_name: str, zone: str, csirt: str, member_states: str, as_json: bool
) -> None:
    """Record PRODUCT's Article 14 settings."""
    product = get_product_by_name(session, actor, product_name)
    states = member_states.replace(",", " ").split()
    settings = update_settings(session, actor, product.id, zone=zone, csirt=csirt, member_states=states)
    data = {
        "product": product.name,
        "zone": settings.zone,
        "csirt": settings.csirt,
        "member_states": settings.member_states,
    }
    emit(data, as_json, lambda: say(f"{product.name}: zone {settings.zone}, CSIRT {settings.csirt or '(none)'}"))


@psirt.command("clocks")
@json_option
@server_command(read_only=True)
def psirt_clocks(session: Session, actor: Principal, as_json: bool) -> None:
    """Every running, overdue or breached clock, the next deadline first; exit 1 when one is overdue (not
    counting exercises), for monitoring."""
    items = [DueClockOut.of(due).model_dump(mode="json") for due in due_clocks(session, actor)]
    overdue = [i for i in items if i["clock"]["state"] == ClockState.OVERDUE.value and not i["exercise"]]
    if as_json:
        say_json({"items": items, "overdue": len(overdue)})
    else:
        for item in items:
            clock = item["clock"]
            mark = "!" if clock["state"] in (ClockState.OVERDUE, ClockState.BREACHED) else " "
            exercise = " [exercise]" if item["exercise"] else ""
            due = _when(clock["due_at"]) if clock["due_at"] else "not yet defined"
            say(f"{mark} {item['case']}  {clock['stage']:<15} {clock['state']:<9} due {due}  {item['title']}{exercise}")
        if not items:
            say("no clocks running")
    if overdue:
        fail(f"{len(overdue)} clock(s) overdue", code=1)


@psirt.command("packet")
@click.argument("reference", metavar="CASE")
@click.argument("stage")
@click.option("--format", "output", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@server_command(read_only=True)
def psirt_packet(session: Session, actor: Principal, reference: str, stage: str, output: str) -> None:
    """What STAGE of CASE reports and still lacks, to enter on the Single Reporting Platform (nothing is submitted)."""
    case = get_case_by_reference(session, actor, reference)
    packet = submission_packet(session, actor, case.id, stage)
    if output == "json":
        say_json(packet_json(packet))
    else:
        for line in packet_markdown(packet).splitlines():
            say(line)
