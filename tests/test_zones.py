"""Which names are time zones one may choose, and a moment on a zone's wall clock across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sdl_tracker.zones import MAX_ZONE_NAME, utc_stamp, wall_time, zone_names, zone_problem

WINTER = datetime(2026, 1, 15, 16, 48, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 16, 48, tzinfo=UTC)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "America/Argentina/Salta"])
def test_iana_names_are_zones(name: str) -> None:
    assert zone_problem(name) is None and name in zone_names()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Europe", "unknown time zone 'Europe'"),  # a folder of zones, not a zone
        ("America/Argentina", "unknown time zone"),
        ("Mars/Olympus_Mons", "unknown time zone"),
        ("europe/berlin", "unknown time zone"),  # names are exact
        (" Europe/Berlin", "unknown time zone"),
        ("", "unknown time zone"),
        ("../../etc/passwd", "unknown time zone"),
        ("localtime", "unknown time zone"),  # the host's own zone names no place
        ("Europe/" + "x" * MAX_ZONE_NAME, f"at most {MAX_ZONE_NAME} characters"),
    ],
)
def test_other_names_are_refused_with_the_reason(name: str, why: str) -> None:
    problem = zone_problem(name)
    assert problem is not None and why in problem


def test_the_zone_names_are_sorted_and_bounded() -> None:
    names = zone_names()
    assert list(names) == sorted(names) and max(map(len, names)) <= MAX_ZONE_NAME


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (WINTER, "UTC", "2026-01-15 16:48 UTC"),
        (WINTER, "Europe/Berlin", "2026-01-15 17:48 CET"),
        (SUMMER, "Europe/Berlin", "2026-07-15 18:48 CEST"),
        (WINTER, "America/New_York", "2026-01-15 11:48 EST"),
        (SUMMER, "America/New_York", "2026-07-15 12:48 EDT"),
        (datetime(2026, 1, 15, 23, 30, tzinfo=UTC), "Asia/Tokyo", "2026-01-16 08:30 JST"),  # the next day there
    ],
)
def test_wall_time_reads_the_zone_clock_on_that_day(moment: datetime, zone: str, shown: str) -> None:
    assert wall_time(moment, zone) == shown


def test_wall_time_with_seconds_and_without_a_moment() -> None:
    assert wall_time(WINTER.replace(second=7), "Europe/Berlin", seconds=True) == "2026-01-15 17:48:07 CET"
    assert wall_time(None, "Europe/Berlin") == "—"


def test_utc_stamp_is_the_instant_in_utc_whatever_zone_it_came_in() -> None:
    assert utc_stamp(WINTER.astimezone(UTC).replace(microsecond=5)) == "2026-01-15T16:48:00Z"
    assert utc_stamp(datetime.fromisoformat("2026-07-15T18:48:00+02:00")) == "2026-07-15T16:48:00Z"
