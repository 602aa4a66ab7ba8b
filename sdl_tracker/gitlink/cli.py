"""`sdl-tracker repo scan` (queues a scan job; --wait runs or follows it) and `sdl-tracker release commits`."""

from __future__ import annotations

import re
from typing import Any

import click
from sqlalchemy.orm import Session

from ..auth import Principal
from ..boundary import int_problem
from ..commands import echo_lines, emit, json_option, server_command
from ..errors import Invalid
from ..jobs.cli import as_option, queue_command, wait_option
from ..products.cli import release, repo
from ..products.repositories import get_repository_by_name
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


REPOSITORY_ID = re.compile(r"[0-9]{1,18}")


def _repository_id(session: Session, actor: Principal, product_name: str, name: str | None) -> int:
    """The repository PRODUCT NAME names; PRODUCT alone, when it is a whole number, is a repository's id
    (the earlier form of the command, kept so scripts and cron lines go on working)."""
    if name is not None:
        product = get_product_by_name(session, actor, product_name)
        return get_repository_by_name(session, actor, product.id, name).id
    if not REPOSITORY_ID.fullmatch(product_name) or int_problem(int(product_name)):
        raise Invalid.field("NAME", "missing (sdl-tracker repo scan PRODUCT NAME, or a repository's id alone)")
    return int(product_name)


@repo.command("scan")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("name", required=False)
@wait_option
@json_option
@as_option
def repo_scan(product_name: str, name: str | None, wait: bool, as_json: bool, as_email: str | None) -> None:
    """Queue a scan of PRODUCT's repository NAME (as `repo list` names it): new commits, trailers to evidence.

    Prints the job id; with --wait, runs the scan here when no worker has taken it (so no worker
    need be running) or follows the worker's progress, then prints the summary. `repo scan ID`, a
    repository's id alone, works too.
    """
    queue_command(
        lambda session, actor: queue_scan(session, actor, _repository_id(session, actor, product_name, name)),
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
