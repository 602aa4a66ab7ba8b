"""The sealed chain head in files outside the database: read, and moved forward under a lock, never back.

Several processes seal after their commits at once (web workers, the job worker, commands); each
takes an exclusive `flock` on `<file>.lock`, reads the seal, and replaces it (temporary file, fsync,
rename) only with a higher seq, so a commit whose seal is written late never moves it back.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..keys import write_replacing
from .chain import Seal, parse_seal, seal_document, seal_valid

SEAL_FILE = "audit-head.json"  # in the data directory, beside audit-checkpoint.json


class SealUnreadable(ValueError):
    """A seal file that is there but holds no seal."""


def read_seal(path: Path) -> Seal | None:
    """The seal kept at `path`, or None when there is no file; SealUnreadable when it holds no seal."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SealUnreadable(f"cannot be read: {exc}") from None
    try:
        return parse_seal(json.loads(text))
    except ValueError as exc:  # JSONDecodeError is one
        raise SealUnreadable(str(exc)) from None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # A lock file of its own: the seal itself is replaced by rename, which a lock on it would not survive.
    fd = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def advance_seal(path: Path, key: bytes, seal: Seal, *, replace: bool = False) -> bool:
    """Write `seal` at `path` if the seal there is older; whether it was written.

    A seal there that is unreadable or does not verify is left alone, as evidence for `audit verify`;
    `replace` (after a deliberate restore) writes whatever is there.
    """
    with _locked(path):
        if not replace:
            try:
                current = read_seal(path)
            except SealUnreadable:
                return False
            if current is not None and (current.seq >= seal.seq or not seal_valid(key, current)):
                return False
        write_replacing(path, (json.dumps(seal_document(seal), indent=2) + "\n").encode(), 0o644)
        return True
