"""`sdl-tracker cra` commands: show and check a release's CRA file, record Annex I points, move the mapping
version, record the risk assessment, support period, user information and declaration data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..app_access import app_db
from ..commands import acting_principal, json_option, say, say_json, server_command
from ..jobs.cli import as_option
from ..products.models import Release
from ..products.services import get_product_by_name, get_release_by_version
from .completeness import CraFile, release_file
from .schemas import CraFileOut, MissingOut

cra = AppGroup("cra", help="The CRA conformity file: Annex I applicability, risk assessment, support period, DoC data.")


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


def _release_file(product: str, version: str, as_user: str | None) -> tuple[Release, CraFile]:
    session = app_db().session()
    actor = acting_principal(session, as_user)
    release = get_release_by_version(session, actor, get_product_by_name(session, actor, product).id, version)
    return release, release_file(session, actor, release.id)


@cra.command("show")
@click.argument("product")
@click.argument("version")
@as_option
@json_option
@server_command
def show_file(product: str, version: str, as_user: str | None, as_json: bool) -> None:
    """Show a release's CRA file in summary and what it still lacks."""
    release, file = _release_file(product, version, as_user)
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
@as_option
@json_option
@server_command
def check_file(product: str, version: str, as_user: str | None, as_json: bool) -> None:
    """Exit 0 when the release's CRA file lacks nothing, 1 (listing what is missing) when it does."""
    _release, file = _release_file(product, version, as_user)
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


# === end ===
