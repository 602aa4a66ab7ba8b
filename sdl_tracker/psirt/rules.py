"""CRA Article 14 reporting clocks: a pure decision over a record's recorded facts and `now`.

Two kinds of record run clocks: an actively exploited vulnerability (Art. 14(1)-(2)) and a severe incident
having an impact on the security of the product (Art. 14(3)-(4)); the CSIRT may ask for intermediate
reports (Art. 14(6)). Where a deadline can be read two ways the earlier instant is taken: docs/psirt.md
("Article 14 clocks: how deadlines are read") gives each reading and why, tests/psirt/test_clocks.py
holds them. Every time given must be timezone-aware; every time returned is in UTC.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EARLY_WARNING = "early-warning"
NOTIFICATION = "notification"
FINAL_REPORT = "final-report"
INTERMEDIATE_PREFIX = "intermediate-"  # then the request's number, from 1, in the order given
EARLY_WARNING_WITHIN = timedelta(hours=24)
NOTIFICATION_WITHIN = timedelta(hours=72)
FINAL_REPORT_DAYS = 14  # after a corrective or mitigating measure is available (vulnerabilities only)
DUE_SOON_WITHIN = timedelta(hours=6)


class RecordKind(enum.StrEnum):
    """What an Article 14 record reports."""

    VULNERABILITY = "actively-exploited-vulnerability"  # Art. 14(1)-(2)
    INCIDENT = "severe-incident"  # Art. 14(3)-(5)


class ClockState(enum.StrEnum):
    """Where one reporting clock stands at `now`."""

    NOT_STARTED = "not started"  # its anchor is not recorded yet, so it has no due time
    RUNNING = "running"
    DUE_SOON = "due soon"  # not submitted, due within the threshold
    OVERDUE = "overdue"  # not submitted, past due
    SUBMITTED = "submitted"  # at or before its due time
    BREACHED = "breached"  # submitted after its due time


OPEN_STATES = frozenset({ClockState.RUNNING, ClockState.DUE_SOON, ClockState.OVERDUE})


class ClockError(ValueError):
    """Recorded facts the clocks cannot be computed from; the message is one line."""


@dataclass(frozen=True)
class Submission:
    """One report made on the Single Reporting Platform: when, and every stage it covers."""

    submitted_at: datetime
    stages: frozenset[str]


@dataclass(frozen=True)
class IntermediateRequest:
    """The CSIRT's request for an intermediate report (Art. 14(6)), with the due time it set."""

    requested_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Clock:
    """One reporting stage at `now`: when it is due, computed from what, and how it stands."""

    stage: str  # early-warning, notification, final-report, intermediate-1, ...
    label: str
    due_at: datetime | None  # None: not yet defined
    state: ClockState
    submitted_at: datetime | None  # the first submission that covers the stage
    breached_at: datetime | None  # the due time once it was missed, submitted late or not at all; never cleared
    anchor: datetime | None  # the instant the due time is computed from
    reading: str  # how the due time was read, in one line

    @property
    def is_open(self) -> bool:
        """Whether the stage still waits for a submission while its clock runs."""
        return self.state in OPEN_STATES


# (label, Art. 14 point) of the early warning, the notification and the final report of each kind.
STAGES: Mapping[RecordKind, tuple[tuple[str, str], ...]] = {
    RecordKind.VULNERABILITY: (
        ("Early warning", "Art. 14(2)(a)"),
        ("Vulnerability notification", "Art. 14(2)(b)"),
        ("Final report", "Art. 14(2)(c)"),
    ),
    RecordKind.INCIDENT: (
        ("Early warning", "Art. 14(4)(a)"),
        ("Incident notification", "Art. 14(4)(b)"),
        ("Final report", "Art. 14(4)(c)"),
    ),
}


def intermediate_stage(number: int) -> str:
    """The stage id of the `number`th intermediate report requested (from 1)."""
    return f"{INTERMEDIATE_PREFIX}{number}"


def reporting_clocks(
    kind: RecordKind,
    *,
    aware_at: datetime | None,
    zone: str,
    now: datetime,
    submissions: Sequence[Submission] = (),
    measure_available_at: datetime | None = None,
    intermediate_requests: Sequence[IntermediateRequest] = (),
    due_soon_within: timedelta = DUE_SOON_WITHIN,
) -> tuple[Clock, ...]:
    """Every reporting clock of one record at `now`, in stage order; ClockError when the facts do not fit."""
    place = _zone(zone)
    now = _utc("now", now)
    aware = None if aware_at is None else _utc("the awareness time", aware_at)
    measure = None if measure_available_at is None else _utc("the measure's availability", measure_available_at)
    requests = [
        IntermediateRequest(_utc("a request's time", r.requested_at), _utc("a request's due time", r.due_at))
        for r in intermediate_requests
    ]
    if due_soon_within < timedelta(0):
        raise ClockError("the due-soon threshold must not be negative")
    first = _first_submissions(submissions, len(requests))
    _check_facts(kind, aware, measure, requests, first)

    (warning_label, warning_point), (notification_label, notification_point), (final_label, final_point) = STAGES[kind]

    def clock(stage: str, label: str, anchor: datetime | None, due: datetime | None, reading: str) -> Clock:
        return _clock(stage, label, anchor, due, reading, first.get(stage), now, due_soon_within)

    if aware is None:
        unknown = "not started: no awareness time recorded"
        return (
            clock(EARLY_WARNING, warning_label, None, None, unknown),
            clock(NOTIFICATION, notification_label, None, None, unknown),
            clock(FINAL_REPORT, final_label, None, None, unknown),
        )
    notification_due = aware + NOTIFICATION_WITHIN
    if kind is RecordKind.VULNERABILITY:
        final_anchor, final_due, final_reading = _vulnerability_final(measure, place, final_point)
    else:
        final_anchor, final_due, final_reading = _incident_final(
            first.get(NOTIFICATION), notification_due, now, place, final_point
        )
    return (
        clock(
            EARLY_WARNING,
            warning_label,
            aware,
            aware + EARLY_WARNING_WITHIN,
            _hours(EARLY_WARNING_WITHIN, warning_point),
        ),
        clock(
            NOTIFICATION, notification_label, aware, notification_due, _hours(NOTIFICATION_WITHIN, notification_point)
        ),
        clock(FINAL_REPORT, final_label, final_anchor, final_due, final_reading),
        *(
            clock(
                intermediate_stage(number),
                f"Intermediate report {number}",
                request.requested_at,
                request.due_at,
                f"the due time the CSIRT set in its request of {_text(request.requested_at)} (Art. 14(6))",
            )
            for number, request in enumerate(requests, 1)
        ),
    )


def next_deadline(clocks: Iterable[Clock]) -> Clock | None:
    """The open clock due first (an overdue one before any other), or None when none is open."""
    waiting = [
        (clock.due_at, position, clock)
        for position, clock in enumerate(clocks)
        if clock.is_open and clock.due_at is not None  # an open clock always has a due time
    ]
    return min(waiting, key=lambda entry: entry[:2])[2] if waiting else None


def _hours(within: timedelta, point: str) -> str:
    return f"awareness + exactly {within // timedelta(hours=1)} h of elapsed time ({point})"


def _vulnerability_final(
    measure: datetime | None, place: ZoneInfo, point: str
) -> tuple[datetime | None, datetime | None, str]:
    if measure is None:
        return None, None, f"not yet defined: no corrective or mitigating measure recorded as available ({point})"
    due, which = _calendar_due(measure, place, _fourteen_days_later)
    return measure, due, f"{FINAL_REPORT_DAYS} calendar days after the measure became available, {which} ({point})"


def _incident_final(
    notified: datetime | None, notification_due: datetime, now: datetime, place: ZoneInfo, point: str
) -> tuple[datetime | None, datetime | None, str]:
    # Anchored at the earlier of the actual submission and the notification's due time: a late notification
    # never moves the final report later, and once the due time passed the anchor is known without one.
    if notified is not None and notified <= notification_due:
        anchor, source = notified, "the notification's submission"
    elif notified is not None:
        anchor, source = notification_due, "the notification's due time, earlier than its late submission"
    elif now >= notification_due:
        anchor, source = notification_due, "the notification's due time, passed without a submission"
    else:
        return (
            None,
            None,
            "not yet defined: one month after the notification is submitted or falls due "
            f"({_text(notification_due)}), whichever comes first ({point})",
        )
    due, which = _calendar_due(anchor, place, _one_month_later)
    return anchor, due, f"one calendar month after {source}, {which} ({point})"


def restate(clock: Clock, due_at: datetime, now: datetime, due_soon_within: timedelta = DUE_SOON_WITHIN) -> Clock:
    """The clock with an earlier due time kept from an earlier reading of the same anchor (a reading never moves a
    deadline later), its state read again at `now`."""
    reading = f"{clock.reading}; kept at {due_at:%Y-%m-%d %H:%M} UTC, as an earlier reading of the same anchor gave"
    return _clock(clock.stage, clock.label, clock.anchor, due_at, reading, clock.submitted_at, now, due_soon_within)


def _clock(
    stage: str,
    label: str,
    anchor: datetime | None,
    due: datetime | None,
    reading: str,
    submitted: datetime | None,
    now: datetime,
    due_soon_within: timedelta,
) -> Clock:
    if due is None:
        # The checks refuse a submission for a stage whose anchor is missing, so nothing is lost here.
        return Clock(stage, label, None, ClockState.NOT_STARTED, submitted, None, anchor, reading)
    if submitted is not None:
        state = ClockState.SUBMITTED if submitted <= due else ClockState.BREACHED
    elif now > due:
        state = ClockState.OVERDUE
    else:
        state = ClockState.DUE_SOON if due - now <= due_soon_within else ClockState.RUNNING
    missed = state in (ClockState.BREACHED, ClockState.OVERDUE)
    return Clock(stage, label, due, state, submitted, due if missed else None, anchor, reading)


def _calendar_due(anchor: datetime, place: ZoneInfo, step: Callable[[datetime], datetime]) -> tuple[datetime, str]:
    """A calendar period read on UTC's wall clock and on the main establishment's: the earlier instant, and which."""
    by_utc = step(anchor.replace(tzinfo=None)).replace(tzinfo=UTC)
    by_place = _earliest_instant(step(anchor.astimezone(place).replace(tzinfo=None)), place)
    if by_place < by_utc:
        return by_place, f"read in {place.key}, earlier than in UTC"
    if by_utc < by_place:
        return by_utc, f"read in UTC, earlier than in {place.key}"
    return by_utc, f"the same read in UTC and in {place.key}"


def _earliest_instant(wall: datetime, place: ZoneInfo) -> datetime:
    """The earlier of the instants a wall-clock time can name: a skipped time names two, a repeated one two."""
    return min(wall.replace(tzinfo=place, fold=fold).astimezone(UTC) for fold in (0, 1))


def _one_month_later(wall: datetime) -> datetime:
    """The same day and time of the next month, or that month's last day when it is shorter (31 Jan -> 28/29 Feb)."""
    year, month = (wall.year + 1, 1) if wall.month == 12 else (wall.year, wall.month + 1)
    return wall.replace(year=year, month=month, day=min(wall.day, calendar.monthrange(year, month)[1]))


def _fourteen_days_later(wall: datetime) -> datetime:
    """The same time, 14 calendar days on (on a naive wall clock, so across a DST change too)."""
    return wall + timedelta(days=FINAL_REPORT_DAYS)


def _first_submissions(submissions: Sequence[Submission], requests: int) -> dict[str, datetime]:
    """The first submission time of every stage submitted; ClockError for an unknown or missing stage."""
    known = {EARLY_WARNING, NOTIFICATION, FINAL_REPORT} | {intermediate_stage(n) for n in range(1, requests + 1)}
    first: dict[str, datetime] = {}
    for submission in submissions:
        at = _utc("a submission's time", submission.submitted_at)
        if not submission.stages:
            raise ClockError(f"the submission of {_text(at)} covers no stage")
        for stage in submission.stages:
            if stage not in known:
                raise ClockError(f"unknown stage {stage!r}; known: {', '.join(sorted(known))}")
            first[stage] = min(at, first.get(stage, at))
    return first


def _check_facts(
    kind: RecordKind,
    aware: datetime | None,
    measure: datetime | None,
    requests: Sequence[IntermediateRequest],
    first: Mapping[str, datetime],
) -> None:
    """Refuse facts that contradict each other (the first submission of a stage stands for all of its)."""
    if kind is RecordKind.INCIDENT and measure is not None:
        raise ClockError("a measure's availability anchors only an actively exploited vulnerability's final report")
    if aware is None:
        if first or requests:
            raise ClockError("submissions or requests are recorded but no awareness time")
        return
    for stage, at in sorted(first.items(), key=lambda item: item[1]):
        if at < aware:
            raise ClockError(f"the {stage} submission of {_text(at)} is earlier than the awareness {_text(aware)}")
    final = first.get(FINAL_REPORT)
    if kind is RecordKind.VULNERABILITY and final is not None and (measure is None or final < measure):
        raise ClockError("a final report is recorded before a corrective or mitigating measure is available")
    notified = first.get(NOTIFICATION)
    if kind is RecordKind.INCIDENT and final is not None and (notified is None or final < notified):
        raise ClockError("a final report is recorded before the incident notification")
    for number, request in enumerate(requests, 1):
        if request.due_at < request.requested_at:
            raise ClockError(f"intermediate report {number} is due before it was requested")
        answered = first.get(intermediate_stage(number))
        if answered is not None and answered < request.requested_at:
            raise ClockError(f"intermediate report {number} is recorded as submitted before it was requested")


def _zone(name: str) -> ZoneInfo:
    """The IANA time zone of the main establishment; ClockError for a name that is not one."""
    try:
        return ZoneInfo(name)
    # Not found; not a relative key ("", "../x", an absolute path); a folder or a file that is not a zone.
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ClockError(f"unknown time zone {name!r}") from error


def _utc(what: str, value: datetime) -> datetime:
    """An aware datetime in UTC; ClockError (a ValueError) for a naive one, whose instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ClockError(f"{what} has no time zone: {value.isoformat()}")
    return value.astimezone(UTC)


def _text(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")
