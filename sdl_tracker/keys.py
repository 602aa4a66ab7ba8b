"""The installation's secrets in the data directory: created once, readable by the owner only."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

AUDIT_KEY_FILE = "audit_hmac_key"
SIGNING_KEY_FILE = "signing_key.pem"


def read_or_create(path: Path, generate: Callable[[], bytes]) -> bytes:
    """The file's content, creating it with `generate()` first if missing; concurrent callers agree."""
    if not path.exists():
        # Write the whole content to a private temporary file, then link it into place: link()
        # fails if the name exists, so exactly one process wins and nobody reads a partial file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(generate())
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: read its content
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_bytes()


@dataclass(frozen=True)
class InstallationKeys:
    """The audit chain's HMAC key and the Ed25519 key that signs checkpoints (and dossiers)."""

    audit_hmac_key: bytes
    signing_key: Ed25519PrivateKey
    data_dir: Path  # where the newest audit checkpoint is also kept, out of the database's reach

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The verifying half of the signing key."""
        return self.signing_key.public_key()

    def public_key_pem(self) -> str:
        """The public key as PEM, for checkpoint files and verifiers."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def load_installation_keys(data_dir: Path) -> InstallationKeys:
    """Read (or create, on first start) the keys; they never go into the database."""
    hmac_key = read_or_create(data_dir / AUDIT_KEY_FILE, lambda: secrets.token_bytes(32))
    pem = read_or_create(
        data_dir / SIGNING_KEY_FILE,
        lambda: Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    signing_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(signing_key, Ed25519PrivateKey) or len(hmac_key) < 32:
        raise ValueError(f"the keys in {data_dir} are not an Ed25519 key and a 32-byte HMAC key")
    return InstallationKeys(hmac_key, signing_key, data_dir)
