"""Parsing `git log` output as it streams: one record per commit, no Python object per git object."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from .trailers import GIT_SPACE

FIELDS = 10


@dataclass(frozen=True)
class LogRecord:
    """One commit as `git log` describes it."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored_at: datetime
    committer_name: str
    committer_email: str
    committed_at: datetime
    subject: str
    trailers: tuple[tuple[str, str], ...]
    paths: tuple[str, ...]


def _text(raw: bytes) -> str:
    # Commit metadata is bytes in any encoding; invalid UTF-8 is kept readable, never fatal.
    return raw.decode("utf-8", errors="replace")


def _time(raw: bytes) -> datetime:
    return datetime.fromtimestamp(int(raw or b"0"), tz=UTC)


@dataclass(frozen=True)
class LogFormat:
    """`git log`'s format for one reading, its record and field separators marked with a nonce drawn for that
    reading: a subject, a name or a trailer is text the committer chose, and could otherwise imitate a
    separator (RS, a SHA and US) to split one commit in two or forge a record. It cannot imitate a secret."""

    nonce: bytes

    @classmethod
    def fresh(cls) -> LogFormat:
        """A format with a nonce of its own (128 random bits, as hex)."""
        return cls(secrets.token_hex(16).encode())

    @property
    def args(self) -> tuple[str, ...]:
        """The `git log` arguments that print this format (names with -z, so any path survives)."""
        marker = self.nonce.decode()
        field = f"%x1f{marker}"
        fields = field.join(("%H", "%P", "%an", "%ae", "%at", "%cn", "%ce", "%ct", "%s"))
        trailers = "%(trailers:only,unfold,separator=%x1d,key_value_separator=%x1c)"
        return (
            "log",
            "-z",
            "--name-only",
            "--no-renames",
            "--no-color",
            f"--format=%x1e{marker}{fields}{field}{trailers}{field}",
        )

    def parse_record(self, record: bytes) -> LogRecord:
        """One record (without its leading separator)."""
        field = b"\x1f" + self.nonce
        header, _, rest = record.partition(field + b"\x00")
        fields = header.split(field)
        if len(fields) != FIELDS:
            raise ValueError(f"malformed git log record: {record[:80]!r}")
        sha, parents, an, ae, at, cn, ce, ct, subject, trailer_text = fields
        trailers = tuple(
            # git trimmed them already; Python's strip() would also take what git keeps (a no-break space...).
            (_text(key).strip(GIT_SPACE), _text(value).strip(GIT_SPACE))
            for key, _, value in (item.partition(b"\x1c") for item in trailer_text.split(b"\x1d") if item)
        )
        paths = tuple(_text(p) for p in rest.lstrip(b"\n").split(b"\x00") if p)
        return LogRecord(
            _text(sha),
            tuple(_text(p) for p in parents.split()),
            _text(an),
            _text(ae),
            _time(at),
            _text(cn),
            _text(ce),
            _time(ct),
            _text(subject),
            trailers,
            paths,
        )

    def parse_stream(self, chunks: Iterable[bytes]) -> Iterator[LogRecord]:
        """Records as the bytes arrive; memory holds one chunk and one partial record, whatever the history."""
        start = b"\x1e" + self.nonce
        buffer = b""
        for chunk in chunks:
            buffer += chunk
            starts = _starts(buffer, start)
            if len(starts) < 2:
                continue
            for begin, end in itertools.pairwise(starts):
                yield self.parse_record(buffer[begin + len(start) : end])
            buffer = buffer[starts[-1] :]
        starts = _starts(buffer, start)
        for begin, end in zip(starts, [*starts[1:], len(buffer)], strict=False):
            yield self.parse_record(buffer[begin + len(start) : end])


def _starts(buffer: bytes, start: bytes) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(start), buffer)]
