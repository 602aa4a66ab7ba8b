"""OpenPGP for the CSAF trusted provider, through GnuPG (python-gnupg): detached armoured signatures of published
documents (requirement 19), the public key's export (requirement 20), and verification.

The tracker is told a GNUPGHOME and a key's fingerprint, never given a private key: gpg-agent holds the key, or a
smartcard does, and GnuPG signs with it. gpg never prompts (`--pinentry-mode error`): a key whose passphrase or
PIN the agent does not hold fails at once with a one-line error, instead of waiting for a person who is not there
(docs/csaf-provider.md says how to ready the agent). Verification runs in a fresh, private GNUPGHOME holding only
the public key it is given, so no keyring, trust database or agent of the host takes part.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gnupg

from ..gitlink.signatures import MAX_SIGNATURE_BYTES, SIGNATURE_PACKET, openpgp_packet_tags
from ..gitlink.verifier import MAX_KEY_BYTES
from .directory import FINGERPRINT, SIGNATURE_ARMOUR

PUBLIC_KEY_ARMOUR = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
# Trust-database validity letters of an unusable key (gpg's DETAILS file, field 2).
_UNUSABLE = {"e": "has expired", "r": "is revoked", "d": "is disabled", "i": "is invalid"}


class OpenPgpError(ValueError):
    """GnuPG is missing, misconfigured or refused; the message is one line and says which."""


@dataclass(frozen=True)
class SigningKey:
    """A key gpg can sign with: its GNUPGHOME, its primary key's fingerprint and the gpg program."""

    home: Path
    fingerprint: str
    binary: str = "gpg"


@dataclass(frozen=True)
class Verification:
    """What gpg said of a detached signature: valid or not, the signer's primary fingerprint, and gpg's words."""

    valid: bool
    fingerprint: str
    detail: str


def signing_key(home: str | Path, fingerprint: str, *, binary: str = "gpg") -> SigningKey:
    """The configured key, checked: gpg runs, GNUPGHOME holds the key with its secret part, and it can sign."""
    wanted = fingerprint.replace(" ", "").upper()
    if not FINGERPRINT.fullmatch(wanted):
        raise OpenPgpError(f"{fingerprint!r} is not an OpenPGP key fingerprint (40 or 64 hex digits)")
    key = SigningKey(Path(home), wanted, binary)
    gpg = _gpg(key)
    public = [entry for entry in gpg.list_keys(keys=[wanted]) if entry.get("fingerprint") == wanted]
    if not public:
        raise OpenPgpError(f"GNUPGHOME {key.home} has no key {wanted} (the primary key's fingerprint)")
    secret = [entry for entry in gpg.list_keys(secret=True, keys=[wanted]) if entry.get("fingerprint") == wanted]
    if not secret:
        raise OpenPgpError(f"GNUPGHOME {key.home} has key {wanted} but not its secret part (nor a smartcard stub)")
    problem = _UNUSABLE.get(public[0].get("trust", ""))
    if problem:
        raise OpenPgpError(f"key {wanted} {problem}: it cannot sign")
    # Upper-case letters are what the key as a whole can do now (expired and revoked subkeys excluded).
    if "S" not in public[0].get("cap", ""):
        raise OpenPgpError(f"key {wanted} cannot sign: it has no valid signing key or subkey")
    return key


def sign_detached(key: SigningKey, data: bytes) -> bytes:
    """An armoured detached signature of `data` by the key (the `.asc` file), else OpenPgpError."""
    gpg = _gpg(key, "--pinentry-mode", "error")
    result = gpg.sign(data, detach=True, clearsign=False, extra_args=["--local-user", key.fingerprint])
    if not result or not bytes(result.data).startswith(SIGNATURE_ARMOUR):
        reason = _reason(result.stderr)
        if "pinentry" in reason.lower():
            reason += " (gpg-agent holds no passphrase or PIN for the key: see docs/csaf-provider.md)"
        raise OpenPgpError(f"gpg could not sign with key {key.fingerprint}: {reason}")
    # gpg names the (sub)key that signed; it must be the configured key's, never another one in the keyring.
    if result.fingerprint not in _fingerprints(gpg, key.fingerprint):
        raise OpenPgpError(f"gpg signed with {result.fingerprint}, which is not key {key.fingerprint}")
    return bytes(result.data)


def export_public_key(key: SigningKey) -> bytes:
    """The key's public part, armoured, as the directory publishes it (requirement 20)."""
    exported = _gpg(key).export_keys(key.fingerprint, armor=True)
    data = exported.encode("ascii") if isinstance(exported, str) else bytes(exported)
    if not data.startswith(PUBLIC_KEY_ARMOUR):
        raise OpenPgpError(f"GNUPGHOME {key.home} has no public key {key.fingerprint} to export")
    return data


def verify_detached(data: bytes, signature: bytes, public_key: bytes, *, binary: str = "gpg") -> Verification:
    """Whether `signature` is a valid detached signature of `data` by the key in `public_key` (and that key only)."""
    if len(signature) > MAX_SIGNATURE_BYTES:
        return Verification(False, "", f"a signature of more than {MAX_SIGNATURE_BYTES // 1024} KiB")
    tags = openpgp_packet_tags(signature)
    # Signature packets only: a compressed packet could expand to gigabytes inside gpg.
    if not tags or any(tag != SIGNATURE_PACKET for tag in tags):
        return Verification(False, "", "not an armoured detached OpenPGP signature")
    if len(public_key) > MAX_KEY_BYTES or not public_key.lstrip().startswith(PUBLIC_KEY_ARMOUR):
        raise OpenPgpError("the public key is not an armoured OpenPGP public key block")
    home = Path(tempfile.mkdtemp(prefix="sdl-pgp-"))
    try:
        gpg = _gpg(SigningKey(home, "", binary), "--no-autostart", "--no-auto-key-retrieve")
        imported = gpg.import_keys(public_key)
        keys = {fingerprint for fingerprint in imported.fingerprints if fingerprint}
        if len(keys) != 1:
            raise OpenPgpError(f"the public key block holds {len(keys)} keys, not one")
        (signature_file := home / "signature.asc").write_bytes(signature)
        checked = gpg.verify_data(str(signature_file), data)
        fingerprint = checked.pubkey_fingerprint or ""
        valid = bool(checked.valid) and fingerprint in keys
        return Verification(valid, fingerprint, str(checked.status or _reason(checked.stderr)))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _gpg(key: SigningKey, *options: str) -> gnupg.GPG:
    if shutil.which(key.binary) is None:
        raise OpenPgpError(f"{key.binary} (GnuPG) is not installed on this host: OpenPGP signing needs it")
    if not key.home.is_dir():
        raise OpenPgpError(f"GNUPGHOME {key.home} is not a directory")
    try:
        return gnupg.GPG(gpgbinary=key.binary, gnupghome=str(key.home), options=list(options))
    except (OSError, ValueError) as error:
        raise OpenPgpError(f"gpg does not run: {_reason(str(error))}") from None


def _fingerprints(gpg: gnupg.GPG, primary: str) -> set[str]:
    """The primary key's fingerprint and its subkeys'."""
    found = {primary}
    for entry in gpg.list_keys(keys=[primary]):
        if entry.get("fingerprint") == primary:
            found.update(subkey[2] for subkey in entry.get("subkeys", []) if subkey[2])
    return found


def _reason(stderr: object) -> str:
    """gpg's last message, one line (its status lines left out)."""
    lines = [line.strip() for line in str(stderr or "").splitlines()]
    said = [line for line in lines if line and not line.startswith("[GNUPG:]")]
    return (said[-1] if said else "no reason given")[:300]
