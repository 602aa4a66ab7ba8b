"""`sdl-tracker gate` commands: verify a signed gate verdict offline."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from ..commands import emit, fail, json_option, say
from ..errors import DomainError
from .verdict import VerdictRefused, verify_file

gate = AppGroup("gate", help="Release gates: signed verdicts.")


# No app context: verifying a downloaded verdict needs neither the database nor the installation, so it runs on
# any machine with the tracker installed and the public key at hand.
@gate.command("verify", with_appcontext=False)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The signing key's public half in PEM (`sdl-tracker keys public-key KEY_ID -o FILE`).",
)
@json_option
def gate_verify(file: Path, public_key: Path, as_json: bool) -> None:
    """Check FILE's signature with the public key and print what it says; exit 1 when it is not a gate verdict
    signed with that key, 2 when a file cannot be read."""
    try:
        verdict = verify_file(file, public_key)
    except VerdictRefused as exc:
        fail(f"verification failed: {exc.one_line()}", code=1)
        return
    except DomainError as exc:
        fail(exc.one_line())
        return
    data = {
        "verified": True,
        "product": verdict.product,
        "release": verdict.release,
        "outcome": verdict.outcome,
        "snapshot_sha256": verdict.snapshot_digest,
        "key_id": verdict.key_id,
        "statement": verdict.statement,
    }
    emit(
        data,
        as_json,
        lambda: say(
            f"verified: {verdict.product} {verdict.release}: {verdict.outcome} "
            f"(snapshot sha256:{verdict.snapshot_digest}, signed by key {verdict.key_id})"
        ),
    )
