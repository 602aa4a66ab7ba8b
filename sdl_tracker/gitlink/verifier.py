"""Reading public signing keys and verifying commit signatures with the system's own tools: `gpg` for OpenPGP,
`ssh-keygen -Y` for SSH. Never hand-rolled: the tools that made the signatures check them.

Each batch of checks gets a fresh, private GNUPGHOME and allowed-signers file holding only the keys it is given
(each imported on its own), so no keyring of the server's user, no key server and no trust database outside this
batch takes part; no agent is started. Keys and signatures go in files or on standard input, never on a command
line. A signature larger than any a tool makes, or an OpenPGP block holding anything but signature packets, never
reaches gpg (a small compressed packet can expand to gigabytes there).
"""

from __future__ import annotations

import base64
import enum
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from .signatures import (
    MAX_SIGNATURE_BYTES,
    SIGNATURE_PACKET,
    KeyKind,
    SignatureFormat,
    SignedPayload,
    openpgp_packet_tags,
)

TOOL_SECONDS = 5
MAX_KEY_BYTES = 64 * 1024
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
SSH_LINE = re.compile(r"^(?P<type>[a-z0-9@.-]{7,40}) (?P<blob>[A-Za-z0-9+/]{20,16000}={0,3})(?: (?P<comment>[^\n]*))?$")
MIN_RSA_BITS = 2048
OPENPGP_ARMOUR = "-----BEGIN PGP PUBLIC KEY BLOCK-----"


class KeyProblem(ValueError):
    """Why a text is not a public key the tracker registers."""


@dataclass(frozen=True)
class KeyFacts:
    """What a public key is, as its tool read it."""

    kind: KeyKind
    fingerprint: str  # OpenPGP: the primary key's hex fingerprint; SSH: SHA256:... as ssh-keygen prints it
    material: str  # the key as stored: the armoured block, or `type base64` (the comment dropped)
    identities: tuple[str, ...]  # OpenPGP user ids; SSH: the comment, if any
    expires_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class RegisteredKey:
    """A registered key as a verification needs it."""

    key_id: int
    kind: KeyKind
    material: str
    fingerprint: str


class Outcome(enum.StrEnum):
    """What the tool said about one signature."""

    GOOD = "good"  # a valid signature by one of the given keys, which is neither expired nor revoked
    BAD = "bad"  # the signature does not match the payload: the commit was changed after it was signed
    UNKNOWN_KEY = "unknown-key"  # made by a key that is not among the given ones
    EXPIRED_KEY = "expired-key"
    REVOKED_KEY = "revoked-key"
    EXPIRED_SIGNATURE = "expired-signature"
    UNSUPPORTED = "unsupported"  # X.509 or an armour no tool here reads
    TOOL_MISSING = "tool-missing"
    FAILED = "failed"  # the tool failed (timed out, a malformed signature)


@dataclass(frozen=True)
class Check:
    """One signature's outcome, the fingerprint of the key that made it (when the tool named it) and a detail
    for people. Which user's key that is, the caller decides: one key may be registered by several users."""

    outcome: Outcome
    fingerprint: str = ""
    detail: str = ""


def _env(home: Path) -> dict[str, str]:
    """A bare environment: the tools find nothing of the server user's configuration, agents or keyrings."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "GNUPGHOME": str(home), "LC_ALL": "C"}


def _run(args: Sequence[str], home: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        list(args), input=stdin, capture_output=True, env=_env(home), timeout=TOOL_SECONDS, check=False, cwd=home
    )


def _gpg(home: Path, *args: str) -> list[str]:
    gpg = shutil.which("gpg")
    if gpg is None:
        raise FileNotFoundError("gpg")
    return [gpg, "--homedir", str(home), "--batch", "--no-tty", "--no-autostart", "--no-auto-key-retrieve", *args]


def read_public_key(text: str) -> KeyFacts:
    """The public key `text` holds (an armoured OpenPGP key, or one OpenSSH public key line), else KeyProblem."""
    text = text.strip()
    if not text:
        raise KeyProblem("paste a public key")
    if len(text.encode()) > MAX_KEY_BYTES:
        raise KeyProblem(f"a public key has at most {MAX_KEY_BYTES // 1024} KiB")
    if "PRIVATE KEY" in text:
        raise KeyProblem("this is a private key: register the public key only (and treat this one as exposed)")
    if text.startswith(OPENPGP_ARMOUR):
        return _read_openpgp(text)
    if text.split(" ", 1)[0] in SSH_KEY_TYPES:
        return _read_ssh(text)
    raise KeyProblem(f"not a public key: paste an armoured OpenPGP key ({OPENPGP_ARMOUR}) or an OpenSSH line")


def _read_openpgp(text: str) -> KeyFacts:
    with tempfile.TemporaryDirectory(prefix="sdl-key-") as tmp:
        home = Path(tmp)
        try:
            done = _run(_gpg(home, "--with-colons", "--import-options", "show-only", "--import"), home, text.encode())
            records = [line.split(":") for line in done.stdout.decode("utf-8", errors="replace").splitlines()]
            if any(r[0] in ("sec", "ssb") for r in records):
                raise KeyProblem("this is a private key: register the public key only (and treat this one as exposed)")
            primaries = [i for i, r in enumerate(records) if r[0] == "pub"]
            if done.returncode != 0 or not primaries:
                raise KeyProblem("gpg found no public key in this block")
            if len(primaries) > 1:
                raise KeyProblem("register one key at a time (this block holds several)")
            at = primaries[0]
            pub = records[at]
            fingerprint = next((r[9] for r in records[at + 1 :] if r[0] == "fpr" and len(r) > 9), "")
            if not re.fullmatch(r"[0-9A-F]{40}|[0-9A-F]{64}", fingerprint):
                raise KeyProblem("gpg gave this key no fingerprint")
            # What is stored is what gpg exports of the key, not the text pasted: nothing before or after it
            # reaches a keyring later.
            imported = _run(_gpg(home, "--import"), home, text.encode())
            exported = _run(_gpg(home, "--armor", "--export", fingerprint), home)
        except FileNotFoundError:
            raise KeyProblem("gpg is not installed on this server: OpenPGP keys cannot be read") from None
        except subprocess.TimeoutExpired:
            raise KeyProblem("gpg took too long to read the key") from None
    material = exported.stdout.decode("ascii", errors="replace")
    if imported.returncode != 0 or exported.returncode != 0 or OPENPGP_ARMOUR not in material:
        raise KeyProblem("gpg could not import this key")
    expires = int(pub[6]) if len(pub) > 6 and pub[6].isdigit() else None
    uids = tuple(r[9] for r in records if r[0] == "uid" and len(r) > 9)
    return KeyFacts(
        KeyKind.OPENPGP,
        fingerprint,
        material,
        uids,
        datetime.fromtimestamp(expires, tz=UTC) if expires else None,
        revoked=len(pub) > 1 and pub[1] == "r",
    )


def _read_ssh(text: str) -> KeyFacts:
    if "\n" in text:
        raise KeyProblem("register one SSH key at a time (one line)")
    match = SSH_LINE.match(text)
    if match is None:
        raise KeyProblem("not an OpenSSH public key line (`ssh-ed25519 AAAA... comment`)")
    material = f"{match['type']} {match['blob']}"
    if _blob_type(match["blob"]) != match["type"]:
        raise KeyProblem(f"the key's data is not a {match['type']} key")
    ssh_keygen = shutil.which("ssh-keygen")
    if ssh_keygen is None:
        raise KeyProblem("ssh-keygen is not installed on this server: SSH keys cannot be read")
    with tempfile.TemporaryDirectory(prefix="sdl-key-") as tmp:
        home = Path(tmp)
        (home / "key.pub").write_text(material + "\n")
        try:
            done = _run([ssh_keygen, "-l", "-E", "sha256", "-f", str(home / "key.pub")], home)
        except subprocess.TimeoutExpired:
            raise KeyProblem("ssh-keygen took too long to read the key") from None
    listed = done.stdout.decode("ascii", errors="replace").split()
    if done.returncode != 0 or len(listed) < 2 or not listed[1].startswith("SHA256:"):
        raise KeyProblem("ssh-keygen does not read this as a public key")
    if match["type"] == "ssh-rsa" and int(listed[0]) < MIN_RSA_BITS:
        raise KeyProblem(f"an RSA key has at least {MIN_RSA_BITS} bits")
    comment = (match["comment"] or "").strip()
    return KeyFacts(KeyKind.SSH, listed[1], material, (comment,) if comment else (), None, revoked=False)


def _blob_type(blob: str) -> str:
    """The key type an OpenSSH public key's data names (its first field: a length, then the type's name)."""
    try:
        data = base64.b64decode(blob, validate=True)
    except ValueError:
        return ""
    size = int.from_bytes(data[:4], "big")
    return data[4 : 4 + size].decode("ascii", errors="replace") if 0 < size <= 64 else ""


class Verifier:
    """Verifies signatures against a set of registered keys (imported once, for any number of checks)."""

    def __init__(self, keys: Sequence[RegisteredKey]) -> None:
        self.keys = list(keys)
        self.unusable: set[str] = set()  # fingerprints of keys gpg would not import: their checks prove nothing
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._gpg_ready = False

    def __enter__(self) -> Verifier:
        self._tmp = tempfile.TemporaryDirectory(prefix="sdl-verify-")
        home = self.home
        home.chmod(0o700)
        signers = [f'key-{k.key_id} namespaces="git" {k.material.strip()}' for k in self.keys if k.kind is KeyKind.SSH]
        (home / "allowed_signers").write_text("".join(line + "\n" for line in signers))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def home(self) -> Path:
        """This run's private directory."""
        assert self._tmp is not None, "use the verifier as a context manager"
        return Path(self._tmp.name)

    def check(self, signed: SignedPayload) -> Check:
        """What the signature of `signed` says about its payload, against the given keys."""
        if len(signed.signature) > MAX_SIGNATURE_BYTES:
            return Check(Outcome.UNSUPPORTED, detail=f"a signature of more than {MAX_SIGNATURE_BYTES // 1024} KiB")
        if signed.format is SignatureFormat.OPENPGP:
            tags = openpgp_packet_tags(signed.signature)
            if not tags or any(tag != SIGNATURE_PACKET for tag in tags):
                return Check(Outcome.UNSUPPORTED, detail="an OpenPGP block that is not a detached signature")
        try:
            if signed.format is SignatureFormat.OPENPGP:
                return self._check_openpgp(signed)
            if signed.format is SignatureFormat.SSH:
                return self._check_ssh(signed)
        except FileNotFoundError as missing:
            return Check(Outcome.TOOL_MISSING, detail=f"{missing.args[0]} is not installed on this server")
        except subprocess.TimeoutExpired:
            return Check(Outcome.FAILED, detail="the verification took too long")
        return Check(Outcome.UNSUPPORTED, detail=f"{signed.format.value} signatures are not verified here")

    def _import_openpgp(self) -> None:
        """Import each OpenPGP key on its own, so one key's text cannot keep another's out of the keyring."""
        if self._gpg_ready:
            return
        for key in self.keys:
            if key.kind is KeyKind.OPENPGP:
                try:
                    done = _run(_gpg(self.home, "--import"), self.home, key.material.encode())
                except subprocess.TimeoutExpired:
                    self.unusable.add(key.fingerprint)
                    continue
                if done.returncode != 0:
                    self.unusable.add(key.fingerprint)
        self._gpg_ready = True

    def _check_openpgp(self, signed: SignedPayload) -> Check:
        self._import_openpgp()
        signature = self.home / "signature.asc"
        signature.write_bytes(signed.signature)
        done = _run(_gpg(self.home, "--status-fd", "1", "--verify", str(signature), "-"), self.home, signed.payload)
        status: dict[str, list[str]] = {}
        for line in done.stdout.decode("utf-8", errors="replace").splitlines():
            if line.startswith("[GNUPG:] "):
                word, *rest = line[9:].split(" ")
                status.setdefault(word, rest)
        valid = status.get("VALIDSIG")
        fingerprint = valid[-1] if valid else ""  # the primary key's, also when a subkey signed
        for word, outcome in (
            ("BADSIG", Outcome.BAD),
            ("REVKEYSIG", Outcome.REVOKED_KEY),
            ("EXPKEYSIG", Outcome.EXPIRED_KEY),
            ("EXPSIG", Outcome.EXPIRED_SIGNATURE),
        ):
            if word in status:
                return Check(outcome, fingerprint)
        if "NO_PUBKEY" in status or ("ERRSIG" in status and status["ERRSIG"][-1:] == ["9"]):
            return Check(Outcome.UNKNOWN_KEY, fingerprint=(status.get("NO_PUBKEY") or [""])[0])
        if valid and "GOODSIG" in status and done.returncode == 0:
            return Check(Outcome.GOOD, fingerprint)
        return Check(Outcome.FAILED, detail="gpg could not read the signature")

    def _check_ssh(self, signed: SignedPayload) -> Check:
        ssh_keygen = shutil.which("ssh-keygen")
        if ssh_keygen is None:
            raise FileNotFoundError("ssh-keygen")
        signature = self.home / "signature.sig"
        signature.write_bytes(signed.signature)
        signers = str(self.home / "allowed_signers")
        # Which registered key made it (this reads the key inside the signature; it verifies nothing yet).
        found = _run([ssh_keygen, "-Y", "find-principals", "-f", signers, "-s", str(signature)], self.home)
        principals = [p for p in found.stdout.decode("ascii", errors="replace").split() if p.startswith("key-")]
        if found.returncode != 0 or not principals:
            return Check(Outcome.UNKNOWN_KEY)
        key = next((k for k in self.keys if f"key-{k.key_id}" == principals[0]), None)
        if key is None:
            return Check(Outcome.UNKNOWN_KEY)
        verify = [
            ssh_keygen,
            "-Y",
            "verify",
            "-f",
            signers,
            "-I",
            f"key-{key.key_id}",
            "-n",
            "git",
            "-s",
            str(signature),
        ]
        done = _run(verify, self.home, signed.payload)
        return Check(Outcome.GOOD if done.returncode == 0 else Outcome.BAD, key.fingerprint)
