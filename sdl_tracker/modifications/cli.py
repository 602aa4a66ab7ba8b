"""`sdl-tracker release modifications PRODUCT VERSION` and `release modification-decide`."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import TEXT, emit, json_option, say, server_command
from ..products.cli import release
from ..products.services import get_product_by_name, get_release_by_version
from .schemas import DecisionOut, ModificationsOut
from .services import decide_modification, release_modifications


def _lines(data: dict[str, Any]) -> list[str]:
    """The report as text: what was compared, each signal with its ref and decision, stale decisions, gaps."""
    lines = [
        f"{data['release']} against {data['previous'] or 'nothing'}: {len(data['signals'])} signals, "
        f"{data['undecided']} undecided"
    ]
    for signal in data["signals"]:
        decision = signal["decision"]
        state = f"{decision['verdict']} by {decision['decided_by']}" if decision else "undecided"
        lines.append(f"{signal['ref']}  [{state}]  {signal['summary']}")
        lines.append(f"    key: {signal['key']}")
        lines += [f"    {c['sha'][:12]} {' '.join(c['paths']) or c['subject']}" for c in signal["commits"][:10]]
        if decision and decision["reason"]:
            lines.append(f"    reason: {decision['reason'].splitlines()[0]}")
    lines += [
        f"stale: {d['verdict']} {d['summary']} (key {d['key']}): the signal no longer appears" for d in data["stale"]
    ]
    lines += [f"not read: {text}" for text in data["unread"]]
    return lines


@release.command("modifications")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@json_option
@server_command(read_only=True)
def release_modifications_command(
    session: Session, actor: Principal, product_name: str, version: str, as_json: bool
) -> None:
    """Changes in VERSION since the previous release that may be a substantial modification, and their decisions."""
    product = get_product_by_name(session, actor, product_name)
    found = get_release_by_version(session, actor, product.id, version)
    data = ModificationsOut.of(release_modifications(session, actor, found.id)).model_dump(mode="json")

    def text() -> None:
        for line in _lines(data):
            say(line)

    emit(data, as_json, text)


@release.command("modification-decide")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("version")
@click.argument("key", metavar="KEY")
@click.option("--confirm", "verdict", flag_value="confirmed", help="It is a substantial modification.")
@click.option("--dismiss", "verdict", flag_value="dismissed", help="It is not one (--reason required).")
@click.option("--reason", default="", type=TEXT, help="Why (required to dismiss).")
@json_option
@server_command()
def release_modification_decide(
    session: Session,
    actor: Principal,
    product_name: str,
    version: str,
    key: str,
    verdict: str | None,
    reason: str,
    as_json: bool,
) -> None:
    """Confirm or dismiss the signal KEY (its key or its 12-digit ref, as `release modifications` lists them)."""
    product = get_product_by_name(session, actor, product_name)
    found = get_release_by_version(session, actor, product.id, version)
    decision = decide_modification(session, actor, found.id, key=key, verdict=verdict or "", reason=reason)
    data = DecisionOut.of(decision).model_dump(mode="json")
    emit(data, as_json, lambda: say(f"{data['verdict']}: {data['summary']}"))
