"""`sdl-tracker release artifacts` (list) and `release artifact-add` (record files this machine holds)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import echo_lines, emit, json_option, server_command
from ..products.cli import release
from ..products.services import get_product_by_name, get_release_by_version
from .schemas import ArtifactOut, RecordedArtifactOut
from .services import ArtifactInput, list_artifacts, record_artifacts

CHUNK = 1 << 20


def _digests(_context: click.Context, _parameter: click.Parameter, paths: tuple[Path, ...]) -> list[ArtifactInput]:
    """Each file's name, size and SHA-256, read before the command's transaction begins (a long read must
    not hold the database's write lock)."""
    found = []
    for path in paths:
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        found.append(ArtifactInput(path.name, size, digest.hexdigest()))
    return found


@release.command("artifacts")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command(read_only=True)
def release_artifacts_command(
    session: Session, actor: Principal, product_name: str, version: str, as_json: bool
) -> None:
    """VERSION's build artifacts: each file's name, size, SHA-256 and CI run."""
    product = get_product_by_name(session, actor, product_name)
    found = get_release_by_version(session, actor, product.id, version)
    items = [ArtifactOut.of(a).model_dump(mode="json") for a in list_artifacts(session, actor, found.id)]
    lines = [
        f"{a['sha256']}  {a['size']:>12}  {a['name']}" + (f"  {a['ci_run_url']}" if a["ci_run_url"] else "")
        for a in items
    ]
    emit(items, as_json, echo_lines(lines, f"no build artifacts recorded for {version}"))


@release.command("artifact-add")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument(
    "artifacts",
    metavar="FILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    callback=_digests,
)
@click.option("--ci-run", "ci_run_url", default="", metavar="URL", help="The CI run that built the files.")
@json_option
@server_command()
def release_artifact_add(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    artifacts: list[ArtifactInput],
    ci_run_url: str,
    as_json: bool,
) -> None:
    """Record FILEs (by name, size and SHA-256) as build artifacts of VERSION; files already recorded are kept."""
    product = get_product_by_name(session, actor, product_name)
    found = get_release_by_version(session, actor, product.id, version)
    recorded = record_artifacts(session, actor, found.id, artifacts, ci_run_url=ci_run_url)
    items = [RecordedArtifactOut.of_recorded(r).model_dump(mode="json") for r in recorded]
    lines = [f"{'recorded' if a['created'] else 'already recorded'}: {a['name']} {a['sha256']}" for a in items]
    emit(items, as_json, echo_lines(lines, ""))
