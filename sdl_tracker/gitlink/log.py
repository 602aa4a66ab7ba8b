"""Parsing `git log` output as it streams: one record per commit, no Python object per git object."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from .trailers import GIT_SPACE

# Each record starts with RS + the 40-hex SHA + US: a marker no path or message can imitate by accident.
LOG_FORMAT = (
    "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%cn%x1f%ce%x1f%ct%x1f%s%x1f"
    "%(trailers:only,unfold,separator=%x1d,key_value_separator=%x1c)%x1f"
)
LOG_ARGS = ("log", "-z", "--name-only", "--no-renames", "--no-color", f"--format={LOG_FORMAT}")
RECORD_START = re.compile(rb"\x1e(?=[0-9a-f]{40}\x1f)")
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


def parse_record(record: bytes) -> LogRecord:
    """One record (without its leading RS)."""
    header, _, rest = record.partition(b"\x1f\x00")
    fields = header.split(b"\x1f")
    if len(fields) < FIELDS:
        raise ValueError(f"malformed git log record: {record[:80]!r}")
    sha, parents, an, ae, at, cn, ce, ct, subject = fields[:9]
    trailer_text = b"\x1f".join(fields[9:]).rstrip(b"\x1f")
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


def parse_stream(chunks: Iterable[bytes]) -> Iterator[LogRecord]:
    """Records as the bytes arrive; memory holds one chunk and one partial record, whatever the history."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        starts = [m.start() for m in RECORD_START.finditer(buffer)]
        if len(starts) < 2:
            continue
        for begin, end in itertools.pairwise(starts):
            yield parse_record(buffer[begin + 1 : end])
        buffer = buffer[starts[-1] :]
    starts = [m.start() for m in RECORD_START.finditer(buffer)]
    for begin, end in zip(starts, [*starts[1:], len(buffer)], strict=False):
        yield parse_record(buffer[begin + 1 : end])
