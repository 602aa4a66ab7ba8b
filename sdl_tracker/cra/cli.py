"""`sdl-tracker cra` commands: show and check a release's CRA file, record Annex I points, move the mapping
version, record the risk assessment, support period, user information and declaration data."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import TEXT, emit, fail, json_option, say, say_json, server_command
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from .applicability import PointView, mapping_state, move_mapping, point_view, record_point, release_points
from .schemas import MappingStateOut, PointOut

cra = AppGroup("cra", help="The CRA conformity file: Annex I applicability, risk assessment, support period, DoC data.")


# === Annex I applicability and the mapping version (applicability) ===


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
        say(f"  linked  #{linked.id} {linked.title} ({linked.kind}, {linked.state})")


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


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
