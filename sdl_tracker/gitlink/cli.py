"""`sdl-tracker repo scan` (queues a scan job; --wait runs or follows it) and `sdl-tracker release commits`."""

from __future__ import annotations

import re
from typing import Any, TextIO

import click
from sqlalchemy.orm import Session

from ..accounts.cli import user
from ..auth import Principal
from ..boundary import int_problem
from ..commands import echo_lines, emit, json_option, server_command
from ..errors import Invalid, NotFound
from ..jobs.cli import as_option, queue_command, wait_option
from ..products.cli import release, repo
from ..products.repositories import get_repository_by_name
from ..products.services import get_product_by_name
from .schemas import ReleaseCommitsOut, SigningKeyOut
from .services import queue_scan, release_commits
from .signing import list_keys, register_key, remove_key
from .verifier import MAX_KEY_BYTES


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    return [
        f"{summary['repository']}: {summary['new_commits']} new commits, {summary['trailers']} trailers, "
        f"{summary['evidence_created']} evidence created, {summary['evidence_linked']} linked, "
        f"{summary['unreachable']} unreachable, {summary['signatures_checked']} signatures checked "
        f"({summary['signatures_verified']} verified) ({summary['seconds']} s)",
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
            f"accepted by {c['accepted_by']} on {c['accepted_on']}; signature: {c['signature'] or 'not checked'})"
            for c in data["reviewed_commits"]
        ),
        *(
            f"  not reviewed: {c['sha'][:10]} {c['subject']} (git author: {c['unverified_author']}, signature: "
            f"{c['signature'] or 'not checked'}): "
            f"{c['reason']}: {c['explanation']}" + (f"; reviewed today: {c['today']}" if c["reviewed_today"] else "")
            for c in data["unreviewed"]
        ),
        *data["problems"],
    ]
    emit(data, as_json, echo_lines(lines, ""))


def _key_line(key: dict[str, Any]) -> str:
    expires = f", expires {key['expires_at'][:10]}" if key["expires_at"] else ""
    return f"{key['id']}  {key['kind']}  {key['fingerprint']}  {key['label']}{expires}"


@user.command("key-add")
@click.argument("key_file", metavar="FILE", type=click.File("r", encoding="utf-8", errors="strict"))
@click.option("--label", default="", help="What the key is for (default: the key's own name).")
@json_option
@server_command()
def user_key_add(session: Session, actor: Principal, key_file: TextIO, label: str, as_json: bool) -> None:
    """Register the public key in FILE (`-`: standard input) for the user --as names: an armoured OpenPGP key
    or an OpenSSH line. Commits that key signs count as that user's; their signed commits are checked again."""
    text = key_file.read(MAX_KEY_BYTES + 1)
    data = SigningKeyOut.of(register_key(session, actor, text, label=label)).model_dump(mode="json")
    emit(data, as_json, echo_lines([f"registered {_key_line(data)}"], ""))


@user.command("key-list")
@click.argument("email", required=False)
@json_option
@server_command(read_only=True)
def user_key_list(session: Session, actor: Principal, email: str | None, as_json: bool) -> None:
    """The signing keys of EMAIL (administrators), or of the user --as names."""
    data = [SigningKeyOut.of(k).model_dump(mode="json") for k in list_keys(session, actor, email)]
    emit(data, as_json, echo_lines([_key_line(k) for k in data], "no signing keys"))


@user.command("key-remove")
@click.argument("email")
@click.argument("fingerprint")
@json_option
@server_command()
def user_key_remove(session: Session, actor: Principal, email: str, fingerprint: str, as_json: bool) -> None:
    """Remove EMAIL's signing key FINGERPRINT (its owner, or an administrator): every commit it verified becomes
    unverified."""
    wanted = fingerprint.strip()
    key = next((k for k in list_keys(session, actor, email) if k.fingerprint.lower() == wanted.lower()), None)
    if key is None:
        raise NotFound(f"{email} has no signing key {wanted[:100]!r}")
    withdrawn = remove_key(session, actor, key.id)
    data = {"id": key.id, "fingerprint": key.fingerprint, "commits_unverified": withdrawn}
    emit(
        data, as_json, echo_lines([f"removed {key.fingerprint}; {withdrawn:,} commits it verified are unverified"], "")
    )
