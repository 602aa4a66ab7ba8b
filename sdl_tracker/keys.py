"""The installation's secrets in the data directory: created once, readable by the owner only.

Signing keys have a key id (the first 16 hex digits of the SHA-256 of the raw Ed25519 public key)
that every signature carries. The active private key is `signing_key.pem`; the public half of every
key this installation ever signed with stays in `keyring/<key id>.pem`, so rotating the key never
breaks the verification of what an older key signed.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AUDIT_KEY_FILE = "audit_hmac_key"
# The key that seals secrets the server must read again (webhook signing secrets) before they are stored.
SECRETS_KEY_FILE = "secrets_key"
SEALED_PREFIX = "v1."
SIGNING_KEY_FILE = "signing_key.pem"
KEYRING_DIR = "keyring"


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


def write_replacing(path: Path, content: bytes, mode: int) -> None:
    """Write `content` to `path` atomically (temporary file, fsync, rename): readers see the old or the new whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # left only when writing failed (disk full): never a stray file


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo)."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in hex: what a person compares out of band."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """The short name every signature carries: the fingerprint's first 16 hex digits."""
    return fingerprint(public_key)[:16]


def load_public_pem(pem: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or ValueError."""
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _new_private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class SigningKey:
    """A private signing key and its id."""

    key_id: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        """The verifying half."""
        return self.private.public_key()

    def public_pem(self) -> str:
        """The verifying half as PEM."""
        return public_pem(self.public)


@dataclass(frozen=True)
class PublicKeyInfo:
    """One key of the keyring, as `keys list` and the keys page show it."""

    key_id: str
    fingerprint: str
    pem: str
    added_at: datetime
    active: bool


class Keyring:
    """The audit chain's HMAC key, the active signing key, and the public keys of every signing key used.

    Other processes of the same installation (web workers, the job worker) may rotate the key: the
    active key is reloaded when its file changes, and an unknown key id makes the folder be read again.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.audit_hmac_key = read_or_create(data_dir / AUDIT_KEY_FILE, lambda: secrets.token_bytes(32))
        if len(self.audit_hmac_key) < 32:
            raise ValueError(f"the audit key in {data_dir} is shorter than 32 bytes")
        self._lock = threading.Lock()
        self._active: tuple[tuple[int, int], SigningKey] | None = None
        self._public: dict[str, Ed25519PublicKey] = {}
        read_or_create(data_dir / SIGNING_KEY_FILE, _new_private_pem)
        self._remember(self.active())

    @property
    def keyring_dir(self) -> Path:
        """Where the public keys live."""
        return self.data_dir / KEYRING_DIR

    def active(self) -> SigningKey:
        """The key that signs now (reloaded if another process rotated it)."""
        path = self.data_dir / SIGNING_KEY_FILE
        stat = path.stat()
        stamp = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._active is None or self._active[0] != stamp:
                private = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if not isinstance(private, Ed25519PrivateKey):
                    raise ValueError(f"{path} is not an Ed25519 private key")
                self._active = (stamp, SigningKey(key_id(private.public_key()), private))
            return self._active[1]

    def _remember(self, key: SigningKey) -> None:
        """Keep the key's public half in the keyring folder (once)."""
        self.keyring_dir.mkdir(mode=0o700, exist_ok=True)
        path = self.keyring_dir / f"{key.key_id}.pem"
        if not path.exists():
            write_replacing(path, key.public_pem().encode(), 0o644)
        self._public[key.key_id] = key.public

    def public_key(self, wanted: str) -> Ed25519PublicKey | None:
        """The public key with this id, if this installation ever signed with it."""
        if wanted not in self._public:
            self._read_folder()
        return self._public.get(wanted)

    def _read_folder(self) -> None:
        for path in sorted(self.keyring_dir.glob("*.pem")):
            try:
                key = load_public_pem(path.read_bytes())
            except ValueError:
                continue  # not ours to judge here; `keys list` shows only valid keys
            self._public[key_id(key)] = key

    def public_keys(self) -> list[PublicKeyInfo]:
        """Every key of the ring, the active one first, then newest first."""
        active = self.active().key_id
        infos = []
        for path in self.keyring_dir.glob("*.pem"):
            try:
                key = load_public_pem(path.read_bytes())
            except ValueError:
                continue
            added = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            infos.append(PublicKeyInfo(key_id(key), fingerprint(key), public_pem(key), added, key_id(key) == active))
        return sorted(infos, key=lambda info: (not info.active, -info.added_at.timestamp()))

    @functools.cached_property
    def _secrets_box(self) -> AESGCM:
        """AES-256-GCM under the installation's secrets key (made on first use, readable by the owner only)."""
        key = read_or_create(self.data_dir / SECRETS_KEY_FILE, lambda: secrets.token_bytes(32))
        if len(key) != 32:
            raise ValueError(f"the secrets key in {self.data_dir} is not 32 bytes")
        return AESGCM(key)

    def seal(self, secret: str, context: str) -> str:
        """`secret` encrypted and authenticated for the database: a copy of the database alone does not reveal
        it, and it opens only with the same `context` (what it belongs to), so it cannot be moved elsewhere."""
        nonce = secrets.token_bytes(12)
        sealed = self._secrets_box.encrypt(nonce, secret.encode(), context.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, sealed: str, context: str) -> str:
        """The secret `seal` sealed for `context`; ValueError when it was sealed for something else, altered, or
        sealed under another secrets key (a data directory restored without its `secrets_key`)."""
        if not sealed.startswith(SEALED_PREFIX):
            raise ValueError("not a sealed secret")
        raw = base64.urlsafe_b64decode(sealed.removeprefix(SEALED_PREFIX))
        try:
            return self._secrets_box.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise ValueError("the sealed secret does not open with this installation's secrets key") from None

    def prepare_rotation(self) -> SigningKey:
        """A new key whose public half is already in the ring; `activate` makes it sign."""
        pem = _new_private_pem()
        private = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(private, Ed25519PrivateKey)
        key = SigningKey(key_id(private.public_key()), private)
        self._remember(key)
        return key

    def activate(self, key: SigningKey) -> None:
        """Make `key` the signing key, replacing the file in one rename (the old private key is gone)."""
        pem = key.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_replacing(self.data_dir / SIGNING_KEY_FILE, pem, 0o600)
