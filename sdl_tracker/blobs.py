"""The content-addressed artifact store: files named by SHA-256, written crash-safely, never modified.

A blob is written (temporary file, fsync, rename, directory fsync) before the row that names it
commits, so a crash can leave an unreferenced blob, which `sdl-tracker blobs gc` removes, but never
a row without its blob.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO, cast

from sqlalchemy import BigInteger, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow
from .errors import DomainError, Invalid, NotFound
from .installation import installation

SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024
# A temporary file nobody wrote to for this long is no upload in flight (put() writes every MiB as it
# arrives): `blobs verify` calls it stale, and `blobs gc` removes it by default.
STALE_AFTER_SECONDS = 3600


class Blob(Base):
    """A stored file's identity: rows of every feature point here, and here only after the file exists."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class StoredFile:
    """What put() wrote."""

    sha256: str
    size: int


@dataclass(frozen=True)
class TemporaryFile:
    """A file under the store's tmp/: an upload being written, or half of one whose process was killed."""

    path: Path
    size: int
    age_seconds: float  # since it was last written

    @property
    def stale(self) -> bool:
        """Whether it is old enough to be a leftover rather than a write in flight."""
        return self.age_seconds >= STALE_AFTER_SECONDS


class CorruptBlob(DomainError):
    """A blob's content no longer matches its name: the store was damaged; nothing is served."""

    status = 500
    title = "Integrity check failed"


class BlobStore:
    """Files under `root/objects/ab/cdef...`; temporary files under `root/tmp`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.objects = root / "objects"
        self.tmp = root / "tmp"

    def _ensure_dirs(self) -> None:
        if not self.objects.exists() or not self.tmp.exists():
            self.objects.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(parents=True, exist_ok=True)
            _fsync_dir(self.root)

    def path_for(self, sha256: str) -> Path:
        """Where the blob named `sha256` lives (the name is checked, so no path can be smuggled in)."""
        if not SHA256.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.objects / sha256[:2] / sha256[2:]

    def _too_large(self) -> Invalid:
        return Invalid.field("file", f"the file is larger than the limit of {self.max_bytes:,} bytes")

    def put(self, stream: IO[bytes]) -> StoredFile:
        """Store the stream's bytes durably; identical content is stored once. Invalid if empty or too large."""
        self._ensure_dirs()
        digest = hashlib.sha256()
        size = 0
        tmp = self.tmp / f"{os.getpid()}-{secrets.token_hex(8)}"
        try:
            with open(tmp, "xb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self._too_large()
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise Invalid.field("file", "the file is empty")
            sha256 = digest.hexdigest()
            final = self.path_for(sha256)
            if final.exists():
                # Identical content is stored once; touching it tells garbage collection that a row
                # naming it may be about to commit.
                os.utime(final)
                return StoredFile(sha256, size)
            if not final.parent.exists():
                final.parent.mkdir(exist_ok=True)
                _fsync_dir(self.objects)  # the new folder's own name must survive a power cut too
            os.replace(tmp, final)  # atomic: the name appears only with the whole content behind it
            _fsync_dir(final.parent)
            return StoredFile(sha256, size)
        finally:
            tmp.unlink(missing_ok=True)

    def open_verified(self, sha256: str) -> BinaryIO:
        """The blob, opened for reading after its content was checked against its name."""
        path = self.path_for(sha256)
        if not path.exists():
            raise NotFound(f"blob {sha256} is missing from the store")
        if file_digest(path) != sha256:
            raise CorruptBlob(f"blob {sha256} does not match its content")
        return cast(BinaryIO, open(path, "rb"))

    def names(self) -> Iterator[str]:
        """Every blob name in the store."""
        if not self.objects.exists():
            return
        for directory in sorted(self.objects.iterdir()):
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                if SHA256.match(directory.name + path.name):  # anything else is not ours (e.g. .nfs files)
                    yield directory.name + path.name

    def temporary_files(self) -> list[TemporaryFile]:
        """The files put() is writing or left half-written, oldest first."""
        found = []
        now = time.time()
        for path in self.tmp.iterdir() if self.tmp.exists() else ():
            try:
                status = path.lstat()
            except FileNotFoundError:
                continue  # its write finished (or failed) a moment ago
            if stat.S_ISREG(status.st_mode):
                found.append(TemporaryFile(path, status.st_size, max(0.0, now - status.st_mtime)))
        return sorted(found, key=lambda f: (-f.age_seconds, f.path))

    def remove(self, sha256: str) -> None:
        """Delete a blob file (garbage collection only: referenced blobs are never removed)."""
        self.path_for(sha256).unlink(missing_ok=True)

    def age_seconds(self, sha256: str) -> float:
        """How long ago the blob was written."""
        return time.time() - self.path_for(sha256).stat().st_mtime


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def session_blobs(session: Session) -> BlobStore:
    """The installation's blob store."""
    return installation(session).blobs


def store_blob(session: Session, stream: IO[bytes]) -> Blob:
    """Write the bytes to the store, then record the blob in the caller's transaction."""
    return record_blob(session, session_blobs(session).put(stream))


def record_blob(session: Session, stored: StoredFile) -> Blob:
    """The row of a file put() wrote, added in the caller's transaction unless it exists (or another
    transaction adds it at the same moment)."""
    blob = session.get(Blob, stored.sha256)
    if blob is None:
        try:
            with session.begin_nested():
                blob = Blob(sha256=stored.sha256, size=stored.size)
                session.add(blob)
                session.flush()
        except IntegrityError:
            # Another transaction recorded the same bytes a moment ago: its row states the same fact.
            blob = session.get(Blob, stored.sha256, populate_existing=True)
            if blob is None:
                raise
    return blob


@dataclass(frozen=True)
class BlobReport:
    """What `blobs verify` found."""

    checked: int
    corrupt: list[str]
    missing: list[str]
    unreferenced: list[str]
    temporary: list[TemporaryFile]  # half-written uploads (stale ones: left by a killed process)


def check_store(session: Session) -> BlobReport:
    """Every file's content against its name, every row against a file, every file against a row; and
    the temporary files of uploads."""
    store = session_blobs(session)
    recorded = set(session.scalars(select(Blob.sha256)))
    on_disk = set(store.names())
    corrupt = sorted(name for name in on_disk if file_digest(store.path_for(name)) != name)
    return BlobReport(
        checked=len(on_disk),
        corrupt=corrupt,
        missing=sorted(recorded - on_disk),
        unreferenced=sorted(on_disk - recorded),
        temporary=store.temporary_files(),
    )


@dataclass(frozen=True)
class Collected:
    """What `blobs gc` removed."""

    blobs: list[str]
    temporary: list[TemporaryFile]


def collect_garbage(session: Session, *, min_age_seconds: float) -> Collected:
    """Remove blob files no row names and half-written temporary files, once they are old enough not to
    be a write still in flight."""
    store = session_blobs(session)
    recorded = set(session.scalars(select(Blob.sha256)))
    removed = []
    for name in store.names():
        # The age is read again right before removal: an upload of the same bytes touches the file.
        if name not in recorded and store.age_seconds(name) >= min_age_seconds:
            session.expire_all()
            if session.get(Blob, name) is None and store.age_seconds(name) >= min_age_seconds:
                store.remove(name)
                removed.append(name)
    leftovers = [f for f in store.temporary_files() if f.age_seconds >= min_age_seconds]
    for leftover in leftovers:  # half-written by processes that died mid-write
        leftover.path.unlink(missing_ok=True)
    return Collected(removed, leftovers)
