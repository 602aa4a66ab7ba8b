"""Job kinds by name: the feature that owns a kind registers its handler at app creation."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ..auth import Principal
from ..db import Database
from . import services


@contextmanager
def collector_paused(*, collect: bool = True) -> Iterator[None]:
    """Keep Python's cyclic garbage collector out of the write transactions of work that holds a big
    heap (a parsed SBOM, a scan's known commits): one full collection over it takes 100-300 ms,
    measured inside a 30 ms transaction. Refcounting still frees everything acyclic meanwhile.
    `collect=False` skips the collection up front, for work inside a request (where a forced collection
    holds the interpreter lock for every thread of the worker)."""
    if collect:
        gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class LeaseLost(Exception):
    """Another worker took the job over (this worker's lease ran out): stop without writing."""


class Phases(Protocol):
    """What work in phases needs: short read and write units, the actor, progress, completion."""

    def read(self) -> AbstractContextManager[Session]: ...
    def write(self) -> AbstractContextManager[Session]: ...
    def actor(self, session: Session) -> Principal: ...
    def progress(self, session: Session, done: int, total: int | None = None, message: str = "") -> None: ...
    def finish(self, session: Session, result: dict[str, Any]) -> None: ...


class _WithoutJob:
    """Phases that no job stands behind: the caller's principal acts, nobody follows, nothing completes."""

    principal: Principal

    def actor(self, session: Session) -> Principal:
        """The caller's principal."""
        return self.principal

    def progress(self, session: Session, done: int, total: int | None = None, message: str = "") -> None:
        """Nobody follows work that is not a job."""

    def finish(self, session: Session, result: dict[str, Any]) -> None:
        """No job to complete."""


@dataclass
class InlinePhases(_WithoutJob):
    """Every phase in the caller's one session, for small work that must finish inside it (the demo)."""

    session: Session
    principal: Principal

    @contextmanager
    def read(self) -> Iterator[Session]:
        """The caller's session."""
        yield self.session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """The caller's session (it commits once, at its end)."""
        yield self.session


@dataclass
class DatabasePhases(_WithoutJob):
    """Every phase in its own unit of work, for work a request does at once (a small SBOM upload)."""

    database: Database
    principal: Principal

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read-only unit of work."""
        with self.database.unit_of_work(read_only=True) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction."""
        with self.database.unit_of_work() as session:
            yield session


@dataclass
class JobContext:
    """What a handler gets: the job's arguments, short units of work, progress, and completion."""

    database: Database
    job_id: int
    worker: str
    kind: str
    arguments: dict[str, Any]
    attempt: int
    lease_lost: threading.Event = field(default_factory=threading.Event)
    # The CLI's progress bar when it runs the job itself (--wait without a worker).
    on_progress: Callable[[int, int | None, str], None] | None = None
    finished: bool = False

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read-only unit of work (no SQLite write lock)."""
        with self.database.unit_of_work(read_only=True) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction; refused once the lease is lost, so a stale worker writes nothing."""
        if self.lease_lost.is_set():
            raise LeaseLost(f"job {self.job_id}: lease lost")
        with self.database.unit_of_work() as session:
            yield session

    def actor(self, session: Session) -> Principal:
        """The principal that queued the job, rebuilt with today's rights (and the token's narrowing)."""
        return services.job_actor(session, self.job_id)

    def progress(self, session: Session, done: int, total: int | None = None, message: str = "") -> None:
        """Record progress in the caller's write transaction (and on the CLI's bar)."""
        services.set_progress(session, self.job_id, self.worker, done=done, total=total, message=message)
        if self.on_progress:
            self.on_progress(done, total, message)

    def finish(self, session: Session, result: dict[str, Any]) -> None:
        """Mark the job succeeded in the caller's transaction: the final publish and completion commit together."""
        if not services.mark_succeeded(session, self.job_id, self.worker, result):
            raise LeaseLost(f"job {self.job_id}: lease lost before completion")
        self.finished = True


Handler = Callable[[JobContext], dict[str, Any] | None]
Cleanup = Callable[[JobContext], None]
# Whether work of a kind has come due with no job queued for it (a retry whose time has come), read at `now`.
Due = Callable[[Session, datetime], bool]


@dataclass(frozen=True)
class JobKind:
    """A handler (phases, idempotent), what removes a failed attempt's staged leftovers, and for work that
    comes due by itself (retries at a later time) how a worker's sweep asks whether it has."""

    run: Handler
    cleanup: Cleanup | None = None
    due: Due | None = None


HANDLERS: dict[str, JobKind] = {}


def register(kind: str, run: Handler, cleanup: Cleanup | None = None, *, due: Due | None = None) -> None:
    """Make `kind` runnable (registering the same kind again replaces it, so app creation can repeat); with
    `due`, workers queue a job of the kind whenever it says work has come due and none is queued or running."""
    HANDLERS[kind] = JobKind(run, cleanup, due)


def handler_for(kind: str) -> JobKind | None:
    """The registered kind, or None."""
    return HANDLERS.get(kind)


def swept_kinds() -> dict[str, Due]:
    """The kinds whose work comes due by itself, and how to ask whether it has."""
    return {name: kind.due for name, kind in HANDLERS.items() if kind.due is not None}
