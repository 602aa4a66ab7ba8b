"""OpenPGP through GnuPG: detached signatures gpg itself accepts, the public key's export, verification that fails
on any change, and a one-line refusal for each way the configured key can be wrong."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdl_tracker.vex.openpgp import (
    OpenPgpError,
    export_public_key,
    sign_detached,
    signing_key,
    verify_detached,
)

from .openpgp_keys import Keys, ThrowawayKey, gpg_verifies

DOCUMENT = b'{"document": {"title": "Buffer overflow in the PLC web server"}}\n'


@pytest.fixture(scope="module")
def keys() -> Iterator[Keys]:
    with Keys() as made:
        yield made


@pytest.fixture(scope="module")
def key(keys: Keys) -> ThrowawayKey:
    return keys.make()


def test_a_detached_signature_is_armoured_and_gpg_accepts_it(key: ThrowawayKey, tmp_path: Path) -> None:
    signature = sign_detached(signing_key(key.home, key.fingerprint), DOCUMENT)
    assert signature.startswith(b"-----BEGIN PGP SIGNATURE-----") and signature.rstrip().endswith(b"-----")
    (tmp_path / "doc.json").write_bytes(DOCUMENT)
    (tmp_path / "doc.json.asc").write_bytes(signature)
    assert gpg_verifies(key.public, tmp_path / "doc.json", tmp_path / "doc.json.asc")
    # One changed byte and gpg refuses it.
    (tmp_path / "doc.json").write_bytes(DOCUMENT.replace(b"PLC", b"PLc"))
    assert not gpg_verifies(key.public, tmp_path / "doc.json", tmp_path / "doc.json.asc")


def test_verification_names_the_signer_and_fails_on_tampering(key: ThrowawayKey) -> None:
    signature = sign_detached(signing_key(key.home, key.fingerprint), DOCUMENT)
    good = verify_detached(DOCUMENT, signature, key.public)
    assert good.valid and good.fingerprint == key.fingerprint
    assert not verify_detached(DOCUMENT + b" ", signature, key.public).valid
    # One character of the signature's data changed: no longer a valid signature of anything.
    lines = signature.split(b"\n")
    lines[2] = lines[2][:20] + (b"A" if lines[2][20:21] != b"A" else b"B") + lines[2][21:]
    flipped = b"\n".join(lines)
    assert not verify_detached(DOCUMENT, flipped, key.public).valid


def test_a_signature_by_another_key_is_not_valid_for_this_one(keys: Keys, key: ThrowawayKey) -> None:
    other = keys.make()
    signature = sign_detached(signing_key(other.home, other.fingerprint), DOCUMENT)
    assert verify_detached(DOCUMENT, signature, other.public).valid
    assert not verify_detached(DOCUMENT, signature, key.public).valid


def test_the_exported_public_key_is_the_configured_one(key: ThrowawayKey) -> None:
    configured = signing_key(key.home, key.fingerprint)
    exported = export_public_key(configured)
    assert exported.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert b"PRIVATE" not in exported
    assert verify_detached(DOCUMENT, sign_detached(configured, DOCUMENT), exported).valid


def test_a_fingerprint_is_read_with_spaces_and_in_lower_case(key: ThrowawayKey) -> None:
    spaced = " ".join(key.fingerprint[i : i + 4] for i in range(0, 40, 4)).lower()
    assert signing_key(key.home, spaced).fingerprint == key.fingerprint


def test_a_key_kept_by_the_agent_signs_once_the_agent_has_its_passphrase(keys: Keys) -> None:
    protected = keys.make(passphrase="correct horse")
    configured = signing_key(protected.home, protected.fingerprint)
    # Nothing prompts: without the passphrase in the agent, signing fails at once and says why.
    with pytest.raises(OpenPgpError, match=r"No pinentry.*gpg-agent holds no passphrase") as refused:
        sign_detached(configured, DOCUMENT)
    assert "\n" not in str(refused.value)
    keys.preset(protected, "correct horse")
    assert verify_detached(DOCUMENT, sign_detached(configured, DOCUMENT), protected.public).valid


def test_bad_configuration_is_refused_in_one_line(keys: Keys, key: ThrowawayKey, tmp_path: Path) -> None:
    # Another home that holds the public key only (as a verifier's keyring would).
    public_only = keys.home()
    subprocess.run(
        ["gpg", "--homedir", str(public_only), "--batch", "--import"], input=key.public, capture_output=True, check=True
    )
    expired = keys.make(expire="1d", at="20200101T000000")
    certify_only = keys.make(usage="cert")
    cases = [
        ((key.home, "not-a-fingerprint"), {}, "is not an OpenPGP key fingerprint"),
        ((key.home, "0" * 40), {}, "has no key 0000"),
        ((public_only, key.fingerprint), {}, "but not its secret part"),
        ((expired.home, expired.fingerprint), {}, "has expired: it cannot sign"),
        ((certify_only.home, certify_only.fingerprint), {}, "cannot sign: it has no valid signing key"),
        ((tmp_path / "missing", key.fingerprint), {}, "is not a directory"),
        ((key.home, key.fingerprint), {"binary": "/nonexistent/gpg"}, "is not installed on this host"),
    ]
    for args, options, message in cases:
        with pytest.raises(OpenPgpError, match=message) as refused:
            signing_key(*args, **options)
        assert "\n" not in str(refused.value)


def test_verification_refuses_what_is_not_a_signature_or_a_key(keys: Keys, key: ThrowawayKey) -> None:
    signature = sign_detached(signing_key(key.home, key.fingerprint), DOCUMENT)
    # A public key block where a signature belongs never reaches gpg.
    not_a_signature = verify_detached(DOCUMENT, key.public, key.public)
    assert not not_a_signature.valid and "not an armoured detached OpenPGP signature" in not_a_signature.detail
    assert not verify_detached(DOCUMENT, b"x" * 100_000, key.public).valid
    with pytest.raises(OpenPgpError, match="not an armoured OpenPGP public key block"):
        verify_detached(DOCUMENT, signature, b"ssh-ed25519 AAAA")
    with pytest.raises(OpenPgpError, match="holds 2 keys, not one"):
        verify_detached(DOCUMENT, signature, key.public + keys.make().public)
