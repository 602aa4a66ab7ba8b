"""`sdl-tracker claims` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import echo_lines, emit, json_option, server_command
from ..errors import Invalid
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from .rules import ClaimStatus, Verification
from .schemas import ClaimOut, VectorOut
from .services import (
    ClaimInput,
    import_claims,
    list_claims,
    newest_release,
    set_claim,
    vector_report,
)
from .sheets import parse_sheet, rows_to_csv, rows_to_json

claims = AppGroup("claims", help="IEC 62443-4-2 capability claims, the achieved SL-C vector and the gap.")


def _release(session: Session, actor: Principal, product_name: str, version: str | None) -> Release:
    product = get_product_by_name(session, actor, product_name)
    release = (
        get_release_by_version(session, actor, product.id, version)
        if version
        else newest_release(session, actor, product.id)
    )
    if release is None:
        raise Invalid.field("--release", f"{product.name} has no release yet")
    return release


@claims.command("set")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("requirement")
@click.option("--status", required=True, type=click.Choice([s.value for s in ClaimStatus]))
@click.option("--verification", type=click.Choice([v.value for v in Verification]))
@click.option("--justification", default="", help="Why it does not apply (required for not_applicable).")
@click.option("--countermeasure", default="", help="The compensating countermeasure (required for compensated).")
@click.option("--notes", default="")
@click.option("--evidence", "evidence_ids", multiple=True, type=int, help="An evidence id it rests on (repeatable).")
@server_command()
def claims_set(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    requirement: str,
    status: str,
    verification: str | None,
    justification: str,
    countermeasure: str,
    notes: str,
    evidence_ids: tuple[int, ...],
) -> None:
    """Set VERSION's claim for REQUIREMENT (e.g. "CR 1.1 RE(1)")."""
    release = _release(session, actor, product_name, version)
    set_claim(
        session,
        actor,
        release.id,
        requirement,
        ClaimInput(status, verification, justification, countermeasure, notes, evidence_ids),
    )
    click.echo(f"{requirement}: {status}")


@claims.command("export")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--release", "version", help="Default: the newest release.")
@server_command(read_only=True)
def claims_export(session: Session, actor: Principal, product_name: str, file: Path, version: str | None) -> None:
    """Write the release's claims to FILE (.csv or .json)."""
    release = _release(session, actor, product_name, version)
    items = list_claims(session, actor, release.id)
    file.write_text(rows_to_json(items) if file.suffix.lower() == ".json" else rows_to_csv(items), encoding="utf-8")
    click.echo(f"{len(items)} claims of {release.version} written to {file}")


@claims.command("import")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--release", "version", help="Default: the newest release.")
@server_command()
def claims_import(session: Session, actor: Principal, product_name: str, file: Path, version: str | None) -> None:
    """Apply the claims in FILE (.csv or .json): every row is checked first; all or nothing."""
    release = _release(session, actor, product_name, version)
    result = import_claims(session, actor, release.id, parse_sheet(file.read_bytes(), file.name))
    click.echo(f"{result.rows} rows checked, {result.changed} claims changed on {release.version}")


@claims.command("list")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--release", "version", help="Default: the newest release.")
@json_option
@server_command(read_only=True)
def claims_list(session: Session, actor: Principal, product_name: str, version: str | None, as_json: bool) -> None:
    """List the release's claims."""
    release = _release(session, actor, product_name, version)
    items = [ClaimOut.of(c).model_dump(mode="json") for c in list_claims(session, actor, release.id)]
    emit(items, as_json, echo_lines([f"{c['requirement']:<16} {c['status']}" for c in items], "no claims"))


@claims.command("gap")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--release", "version", help="Default: the newest release (none: the product's applicable list).")
@json_option
@server_command(read_only=True)
def claims_gap(session: Session, actor: Principal, product_name: str, version: str | None, as_json: bool) -> None:
    """Per FR: the target, the achieved level and the ids still missing."""
    product = get_product_by_name(session, actor, product_name)
    release = (
        get_release_by_version(session, actor, product.id, version)
        if version
        else newest_release(session, actor, product.id)
    )
    data = VectorOut.of(vector_report(session, actor, product.id, release.id if release else None)).model_dump(
        mode="json"
    )
    lines = [
        f"{f['fr']}  target {f['target']}  achieved {f['achieved']}  missing: {', '.join(f['missing']) or '-'}"
        for f in data["frs"]
    ]
    emit(data, as_json, echo_lines(lines, ""))
