"""The Article 14 clocks as a pure function: the edges of each reading, the states, refusals, and properties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdl_tracker.psirt.rules import (
    DUE_SOON_WITHIN,
    EARLY_WARNING,
    FINAL_REPORT,
    NOTIFICATION,
    Clock,
    ClockError,
    ClockState,
    IntermediateRequest,
    RecordKind,
    Submission,
    _earliest_instant,
    intermediate_stage,
    next_deadline,
    reporting_clocks,
)

VULNERABILITY = RecordKind.VULNERABILITY
INCIDENT = RecordKind.INCIDENT
BERLIN = "Europe/Berlin"
MICROSECOND = timedelta(microseconds=1)
AWARE = datetime(2026, 9, 14, 10, 17, 33, 123456, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))


def sub(at: datetime, *stages: str) -> Submission:
    return Submission(at, frozenset(stages))


def clocks(
    kind: RecordKind = VULNERABILITY,
    *,
    aware: datetime | None = AWARE,
    zone: str = BERLIN,
    now: datetime = AWARE,
    **facts: Any,
) -> dict[str, Clock]:
    return {c.stage: c for c in reporting_clocks(kind, aware_at=aware, zone=zone, now=now, **facts)}


def final_clock(kind: RecordKind, anchor: datetime, zone: str) -> Clock:
    """The final report's clock when its anchor (the measure, or the notification submitted) is `anchor`."""
    if kind is VULNERABILITY:
        return clocks(kind, aware=anchor, zone=zone, now=anchor, measure_available_at=anchor)[FINAL_REPORT]
    return clocks(kind, aware=anchor, zone=zone, now=anchor, submissions=[sub(anchor, NOTIFICATION)])[FINAL_REPORT]


def final_due(kind: RecordKind, anchor: datetime, zone: str) -> datetime | None:
    return final_clock(kind, anchor, zone).due_at


# The hour clocks: exact elapsed time from awareness.


@pytest.mark.parametrize(("stage", "hours"), [(EARLY_WARNING, 24), (NOTIFICATION, 72)])
@pytest.mark.parametrize("kind", list(RecordKind))
def test_an_hour_clock_is_due_exactly_then_and_the_due_instant_is_on_time(
    kind: RecordKind, stage: str, hours: int
) -> None:
    due = AWARE + timedelta(hours=hours)
    assert clocks(kind, now=AWARE)[stage].due_at == due
    at_due = clocks(kind, now=due)[stage]
    assert (at_due.state, at_due.breached_at) == (ClockState.DUE_SOON, None)
    late = clocks(kind, now=due + MICROSECOND)[stage]
    assert (late.state, late.breached_at) == (ClockState.OVERDUE, due)
    on_time = clocks(kind, now=due + MICROSECOND, submissions=[sub(due, stage)])[stage]
    assert (on_time.state, on_time.submitted_at, on_time.breached_at) == (ClockState.SUBMITTED, due, None)
    missed = clocks(kind, now=due + MICROSECOND, submissions=[sub(due + MICROSECOND, stage)])[stage]
    assert (missed.state, missed.submitted_at, missed.breached_at) == (ClockState.BREACHED, due + MICROSECOND, due)


@pytest.mark.parametrize(
    ("aware", "early_warning"),
    [
        # Berlin's spring change: 12:00 CET + 24 h is 13:00 CEST, not 12:00 (which would be 23 h).
        (local(BERLIN, 2025, 3, 29, 12), utc(2025, 3, 30, 11)),
        # Its autumn change: 12:00 CEST + 24 h is 11:00 CET, not 12:00 (which would be 25 h).
        (local(BERLIN, 2025, 10, 25, 12), utc(2025, 10, 26, 10)),
        (local("America/New_York", 2025, 3, 8, 12), utc(2025, 3, 9, 17)),
    ],
)
def test_hours_are_elapsed_time_across_a_daylight_saving_change(aware: datetime, early_warning: datetime) -> None:
    found = clocks(aware=aware, now=aware)
    assert found[EARLY_WARNING].due_at == early_warning
    assert found[NOTIFICATION].due_at == early_warning + timedelta(hours=48)
    assert early_warning - aware == timedelta(hours=24)


def test_awareness_in_any_zone_gives_the_same_utc_deadlines_for_the_hour_clocks() -> None:
    seen = set()
    for zone in (BERLIN, "Europe/Lisbon", "America/New_York", "Asia/Tokyo", "UTC"):
        for main_establishment in (BERLIN, "Europe/Lisbon", "America/New_York"):
            aware = AWARE.astimezone(ZoneInfo(zone))
            found = clocks(aware=aware, zone=main_establishment, now=aware)
            seen.add((found[EARLY_WARNING].due_at, found[NOTIFICATION].due_at, found[EARLY_WARNING].anchor))
    india = AWARE.astimezone(timezone(timedelta(hours=5, minutes=30)))
    found = clocks(aware=india, now=india)
    seen.add((found[EARLY_WARNING].due_at, found[NOTIFICATION].due_at, found[EARLY_WARNING].anchor))
    assert seen == {(AWARE + timedelta(hours=24), AWARE + timedelta(hours=72), AWARE)}
    assert all(c.due_at is None or c.due_at.tzinfo is UTC for c in found.values())


# The calendar periods: by calendar in UTC and in the main establishment's zone, the earlier taken.


@pytest.mark.parametrize(
    ("notified", "final"),
    [
        (utc(2027, 1, 31, 9), utc(2027, 2, 28, 9)),  # not a leap year
        (utc(2028, 1, 31, 9), utc(2028, 2, 29, 9)),  # a leap year
        (utc(2024, 1, 31, 9), utc(2024, 2, 29, 9)),
        (utc(2026, 3, 31, 9), utc(2026, 4, 30, 9)),
        (utc(2026, 1, 29, 9), utc(2026, 2, 28, 9)),
        (utc(2028, 2, 29, 9), utc(2028, 3, 29, 9)),  # from a leap day
        (utc(2026, 12, 31, 9, 30, 15, 7), utc(2027, 1, 31, 9, 30, 15, 7)),  # into the next year, to the µs
    ],
)
def test_a_month_ends_on_the_same_day_or_on_the_last_day_of_a_shorter_month(
    notified: datetime, final: datetime
) -> None:
    assert final_due(INCIDENT, notified, "UTC") == final


def test_a_notification_on_31_january_in_berlin_gives_the_end_of_february_at_the_same_time() -> None:
    notified = local(BERLIN, 2027, 1, 31, 10)
    assert final_due(INCIDENT, notified, BERLIN) == local(BERLIN, 2027, 2, 28, 10)
    leap = local(BERLIN, 2028, 1, 31, 10)
    assert final_due(INCIDENT, leap, BERLIN) == local(BERLIN, 2028, 2, 29, 10)


@pytest.mark.parametrize(
    ("kind", "anchor", "zone", "utc_reading", "zone_reading"),
    [
        # 14 days from 12:00 CET: 12:00 CEST, an hour earlier than UTC's reading.
        (VULNERABILITY, utc(2025, 3, 20, 11), BERLIN, utc(2025, 4, 3, 11), utc(2025, 4, 3, 10)),
        # From 12:00 CEST: 12:00 CET, an hour later, so UTC's reading stands.
        (VULNERABILITY, utc(2025, 10, 20, 10), BERLIN, utc(2025, 11, 3, 10), utc(2025, 11, 3, 11)),
        (VULNERABILITY, utc(2025, 3, 20, 12), "Europe/Lisbon", utc(2025, 4, 3, 12), utc(2025, 4, 3, 11)),
        (VULNERABILITY, utc(2025, 10, 20, 11), "Europe/Lisbon", utc(2025, 11, 3, 11), utc(2025, 11, 3, 12)),
        # New York changes on other Sundays (9 March, 2 November 2025).
        (VULNERABILITY, utc(2025, 3, 1, 17), "America/New_York", utc(2025, 3, 15, 17), utc(2025, 3, 15, 16)),
        (VULNERABILITY, utc(2025, 10, 25, 16), "America/New_York", utc(2025, 11, 8, 16), utc(2025, 11, 8, 17)),
        (INCIDENT, utc(2026, 3, 10, 11), BERLIN, utc(2026, 4, 10, 11), utc(2026, 4, 10, 10)),
        (INCIDENT, utc(2026, 10, 10, 10), BERLIN, utc(2026, 11, 10, 10), utc(2026, 11, 10, 11)),
        (INCIDENT, utc(2026, 3, 10, 12), "Europe/Lisbon", utc(2026, 4, 10, 12), utc(2026, 4, 10, 11)),
        # 31 March 02:00 UTC is 30 March 22:00 in New York: 30 April there is 1 May in UTC, a day later.
        (INCIDENT, utc(2025, 3, 31, 2), "America/New_York", utc(2025, 4, 30, 2), utc(2025, 5, 1, 2)),
        # 30 January 23:30 UTC is 31 January in Berlin: 28 February there is a day before UTC's 28 February.
        (INCIDENT, utc(2025, 1, 30, 23, 30), BERLIN, utc(2025, 2, 28, 23, 30), utc(2025, 2, 27, 23, 30)),
    ],
)
def test_a_calendar_period_takes_the_earlier_of_the_utc_and_the_local_reading(
    kind: RecordKind, anchor: datetime, zone: str, utc_reading: datetime, zone_reading: datetime
) -> None:
    assert utc_reading != zone_reading
    final = final_clock(kind, anchor, zone)
    assert final.due_at == min(utc_reading, zone_reading)
    where = zone if zone_reading < utc_reading else "UTC"
    assert f"read in {where}, earlier" in final.reading
    assert final.anchor == anchor


def test_a_local_time_that_does_not_exist_resolves_to_the_earlier_instant() -> None:
    # 16 March 2025 02:30 CET + 14 days is 30 March 02:30 in Berlin, which the spring change skipped: read
    # with CEST's offset (+2) it names 00:30 UTC, with CET's (+1) 01:30 UTC (UTC's own reading); 00:30 is taken.
    measure = utc(2025, 3, 16, 1, 30)
    assert final_due(VULNERABILITY, measure, BERLIN) == utc(2025, 3, 30, 0, 30)
    # 28 February 2027 02:30 CET + 1 month: 28 March 2027 02:30, skipped too.
    assert final_due(INCIDENT, utc(2027, 2, 28, 1, 30), BERLIN) == utc(2027, 3, 28, 0, 30)


def test_a_local_time_that_happens_twice_resolves_to_the_earlier_instant() -> None:
    # 26 October 2025 02:30 in Berlin is 00:30 UTC (CEST) and 01:30 UTC (CET).
    assert final_due(VULNERABILITY, utc(2025, 10, 12, 0, 30), BERLIN) == utc(2025, 10, 26, 0, 30)
    # UTC's reading coincides with the earlier one above, so the choice between the two is shown on its own.
    repeated = datetime(2025, 10, 26, 2, 30)
    assert _earliest_instant(repeated, ZoneInfo(BERLIN)) == utc(2025, 10, 26, 0, 30)
    assert _earliest_instant(repeated.replace(fold=1), ZoneInfo(BERLIN)) == utc(2025, 10, 26, 0, 30)
    assert _earliest_instant(datetime(2025, 11, 2, 1, 30), ZoneInfo("America/New_York")) == utc(2025, 11, 2, 5, 30)


# The final report's anchors.


def test_a_vulnerabilitys_final_report_is_not_defined_until_a_measure_is_available() -> None:
    final = clocks(now=AWARE + timedelta(days=60))[FINAL_REPORT]
    assert (final.state, final.due_at, final.anchor, final.breached_at) == (ClockState.NOT_STARTED, None, None, None)
    assert final.reading.startswith("not yet defined")
    measure = AWARE + timedelta(days=5)
    final = clocks(now=measure, measure_available_at=measure)[FINAL_REPORT]
    assert (final.anchor, final.due_at, final.state) == (measure, measure + timedelta(days=14), ClockState.RUNNING)


def test_a_late_notification_does_not_move_the_incidents_final_report_later() -> None:
    aware = utc(2026, 11, 2, 8)
    due = aware + timedelta(hours=72)
    late = clocks(
        INCIDENT, aware=aware, now=due + timedelta(days=2), submissions=[sub(due + timedelta(days=2), NOTIFICATION)]
    )
    assert late[NOTIFICATION].state is ClockState.BREACHED
    assert (late[FINAL_REPORT].anchor, late[FINAL_REPORT].due_at) == (due, utc(2026, 12, 5, 8))
    assert "earlier than its late submission" in late[FINAL_REPORT].reading
    early = clocks(INCIDENT, aware=aware, now=due, submissions=[sub(aware + timedelta(hours=30), NOTIFICATION)])
    assert (early[FINAL_REPORT].anchor, early[FINAL_REPORT].due_at) == (
        aware + timedelta(hours=30),
        utc(2026, 12, 3, 14),
    )


def test_an_incidents_final_report_is_anchored_at_the_notifications_due_time_once_it_passed() -> None:
    aware = utc(2026, 11, 2, 8)
    due = aware + timedelta(hours=72)
    before = clocks(INCIDENT, aware=aware, now=due - MICROSECOND)[FINAL_REPORT]
    assert (before.state, before.due_at, before.anchor) == (ClockState.NOT_STARTED, None, None)
    assert "2026-11-05 08:00 UTC" in before.reading
    for now in (due, due + timedelta(days=3)):
        final = clocks(INCIDENT, aware=aware, now=now)[FINAL_REPORT]
        assert (final.anchor, final.due_at, final.state) == (due, utc(2026, 12, 5, 8), ClockState.RUNNING)
        assert "passed without a submission" in final.reading


def test_the_earliest_notification_submission_anchors_the_final_report() -> None:
    aware = utc(2026, 11, 2, 8)
    first, again = aware + timedelta(hours=10), aware + timedelta(hours=50)
    found = clocks(INCIDENT, aware=aware, now=again, submissions=[sub(again, NOTIFICATION), sub(first, NOTIFICATION)])
    assert found[NOTIFICATION].submitted_at == first
    assert found[FINAL_REPORT].anchor == first


# Submissions, intermediate reports and states.


def test_one_submission_may_cover_several_stages() -> None:
    aware = utc(2026, 11, 2, 8)
    both = aware + timedelta(hours=20)
    found = clocks(INCIDENT, aware=aware, now=both, submissions=[sub(both, EARLY_WARNING, NOTIFICATION)])
    assert [(c.state, c.submitted_at) for c in (found[EARLY_WARNING], found[NOTIFICATION])] == [
        (ClockState.SUBMITTED, both)
    ] * 2
    every = clocks(INCIDENT, aware=aware, now=both, submissions=[sub(both, EARLY_WARNING, NOTIFICATION, FINAL_REPORT)])
    assert {c.state for c in every.values()} == {ClockState.SUBMITTED}
    assert every[FINAL_REPORT].due_at == utc(2026, 12, 3, 4)
    measure = aware + timedelta(hours=30)
    vulnerability = clocks(
        aware=aware, now=measure, measure_available_at=measure, submissions=[sub(measure, NOTIFICATION, FINAL_REPORT)]
    )
    assert (vulnerability[EARLY_WARNING].state, vulnerability[NOTIFICATION].state) == (
        ClockState.OVERDUE,
        ClockState.SUBMITTED,
    )
    assert vulnerability[FINAL_REPORT].state is ClockState.SUBMITTED


def test_each_intermediate_request_is_a_clock_of_its_own() -> None:
    aware = utc(2026, 11, 2, 8)
    asked = [
        IntermediateRequest(aware + timedelta(days=2), local(BERLIN, 2026, 11, 9, 12)),
        IntermediateRequest(aware + timedelta(days=4), aware + timedelta(days=10)),
    ]
    now = utc(2026, 11, 9, 12)
    found = reporting_clocks(
        VULNERABILITY,
        aware_at=aware,
        zone=BERLIN,
        now=now,
        intermediate_requests=asked,
        submissions=[sub(aware + timedelta(days=5), EARLY_WARNING, NOTIFICATION, intermediate_stage(2))],
    )
    assert [c.stage for c in found] == [EARLY_WARNING, NOTIFICATION, FINAL_REPORT, "intermediate-1", "intermediate-2"]
    first, second = found[3], found[4]
    assert (first.label, first.anchor, first.due_at) == (
        "Intermediate report 1",
        asked[0].requested_at,
        utc(2026, 11, 9, 11),
    )
    assert (first.state, first.breached_at) == (ClockState.OVERDUE, utc(2026, 11, 9, 11))
    assert (second.state, second.submitted_at) == (ClockState.SUBMITTED, aware + timedelta(days=5))
    assert "Art. 14(6)" in first.reading
    assert next_deadline(found) is first


def test_a_breach_stays_after_a_late_submission() -> None:
    due = AWARE + timedelta(hours=24)
    overdue = clocks(now=due + timedelta(hours=1))[EARLY_WARNING]
    late = clocks(now=due + timedelta(days=9), submissions=[sub(due + timedelta(hours=2), EARLY_WARNING)])
    assert (overdue.state, overdue.breached_at) == (ClockState.OVERDUE, due)
    assert (late[EARLY_WARNING].state, late[EARLY_WARNING].breached_at) == (ClockState.BREACHED, due)
    # A later, on-time stage in the same submission does not clear the early warning's breach.
    both = clocks(now=due + timedelta(days=9), submissions=[sub(due + timedelta(hours=2), EARLY_WARNING, NOTIFICATION)])
    assert (both[EARLY_WARNING].state, both[NOTIFICATION].state) == (ClockState.BREACHED, ClockState.SUBMITTED)


@pytest.mark.parametrize(
    ("before_due", "within", "state"),
    [
        (timedelta(hours=23), DUE_SOON_WITHIN, ClockState.RUNNING),
        (DUE_SOON_WITHIN + MICROSECOND, DUE_SOON_WITHIN, ClockState.RUNNING),
        (DUE_SOON_WITHIN, DUE_SOON_WITHIN, ClockState.DUE_SOON),
        (MICROSECOND, DUE_SOON_WITHIN, ClockState.DUE_SOON),
        (timedelta(0), DUE_SOON_WITHIN, ClockState.DUE_SOON),
        (-MICROSECOND, DUE_SOON_WITHIN, ClockState.OVERDUE),
        (timedelta(hours=2), timedelta(hours=1), ClockState.RUNNING),
        (timedelta(hours=1), timedelta(hours=1), ClockState.DUE_SOON),
        (MICROSECOND, timedelta(0), ClockState.RUNNING),
        (timedelta(0), timedelta(0), ClockState.DUE_SOON),
    ],
)
def test_the_states_around_each_threshold(before_due: timedelta, within: timedelta, state: ClockState) -> None:
    now = AWARE + timedelta(hours=24) - before_due
    assert clocks(now=now, due_soon_within=within)[EARLY_WARNING].state is state


def test_nothing_starts_without_an_awareness_time() -> None:
    found = reporting_clocks(INCIDENT, aware_at=None, zone=BERLIN, now=AWARE)
    assert [(c.stage, c.state, c.due_at, c.anchor) for c in found] == [
        (stage, ClockState.NOT_STARTED, None, None) for stage in (EARLY_WARNING, NOTIFICATION, FINAL_REPORT)
    ]
    assert next_deadline(found) is None


def test_the_next_deadline_is_the_open_clock_due_first() -> None:
    due = AWARE + timedelta(hours=24)
    running = reporting_clocks(VULNERABILITY, aware_at=AWARE, zone=BERLIN, now=AWARE)
    assert next_deadline(running) is running[0]
    overdue = reporting_clocks(VULNERABILITY, aware_at=AWARE, zone=BERLIN, now=due + timedelta(days=30))
    assert next_deadline(overdue) is overdue[0]
    reported = reporting_clocks(
        VULNERABILITY, aware_at=AWARE, zone=BERLIN, now=due, submissions=[sub(due, EARLY_WARNING)]
    )
    assert next_deadline(reported) is reported[1]
    done = reporting_clocks(
        VULNERABILITY, aware_at=AWARE, zone=BERLIN, now=due, submissions=[sub(due, EARLY_WARNING, NOTIFICATION)]
    )
    assert next_deadline(done) is None  # the final report is not started: no measure yet
    assert next_deadline([]) is None


# Facts the clocks refuse.


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"aware": datetime(2026, 9, 14, 10)}, "the awareness time has no time zone"),
        ({"now": datetime(2026, 9, 14, 10)}, "now has no time zone"),
        ({"measure_available_at": datetime(2026, 9, 20)}, "the measure's availability has no time zone"),
        ({"submissions": [Submission(datetime(2026, 9, 15), frozenset({EARLY_WARNING}))]}, "a submission's time"),
        (
            {"intermediate_requests": [IntermediateRequest(datetime(2026, 9, 15), AWARE)]},
            "a request's time has no time zone",
        ),
        ({"submissions": [sub(AWARE - MICROSECOND, EARLY_WARNING)]}, "is earlier than the awareness"),
        ({"submissions": [sub(AWARE, "early warning")]}, "unknown stage 'early warning'"),
        ({"submissions": [sub(AWARE, "intermediate-1")]}, "unknown stage 'intermediate-1'"),
        ({"submissions": [sub(AWARE)]}, "covers no stage"),
        ({"zone": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"zone": ""}, "unknown time zone ''"),
        ({"zone": "Europe"}, "unknown time zone 'Europe'"),
        ({"zone": "../etc/passwd"}, "unknown time zone"),
        ({"zone": "zone.tab"}, "unknown time zone"),
        ({"zone": "Europe/Berlin\x00"}, "unknown time zone"),
        ({"due_soon_within": -MICROSECOND}, "must not be negative"),
        ({"submissions": [sub(AWARE, FINAL_REPORT)]}, "before a corrective or mitigating measure"),
        (
            {
                "measure_available_at": AWARE + timedelta(days=2),
                "submissions": [sub(AWARE + timedelta(days=1), FINAL_REPORT)],
            },
            "before a corrective or mitigating measure",
        ),
        ({"aware": None, "submissions": [sub(AWARE, EARLY_WARNING)]}, "no awareness time"),
        ({"aware": None, "intermediate_requests": [IntermediateRequest(AWARE, AWARE)]}, "no awareness time"),
        (
            {"intermediate_requests": [IntermediateRequest(AWARE + timedelta(days=2), AWARE + timedelta(days=1))]},
            "intermediate report 1 is due before it was requested",
        ),
        (
            {
                "intermediate_requests": [IntermediateRequest(AWARE + timedelta(days=2), AWARE + timedelta(days=3))],
                "submissions": [sub(AWARE + timedelta(days=1), intermediate_stage(1))],
            },
            "submitted before it was requested",
        ),
    ],
)
def test_facts_that_do_not_fit_are_refused_with_one_line(facts: dict[str, Any], message: str) -> None:
    with pytest.raises(ClockError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        clocks(**facts)
    assert isinstance(raised.value, ValueError)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "facts",
    [
        {"submissions": [sub(AWARE, FINAL_REPORT)]},
        {"submissions": [sub(AWARE + timedelta(hours=5), NOTIFICATION), sub(AWARE + timedelta(hours=4), FINAL_REPORT)]},
    ],
)
def test_an_incidents_final_report_before_its_notification_is_refused(facts: dict[str, Any]) -> None:
    with pytest.raises(ClockError, match="before the incident notification"):
        clocks(INCIDENT, **facts)


def test_a_measure_time_on_an_incident_is_refused() -> None:
    with pytest.raises(ClockError, match="only an actively exploited vulnerability's final report"):
        clocks(INCIDENT, measure_available_at=AWARE)


# Properties.

ZONES = [BERLIN, "Europe/Lisbon", "Europe/Helsinki", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo", "UTC"]
instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))
zones = st.sampled_from(ZONES)


def one_month_on(wall: datetime) -> datetime:
    """The same day of the next month, stepping back to that month's last day (written apart from the module)."""
    year, month = divmod(wall.year * 12 + wall.month, 12)
    for day in range(wall.day, min(wall.day, 28) - 1, -1):
        try:
            return wall.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    raise AssertionError(wall)


def readings(anchor: datetime, zone: str, step: Callable[[datetime], datetime]) -> tuple[datetime, list[datetime]]:
    """UTC's reading, and every instant the local reading's wall-clock time can name."""
    by_utc = step(anchor.replace(tzinfo=None)).replace(tzinfo=UTC)
    wall = step(anchor.astimezone(ZoneInfo(zone)).replace(tzinfo=None))
    return by_utc, [wall.replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC) for fold in (0, 1)]


@settings(max_examples=300, deadline=None)
@given(anchor=instants, zone=zones, recorded_in=zones, kind=st.sampled_from(list(RecordKind)))
def test_the_chosen_calendar_reading_is_never_later_than_either_reading(
    anchor: datetime, zone: str, recorded_in: str, kind: RecordKind
) -> None:
    step = one_month_on if kind is INCIDENT else (lambda wall: wall + timedelta(days=14))
    by_utc, by_zone = readings(anchor, zone, step)
    due = final_due(kind, anchor.astimezone(ZoneInfo(recorded_in)), zone)  # the zone it was recorded in: no matter
    assert due is not None
    assert due <= by_utc
    assert due <= min(by_zone)
    assert due in [by_utc, *by_zone]


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(RecordKind)),
    aware=instants,
    zone=zones,
    offsets=st.lists(st.integers(0, 90 * 24 * 3600), min_size=3, max_size=3),
    covers=st.lists(st.sets(st.sampled_from([EARLY_WARNING, NOTIFICATION, FINAL_REPORT]), min_size=1), max_size=4),
)
def test_due_times_are_never_earlier_than_their_anchors(
    kind: RecordKind, aware: datetime, zone: str, offsets: list[int], covers: list[set[str]]
) -> None:
    measure, now, notified = (aware + timedelta(seconds=offset) for offset in offsets)
    # Every submission also covers the notification, so no final report precedes it; all follow awareness.
    submissions = [sub(notified + timedelta(hours=i), *stages | {NOTIFICATION}) for i, stages in enumerate(covers)]
    facts: dict[str, Any] = {"submissions": submissions}
    if kind is VULNERABILITY:
        facts["measure_available_at"] = min(measure, notified)
    found = clocks(kind, aware=aware, zone=zone, now=now, **facts)
    for clock in found.values():
        assert clock.due_at is None or (clock.anchor is not None and clock.due_at > clock.anchor)
        assert clock.due_at is None or clock.due_at.tzinfo is UTC
        assert (clock.breached_at is not None) == (clock.state in (ClockState.OVERDUE, ClockState.BREACHED))
    final = found[FINAL_REPORT]
    if final.due_at is not None and final.anchor is not None:
        # A month is 28 to 31 days, less a day where the local date is ahead of UTC's and less a DST change.
        low, high = (
            (timedelta(days=27), timedelta(days=31))
            if kind is INCIDENT
            else (timedelta(days=14, hours=-1), timedelta(days=14))
        )
        assert final.anchor + low <= final.due_at <= final.anchor + high


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(RecordKind)),
    aware=instants,
    hours=st.lists(st.integers(0, 24 * 60), min_size=4, max_size=4),
)
def test_a_breach_or_a_due_time_once_known_never_changes(kind: RecordKind, aware: datetime, hours: list[int]) -> None:
    early, notified, first_look, second_look = (aware + timedelta(hours=h) for h in hours)
    first_look, second_look = sorted((first_look, second_look))
    made = [sub(early, EARLY_WARNING), sub(notified, NOTIFICATION)]

    def look(now: datetime) -> dict[str, Clock]:
        known = [s for s in made if s.submitted_at <= now]  # what had been recorded by then
        return clocks(kind, aware=aware, now=now, submissions=known)

    before, after = look(first_look), look(second_look)
    for stage, clock in before.items():
        if clock.breached_at is not None:
            assert after[stage].breached_at == clock.breached_at
        if clock.due_at is not None:
            assert after[stage].due_at == clock.due_at
