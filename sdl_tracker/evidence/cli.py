"""`sdl-tracker evidence` commands."""

from __future__ import annotations

import json
import mimetypes
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import echo_lines, emit, json_option, server_command
from ..db import utcnow
from ..errors import Invalid
from ..products.services import get_product_by_name, get_release_by_version, optional_release
from .assessment import coverage, record_maturity
from .details import parse_detail_pairs
from .models import EvidenceKind
from .queries import EvidenceQuery, get_evidence, list_evidence
from .review import review_evidence
from .schemas import CoverageOut, EvidenceOut
from .services import EvidenceInput, Upload, create_evidence

evidence = AppGroup("evidence", help="IEC 62443-4-1 practice evidence.")
DATE = click.DateTime(["%Y-%m-%d"])


def _upload(stack: ExitStack, path: Path) -> Upload:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Upload(path.name, media_type, stack.enter_context(open(path, "rb")))


def read_details(path: Path | None, pairs: tuple[str, ...]) -> dict[str, Any] | None:
    """--details FILE.json, then --detail key=value pairs on top."""
    details: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Invalid.field("--details", f"cannot read {path}: {exc}") from None
        if not isinstance(loaded, dict):
            raise Invalid.field("--details", "the file must hold a JSON object")
        details.update(loaded)
    details.update(parse_detail_pairs(list(pairs)))
    return details or None


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@evidence.command("add")
@click.argument("product_name", metavar="[PRODUCT]", required=False)
@click.option("--organisation", is_flag=True, help="Organisation-wide evidence (administrators), instead of PRODUCT.")
@click.option("--kind", required=True, type=click.Choice([k.value for k in EvidenceKind]))
@click.option("--title", required=True)
@click.option(
    "--requirement",
    "requirements",
    multiple=True,
    required=True,
    help="A requirement it shows (SR-2, CR 3.4); repeatable.",
)
@click.option(
    "--release", "releases", multiple=True, help="A release it covers (default: the whole product); repeatable."
)
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file to attach (repeatable): at least one, or a --threat-dragon model.",
)
@click.option("--effective-date", type=DATE, help="When the activity happened (default: today).")
@click.option("--description", default="", help="Markdown.")
@click.option("--author", default="")
@click.option("--review-due", type=DATE, help="When it must be reviewed again.")
@click.option(
    "--detail",
    "detail_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A fact of the kind (threats_total=12, findings.high=2); repeatable.",
)
@click.option(
    "--details",
    "details_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The kind's facts as a JSON object.",
)
@click.option(
    "--threat-dragon",
    "threat_dragon",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An OWASP Threat Dragon model: fills the threat counts (threat-model evidence).",
)
@click.option("--draft", is_flag=True, help="Keep it as a draft (not yet submitted for review).")
@json_option
@server_command()
def evidence_add(
    session: Session,
    actor: Principal,
    product_name: str | None,
    organisation: bool,
    kind: str,
    title: str,
    requirements: tuple[str, ...],
    releases: tuple[str, ...],
    files: tuple[Path, ...],
    effective_date: datetime | None,
    description: str,
    author: str,
    review_due: datetime | None,
    detail_pairs: tuple[str, ...],
    details_file: Path | None,
    threat_dragon: Path | None,
    draft: bool,
    as_json: bool,
) -> None:
    """Attach evidence to PRODUCT (or, with --organisation, to every product); prints the new id."""
    if bool(product_name) == organisation:
        raise Invalid.field("PRODUCT", "name a product, or --organisation, not both")
    product_id = get_product_by_name(session, actor, product_name).id if product_name else None
    details = read_details(details_file, detail_pairs)
    with ExitStack() as stack:
        uploads = [_upload(stack, path) for path in files]
        data = EvidenceInput(
            title=title,
            description=description,
            effective_date=_day(effective_date),
            author=author,
            review_due=_day(review_due),
            requirements=requirements,
            release_versions=releases,
            files=uploads,
            details=details,
            threat_dragon=_upload(stack, threat_dragon) if threat_dragon else None,
        )
        created = create_evidence(session, actor, product_id=product_id, kind=kind, data=data, draft=draft)
    emit(EvidenceOut.of(created).model_dump(mode="json"), as_json, lambda: click.echo(created.id))


@evidence.command("list")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--release", "version", help="Only what covers this release (with inherited organisation-wide evidence).")
@json_option
@server_command(read_only=True)
def evidence_list(session: Session, actor: Principal, product_name: str, version: str | None, as_json: bool) -> None:
    """List PRODUCT's evidence, newest first."""
    product = get_product_by_name(session, actor, product_name)
    release_id = get_release_by_version(session, actor, product.id, version).id if version else None
    items = list_evidence(
        session, actor, EvidenceQuery(product.id, release_id, include_organisation=version is not None)
    )
    data = [EvidenceOut.of(e).model_dump(mode="json") for e in items]
    lines = [
        f"{e['id']:>5}  {e['kind']:<22} {c['state']:<9} {c['effective_date']}  {c['title']}"
        for e in data
        for c in [e["current"]]
    ]
    emit(data, as_json, echo_lines(lines, "no evidence"))


@evidence.command("show")
@click.argument("evidence_id", type=int)
@json_option
@server_command(read_only=True)
def evidence_show(session: Session, actor: Principal, evidence_id: int, as_json: bool) -> None:
    """Show evidence EVIDENCE_ID with every revision."""
    found = get_evidence(session, actor, evidence_id)
    data = EvidenceOut.with_history(found).model_dump(mode="json")
    current = data["current"]
    lines = [
        f"{found.id}: {current['title']} ({found.kind.value}, {found.scope.value}) "
        f"r{current['number']} {current['state']}",
        f"  effective {current['effective_date']}; requirements {', '.join(r['id'] for r in current['requirements'])}",
        *[
            f"  artifact {a['id']}: {a['filename']} ({a['size']} bytes, sha256 {a['sha256'][:12]})"
            for a in current["artifacts"]
        ],
    ]
    emit(data, as_json, echo_lines(lines, ""))


@evidence.command("review")
@click.argument("evidence_id", type=int)
@click.argument("decision", type=click.Choice(["accept", "reject"]))
@click.option("--reason", default="", help="Why (required to reject).")
@server_command()
def evidence_review(session: Session, actor: Principal, evidence_id: int, decision: str, reason: str) -> None:
    """Accept or reject evidence EVIDENCE_ID (a security officer, with --as EMAIL)."""
    revision = review_evidence(session, actor, evidence_id, accept=decision == "accept", reason=reason)
    click.echo(f"evidence {evidence_id} revision {revision.number}: {revision.state.value}")


@evidence.command("coverage")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--release", "version", help="One release (default: the product across releases).")
@json_option
@server_command(read_only=True)
def evidence_coverage(
    session: Session, actor: Principal, product_name: str, version: str | None, as_json: bool
) -> None:
    """Print each IEC 62443-4-1 requirement's best evidence state, per practice, with what to do next."""
    product = get_product_by_name(session, actor, product_name)
    release = optional_release(session, actor, product.id, version)
    result = coverage(session, actor, product.id, release)
    lines = []
    for practice in result.practices:
        lines.append(f"{practice.practice:<4} {practice.name}: {practice.accepted}/{practice.total} accepted")
        lines += [
            f"     {c.ref:<6} {c.state.value:<9} {c.next_step}" for c in result.cells if c.practice == practice.practice
        ]
    emit(
        CoverageOut.of(result).model_dump(mode="json"),
        as_json,
        echo_lines(lines, "not assessed against an IEC 62443-4-1 edition"),
    )


@evidence.command("maturity")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("practice")
@click.argument("level", type=click.IntRange(1, 4))
@click.option("--rationale", required=True)
@click.option("--assessed-on", type=DATE, help="Default: today.")
@server_command()
def evidence_maturity(
    session: Session,
    actor: Principal,
    product_name: str,
    practice: str,
    level: int,
    rationale: str,
    assessed_on: datetime | None,
) -> None:
    """Record PRACTICE's self-assessed maturity LEVEL (1-4) for PRODUCT."""
    product = get_product_by_name(session, actor, product_name)
    record_maturity(
        session,
        actor,
        product.id,
        practice=practice.upper(),
        level=level,
        rationale=rationale,
        assessed_on=_day(assessed_on) or utcnow().date(),
    )
    click.echo(f"{product.name}: {practice.upper()} at ML{level}")
