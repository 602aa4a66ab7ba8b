"""`sdl-tracker evidence` commands."""

from __future__ import annotations

import mimetypes
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..boundary import document_text_problem, loads_json
from ..commands import DAY, TEXT, echo_lines, emit, json_option, say, server_command
from ..db import utcnow
from ..errors import Invalid
from ..labels import label
from ..products.services import get_product_by_name, get_release_by_version, optional_release
from .assessment import coverage, record_maturity
from .details import parse_detail_pairs
from .models import EvidenceKind
from .queries import EvidenceQuery, get_evidence, list_evidence
from .review import review_evidence
from .schemas import CoverageOut, CoverageViewOut, EvidenceOut, HalfOut, ReviewIntervalOut, ScopingOut
from .scoping import (
    accept_scoping,
    change_review_interval,
    list_review_intervals,
    list_scoping,
    propose_scoping,
    withdraw_scoping,
)
from .services import EvidenceInput, Upload, attach_evidence, revise_evidence
from .vocabulary import TesterIndependence

evidence = AppGroup("evidence", help="IEC 62443-4-1 practice evidence.")
INDEPENDENCE = click.Choice([level.value for level in TesterIndependence])


def _upload(stack: ExitStack, path: Path) -> Upload:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Upload(path.name, media_type, stack.enter_context(open(path, "rb")))


def read_details(path: Path | None, pairs: tuple[str, ...]) -> dict[str, Any] | None:
    """--details FILE.json, then --detail key=value pairs on top."""
    details: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = loads_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: not JSON, or nested too deeply
            raise Invalid.field("--details", f"cannot read {path}: {exc}") from None
        if not isinstance(loaded, dict):
            raise Invalid.field("--details", "the file must hold a JSON object")
        problem = document_text_problem(loaded, multi_line=True)  # as the API's details (Facts)
        if problem:
            raise Invalid.field("--details", f"{path}: {problem}")
        details.update(loaded)
    details.update(parse_detail_pairs(list(pairs)))
    return details or None


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
@click.option("--effective-date", type=DAY, help="When the activity happened (default: today).")
@click.option("--description", type=TEXT, default="", help="Markdown.")
@click.option("--author", default="")
@click.option("--review-due", type=DAY, help="When it must be reviewed again.")
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
@click.option(
    "--tester-independence",
    type=INDEPENDENCE,
    help="Test evidence: how independent the tester was of the developers (IEC 62443-4-1 Table 3).",
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
    effective_date: date | None,
    description: str,
    author: str,
    review_due: date | None,
    detail_pairs: tuple[str, ...],
    details_file: Path | None,
    threat_dragon: Path | None,
    tester_independence: str | None,
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
            effective_date=effective_date,
            author=author,
            review_due=review_due,
            requirements=requirements,
            release_versions=releases,
            files=uploads,
            details=details,
            tester_independence=tester_independence,
            threat_dragon=_upload(stack, threat_dragon) if threat_dragon else None,
        )
        attached = attach_evidence(session, actor, product_id=product_id, kind=kind, data=data, draft=draft)
    evidence = attached.evidence
    out = EvidenceOut.of(evidence).model_copy(update={"created": attached.created})
    emit(
        out.model_dump(mode="json"),
        as_json,
        lambda: say(str(evidence.id) if attached.created else f"already attached as #{evidence.id}"),
    )


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
        f"{e['id']:>5}  {label(e['kind']):<26} {label(c['state']):<9} {c['effective_date']}  {c['title']}"
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
        f"{found.id}: {current['title']} ({label(found.kind)}, {label(found.scope).lower()}) "
        f"r{current['number']} {label(current['state']).lower()}",
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
@click.option("--reason", type=TEXT, default="", help="Why (required to reject).")
@server_command()
def evidence_review(session: Session, actor: Principal, evidence_id: int, decision: str, reason: str) -> None:
    """Accept or reject evidence EVIDENCE_ID (a security officer, with --as EMAIL)."""
    revision = review_evidence(session, actor, evidence_id, accept=decision == "accept", reason=reason)
    say(f"evidence {evidence_id} revision {revision.number}: {revision.state.value}")


@evidence.command("edit")
@click.argument("evidence_id", type=int)
@click.option("--title")
@click.option("--requirement", "requirements", multiple=True, help="Replaces the requirements it shows; repeatable.")
@click.option("--release", "releases", multiple=True, help="Replaces the releases it covers; repeatable.")
@click.option(
    "--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Add a file."
)
@click.option("--effective-date", type=DAY)
@click.option("--description", type=TEXT)
@click.option("--author")
@click.option("--review-due", type=DAY)
@click.option("--detail", "detail_pairs", multiple=True, metavar="KEY=VALUE", help="A fact of the kind; repeatable.")
@click.option("--tester-independence", type=INDEPENDENCE, help="Test evidence (IEC 62443-4-1 Table 3).")
@click.option("--draft", is_flag=True, help="Keep the new revision as a draft instead of submitting it.")
@json_option
@server_command()
def evidence_edit(
    session: Session,
    actor: Principal,
    evidence_id: int,
    title: str | None,
    requirements: tuple[str, ...],
    releases: tuple[str, ...],
    files: tuple[Path, ...],
    effective_date: date | None,
    description: str | None,
    author: str | None,
    review_due: date | None,
    detail_pairs: tuple[str, ...],
    tester_independence: str | None,
    draft: bool,
    as_json: bool,
) -> None:
    """Edit evidence EVIDENCE_ID: a new revision (submitted for review unless --draft); what is not given stays."""
    with ExitStack() as stack:
        data = EvidenceInput(
            title=title,
            description=description,
            effective_date=effective_date,
            author=author,
            review_due=review_due,
            requirements=requirements or None,
            release_versions=releases or None,
            files=[_upload(stack, path) for path in files],
            details=read_details(None, detail_pairs),
            tester_independence=tester_independence,
        )
        revision = revise_evidence(session, actor, evidence_id, data=data, submit=not draft)
    emit(
        EvidenceOut.of(get_evidence(session, actor, evidence_id)).model_dump(mode="json"),
        as_json,
        lambda: say(f"evidence {evidence_id} revision {revision.number}: {revision.state.value}"),
    )


def _half(half: HalfOut) -> str:
    return f"{half.state.value}{f' #{half.evidence}' if half.evidence else ''}"


def _view_lines(view: CoverageViewOut) -> list[str]:
    lines = [f"as of {view.as_of}: {view.met} of {view.total} requirements met"]
    for practice in view.practices:
        scoped = f", {practice.scoped_out} scoped out" if practice.scoped_out else ""
        lines.append(f"{practice.practice:<4} {practice.name}: {practice.met}/{practice.total} met{scoped}")
        lines += [
            f"     {c.id:<6} {c.state.value:<13} process {_half(c.process):<16} records {_half(c.records):<16} "
            f"{c.next_step or ''}".rstrip()
            for c in view.requirements
            if c.practice == practice.practice
        ]
    return lines


@evidence.command("coverage")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--release", "version", help="One release (default: the product across releases).")
@json_option
@server_command(read_only=True)
def evidence_coverage(
    session: Session, actor: Principal, product_name: str, version: str | None, as_json: bool
) -> None:
    """Print each IEC 62443-4-1 requirement's process and records, per practice, with what to do next; a released
    release as of its release date, then as of today."""
    product = get_product_by_name(session, actor, product_name)
    release = optional_release(session, actor, product.id, version)
    out = CoverageOut.of(coverage(session, actor, product.id, release))
    lines = _view_lines(out.judged) if out.edition else []
    if out.current is not None:
        lines += ["", "today:", *_view_lines(out.current)]
    lines += [f"scoped out: {s.requirement} ({s.state.value}): {s.justification}" for s in out.scoping]
    lines += [
        f"maturity {m.practice}: recorded {f'ML{m.recorded.level}' if m.recorded else '-'}, "
        f"organisation's evidence supports ML{m.organisation_supports.level}"
        + (f", {product.name}'s ML{m.product_supports.level}" if m.product_supports else "")
        for m in out.maturity
    ]
    emit(out.model_dump(mode="json"), as_json, echo_lines(lines, "not assessed against an IEC 62443-4-1 edition"))


@evidence.command("maturity")
@click.argument("practice")
@click.argument("level", type=click.IntRange(1, 4))
@click.option("--rationale", type=TEXT, required=True)
@click.option("--assessed-on", type=DAY, help="Default: today.")
@server_command()
def evidence_maturity(
    session: Session, actor: Principal, practice: str, level: int, rationale: str, assessed_on: date | None
) -> None:
    """Record the organisation's maturity LEVEL (1-4) of PRACTICE, within what the evidence supports."""
    record_maturity(
        session,
        actor,
        practice=practice.upper(),
        level=level,
        rationale=rationale,
        assessed_on=assessed_on or utcnow().date(),
    )
    say(f"organisation: {practice.upper()} at ML{level}")


@evidence.command("scope-out")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("requirement")
@click.option("--justification", type=TEXT, required=True, help="Why the requirement does not apply to PRODUCT (SM-5).")
@server_command()
def evidence_scope_out(
    session: Session, actor: Principal, product_name: str, requirement: str, justification: str
) -> None:
    """Scope REQUIREMENT out of PRODUCT; it counts once another security officer accepts it. Prints its id."""
    product = get_product_by_name(session, actor, product_name)
    row = propose_scoping(session, actor, product.id, requirement=requirement, justification=justification)
    say(str(row.id))


@evidence.command("scoping")
@click.argument("product_name", metavar="PRODUCT")
@json_option
@server_command(read_only=True)
def evidence_scoping(session: Session, actor: Principal, product_name: str, as_json: bool) -> None:
    """List PRODUCT's scoped-out requirements, withdrawn ones included."""
    product = get_product_by_name(session, actor, product_name)
    rows = [ScopingOut.of(row) for row in list_scoping(session, actor, product.id)]
    lines = [f"{r.id:>5}  {r.requirement:<6} {r.state.value:<9} {r.justification}" for r in rows]
    emit([r.model_dump(mode="json") for r in rows], as_json, echo_lines(lines, "nothing scoped out"))


@evidence.command("scoping-accept")
@click.argument("scoping_id", type=int)
@server_command()
def evidence_scoping_accept(session: Session, actor: Principal, scoping_id: int) -> None:
    """Accept scoping-out SCOPING_ID (a security officer other than the setter, with --as EMAIL)."""
    row = accept_scoping(session, actor, scoping_id)
    say(f"{row.requirement_ref}: scoped out (accepted)")


@evidence.command("scoping-withdraw")
@click.argument("scoping_id", type=int)
@click.option("--reason", type=TEXT, required=True)
@server_command()
def evidence_scoping_withdraw(session: Session, actor: Principal, scoping_id: int, reason: str) -> None:
    """Withdraw scoping-out SCOPING_ID: the requirement counts again."""
    row = withdraw_scoping(session, actor, scoping_id, reason=reason)
    say(f"{row.requirement_ref}: withdrawn")


@evidence.command("review-interval")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("kind", type=click.Choice([k.value for k in EvidenceKind]))
@click.argument("months", metavar="MONTHS|never|default")
@server_command()
def evidence_review_interval(session: Session, actor: Principal, product_name: str, kind: str, months: str) -> None:
    """Set how many months evidence of KIND stands for PRODUCT before it must be reviewed again."""
    product = get_product_by_name(session, actor, product_name)
    interval = change_review_interval(session, actor, product.id, kind=kind, value=months, field="MONTHS")
    say(f"{product.name}: {kind} {interval.months or 'never'}{'' if interval.product_set else ' (default)'}")


@evidence.command("review-intervals")
@click.argument("product_name", metavar="PRODUCT")
@json_option
@server_command(read_only=True)
def evidence_review_intervals(session: Session, actor: Principal, product_name: str, as_json: bool) -> None:
    """List every evidence kind's review interval for PRODUCT."""
    product = get_product_by_name(session, actor, product_name)
    rows = [ReviewIntervalOut.of(i) for i in list_review_intervals(session, actor, product.id)]
    lines = [
        f"{label(r.kind):<28} {r.months or 'never'!s:<6} {'set for the product' if r.product_set else 'default'}"
        for r in rows
    ]
    emit([r.model_dump(mode="json") for r in rows], as_json, echo_lines(lines, ""))
