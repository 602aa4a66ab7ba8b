"""`sdl-tracker repo scan` (queues a scan job; --wait runs or follows it) and `sdl-tracker release commits`."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import echo_lines, emit, json_option, server_command
from ..jobs.cli import as_option, queue_command, wait_option
from ..products.cli import release, repo
from ..products.services import get_product_by_name
from .schemas import ReleaseCommitsOut
from .services import queue_scan, release_commits


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    return [
        f"{summary['repository']}: {summary['new_commits']} new commits, {summary['trailers']} trailers, "
        f"{summary['evidence_created']} evidence created, {summary['evidence_linked']} linked, "
        f"{summary['unreachable']} unreachable ({summary['seconds']} s)",
        *summary["problems"],
    ]


@repo.command("scan")
@click.argument("repository_id", metavar="REPO", type=int)
@wait_option
@json_option
@as_option
def repo_scan(repository_id: int, wait: bool, as_json: bool, as_email: str | None) -> None:
    """Queue a scan of REPO (the id from `repo list`): new commits, trailers to evidence.

    Prints the job id; with --wait, runs the scan here when no worker has taken it (so no worker
    need be running) or follows the worker's progress, then prints the summary.
    """
    queue_command(
        lambda session, actor: queue_scan(session, actor, repository_id),
        as_email=as_email,
        wait=wait,
        as_json=as_json,
        describe=_summary_lines,
    )


@release.command("commits")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command(read_only=True)
def release_commits_command(session: Session, actor: Principal, product_name: str, version: str, as_json: bool) -> None:
    """VERSION's commits since the previous release: which count as reviewed (SI-1) and, for the rest, why not.

    A released release is judged as of its release date; today's count is given beside it.
    """
    product = get_product_by_name(session, actor, product_name)
    data = ReleaseCommitsOut.of(release_commits(session, actor, product.id, version)).model_dump(mode="json")
    lines = [
        data["summary"] + (f" since {data['previous']}" if data["previous"] else ""),
        *(
            f"  reviewed: {c['sha'][:10]} {c['subject']}: {c['explanation']} (by {c['reviewer']}, "
            f"accepted by {c['accepted_by']} on {c['accepted_on']})"
            for c in data["reviewed_commits"]
        ),
        *(
            f"  not reviewed: {c['sha'][:10]} {c['subject']} (git author, unverified: {c['unverified_author']}): "
            f"{c['reason']}: {c['explanation']}" + (f"; reviewed today: {c['today']}" if c["reviewed_today"] else "")
            for c in data["unreviewed"]
        ),
        *data["problems"],
    ]
    emit(data, as_json, echo_lines(lines, ""))
