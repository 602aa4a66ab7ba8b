"""Time zones people choose (a viewer's, a main establishment's): which names are zones, and a moment on a
zone's wall clock. Times are stored and computed in UTC; a zone only changes how they read."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

# The longest IANA name is about half this; the column holds this many.
MAX_ZONE_NAME = 64
# The host's own zone under the system's zone data: it differs from one host to the next, so it names no place.
_NOT_PLACES = frozenset({"localtime"})


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA time zone name the installed zone data holds, sorted (read once)."""
    return tuple(sorted(available_timezones() - _NOT_PLACES))


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(zone_names())


def zone_problem(name: str) -> str | None:
    """Why `name` is not a time zone one may choose (a folder such as "Europe" is none), or None."""
    if len(name) > MAX_ZONE_NAME:
        return f"a time zone name has at most {MAX_ZONE_NAME} characters"
    if name not in _known():
        return f"unknown time zone {name!r} (an IANA name such as Europe/Berlin)"
    return None


def wall_time(moment: datetime | None, zone: str, *, seconds: bool = False) -> str:
    """A moment on a zone's wall clock with the zone's abbreviation ("2026-12-05 17:48 CET"); "—" for none."""
    if moment is None:
        return "—"
    shown = moment.astimezone(ZoneInfo(zone))
    return shown.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def utc_stamp(moment: datetime) -> str:
    """The UTC instant as machines read it ("2026-12-05T16:48:00Z", an HTML `<time>` element's `datetime`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
