"""A case's Article 14 clocks drawn as a timeline in server-rendered SVG (no JavaScript, no CDN), and how long
is left until a deadline, in words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from ..zones import wall_time
from .rules import Clock, ClockState

WIDTH, ROW, LABEL, RIGHT, TOP = 640, 22, 170, 16, 18


def clock_timeline(clocks: Sequence[Clock], now: datetime, zone: str = "UTC") -> Markup:
    """One row per clock on a shared time axis: a bar from its anchor to its due time, the elapsed part filled in
    its state's colour (overdue runs on past the due time to now), a dot where it was submitted, a line at now.
    A clock without a due time is a dashed line: not yet defined. Times in its tooltips read on `zone`'s clock."""
    moments = [now, *(m for c in clocks for m in (c.anchor, c.due_at, c.submitted_at) if m is not None)]
    start, end = min(moments), max(moments)
    span = max(end - start, timedelta(hours=1))
    start, end = start - span * 0.03, end + span * 0.03
    scale = (WIDTH - LABEL - RIGHT) / (end - start).total_seconds()
    height = TOP + len(clocks) * ROW + 6

    def x(moment: datetime) -> float:
        return LABEL + (moment - start).total_seconds() * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="clock-timeline" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="Reporting clocks on a time line, now at {escape(wall_time(now, zone))}">'
    ]
    for index, clock in enumerate(clocks):
        y = TOP + index * ROW
        parts.append(f'<text x="4" y="{y + 14}" class="label">{escape(clock.label)}</text>')
        state = clock.state.value.replace(" ", "-")
        if clock.due_at is None:
            parts.append(
                f'<line x1="{x(clock.anchor or start):.1f}" y1="{y + 10}" x2="{WIDTH - RIGHT}" y2="{y + 10}" '
                f'class="undefined"><title>{escape(clock.label)}: {escape(clock.reading)}</title></line>'
            )
            continue
        begin = clock.anchor or clock.due_at
        parts.append(
            f'<rect x="{x(begin):.1f}" y="{y + 4}" width="{max(x(clock.due_at) - x(begin), 1):.1f}" height="12" '
            f'rx="2" class="span"/>'
        )
        reached = clock.submitted_at or now
        if clock.state is ClockState.OVERDUE:
            reached = now
        filled = max(x(min(reached, end)) - x(begin), 1)
        parts.append(
            f'<rect x="{x(begin):.1f}" y="{y + 4}" width="{filled:.1f}" height="12" rx="2" class="fill {state}">'
            f"<title>{escape(clock.label)}: {escape(clock.state.value)}, "
            f"due {escape(wall_time(clock.due_at, zone))}</title>"
            "</rect>"
        )
        parts.append(
            f'<line x1="{x(clock.due_at):.1f}" y1="{y + 1}" x2="{x(clock.due_at):.1f}" y2="{y + 19}" class="due"/>'
        )
        if clock.submitted_at is not None:
            parts.append(
                f'<circle cx="{x(clock.submitted_at):.1f}" cy="{y + 10}" r="4" class="submitted">'
                f"<title>submitted {escape(wall_time(clock.submitted_at, zone))}</title></circle>"
            )
    parts.append(f'<line x1="{x(now):.1f}" y1="4" x2="{x(now):.1f}" y2="{height - 2}" class="now"/>')
    parts.append(f'<text x="{x(now) + 3:.1f}" y="12" class="axis">now</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and escaped labels only


def remaining(due: datetime | None, now: datetime) -> str:
    """How long until `due` (or since), in days, hours and minutes: "in 5 h 12 min", "overdue by 1 d 3 h"."""
    if due is None:
        return "not yet defined"
    left = due - now
    words = _duration(abs(left))
    return f"in {words}" if left >= timedelta(0) else f"overdue by {words}"


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
