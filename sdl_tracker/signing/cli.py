"""`sdl-tracker keys`: the installation's signing keys."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..app_access import app_db, app_installation
from ..auth import Principal
from ..commands import acting_principal, emit, fail, json_option, say, server_command
from ..errors import DomainError, Invalid
from ..keys import PublicKeyInfo
from .services import list_keys, public_key, rotate_signing_key

keys = AppGroup("keys", help="Signing keys: fingerprints, rotation, the public key for verifiers.")


def _as_json(info: PublicKeyInfo) -> dict[str, object]:
    return {
        "key_id": info.key_id,
        "fingerprint": info.fingerprint,
        "active": info.active,
        "added_at": info.added_at.isoformat(),
        "public_key": info.pem,
    }


@keys.command("list")
@json_option
@server_command(read_only=True)
def keys_list(session: Session, actor: Principal, as_json: bool) -> None:
    """Every signing key this installation has used: id, SHA-256 fingerprint, active or retired."""
    infos = list_keys(session, actor)

    def text() -> None:
        for info in infos:
            state = "active " if info.active else "retired"
            say(f"{info.key_id}  {state}  SHA256:{info.fingerprint}  added {info.added_at:%Y-%m-%d %H:%M}")

    emit([_as_json(i) for i in infos], as_json, text)


@keys.command("rotate")
@click.option("--as", "as_email", metavar="EMAIL", help="Act as this user, with their permissions.")
def keys_rotate(as_email: str | None) -> None:
    """Sign with a new key from now on; what older keys signed still verifies (administrators)."""
    database = app_db(current_app)
    try:
        with database.unit_of_work() as session:
            info = rotate_signing_key(session, acting_principal(session, as_email))
    except DomainError as exc:
        fail(exc.one_line())
        return
    # The new key is activated once the rotation's audit event has committed; say so only if it was.
    active = app_installation(current_app).keys.active().key_id
    if active != info.key_id:
        fail(
            f"the rotation to {info.key_id} is recorded but the key file could not be replaced "
            f"({active} still signs; see the log): run `sdl-tracker keys rotate` again"
        )
    say(f"new signing key {info.key_id} (SHA256:{info.fingerprint}); the previous key is retired")


@keys.command("public-key")
@click.argument("key_id", required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write the PEM to this file.")
@server_command(read_only=True)
def keys_public_key(session: Session, actor: Principal, key_id: str | None, output: Path | None) -> None:
    """Print (or write) the public key in PEM: the active one, or KEY_ID's."""
    info = public_key(session, actor, key_id)
    if output is None:
        for line in info.pem.splitlines():  # base64 lines: printed as they are
            say(line)
        return
    try:
        output.write_text(info.pem, encoding="ascii")
    except OSError as exc:
        raise Invalid.field("--output", f"cannot write {output}: {exc.strerror}") from None
    say(f"wrote the public key {info.key_id} to {output}")
