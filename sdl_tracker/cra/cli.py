"""`sdl-tracker cra` commands: show and check a release's CRA file, record Annex I points, move the mapping
version, record the risk assessment, support period, user information and declaration data."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from flask.cli import AppGroup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..api.inputs import Input
from ..app_access import app_installation
from ..auth import Principal
from ..boundary import loads_json
from ..commands import (
    DATABASE_INT,
    DAY,
    TEXT,
    echo_lines,
    emit,
    fail,
    json_option,
    say,
    say_json,
    server_command,
)
from ..errors import FieldError, Invalid
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from . import declarations
from .api import DeclarationIn, RiskAssessmentIn, UserInformationIn
from .applicability import PointView, mapping_state, move_mapping, point_view, record_point, release_points
from .completeness import CraFile, release_file
from .records import (
    RiskAssessmentInput,
    SupportPeriodInput,
    current_risk_assessment,
    record_risk_assessment,
    record_support_period,
    risk_assessments,
    support_obligations,
    support_period_input,
)
from .rules import RISK_FIELDS, ROUTE_LABELS, describe_months, parse_support_end
from .schemas import (
    CraFileOut,
    DeclarationOut,
    MappingStateOut,
    MissingOut,
    PointOut,
    RiskAssessmentOut,
    SupportObligationsOut,
    UserInformationOut,
)

cra = AppGroup("cra", help="The CRA conformity file: Annex I applicability, risk assessment, support period, DoC data.")


# --- Annex I applicability and the mapping version ---


def _release(session: Session, actor: Principal, product_name: str, version: str) -> Release:
    product = get_product_by_name(session, actor, product_name)
    return get_release_by_version(session, actor, product.id, version)


def _standing(point: PointView) -> str:
    if not point.assessed:
        return "not assessed"
    return "applicable" if point.applicable else "not applicable"


def _point_line(point: PointView) -> str:
    flag = "  needs other evidence" if point.other_evidence_reason else ""
    return (
        f"{point.ref:<5} {_standing(point):<15} {point.mapped_met} of {len(point.mapped)} mapped met  "
        f"{point.linked_accepted} of {len(point.linked)} linked accepted{flag}"
    )


def _say_point(point: PointView) -> None:
    say(f"{point.ref} {point.label}: {point.title}")
    say(f"  {_standing(point)}{' (always applies)' if point.always_applicable else ''}")
    if point.justification:
        say(f"  justification: {point.justification}")
    if point.measures:
        say(f"  measures: {point.measures}")
    if point.other_evidence_reason:
        say(f"  needs other evidence: {point.other_evidence_reason}")
    for mapped in point.mapped:
        say(f"  {'met    ' if mapped.met else 'not met'} {mapped.standard} {mapped.ref}: {mapped.detail}")
    for linked in point.linked:
        stale = ", past its review" if linked.expired else ""
        say(f"  linked  #{linked.id} {linked.title} ({linked.kind}, {linked.state}{stale})")


@cra.command("points")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command(read_only=True)
def cra_points(session: Session, actor: Principal, product_name: str, version: str, as_json: bool) -> None:
    """Show how each Annex I point applies to VERSION, and how its mapped requirements stand."""
    release = _release(session, actor, product_name, version)
    points = release_points(session, actor, release.id)
    if as_json:
        say_json([PointOut.of(p).model_dump(mode="json") for p in points])
        return
    for point in points:
        say(_point_line(point))


@cra.command("point")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("ref", metavar="REF")
@click.option(
    "--applicable/--not-applicable",
    "applicable",
    default=None,
    help="Record the point as applicable or not (without either: show it).",
)
@click.option("--justification", type=TEXT, help="Required when not applicable. Default: as recorded.")
@click.option("--measures", type=TEXT, help="The measures that implement it. Default: as recorded.")
@click.option(
    "--evidence",
    "evidence_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="Evidence to link (repeatable); replaces what is linked. Default: the linked evidence stays.",
)
@json_option
@server_command()
def cra_point(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    ref: str,
    applicable: bool | None,
    justification: str | None,
    measures: str | None,
    evidence_ids: tuple[int, ...],
    as_json: bool,
) -> None:
    """Show one Annex I point of VERSION (REF: I.1, I.2a-I.2m, II.1-II.8), or record how it applies."""
    release = _release(session, actor, product_name, version)
    if applicable is None:
        if justification is not None or measures is not None or evidence_ids:
            fail("say --applicable or --not-applicable to record the point")
            return
    else:
        # What is not given stays as recorded.
        current = point_view(session, actor, release.id, ref)
        record_point(
            session,
            actor,
            release.id,
            ref,
            applicable=applicable,
            justification=current.justification if justification is None else justification,
            measures=current.measures if measures is None else measures,
            evidence_ids=evidence_ids or [e.id for e in current.linked],
        )
    point = point_view(session, actor, release.id, ref)
    emit(PointOut.of(point).model_dump(mode="json"), as_json, lambda: _say_point(point))


@cra.command("mapping")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.option("--to", "target", metavar="VERSION", help="Move the release on to this newer mapping version.")
@json_option
@server_command()
def cra_mapping(
    session: Session, actor: Principal, product_name: str, version: str, target: str | None, as_json: bool
) -> None:
    """Show the IEC 62443 -> CRA mapping version VERSION is assessed with (and the newest), or move it on."""
    release = _release(session, actor, product_name, version)
    if target is not None:
        move_mapping(session, actor, release.id, target)
    state = mapping_state(session, actor, release.id)

    def text() -> None:
        say(f"{state.release}: mapping {state.pinned or '(none pinned: the newest is read)'}")
        say(f"newest loaded: {state.newest or 'none'}")
        if state.newer and not state.shipped:
            say(f"newer: {', '.join(state.newer)} (move with --to VERSION)")
        elif state.shipped:
            say("shipped: it keeps the version it was assessed with")

    emit(MappingStateOut.of(state).model_dump(mode="json"), as_json, text)


# --- risk assessment and support period ---


def _risk_file(path: Path) -> RiskAssessmentInput:
    """A revision read from a JSON object with the API's fields, checked as the API checks them."""
    try:
        loaded = loads_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: not JSON, or nested too deeply
        raise Invalid.field("--file", f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise Invalid.field("--file", "the file must hold a JSON object")
    try:
        return RiskAssessmentIn.model_validate(loaded).assessment()
    except ValidationError as exc:
        errors = [FieldError(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors(include_url=False)]
        raise Invalid(f"{path} is not a risk assessment", errors=errors) from None


def _months(months: int | None) -> str:
    return describe_months(months) if months is not None else "-"


def _risk_lines(out: dict[str, Any]) -> list[str]:
    model = out["threat_model_evidence_id"]
    lines = [
        f"revision {out['number']}, recorded by {out['created_by']} at {out['created_at']}",
        f"  {'expected use time:':<32} {_months(out['expected_use_months'])}",
        f"  {'threat model:':<32} {f'evidence #{model}' if model else '-'}",
    ]
    return lines + [f"  {label + ':':<32} {out[name] or '-'}" for name, label in RISK_FIELDS]


@cra.command("risk")
@click.argument("product_name", metavar="PRODUCT")
@click.option(
    "--file",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Record the next revision from this JSON object (the API's fields: intended_purpose, foreseeable_use, "
    "foreseeable_misuse, operational_environment, assets, expected_use_months, threat_model_evidence_id).",
)
@json_option
@server_command()
def cra_risk(session: Session, actor: Principal, product_name: str, source: Path | None, as_json: bool) -> None:
    """Show PRODUCT's current risk assessment, or record its next revision with --file."""
    product = get_product_by_name(session, actor, product_name)
    before = current_risk_assessment(session, actor, product.id)
    if source is None:
        out = RiskAssessmentOut.of(before).model_dump(mode="json") if before is not None else None
        emit(out, as_json, echo_lines(_risk_lines(out) if out else [], f"{product.name}: no risk assessment recorded"))
        return
    revision = record_risk_assessment(session, actor, product.id, _risk_file(source))
    out = RiskAssessmentOut.of(revision).model_dump(mode="json")
    unchanged = before is not None and revision.id == before.id
    said = (
        f"{product.name}: nothing changed, revision {revision.number} stands"
        if unchanged
        else (f"{product.name}: revision {revision.number} of the risk assessment recorded")
    )
    emit(out, as_json, lambda: say(said))


@cra.command("risk-history")
@click.argument("product_name", metavar="PRODUCT")
@json_option
@server_command(read_only=True)
def cra_risk_history(session: Session, actor: Principal, product_name: str, as_json: bool) -> None:
    """List the revisions of PRODUCT's risk assessment, newest (current) first."""
    product = get_product_by_name(session, actor, product_name)
    items = [RiskAssessmentOut.of(r).model_dump(mode="json") for r in risk_assessments(session, actor, product.id)]
    lines = [f"{i['number']:>4}  {i['created_at'][:16]}  {i['created_by']}" for i in items]
    emit(items, as_json, echo_lines(lines, f"{product.name}: no risk assessment recorded"))


def _support_lines(out: dict[str, Any]) -> list[str]:
    period = out["period"]
    lines = [
        f"starts:           {period['starts_on']}",
        f"ends:             {out['support_period_end'] or '-'} (recorded as {period['ends']})",
        f"length:           {_months(out['months'])}",
        f"expected use:     {_months(period['expected_use_months'])}",
        f"how it was set:   {period['method'] or '-'}",
        f"shorter because:  {period['shorter_reason'] or '-'}",
        f"published:        {period['published_where'] or '-'}",
        f"documentation kept until {out['documentation_retained_until']}",
    ]
    for update in out["updates"]:
        lines.append(
            f"  {update['version']}: released {update['released_on']}, available until {update['available_until']}"
        )
    return lines + [f"warning: {warning}" for warning in out["warnings"]]


@cra.command("support")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--starts", type=DAY, help="Placed on the market: support starts.")
@click.option("--ends", metavar="YYYY-MM|YYYY-MM-DD", help="The end: a month (its last day) or a day.")
@click.option("--expected-use-months", type=DATABASE_INT, help="How long the product is expected to be used.")
@click.option("--method", type=TEXT, help="How the period was set.")
@click.option("--reason", type=TEXT, help="Why it is under 5 years (required then).")
@click.option("--published", help="Where the end date is published: a URL or a short description.")
@json_option
@server_command()
def cra_support(
    session: Session,
    actor: Principal,
    product_name: str,
    starts: date | None,
    ends: str | None,
    expected_use_months: int | None,
    method: str | None,
    reason: str | None,
    published: str | None,
    as_json: bool,
) -> None:
    """Show PRODUCT's support period and what it obliges; with options, record it (options not given keep what is
    recorded, the end as the product states it) and make its end the product's support period end."""
    product = get_product_by_name(session, actor, product_name)
    changes: dict[str, Any] = {
        "starts_on": starts,
        "expected_use_months": expected_use_months,
        "method": method,
        "shorter_reason": reason,
        "published_where": published,
    }
    if ends is not None:
        parsed = parse_support_end(ends)
        if parsed is None:
            raise Invalid.field("--ends", f"{ends!r} is neither YYYY-MM nor YYYY-MM-DD")
        changes["ends_on"], changes["ends_precision"] = parsed
    given = {name: value for name, value in changes.items() if value is not None}
    if given:
        recorded = support_period_input(session, actor, product.id) or SupportPeriodInput(None, None)
        record_support_period(session, actor, product.id, replace(recorded, **given))
    obligations = support_obligations(session, actor, product.id)
    out = SupportObligationsOut.of(obligations).model_dump(mode="json") if obligations else None
    emit(out, as_json, echo_lines(_support_lines(out) if out else [], f"{product.name}: no support period recorded"))


# --- Annex II user information and declaration of conformity ---

In = TypeVar("In", bound=Input)
file_option = click.option(
    "--file",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Record from this JSON file (the API's body); without it, show what is recorded.",
)


def _read(model: type[In], source: Path) -> In:
    """A JSON file validated as the API validates its body; refusals name the field."""
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid.field("--file", f"{source} is not a readable JSON file ({exc})") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "file", e["msg"].removeprefix("Value error, "))
            for e in exc.errors(include_url=False)
        ]
        raise Invalid(f"{source} was refused", errors=errors) from None


def _item_line(item: dict[str, Any]) -> str:
    document = item["document"]
    parts = (["text"] if item["text"] else []) + ([f"document #{document['id']}"] if document else [])
    state = " + ".join(parts) or "missing"
    return f"{item['ref']:<7} {state:<24} {item['title']}" + (f" ({item['warning']})" if item["warning"] else "")


@cra.command("user-info")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@file_option
@json_option
@server_command()
def cra_user_info(
    session: Session, actor: Principal, product_name: str, version: str, source: Path | None, as_json: bool
) -> None:
    """Show VERSION's Annex II user information, or record items from a JSON file ({"items": {"AII.1": {"text":
    ..., "evidence_id": ...}}}; items not named are left as they are)."""
    release = _release(session, actor, product_name, version)
    if source is not None:
        body = _read(UserInformationIn, source)
        declarations.record_user_information(session, actor, release.id, body.items_input())
    out = UserInformationOut.of(release, declarations.user_information(session, actor, release.id))
    data = out.model_dump(mode="json")

    def text() -> None:
        for item in data["items"]:
            say(_item_line(item))

    emit(data, as_json, text)


DECLARATION_LINES = (
    ("manufacturer_name", "Manufacturer"),
    ("manufacturer_address", "Address"),
    ("representative", "Authorised representative"),
    ("product_identification", "Product"),
    ("object_description", "Object"),
    ("presumption_basis_reference", "Applied in full"),
    ("notified_body_name", "Notified body"),
    ("notified_body_number", "Notified body number"),
    ("certificate_reference", "Certificate"),
    ("declaration_url", "Published at"),
    ("place_of_issue", "Place of issue"),
    ("date_of_issue", "Date of issue"),
    ("signatory_name", "Signed by"),
    ("signatory_function", "Function"),
)


@cra.command("declaration")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@file_option
@json_option
@server_command()
def cra_declaration(
    session: Session, actor: Principal, product_name: str, version: str, source: Path | None, as_json: bool
) -> None:
    """Show VERSION's EU declaration of conformity data, or record all of it from a JSON file (the API's body: a
    field left out is recorded empty)."""
    release = _release(session, actor, product_name, version)
    if source is not None:
        body = _read(DeclarationIn, source)
        declarations.record_declaration(session, actor, release.id, body.declaration())
    today = app_installation().now().date()
    data = DeclarationOut.of(declarations.declaration_view(session, actor, release.id, today)).model_dump(mode="json")

    def text() -> None:
        if not data["recorded"]:
            say(f"{release.version}: no declaration data recorded")
        route = data["conformity_route"]
        say(f"Route: {ROUTE_LABELS[route] if route else 'not chosen yet'}")
        for name, label in DECLARATION_LINES:
            if data[name]:
                say(f"{label}: {' / '.join(str(data[name]).splitlines())}")
        say(f"Standards applied: {'; '.join(data['applied_standards'])}")
        say(data["standards_statement"])
        for warning in data["warnings"]:
            say(f"warning: {warning}")

    emit(data, as_json, text)


# --- the file as a whole and its completeness ---


@cra.command("show")
@click.argument("product")
@click.argument("version")
@json_option
@server_command(read_only=True)
def show_file(session: Session, actor: Principal, product: str, version: str, as_json: bool) -> None:
    """Show a release's CRA file in summary and what it still lacks."""
    release = _release(session, actor, product, version)
    file = release_file(session, actor, release.id)
    if as_json:
        say_json(CraFileOut.of(file).model_dump(mode="json"))
        return
    say(f"{release.product.name} {release.version}: CRA file ({file.category.replace('_', ' ')})")
    say(
        f"  mapping          {file.mapping.pinned or '-'}"
        + (f" (newest {file.mapping.newest})" if file.mapping.behind else "")
    )
    say(f"  Annex I points   {file.points_done} of {len(file.points)} complete")
    say(f"  risk assessment  {f'revision {file.risk_number}' if file.risk_number else '-'}")
    say(f"  support ends     {file.support_end or '-'}")
    say(f"  user information {file.user_information_done} of {file.user_information_total} items")
    say(f"  conformity route {file.conformity_route or '-'}")
    say(f"  standards        {'; '.join(file.standards)}")
    _say_missing(file)


@cra.command("check")
@click.argument("product")
@click.argument("version")
@json_option
@server_command(read_only=True)
def check_file(session: Session, actor: Principal, product: str, version: str, as_json: bool) -> None:
    """Exit 0 when the release's CRA file lacks nothing, 1 (listing what is missing) when it does."""
    file = release_file(session, actor, _release(session, actor, product, version).id)
    if as_json:
        say_json(
            {"complete": file.complete, "missing": [MissingOut.of(m).model_dump(mode="json") for m in file.missing]}
        )
    else:
        _say_missing(file)
    if not file.complete:
        raise SystemExit(1)


def _say_missing(file: CraFile) -> None:
    if file.complete:
        say("complete: nothing is missing")
        return
    say(f"{len(file.missing)} missing:")
    for missing in file.missing:
        say(f"  - {missing.message}")
