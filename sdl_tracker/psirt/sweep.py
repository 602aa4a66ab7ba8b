"""The worker's sweep of the reporting clocks: a clock's state moves by time alone (into the due-soon window,
past its due time), so a job refreshes the cases whose clocks have moved, recording breaches and telling
people (alerts.py), whether or not anyone opens a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..db import locked, utcnow
from ..jobs.registry import JobContext, register
from .models import PsirtCase, ReportClock
from .rules import DUE_SOON_WITHIN, ClockState
from .services import refresh_clocks

CLOCK_JOB = "psirt.clocks"


def _changing(now: datetime) -> Any:
    """Open clocks whose state moves by time alone by `now`: into the due-soon window, or past their due time."""
    return and_(
        ReportClock.open.is_(True),
        ReportClock.due_at.is_not(None),
        or_(
            and_(ReportClock.state == ClockState.RUNNING, ReportClock.due_at <= now + DUE_SOON_WITHIN),
            and_(ReportClock.state != ClockState.OVERDUE, ReportClock.due_at < now),
        ),
    )


def clocks_due(session: Session, now: datetime) -> bool:
    """Whether a clock's state has moved by time since it was kept (the worker's sweep asks every 15 s)."""
    return session.scalar(select(ReportClock.id).where(_changing(now)).limit(1)) is not None


def _run(context: JobContext) -> dict[str, Any]:
    """Refresh each case whose clock moved, one short transaction per case (breaches recorded, people told)."""
    now = utcnow()
    with context.read() as session:
        case_ids = sorted(set(session.scalars(select(ReportClock.case_id).where(_changing(now)))))
    breaches = 0
    for case_id in case_ids:
        with context.write() as session:
            case = session.get(PsirtCase, case_id)
            if case is not None:
                case = locked(session, case)  # an officer's change at the same moment: one after the other
                breaches += len(refresh_clocks(session, context.actor(session), case))
    return {"cases": len(case_ids), "breaches": breaches}


def register_jobs() -> None:
    """Make `psirt.clocks` runnable, and let workers queue it when a clock's state moves by time."""
    register(CLOCK_JOB, _run, due=clocks_due)
