"""`sdl-tracker audit` commands: verify the chain, sign checkpoints, read the log."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import echo_lines, emit, fail, json_option, say_json, server_command
from ..errors import Invalid
from .chain import Checkpoint
from .queries import EventFilter, event_json, search_events
from .rules import detail_lines
from .services import (
    accept_restore,
    checkpoint_document,
    create_checkpoint,
    parse_checkpoint_document,
    session_keys,
    verify,
)

audit = AppGroup("audit", help="The tamper-evident audit log.")


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also check the chain against this exported checkpoint.",
)
@click.option(
    "--witness",
    "witness_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also check the chain's head against this witness file (SDL_TRACKER_AUDIT_WITNESS is checked anyway).",
)
@json_option
@server_command(read_only=True)
def audit_verify(
    session: Session, actor: Principal, checkpoint_file: Path | None, witness_file: Path | None, as_json: bool
) -> None:
    """Walk the chain and compare its head with the seals; exit 1 naming the first modified, deleted,
    inserted or reordered event, the deleted tail, the truncated or rolled-back table, or a forged seal."""
    extra: tuple[Checkpoint, ...] = ()
    if checkpoint_file is not None:
        try:
            document = json.loads(checkpoint_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Invalid.field("--checkpoint", f"cannot read {checkpoint_file}: {exc}") from None
        extra = (parse_checkpoint_document(document, session_keys(session)),)
    if witness_file is not None and not witness_file.is_file():
        # A witness named here that is not there is a wrong path, not a verdict on the log.
        raise Invalid.field("--witness", f"cannot read {witness_file}: no such file")
    witnesses = (witness_file.resolve(),) if witness_file is not None else ()
    result = verify(session, actor, extra, witnesses)
    problem = result.problem
    data = {
        "intact": problem is None,
        "events": result.events,
        "checkpoints": result.checkpoints,
        "seals": [{"file": s.place, "seq": s.seq, "state": s.state} for s in result.seals],
        "warnings": list(result.warnings),
        "problem": None if problem is None else {"kind": problem.kind, "seq": problem.seq, "message": problem.message},
    }
    if problem is not None:
        if as_json:
            say_json(data)
        fail(f"audit chain broken: {problem.message}", code=1)
    sealed = [s.seq for s in result.seals if s.seq is not None]
    head = f"; head sealed at seq {max(sealed)} in {len(sealed)} file(s)" if sealed else ""
    lines = [f"intact: {result.events} events, {result.checkpoints} checkpoints verified{head}"]
    emit(data, as_json, echo_lines([*lines, *(f"warning: {w}" for w in result.warnings)], ""))


@audit.command("reseal")
@json_option
@server_command()
def audit_reseal(session: Session, actor: Principal, as_json: bool) -> None:
    """After restoring the database on purpose: record the restore in the log and seal its head over the
    newer seals that contradict it."""
    event = accept_restore(session, actor)
    emit(
        event_json(event),
        as_json,
        echo_lines([f"restore recorded at seq {event.seq}: the seals name the restored chain's head from now on"], ""),
    )


@audit.command("checkpoint")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Also write the checkpoint file here.")
@json_option
@server_command()
def audit_checkpoint(session: Session, actor: Principal, output: Path | None, as_json: bool) -> None:
    """Sign the chain head now (also done every 1000 events); optionally export it."""
    document = checkpoint_document(create_checkpoint(session, actor))
    if output is not None:
        output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    emit(document, as_json, echo_lines([f"checkpoint at seq {document['seq']}: {document['head_hash']}"], ""))


@audit.command("log")
@click.option("--product", "product_id", type=int, help="Only this product's events (by id).")
@click.option("--actor", "actor_text", default="", help="Actor contains this text.")
@click.option("--action", default="", help="Action starts with this (e.g. accounts:login).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@server_command(read_only=True)
def audit_log(
    session: Session, actor: Principal, product_id: int | None, actor_text: str, action: str, limit: int, as_json: bool
) -> None:
    """Print the newest events, each with its details as `Field: old → new` lines."""
    events, _total = search_events(
        session, actor, EventFilter(actor=actor_text, action=action, product_id=product_id), limit=limit
    )
    items = [event_json(e) for e in events]
    lines = [
        line
        for e in events
        for line in (
            f"{e.seq:>6} {e.at:%Y-%m-%d %H:%M:%S} {e.action:<32} {e.target_type}:{e.target_id:<16} {e.actor}",
            *(f"{'':>8}{detail}" for detail in detail_lines(e.details)),
        )
    ]
    emit(items, as_json, echo_lines(lines, "no events"))
