"""`sdl-tracker repo scan` and `sdl-tracker release commits`."""

from __future__ import annotations

import sys

import click
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import echo_lines, emit, json_option, server_command
from ..products.cli import release, repo
from ..products.services import get_product_by_name
from .schemas import ReleaseCommitsOut, ScanSummaryOut
from .services import release_commits, scan_repository


@repo.command("scan")
@click.argument("repository_id", metavar="REPO", type=int)
@json_option
@server_command()
def repo_scan(session: Session, actor: Principal, repository_id: int, as_json: bool) -> None:
    """Read REPO's new commits (REPO is the id from `repo list`), link trailers to evidence."""
    with click.progressbar(length=0, label="commits", show_pos=True, file=sys.stderr, hidden=as_json) as bar:
        summary = scan_repository(session, actor, repository_id, progress=lambda n: bar.update(n))
    data = ScanSummaryOut.of(summary).model_dump(mode="json")
    lines = [
        f"{summary.repository}: {summary.new_commits} new commits, {summary.trailers} trailers, "
        f"{summary.evidence_created} evidence created, {summary.evidence_linked} linked, "
        f"{summary.unreachable} unreachable ({summary.seconds} s)",
        *summary.problems,
    ]
    emit(data, as_json, echo_lines(lines, ""))


@release.command("commits")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command(read_only=True)
def release_commits_command(session: Session, actor: Principal, product_name: str, version: str, as_json: bool) -> None:
    """VERSION's commits since the previous release, and which carry review evidence that counts."""
    product = get_product_by_name(session, actor, product_name)
    data = ReleaseCommitsOut.of(release_commits(session, actor, product.id, version)).model_dump(mode="json")
    lines = [
        data["summary"] + (f" since {data['previous']}" if data["previous"] else ""),
        *(f"  not reviewed: {c['sha'][:10]} {c['subject']}" for c in data["unreviewed"]),
        *data["problems"],
    ]
    emit(data, as_json, echo_lines(lines, ""))
