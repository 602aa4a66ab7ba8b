"""`sdl-tracker vex` commands: record, list, confirm and delete a release's VEX decisions, export its VEX;
`sdl-tracker psirt csaf`: a case's CSAF document, checked, written and published; `sdl-tracker vuln`: import
vulnerability files and ask which releases a vulnerability affects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..app_access import app_db, app_settings
from ..auth import Principal
from ..commands import (
    TEXT,
    acting_principal,
    echo_lines,
    emit,
    fail,
    json_option,
    say,
    say_json,
    server_command,
    write_document,
)
from ..errors import DomainError, Invalid, NotFound
from ..jobs.cli import as_option
from ..jobs.registry import DatabasePhases
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from ..psirt.cli import psirt
from ..psirt.services import get_case_by_reference
from .advisory import Tlp, TrackingStatus
from .exports import FORMAT_LABELS, VexFormat, release_vex
from .feeds import DEFAULT_LIMITS
from .importer import authorize_import_vulnerabilities, import_feed
from .models import CsafProfile, VexDecision
from .publishing import PUBLISHED, csaf_document, publication_bytes, publish_csaf
from .queries import affected_releases
from .rules import CdxJustification, Justification, Status
from .schemas import AffectedOut, ImportResultOut, VexDecisionOut
from .services import (
    DecisionFilter,
    DecisionInput,
    confirm_decision,
    delete_decision,
    find_decision,
    list_decisions,
    record_decision,
)

vex = AppGroup("vex", help="VEX decisions: whether a release is affected by a vulnerability, per component.")
component_option = click.option(
    "--component", default="", metavar="PURL", help="The component (its version is not kept); default: the product."
)


def _release(session: Session, actor: Principal, product_name: str, version: str) -> Release:
    product = get_product_by_name(session, actor, product_name)
    return get_release_by_version(session, actor, product.id, version)


def _line(data: dict[str, object]) -> str:
    standing = "confirmed" if data["confirmed"] else f"{data['origin']}, unconfirmed"
    return f"{data['vulnerability']:<20} {data['component'] or '(the product)':<40} {data['status']:<20} {standing}"


def _decision(session: Session, actor: Principal, release: Release, vulnerability: str, component: str) -> VexDecision:
    decision = find_decision(session, actor, release.id, vulnerability, component)
    if decision is None:
        raise NotFound(f"{release.version} has no decision on {vulnerability} in {component or 'the product'}")
    return decision


@vex.command("decide")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("vulnerability", metavar="VULN")
@component_option
@click.option("--status", required=True, type=click.Choice([s.value for s in Status]))
@click.option("--justification", type=click.Choice([j.value for j in Justification]), help="Required for not_affected.")
@click.option(
    "--cdx-justification",
    type=click.Choice([c.value for c in CdxJustification]),
    help="Not affected: a CycloneDX justification under the --justification given.",
)
@click.option("--impact", type=TEXT, default="", help="Not affected: why, in words.")
@click.option("--action", type=TEXT, default="", help="Required for affected: what users should do.")
@json_option
@server_command()
def vex_decide(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    vulnerability: str,
    component: str,
    status: str,
    justification: str | None,
    cdx_justification: str | None,
    impact: str,
    action: str,
    as_json: bool,
) -> None:
    """Record VERSION's decision on VULN (CVE, GHSA, an OSV id or PSIRT-YYYY-NNNN) in a component or the product."""
    release = _release(session, actor, product_name, version)
    data = DecisionInput(status, justification, cdx_justification, impact, action)
    decision = record_decision(session, actor, release.id, vulnerability, data, component=component)
    out = VexDecisionOut.of(decision).model_dump(mode="json")
    emit(out, as_json, lambda: say(f"{release.version}: {_line(out)}"))


@vex.command("list")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only decisions with this status.")
@click.option("--vulnerability", default="", metavar="VULN", help="Only decisions on this vulnerability.")
@click.option("--component", metavar="PURL", help="Only decisions on this component (any version).")
@json_option
@server_command(read_only=True)
def vex_list(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    status: str | None,
    vulnerability: str,
    component: str | None,
    as_json: bool,
) -> None:
    """List VERSION's decisions by vulnerability and component."""
    release = _release(session, actor, product_name, version)
    decisions = list_decisions(session, actor, release.id, DecisionFilter(status, vulnerability, component))
    items = [VexDecisionOut.of(d).model_dump(mode="json") for d in decisions]
    emit(items, as_json, echo_lines([_line(item) for item in items], "no decisions"))


@vex.command("confirm")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("vulnerability", metavar="VULN")
@component_option
@server_command()
def vex_confirm(
    session: Session, actor: Principal, product_name: str, version: str, vulnerability: str, component: str
) -> None:
    """Confirm VERSION's unconfirmed decision on VULN (carried forward, matched, a supplier's): --as a security
    officer."""
    release = _release(session, actor, product_name, version)
    decision = confirm_decision(session, actor, _decision(session, actor, release, vulnerability, component).id)
    say(f"{release.version}: {_line(VexDecisionOut.of(decision).model_dump(mode='json'))}")


@vex.command("delete")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("vulnerability", metavar="VULN")
@component_option
@server_command()
def vex_delete(
    session: Session, actor: Principal, product_name: str, version: str, vulnerability: str, component: str
) -> None:
    """Delete VERSION's decision on VULN (its audit event keeps what it said)."""
    release = _release(session, actor, product_name, version)
    decision = _decision(session, actor, release, vulnerability, component)
    name, purl = decision.vulnerability.name, decision.component_purl
    delete_decision(session, actor, decision.id)
    say(f"{release.version}: decision on {name} in {purl or 'the product'} deleted")


PROFILES = {"advisory": CsafProfile.ADVISORY, "vex": CsafProfile.VEX}


@psirt.command("csaf")
@click.argument("reference", metavar="CASE")
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default="advisory", show_default=True)
@click.option("--publish", is_flag=True, help="Publish the next version (a security officer, with --as).")
@click.option("--status", type=click.Choice([s.value for s in PUBLISHED]), default="final", show_default=True)
@click.option("--tlp", type=click.Choice([t.value for t in Tlp]), help="Who may read it (required with --publish).")
@click.option("--summary", type=TEXT, default="", help="What this version changes (required with --publish).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here (default: standard output)."
)
@server_command()
def psirt_csaf(
    session: Session,
    actor: Principal,
    reference: str,
    profile: str,
    publish: bool,
    status: str,
    tlp: str | None,
    summary: str,
    output: Path | None,
) -> None:
    """Write CASE's CSAF 2.0 document (PSIRT-YYYY-NNNN) as the next version would be published, exit 1 when it may
    not be published yet (each reason on stderr); with --publish, publish it (frozen, signed when a key is set)."""
    case = get_case_by_reference(session, actor, reference)
    if publish:
        if tlp is None or not summary.strip():
            fail("--publish needs --tlp and --summary")
            return
        done = publish_csaf(
            session,
            actor,
            case.id,
            profile=PROFILES[profile],
            status=TrackingStatus(status),
            tlp=tlp,
            summary=summary,
        )
        content: bytes = publication_bytes(session, done)
        signed = "signed" if done.signature_sha256 else "unsigned"
        note = f"{done.tracking_id} version {done.version} published ({signed}): {done.file_name}"
        problems: list[str] = []
    else:
        document = csaf_document(
            session, actor, case.id, profile=PROFILES[profile], status=TrackingStatus(status), tlp=tlp or "WHITE"
        )
        content = document.content
        problems = document.problems
        state = "not publishable yet" if problems else "valid"
        note = f"{document.tracking_id} next version {document.version}, {state}: {document.file_name}"
    write_document(content, output)
    for problem in problems:
        say(f"not publishable: {problem}", err=True)
    say(note, err=True)
    if problems:
        raise SystemExit(1)


@vex.command("export")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.option("--format", "fmt", required=True, type=click.Choice([f.value for f in VexFormat]))
@click.option("--tlp", type=click.Choice([t.value for t in Tlp]), help="CSAF only: the TLP label (default WHITE).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here (default: standard output)."
)
@server_command(read_only=True)
def vex_export(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    fmt: str,
    tlp: str | None,
    output: Path | None,
) -> None:
    """Write VERSION's VEX from its confirmed decisions (unconfirmed ones are left out), validated: the same
    decisions give the same bytes. What it states and left out goes to stderr."""
    release = _release(session, actor, product_name, version)
    export = release_vex(session, actor, release.id, format=fmt, tlp=tlp)
    write_document(export.data, output)
    left_out = f"; {export.left_out} unconfirmed left out" if export.left_out else ""
    say(f"{FORMAT_LABELS[export.format]}: {export.statements} confirmed decisions{left_out}", err=True)


vuln = AppGroup("vuln", help="Known vulnerabilities: import OSV, KEV and suppliers' VEX; which releases each affects.")


def _result_lines(data: dict[str, Any]) -> list[str]:
    lines = [
        f"{data['file']} ({data['format']}, {data['records']} read): "
        f"{data['vulnerabilities_created']} vulnerabilities new, {data['vulnerabilities_updated']} updated, "
        f"{data['known_exploited']} known exploited; {data['decisions_proposed']} decisions proposed, "
        f"{data['decisions_unchanged']} already so, {data['skipped']} kept, {data['retracted']} retracted; "
        f"{data['undecidable']} undecidable" + (f"; {data['unused']} statements not used" if data["unused"] else "")
    ]
    lines += [
        f"  undecidable: {u['vulnerability']} in {u['product']} {u['release']} {u['component']}: {u['reason']}"
        for u in data["undecidable_matches"]
    ]
    lines += [f"  not used: {u['vulnerability']} ({u['component']}): {u['reason']}" for u in data["unused_statements"]]
    return lines + [f"  warning: {w}" for w in data["warnings"]]


def _files(path: Path) -> list[Path]:
    """FILE, or the files of DIR (not its folders or hidden files), by name."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


@vuln.command("import")
@click.argument("path", metavar="FILE|DIR", required=False, type=click.Path(exists=True, path_type=Path))
@json_option
@as_option
def vuln_import(path: Path | None, as_json: bool, as_email: str | None) -> None:
    """Import a vulnerability file (OSV, the KEV catalog, a supplier's CSAF or CycloneDX VEX), or every file of
    DIR, each all or nothing; without an argument, the directory SDL_TRACKER_VULN_DIR names. Exit 2 when a file
    was refused (the others are imported)."""
    if path is None:
        configured = app_settings().VULN_DIR
        if not configured:
            fail("give FILE or DIR, or set SDL_TRACKER_VULN_DIR")
        path = Path(configured)
    database = app_db(current_app)
    try:
        with database.unit_of_work(read_only=True) as session:
            actor = acting_principal(session, as_email)
        authorize_import_vulnerabilities(actor)
    except DomainError as exc:
        fail(exc.one_line())
        return
    largest = max(DEFAULT_LIMITS.max_zip, DEFAULT_LIMITS.max_json)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for file in _files(path):
        try:
            if file.stat().st_size > largest:
                raise Invalid.field("file", f"the file has {file.stat().st_size} bytes, more than {largest}")
            result = import_feed(DatabasePhases(database, actor), file.read_bytes(), file.name)
        except DomainError as exc:
            errors.append({"file": file.name, "error": exc.message})
            continue
        except OSError as exc:
            errors.append({"file": file.name, "error": f"cannot be read: {exc.strerror}"})
            continue
        results.append(ImportResultOut.of(result).model_dump(mode="json"))
        if not as_json:
            for line in _result_lines(results[-1]):
                say(line)
    if as_json and results and path.is_file():
        say_json(results[0])
    elif as_json and path.is_dir():
        say_json({"results": results, "errors": errors})
    elif not results and not errors:
        say(f"no files in {path}")
    for error in errors:
        say(f"error: {error['file']}: {error['error']}", err=True)
    if errors:
        raise click.exceptions.Exit(2)


def _affected_lines(data: dict[str, Any]) -> list[str]:
    vulnerability = data["vulnerability"]
    exploited = (
        f" (known exploited since {data['kev_date_added']})"
        if data["kev_date_added"]
        else " (known exploited)"
        if data["known_exploited"]
        else ""
    )
    lines = [f"{vulnerability['name']}{exploited}: {vulnerability['title'] or '-'}"]
    if vulnerability["aliases"] or data["related"]:
        lines.append(f"  also: {', '.join([*vulnerability['aliases'], *data['related']])}")
    counts = data["releases"]
    lines.append("  releases: " + ", ".join(f"{status.replace('_', ' ')} {n}" for status, n in counts.items()))
    for group in data["groups"]:
        for standing in group["releases"]:
            lines.append(f"  {group['status']:<20} {standing['product']} {standing['release']}")
            lines += [f"    {_line(d)}" for d in standing["decisions"]]
    return lines


@vuln.command("affected")
@click.argument("vulnerability", metavar="VULN")
@json_option
@server_command(read_only=True)
def vuln_affected(session: Session, actor: Principal, vulnerability: str, as_json: bool) -> None:
    """Which of your releases VULN (a CVE, GHSA or OSV id, by name or alias) affects, grouped by status. Exit 1
    when some release is affected or still under investigation (a negative answer), 0 when none is."""
    data = AffectedOut.read(session, affected_releases(session, actor, vulnerability), actor).model_dump(mode="json")
    emit(data, as_json, echo_lines(_affected_lines(data), ""))
    if data["exposed"]:
        raise click.exceptions.Exit(1)
