"""The spool: commits waiting for the tracker, one file per commit, inside the repository's git directory.

`<git common dir>/sdl-tracker/queue/<sha>` holds the commit's raw object (the bytes `git cat-file
commit` prints), so a commit is kept even if git later prunes it (an amended or rebased one). Files
are written whole under a temporary name and renamed into place, so a reader never sees half a
file, and two hooks queueing the same commit write the same bytes. A file leaves the queue only once
the tracker acknowledged it (`done`) or refused it for what it is (`reject`: moved to `rejected/`
with the reason beside it). One process delivers at a time: the others find the lock held and leave
their commit queued for it or the next run; the kernel releases the lock of a killed process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from .git import SHA
from .terminal import escape_controls

TYPE_CHECKING = False  # typing costs a git hook milliseconds at start-up; mypy reads this name as typing's
if TYPE_CHECKING:
    from typing import Any

SPOOL_DIR = "sdl-tracker"
DELIVERED_LIMIT = 1024 * 1024  # bytes of the delivered log; past it, the older half is forgotten
AWAY = "away"  # the pause as the post-commit script reads it: "<until, whole epoch seconds>\n<what to say>\n"
STALE_TEMPORARY = 3600.0  # seconds after which a temporary file is a writer's remains, not work in progress


def object_id(raw: bytes, sha: str) -> str:
    """git's id of a commit object with these bytes, in the hash `sha` uses (SHA-1 or SHA-256)."""
    import hashlib  # only when delivering

    digest = hashlib.sha1 if len(sha) == 40 else hashlib.sha256  # git's object id, not a security measure
    return digest(b"commit %d\0" % len(raw) + raw).hexdigest()


def _write_whole(path: str, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees either nothing or all of it."""
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # the rename must not reach the disk before the bytes
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class Spool:
    """The queue, the refused commits, the delivered log and the delivery state of one repository."""

    def __init__(self, common_dir: str) -> None:
        self.root = os.path.join(common_dir, SPOOL_DIR)
        self.queue_dir = os.path.join(self.root, "queue")
        self.rejected_dir = os.path.join(self.root, "rejected")

    def put(self, sha: str, raw: bytes) -> None:
        """Queue a commit (again: the same bytes) unless the tracker already acknowledged it."""
        _check(sha)
        os.makedirs(self.queue_dir, exist_ok=True)
        _write_whole(os.path.join(self.queue_dir, sha), raw)

    def queued(self) -> list[str]:
        """The queued commits, oldest first."""
        return _listed(self.queue_dir)

    def commit(self, sha: str) -> bytes | None:
        """A queued commit's raw object; None if another process delivered it meanwhile."""
        try:
            with open(os.path.join(self.queue_dir, sha), "rb") as file:
                return file.read()
        except FileNotFoundError:
            return None

    def done(self, sha: str) -> None:
        """The tracker acknowledged the commit: note it as delivered, then take it off the queue."""
        descriptor = os.open(self.delivered_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, f"{sha}\n".encode())  # one short append: whole or not at all
        finally:
            os.close(descriptor)
        _remove(os.path.join(self.queue_dir, sha))

    def reject(self, sha: str, reason: str) -> None:
        """The tracker refused the commit itself: keep it aside with the reason, never send it again unasked."""
        os.makedirs(self.rejected_dir, exist_ok=True)
        record = {"sha": sha, "reason": reason, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write_whole(os.path.join(self.rejected_dir, f"{sha}.reason"), json.dumps(record).encode())
        os.replace(os.path.join(self.queue_dir, sha), os.path.join(self.rejected_dir, sha))

    def rejected(self) -> list[tuple[str, str]]:
        """(sha, the tracker's reason) of each refused commit, oldest first."""
        found = []
        for sha in _listed(self.rejected_dir):
            try:
                with open(os.path.join(self.rejected_dir, f"{sha}.reason"), "rb") as file:
                    reason = str(json.loads(file.read()).get("reason", "?"))
            except (OSError, ValueError, AttributeError):
                reason = "?"
            found.append((sha, reason))
        return found

    def requeue_rejected(self) -> int:
        """Put the refused commits back on the queue (after the cause was fixed); how many."""
        moved = 0
        for sha in _listed(self.rejected_dir):
            os.makedirs(self.queue_dir, exist_ok=True)
            os.replace(os.path.join(self.rejected_dir, sha), os.path.join(self.queue_dir, sha))
            _remove(os.path.join(self.rejected_dir, f"{sha}.reason"))
            moved += 1
        return moved

    @property
    def delivered_log(self) -> str:
        """The file listing the commits the tracker acknowledged, one id a line."""
        return os.path.join(self.root, "delivered")

    def delivered(self) -> set[str]:
        """The commits the tracker acknowledged (the most recent ones, when there were very many)."""
        try:
            with open(self.delivered_log, "rb") as file:
                return {line for line in file.read().decode(errors="replace").split() if SHA.fullmatch(line)}
        except FileNotFoundError:
            return set()

    def tidy(self) -> None:
        """Under the lock: drop the temporary files of killed writers and the older half of a long delivered log."""
        now = time.time()
        for directory in (self.queue_dir, self.rejected_dir, self.root):
            for entry in _entries(directory):
                if entry.name.endswith(".tmp") and now - entry.stat().st_mtime > STALE_TEMPORARY:
                    _remove(entry.path)
        try:
            size = os.path.getsize(self.delivered_log)
        except FileNotFoundError:
            return
        if size > DELIVERED_LIMIT:
            with open(self.delivered_log, "rb") as file:
                lines = file.read().splitlines()
            _write_whole(self.delivered_log, b"".join(line + b"\n" for line in lines[len(lines) // 2 :]))

    def read(self, name: str) -> dict[str, Any] | None:
        """One of the JSON files beside the queue (`settings`, `state`, `vocabulary`); None if missing or damaged."""
        try:
            with open(os.path.join(self.root, f"{name}.json"), "rb") as file:
                found = json.loads(file.read())
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def write(self, name: str, data: dict[str, Any]) -> None:
        """Write one of the JSON files beside the queue, whole (a reader sees the old or the new one)."""
        os.makedirs(self.root, exist_ok=True)
        _write_whole(os.path.join(self.root, f"{name}.json"), json.dumps(data).encode())

    def pause(self, state: dict[str, Any], until: float, note: str) -> None:
        """The tracker is away until `until`: the delivery state, and the same pause for the post-commit script."""
        self.write("state", state)
        line = escape_controls(" ".join(note.split()))  # one line, which the script prints as it is
        _write_whole(os.path.join(self.root, AWAY), f"{int(until)}\n{line}\n".encode())

    def resume(self) -> None:
        """The tracker answers again: no pause (the script's copy first, so no script queues on a stale one)."""
        _remove(os.path.join(self.root, AWAY))
        self.write("state", {})

    @contextmanager
    def delivering(self, *, wait: bool = False) -> Iterator[bool]:
        """Hold the delivery lock: True if this process holds it, False if another does (`wait`: until it is free)."""
        os.makedirs(self.root, exist_ok=True)
        descriptor = os.open(os.path.join(self.root, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            held = _lock(descriptor, wait)
            yield held
        finally:
            os.close(descriptor)  # closing releases the lock


if sys.platform == "win32":
    import msvcrt

    def _lock(descriptor: int, wait: bool) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _lock(descriptor: int, wait: bool) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def _check(sha: str) -> None:
    if not SHA.fullmatch(sha):
        raise ValueError(f"not an object id: {sha[:80]!r}")


def _entries(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _listed(directory: str) -> list[str]:
    """The commit files of a directory, oldest first (by when they were written, then by name)."""
    found = []
    for entry in _entries(directory):
        if SHA.fullmatch(entry.name):
            try:
                found.append((entry.stat().st_mtime_ns, entry.name))
            except FileNotFoundError:  # delivered by another process meanwhile
                continue
    return [name for _, name in sorted(found)]


def _remove(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)
