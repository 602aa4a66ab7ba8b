"""Times every write transaction of an engine: how long each held the write lock (SQLite) or its rows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

from sdl_tracker.db import READ_ONLY


@dataclass
class WriteTimer:
    """Durations (seconds) of the write transactions seen since `attach`."""

    durations: list[float] = field(default_factory=list)
    _open: dict[int, float] = field(default_factory=dict)

    def attach(self, engine: Engine) -> WriteTimer:
        """Listen on `engine` (after its own BEGIN IMMEDIATE listener, so lock waits are not counted)."""
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        return self

    def _begin(self, connection: Connection) -> None:
        if not connection.get_execution_options().get(READ_ONLY):
            self._open[id(connection)] = time.perf_counter()

    def _end(self, connection: Connection) -> None:
        started = self._open.pop(id(connection), None)
        if started is not None:
            self.durations.append(time.perf_counter() - started)

    def report(self) -> str:
        """Count, p50, p95 and longest, in milliseconds."""
        if not self.durations:
            return "no write transactions"
        ordered = sorted(self.durations)
        pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
        return (
            f"{len(ordered):,} write transactions: p50 {pick(0.5):.1f} ms, p95 {pick(0.95):.1f} ms, "
            f"longest {ordered[-1] * 1000:.1f} ms"
        )
