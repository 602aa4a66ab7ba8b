"""`sdl-tracker keys`: the installation's signing keys."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import emit, json_option, server_command
from ..errors import Invalid
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
            click.echo(f"{info.key_id}  {state}  SHA256:{info.fingerprint}  added {info.added_at:%Y-%m-%d %H:%M}")

    emit([_as_json(i) for i in infos], as_json, text)


@keys.command("rotate")
@server_command()
def keys_rotate(session: Session, actor: Principal) -> None:
    """Sign with a new key from now on; what older keys signed still verifies (administrators)."""
    info = rotate_signing_key(session, actor)
    click.echo(f"new signing key {info.key_id} (SHA256:{info.fingerprint}); the previous key is retired")


@keys.command("public-key")
@click.argument("key_id", required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write the PEM to this file.")
@server_command(read_only=True)
def keys_public_key(session: Session, actor: Principal, key_id: str | None, output: Path | None) -> None:
    """Print (or write) the public key in PEM: the active one, or KEY_ID's."""
    info = public_key(session, actor, key_id)
    if output is None:
        click.echo(info.pem, nl=False)
        return
    try:
        output.write_text(info.pem, encoding="ascii")
    except OSError as exc:
        raise Invalid.field("--output", f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote the public key {info.key_id} to {output}")
