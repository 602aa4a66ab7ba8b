"""Signing keys: ids in every signature, rotation that keeps old signatures verifiable, the doors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.audit.services import checkpoint_document, create_checkpoint, parse_checkpoint_document, verify
from sdl_tracker.cli import cli
from sdl_tracker.errors import Forbidden, Invalid
from sdl_tracker.installation import installation
from sdl_tracker.keys import SECRETS_KEY_FILE, SIGNING_KEY_FILE, Keyring, key_id
from sdl_tracker.signing.services import rotate_signing_key
from tests.factories import OPERATOR, login, make_product, make_user, member


def _run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


def test_a_checkpoint_names_the_key_that_signed_it(session: Session) -> None:
    keys = installation(session).keys
    checkpoint = create_checkpoint(session, OPERATOR)
    assert checkpoint.key_id == keys.active().key_id == key_id(keys.active().public)
    assert len(checkpoint.key_id) == 16
    assert checkpoint_document(checkpoint)["key_id"] == checkpoint.key_id


def test_rotation_keeps_what_the_old_key_signed_verifiable(session: Session) -> None:
    keys = installation(session).keys
    before = create_checkpoint(session, OPERATOR)
    old_document = checkpoint_document(before)
    rotated = rotate_signing_key(session, OPERATOR)
    session.commit()  # the new key signs only once the rotation is committed
    assert keys.active().key_id == rotated.key_id != before.key_id
    after = create_checkpoint(session, OPERATOR)
    assert after.key_id == rotated.key_id
    result = verify(session, OPERATOR)
    assert result.problem is None and result.checkpoints >= 2
    # An exported checkpoint of the retired key still verifies; so does one from before keys had ids.
    assert parse_checkpoint_document(old_document, keys).key_id == before.key_id
    legacy = {k: v for k, v in old_document.items() if k != "key_id"}
    assert parse_checkpoint_document(legacy, keys).key_id == before.key_id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "signing:key:rotate")).one()
    assert event.details == {"previous_key_id": before.key_id, "key_id": rotated.key_id}


def test_a_checkpoint_signed_by_an_unknown_key_is_reported(session: Session, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    stranger = Keyring(tmp_path / "elsewhere")
    keys = installation(session).keys
    checkpoint = create_checkpoint(session, OPERATOR)
    document = checkpoint_document(checkpoint)
    forged = {**document, "key_id": stranger.active().key_id, "public_key": stranger.active().public_pem()}
    with pytest.raises(Invalid, match="another installation"):
        parse_checkpoint_document(forged, keys)
    checkpoint.key_id = stranger.active().key_id  # tampering in the database
    session.flush()
    problem = verify(session, OPERATOR).problem
    assert problem is not None and problem.kind == "checkpoint"
    assert "not in this installation's keyring" in problem.message


def test_a_refused_rotation_changes_nothing(session: Session) -> None:
    product = make_product(session)
    officer = member(session, product, "security_officer")
    keys = installation(session).keys
    active = keys.active().key_id
    key_file = (keys.data_dir / SIGNING_KEY_FILE).read_bytes()
    with pytest.raises(Forbidden):
        rotate_signing_key(session, officer)
    assert keys.active().key_id == active
    assert (keys.data_dir / SIGNING_KEY_FILE).read_bytes() == key_file


def test_an_uncommitted_rotation_never_signs(app: Flask, session: Session) -> None:
    keys = installation(session).keys
    active = keys.active().key_id
    rotate_signing_key(session, OPERATOR)
    session.rollback()
    assert keys.active().key_id == active


def test_keys_commands(app: Flask, tmp_path: Path) -> None:
    listed = _run(app, "keys", "list", "--json")
    assert listed.exit_code == 0, listed.output
    first = json.loads(listed.output)
    assert [k["active"] for k in first] == [True]
    rotated = _run(app, "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "new signing key" in rotated.output
    keys = json.loads(_run(app, "keys", "list", "--json").output)
    assert len(keys) == 2 and keys[0]["active"] and not keys[1]["active"]
    assert keys[1]["key_id"] == first[0]["key_id"]
    assert all(len(k["fingerprint"]) == 64 for k in keys)
    out = tmp_path / "active.pem"
    written = _run(app, "keys", "public-key", "-o", str(out))
    assert written.exit_code == 0, written.output
    assert out.read_text() == keys[0]["public_key"]
    retired = _run(app, "keys", "public-key", first[0]["key_id"])
    assert retired.exit_code == 0 and retired.output == first[0]["public_key"]
    unknown = _run(app, "keys", "public-key", "0123456789abcdef")
    assert unknown.exit_code == 2 and "no signing key 0123456789abcdef" in unknown.output
    not_admin = _run(app, "keys", "rotate", "--as", "nobody@example.com")
    assert not_admin.exit_code == 2
    text = _run(app, "keys", "list")
    assert "active" in text.output and "retired" in text.output and "SHA256:" in text.output


def test_keys_page_shows_fingerprints_and_serves_pem_attachments(app: Flask, session: Session) -> None:
    make_user(session, "auditor@example.com")
    session.commit()
    client = app.test_client()
    login(client, "auditor@example.com")
    keys = installation(session).keys
    page = client.get("/keys/").get_data(as_text=True)
    assert keys.active().key_id in page and keys.public_keys()[0].fingerprint in page
    download = client.get(f"/keys/{keys.active().key_id}.pem")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.get_data(as_text=True) == keys.active().public_pem()
    assert client.get("/keys/ffffffffffffffff.pem").status_code == 404


def test_a_rotation_whose_key_file_cannot_be_written_says_so(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(self: Keyring, key: object) -> None:
        raise OSError(28, "No space left on device")

    before = json.loads(_run(app, "keys", "list", "--json").output)[0]["key_id"]
    monkeypatch.setattr(Keyring, "activate", disk_full)
    result = _run(app, "keys", "rotate")
    assert result.exit_code == 2
    assert "is recorded but the key file could not be replaced" in result.output
    assert f"({before} still signs" in result.output
    assert "new signing key" not in result.output
    listed = json.loads(_run(app, "keys", "list", "--json").output)
    assert [k["key_id"] for k in listed if k["active"]] == [before]


def test_sealed_secrets_open_only_with_their_context_and_their_installation(tmp_path: Path) -> None:
    for name in ("one", "other"):
        (tmp_path / name).mkdir()
    keys = Keyring(tmp_path / "one")
    sealed = keys.seal("whsec_abc", "webhook:1")
    assert "whsec" not in sealed and keys.unseal(sealed, "webhook:1") == "whsec_abc"
    assert (tmp_path / "one" / SECRETS_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert Keyring(tmp_path / "one").unseal(sealed, "webhook:1") == "whsec_abc"  # another process of it
    assert keys.seal("whsec_abc", "webhook:1") != sealed  # a fresh nonce each time
    with pytest.raises(ValueError, match="does not open"):
        keys.unseal(sealed, "webhook:2")  # moved to another endpoint
    with pytest.raises(ValueError, match="does not open"):
        Keyring(tmp_path / "other").unseal(sealed, "webhook:1")  # a database without its data directory
