"""Throwaway OpenPGP keys for the tests, made by the real gpg, and gpg's own verdict on a detached signature.

Each key lives in a short-named GNUPGHOME of its own (the agent's socket path is bounded) whose agent hashes
passphrases with a low count, so a key takes milliseconds to make (ed25519); `close` stops the agents.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

UID = "Example Industrial PSIRT <psirt@example.com>"


@dataclass(frozen=True)
class ThrowawayKey:
    """A key in its own GNUPGHOME."""

    home: Path
    fingerprint: str
    keygrip: str  # of the primary key, which signs
    public: bytes


def _gpg(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


@dataclass
class Keys:
    """Makes keys; a context manager that stops their agents and removes their homes."""

    homes: list[Path] = field(default_factory=list)

    def home(self) -> Path:
        home = Path(tempfile.mkdtemp(prefix="g", dir="/tmp"))
        self.homes.append(home)
        # A low hashing count for passphrases (tests only); presetting one is how a server's agent gets it.
        (home / "gpg-agent.conf").write_text("s2k-count 65536\nallow-preset-passphrase\n")
        return home

    def make(self, *, passphrase: str = "", usage: str = "sign", expire: str = "0", at: str = "") -> ThrowawayKey:
        """A new ed25519 primary key; unprotected unless a passphrase is given (then set through loopback)."""
        home = self.home()
        protection = f"Passphrase: {passphrase}" if passphrase else "%no-protection"
        name, email = UID.split(" <")
        parameters = (
            f"Key-Type: EDDSA\nKey-Curve: ed25519\nKey-Usage: {usage}\nName-Real: {name}\n"
            f"Name-Email: {email.rstrip('>')}\nExpire-Date: {expire}\n{protection}\n%commit\n"
        )
        options = [f"--faked-system-time={at}!"] if at else []
        made = _gpg(home, *options, "--pinentry-mode", "loopback", "--gen-key", stdin=parameters.encode())
        assert made.returncode == 0, made.stderr
        listing = _gpg(home, "--with-colons", "--with-keygrip", "--list-secret-keys").stdout.decode()
        records = [line.split(":") for line in listing.splitlines()]
        fingerprint = next(record[9] for record in records if record[0] == "fpr")
        keygrip = next(record[9] for record in records if record[0] == "grp")
        public = _gpg(home, "--armor", "--export", fingerprint).stdout
        return ThrowawayKey(home, fingerprint, keygrip, public)

    def preset(self, key: ThrowawayKey, passphrase: str) -> None:
        """Hands the key's passphrase to its agent, as an operator does with gpg-preset-passphrase."""
        done = subprocess.run(
            [
                "gpg-connect-agent",
                "--homedir",
                str(key.home),
                f"PRESET_PASSPHRASE {key.keygrip} -1 {passphrase.encode().hex().upper()}",
                "/bye",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0 and b"OK" in done.stdout, done

    def close(self) -> None:
        for home in self.homes:
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False, capture_output=True)
            shutil.rmtree(home, ignore_errors=True)

    def __enter__(self) -> Keys:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def gpg_verifies(public: bytes, data: Path, signature: Path) -> bool:
    """gpg's own verdict (not python-gnupg's) on a detached signature, in a fresh home holding only `public`."""
    home = Path(tempfile.mkdtemp(prefix="v", dir="/tmp"))
    try:
        assert _gpg(home, "--import", stdin=public).returncode == 0
        checked = _gpg(home, "--no-autostart", "--status-fd", "1", "--verify", str(signature), str(data))
        return checked.returncode == 0 and b"[GNUPG:] GOODSIG" in checked.stdout
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
