"""`sdl-tracker sbom import|list|show|components|diff|where|licences|paths|primary|policy`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..app_access import app_db
from ..auth import Principal
from ..commands import acting_principal, echo_lines, emit, fail, json_option, say, server_command, write_document
from ..db import Database
from ..errors import DomainError
from ..evidence.services import Upload
from ..jobs.cli import as_option, report_job, wait_option
from ..products.services import get_product_by_name, get_release_by_version, optional_release
from .diff import HEADINGS
from .exports import export_bom
from .forms import inline_max_bytes
from .importer import submit_sbom
from .queries import component_paths, licence_summary, where_is
from .schemas import ComponentOut, ComponentPathsOut, ComponentSearchOut, LicenceSummaryOut, SbomDiffOut, SbomOut
from .services import (
    ComponentQuery,
    DiffSide,
    compare_sboms,
    get_sbom,
    list_components,
    list_sboms,
    set_policy,
    set_primary,
    strict_policy,
)
from .validation import SbomFormat

sbom = AppGroup("sbom", help="SBOMs (CycloneDX, SPDX) per release.")


def _line(data: dict[str, Any]) -> str:
    flags = " (primary)" if data["primary"] else ""
    return (
        f"#{data['id']} {data['release']} {data['title']}{flags}: {data['format_label']}, "
        f"{data['components']} components, {len(data['warnings'])} warnings"
    )


def _acting_on_release(
    database: Database, as_email: str | None, product_name: str, version: str
) -> tuple[Principal, int]:
    """The acting principal (--as, or the operator) and the release PRODUCT VERSION names, read in a short unit
    (for commands whose work runs in units of its own)."""
    with database.unit_of_work(read_only=True) as session:
        actor = acting_principal(session, as_email)
        product = get_product_by_name(session, actor, product_name)
        return actor, get_release_by_version(session, actor, product.id, version).id


@sbom.command("import")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", default="", help="A name for it (default: the subject component, or the file name).")
@click.option("--primary", is_flag=True, help="Make it the release's primary SBOM.")
@click.option("--strict", is_flag=True, help="Refuse format-only schema violations too.")
@wait_option
@json_option
@as_option
def sbom_import(
    product_name: str,
    version: str,
    path: Path,
    title: str,
    primary: bool,
    strict: bool,
    wait: bool,
    as_json: bool,
    as_email: str | None,
) -> None:
    """Validate FILE (CycloneDX 1.2-1.7 JSON or XML, SPDX 2.2-2.3 JSON or tag-value) and import it for PRODUCT VERSION.

    A file larger than SBOM_INLINE_MAX_BYTES is imported by a job: its id is printed, or with
    --wait the import runs here (or is followed, when a worker took it) and its result printed.
    """
    database = app_db(current_app)
    try:
        actor, release_id = _acting_on_release(database, as_email, product_name, version)
        with path.open("rb") as stream:
            submitted = submit_sbom(
                database,
                actor,
                release_id,
                Upload(path.name, "", stream),
                title=title,
                primary=primary,
                strict=strict,
                inline_max_bytes=inline_max_bytes(),
            )
        if submitted.job is not None:
            report_job(
                submitted.job.id, wait=wait, as_json=as_json, describe=lambda r: [f"imported as SBOM #{r['sbom_id']}"]
            )
            return
        with database.unit_of_work(read_only=True) as session:
            data = SbomOut.of(get_sbom(session, actor, submitted.sbom_id or 0), created=submitted.created).model_dump(
                mode="json"
            )
    except DomainError as exc:
        fail(exc.one_line())
        return
    lines = [("imported " if submitted.created else "already imported, nothing changed: ") + _line(data)]
    lines += [f"  warning: {w['path'] or '/'}: {w['message']}" for w in data["warnings"]] if submitted.created else []
    emit(data, as_json, echo_lines(lines, ""))


@sbom.command("list")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--release", "version", metavar="VERSION", help="Only this release's SBOMs.")
@json_option
@server_command(read_only=True)
def sbom_list(session: Session, actor: Principal, product_name: str, version: str | None, as_json: bool) -> None:
    """PRODUCT's SBOMs, newest release first."""
    product = get_product_by_name(session, actor, product_name)
    release = optional_release(session, actor, product.id, version)
    items = [
        SbomOut.of(s).model_dump(mode="json")
        for s in list_sboms(session, actor, product.id, release.id if release else None)
    ]
    emit(items, as_json, echo_lines([_line(d) for d in items], "no SBOMs"))


@sbom.command("show")
@click.argument("sbom_id", metavar="ID", type=int)
@json_option
@server_command(read_only=True)
def sbom_show(session: Session, actor: Principal, sbom_id: int, as_json: bool) -> None:
    """One SBOM's metadata and warnings."""
    data = SbomOut.of(get_sbom(session, actor, sbom_id)).model_dump(mode="json")
    subject = data["subject"] or {}
    lines = [
        _line(data),
        f"  subject: {subject.get('name', '-')} {subject.get('version', '')}".rstrip(),
        f"  serial number: {data['serial_number'] or '-'}, generated {data['generated_at'] or '-'}",
        f"  tools: {', '.join(t['name'] + ' ' + t['version'] for t in data['tools']) or '-'}",
        f"  sha256: {data['sha256']}",
        *(f"  warning: {w['path'] or '/'}: {w['message']}" for w in data["warnings"]),
    ]
    emit(data, as_json, echo_lines(lines, ""))


@sbom.command("components")
@click.argument("sbom_id", metavar="ID", type=int)
@click.option("--search", default="", help="Only components whose name, group, version or purl contains this.")
@click.option("--type", "component_type", default="", help="Only this component type (library, firmware, ...).")
@json_option
@server_command(read_only=True)
def sbom_components(
    session: Session, actor: Principal, sbom_id: int, search: str, component_type: str, as_json: bool
) -> None:
    """The SBOM's components, in document order."""
    page = list_components(session, actor, sbom_id, ComponentQuery(search, component_type, 1, 10**9))
    items = [ComponentOut.of(c).model_dump(mode="json") for c in page.items]
    lines = [f"{c['type']:<12} {c['group'] + '/' if c['group'] else ''}{c['name']} {c['version']}" for c in items]
    emit(items, as_json, echo_lines(lines, "no components"))


def _diff_lines(data: dict[str, Any]) -> list[str]:
    """A diff as text: a summary, then each heading's rows (`+` added, `-` removed, `^` up, `v` down, `~` other)."""
    before, after = data["before"], data["after"]
    counts = ", ".join(f"{len(data[name])} {name.replace('_', ' ')}" for name in HEADINGS)
    lines = [
        f"{before['release']} (SBOM #{before['id']}) -> {after['release']} (SBOM #{after['id']}): "
        f"{counts}, {data['unchanged']} unchanged"
    ]
    marks = {"added": "+", "removed": "-", "upgraded": "^", "downgraded": "v"}
    for name in HEADINGS:
        if data[name]:
            lines.append(f"{name.replace('_', ' ')}:")
        for change in data[name]:
            old, new = change["before"], change["after"]
            where = (new or old)["parents"]
            place = f"  (in {' > '.join(where)})" if where else ""
            if name == "license_changed":
                what = f"{_licenses(old)} -> {_licenses(new)}"
            elif name == "supplier_changed":
                what = f"{old['supplier'] or '-'} -> {new['supplier'] or '-'}"
            elif name == "hash_changed":
                what = f"{new['version']}: {_hashes(old)} -> {_hashes(new)}"
            else:
                what = " -> ".join(side["version"] or "-" for side in (old, new) if side)
            lines.append(f"  {marks.get(name, '~')} {change['identity']} {what}{place}")
    return lines


def _licenses(component: dict[str, Any]) -> str:
    return ", ".join(value for item in component["licenses"] for value in item.values()) or "-"


def _hashes(component: dict[str, Any]) -> str:
    return ", ".join(f"{h['alg']}:{h['content'][:16]}" for h in component["hashes"]) or "-"


@sbom.command("diff")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("old", metavar="V1")
@click.argument("new", metavar="V2")
@click.option("--from-sbom", type=int, help="Read this SBOM of V1 in place of its primary one (an id).")
@click.option("--to-sbom", type=int, help="Read this SBOM of V2 in place of its primary one (an id).")
@json_option
@server_command(read_only=True)
def sbom_diff(
    session: Session,
    actor: Principal,
    product_name: str,
    old: str,
    new: str,
    from_sbom: int | None,
    to_sbom: int | None,
    as_json: bool,
) -> None:
    """What changed from release V1's SBOM to V2's (their primary SBOMs): components added, removed,
    upgraded, downgraded, with another licence or supplier, and the same version with other hashes."""
    product = get_product_by_name(session, actor, product_name)
    comparison = compare_sboms(session, actor, product.id, DiffSide(old, from_sbom), DiffSide(new, to_sbom))
    data = SbomDiffOut.of(comparison).model_dump(mode="json")
    emit(data, as_json, echo_lines(_diff_lines(data), ""))


@sbom.command("export")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.option("--format", "fmt", type=click.Choice([f.value for f in SbomFormat]), default="json", show_default=True)
@click.option("--sbom", "sbom_id", type=int, help="Read this SBOM of VERSION in place of its primary one (an id).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here (default: standard output)."
)
@as_option
def sbom_export(
    product_name: str, version: str, fmt: str, sbom_id: int | None, output: Path | None, as_email: str | None
) -> None:
    """Write VERSION's components (its primary SBOM's) as CycloneDX 1.6, validated: the same content gives the
    same bytes; the BOM version rises when the content changes. The serial number and version go to stderr."""
    database = app_db(current_app)
    try:
        actor, release_id = _acting_on_release(database, as_email, product_name, version)
        export = export_bom(database, actor, release_id, SbomFormat(fmt), sbom_id=sbom_id)
    except DomainError as exc:
        fail(exc.one_line())
        return
    write_document(export.data, output)
    say(f"{export.serial_number} version {export.version} ({len(export.data):,} bytes)", err=True)


@sbom.command("where")
@click.argument("query", metavar="QUERY")
@json_option
@server_command(read_only=True)
def sbom_where(session: Session, actor: Principal, query: str, as_json: bool) -> None:
    """Which releases hold a component in their primary SBOM. QUERY is a purl (with or without version) or a
    name, either followed by a version range: "openssl 3.0.x", "log4j-core <2.17.1", "pkg:npm/lodash",
    "lodash vers:npm/>=1.2.0|<2.0.0"."""
    found = where_is(session, actor, query, page=1, per_page=10**9)
    data = ComponentSearchOut.of(found, 1, max(1, found.total)).model_dump(mode="json")
    lines = [
        f"{found.wanted.description}: {found.total} components in {found.releases} releases "
        f"of {found.products} products"
        + (" (too many candidates: only some were read; narrow the search)" if found.truncated else ""),
        *(
            f"  {h['product']} {h['release']}: {h['group'] + '/' if h['group'] else ''}{h['name']} "
            f"{h['version'] or '-'}{'  ' + h['purl'] if h['purl'] else ''}  (SBOM #{h['sbom_id']}, component "
            f"{h['position']})"
            for h in data["items"]
        ),
    ]
    emit(data, as_json, echo_lines(lines, ""))


@sbom.command("licences")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command(read_only=True)
def sbom_licences(session: Session, actor: Principal, product_name: str, version: str, as_json: bool) -> None:
    """The licences of PRODUCT VERSION's primary SBOM's components, counted (as the SBOM gives them)."""
    product = get_product_by_name(session, actor, product_name)
    release = get_release_by_version(session, actor, product.id, version)
    data = LicenceSummaryOut.of(licence_summary(session, actor, release.id)).model_dump(mode="json")
    lines = [
        f"{product.name} {release.version} (SBOM #{data['sbom_id']}): {data['components']} components",
        *(f"  {c['components']:>7}  {c['value']}  ({c['kind']})" for c in data["licences"]),
        f"  {data['without_licence']:>7}  (no licence given)",
    ]
    emit(data, as_json, echo_lines(lines, ""))


@sbom.command("paths")
@click.argument("sbom_id", metavar="ID", type=int)
@click.argument("position", metavar="POSITION", type=int)
@click.option("--max-paths", default=100, show_default=True, help="At most this many paths to the root (1-1000).")
@click.option("--max-depth", default=30, show_default=True, help="At most this many steps (1-100).")
@json_option
@server_command(read_only=True)
def sbom_paths(
    session: Session, actor: Principal, sbom_id: int, position: int, max_paths: int, max_depth: int, as_json: bool
) -> None:
    """What depends on component POSITION of SBOM ID (paths up to the roots) and what it pulls in
    (positions as `sbom components ID --json` gives them)."""
    found = component_paths(session, actor, sbom_id, position, max_paths=max_paths, max_depth=max_depth)
    data = ComponentPathsOut.of(found).model_dump(mode="json")
    ends = {"cycle": "  (loop)", "depth": "  (cut at depth)", "root": ""}
    lines = [
        f"what depends on it ({len(data['dependents'])} paths{', more not shown' if data['dependents_cut'] else ''}):"
    ]
    lines += [" <- ".join(n["label"] for n in p["nodes"]) + ends[p["end"]] for p in data["dependents"]]
    lines.append(
        f"what it pulls in ({len(data['pulls_in'])}{', more beyond the depth' if data['pulls_in_cut'] else ''}):"
    )
    lines += [f"  {'  ' * (p['depth'] - 1)}{p['label']}" for p in data["pulls_in"]]
    emit(data, as_json, echo_lines(lines, ""))


@sbom.command("primary")
@click.argument("sbom_id", metavar="ID", type=int)
@server_command()
def sbom_primary(session: Session, actor: Principal, sbom_id: int) -> None:
    """Make SBOM ID its release's primary SBOM."""
    chosen = set_primary(session, actor, sbom_id)
    say(f"#{chosen.id} is now the primary SBOM of {chosen.release.version}")


@sbom.command("policy")
@click.argument("product_name", metavar="PRODUCT")
@click.option("--strict/--lenient", default=None, help="Refuse (strict) or warn about (lenient) format violations.")
@server_command()
def sbom_policy(session: Session, actor: Principal, product_name: str, strict: bool | None) -> None:
    """Show or set PRODUCT's SBOM import policy."""
    product = get_product_by_name(session, actor, product_name)
    if strict is not None:
        set_policy(session, actor, product.id, strict=strict)
    mode = "strict" if strict_policy(session, actor, product.id) else "lenient"
    say(f"{product.name}: {mode} (format-only schema violations are {'refused' if mode == 'strict' else 'warnings'})")
