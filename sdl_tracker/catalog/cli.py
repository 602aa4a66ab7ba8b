"""`sdl-tracker catalog` commands."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..boundary import MAX_DOCUMENT_DEPTH, TooDeep, loads_json
from ..commands import echo_lines, emit, json_option, server_command
from ..errors import Invalid
from ..labels import label
from .schemas import RequirementOut
from .services import (
    export_rows,
    list_editions,
    load_annotations,
    load_catalog,
    load_mapping,
    load_packaged,
    mapping_versions,
)

catalog = AppGroup("catalog", help="IEC 62443-4-1, 4-2 and CRA catalogs and their mapping.")


def _read_document(path: Path) -> object:
    try:
        return loads_json(path.read_text(encoding="utf-8"), max_depth=MAX_DOCUMENT_DEPTH)
    except TooDeep as exc:
        raise Invalid.field(str(path), str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid.field(str(path), f"cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise Invalid.field(str(path), f"not JSON: {exc.msg} at line {exc.lineno}") from None


@catalog.command("load")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@json_option
@server_command()
def catalog_load(session: Session, actor: Principal, files: tuple[Path, ...], as_json: bool) -> None:
    """Load the packaged catalogs, then FILES (a new edition, mapping or annotations); loading twice changes nothing."""
    results = load_packaged(session, actor)
    for path in files:
        document = _read_document(path)
        loader = load_catalog
        if isinstance(document, dict) and "mapping" in document:
            loader = load_mapping
        elif isinstance(document, dict) and "annotations" in document:
            loader = load_annotations
        results.append(loader(session, actor, document))
    data = [{"what": r.what, "created": r.created, "items": r.items} for r in results]
    lines = [f"{'loaded' if r.created else 'unchanged'} {r.what} ({r.items} items)" for r in results]
    emit(data, as_json, echo_lines(lines, "nothing to load"))


@catalog.command("list")
@json_option
@server_command(read_only=True)
def catalog_list(session: Session, actor: Principal, as_json: bool) -> None:
    """List the loaded editions and mapping versions."""
    editions = [
        {"standard": e.standard, "edition": e.edition, "title": e.title, "items": len(e.requirements)}
        for e in list_editions(session)
    ]
    mappings = [{"mapping": m.name, "version": m.version} for m in mapping_versions(session)]
    lines = [f"{e['standard']:<16} {e['edition']:<10} {e['items']:>4} items  {e['title']}" for e in editions]
    lines += [f"mapping {m['mapping']} {m['version']}" for m in mappings]
    emit({"editions": editions, "mappings": mappings}, as_json, echo_lines(lines, "no catalogs loaded"))


@catalog.command("export")
@click.option("--standard", help="Only this standard (e.g. 'IEC 62443-4-2').")
@click.option("--edition", help="Only this edition id.")
@json_option
@server_command(read_only=True)
def catalog_export(
    session: Session, actor: Principal, standard: str | None, edition: str | None, as_json: bool
) -> None:
    """Print every requirement: standard, edition, id, title, parent, kind, component type, FR, SL-C levels."""
    rows = [
        RequirementOut.of(*row).model_dump(mode="json")
        for row in export_rows(session, standard=standard, edition=edition)
    ]
    if not rows and (standard or edition):
        raise Invalid.field("--standard", "no such standard or edition is loaded")
    lines = [
        f"{r['standard']:<14} {r['edition']:<9} {r['id']:<16} {label(r['kind']):<28} "
        f"{r['fr'] or r['practice'] or '':<4} {','.join(map(str, r['sl_c'] or [])):<8} {r['title']}"
        for r in rows
    ]
    emit(rows, as_json, echo_lines(lines, "no catalogs loaded"))
