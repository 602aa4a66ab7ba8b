"""`sdl-tracker claims` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..catalog.rules import fr_label
from ..commands import TEXT, echo_lines, emit, json_option, say, server_command
from ..errors import Invalid
from ..labels import label
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from .judging import judged_claims, standing_of, vector_report
from .models import Claim
from .review import accept_claim, confirm_claim
from .rules import ClaimStatus, Verification
from .schemas import ClaimOut, VectorOut
from .services import ClaimInput, import_claims, list_claims, newest_release, set_claim
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
@click.option("--justification", type=TEXT, default="", help="Why it does not apply (required for not_applicable).")
@click.option(
    "--countermeasure", type=TEXT, default="", help="The compensating countermeasure (required for compensated)."
)
@click.option("--notes", type=TEXT, default="")
@click.option("--evidence", "evidence_ids", multiple=True, type=int, help="An evidence id it rests on (repeatable).")
@click.option(
    "--override-reason",
    type=TEXT,
    default="",
    help="Not applicable on an unconditional item: why the officer overrides.",
)
@click.option(
    "--documentation", type=int, help="Compensated: the user documentation evidence id (guideline naming SG-1/SG-2)."
)
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
    override_reason: str,
    documentation: int | None,
) -> None:
    """Set VERSION's claim for REQUIREMENT (e.g. "CR 1.1 RE(1)")."""
    release = _release(session, actor, product_name, version)
    claim = set_claim(
        session,
        actor,
        release.id,
        requirement,
        ClaimInput(
            status, verification, justification, countermeasure, notes, evidence_ids, override_reason, documentation
        ),
    )
    say(f"{requirement}: {status}" + _standing_line(session, claim))


def _standing_line(session: Session, claim: Claim) -> str:
    standing = standing_of(session, claim)
    return " (counts)" if standing.counts else f" (not counting: {'; '.join(standing.reasons)})"


@claims.command("accept")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("requirement")
@server_command()
def claims_accept(session: Session, actor: Principal, product_name: str, version: str, requirement: str) -> None:
    """Accept VERSION's "not applicable" or "compensated" claim for REQUIREMENT (--as a security officer
    other than the one who set it, or an administrator)."""
    release = _release(session, actor, product_name, version)
    claim = accept_claim(session, actor, release.id, requirement)
    say(f"{requirement}: accepted for {release.version} by {claim.accepted_by}" + _standing_line(session, claim))


@claims.command("confirm")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("requirement")
@server_command()
def claims_confirm(session: Session, actor: Principal, product_name: str, version: str, requirement: str) -> None:
    """Confirm that REQUIREMENT's claim carried forward to VERSION holds for it (--as a security officer)."""
    release = _release(session, actor, product_name, version)
    claim = confirm_claim(session, actor, release.id, requirement)
    say(f"{requirement}: confirmed for {release.version}" + _standing_line(session, claim))


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
    say(f"{len(items)} claims of {release.version} written to {file}")


@claims.command("import")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--release", "version", help="Default: the newest release.")
@server_command()
def claims_import(session: Session, actor: Principal, product_name: str, file: Path, version: str | None) -> None:
    """Apply the claims in FILE (.csv or .json): every row is checked first; all or nothing."""
    release = _release(session, actor, product_name, version)
    result = import_claims(session, actor, release.id, parse_sheet(file.read_bytes(), file.name))
    say(f"{result.rows} rows checked, {result.changed} claims changed on {release.version}")


@claims.command("list")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--release", "version", help="Default: the newest release.")
@json_option
@server_command(read_only=True)
def claims_list(session: Session, actor: Principal, product_name: str, version: str | None, as_json: bool) -> None:
    """List the release's claims."""
    release = _release(session, actor, product_name, version)
    items = [ClaimOut.judged(s).model_dump(mode="json") for s in judged_claims(session, actor, release.id)]
    lines = [
        f"{c['requirement']:<16} {label(c['status']):<27} "
        + ("counts" if c["counts"] else "not counting: " + "; ".join(c["not_counting"]))
        for c in items
    ]
    emit(items, as_json, echo_lines(lines, "no claims"))


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
        f"{fr_label(f['fr'])}  target {f['target']}  achieved {f['achieved']}  "
        f"missing: {', '.join(f['missing']) or '-'}"
        f"  (met: {f['met_by_implementation']} implemented, {f['met_by_compensation']} compensated, "
        f"{f['met_by_accepted_not_applicable']} accepted N/A; {f['claimed_not_counting']} claimed not counting"
        + (f"; medium-confidence SL-C: {', '.join(f['medium_confidence'])}" if f["medium_confidence"] else "")
        + ")"
        for f in data["frs"]
    ]
    lines += [f"override {o['requirement']}: {o['override_reason']}" for o in data["overrides"]]
    lines += [f"not counting {n['requirement']}: {'; '.join(n['reasons'])}" for n in data["not_counting"]]
    emit(data, as_json, echo_lines(lines, ""))
