"""Nobody misses a clock: when a case's clock starts, comes due within the threshold, or passes its due time
unsubmitted, the product's security officers get an e-mail and the product's webhooks an event, through the
outbox (sent after the transaction commits, each at most once per case, stage and event). The worker's sweep
(sweep.py) refreshes the clocks that time has moved, so "due soon" and "overdue" arrive without anyone looking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Membership, Role, User
from ..outbox.services import queue_email, queue_webhook_event
from ..zones import wall_time
from .models import PsirtCase
from .rules import Clock, ClockState

STARTED, DUE_SOON, OVERDUE = "started", "due-soon", "overdue"
WORDS = {STARTED: "has started", DUE_SOON: "is due soon", OVERDUE: "is overdue"}


def clock_events(before: tuple[ClockState | None, datetime | None], clock: Clock) -> list[str]:
    """What changed for people between the clock's last kept (state, due time) and the clock now: it started
    (got a due time), or came due soon (a corrected due time starts and comes due anew). Missed due times are
    told where they are recorded as breaches (services.refresh_clocks)."""
    state, due_at = before
    events = []
    if clock.due_at is not None and due_at != clock.due_at and clock.is_open and state is not ClockState.OVERDUE:
        events.append(STARTED)
    if clock.state is ClockState.DUE_SOON and (state is not ClockState.DUE_SOON or due_at != clock.due_at):
        events.append(DUE_SOON)
    return events


def _officers(session: Session, product_id: int) -> list[str]:
    return list(
        session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.product_id == product_id,
                Membership.role == Role.SECURITY_OFFICER,
                User.disabled.is_(False),
            )
            .order_by(User.email)
        )
    )


def announce(session: Session, case: PsirtCase, clock: Clock, event: str) -> None:
    """Queue the e-mails to the product's officers and the webhook event for one clock event (in the caller's
    transaction; the outbox keeps each to once per case, stage and event)."""
    due_key = int(clock.due_at.timestamp()) if clock.due_at else 0
    key = f"psirt:{case.id}:{clock.stage}:{event}:{due_key}"  # a corrected due time is told anew
    exercise = "[EXERCISE] " if case.exercise else ""
    due = wall_time(clock.due_at, "UTC") if clock.due_at else "not yet defined"
    subject = f"{exercise}{case.reference}: the {clock.label.lower()} {WORDS[event]} (due {due})"
    body = "\n".join(
        [
            f"{exercise}{case.reference}: {case.title}",
            "",
            f"{clock.label}: {clock.state.value}, due {due}.",
            f"How the due time was read: {clock.reading}",
            "",
            "The tracker never submits a report: record the submission on the case once it is made.",
        ]
    )
    for address in _officers(session, case.product_id):
        queue_email(session, key=key, to=address, subject=subject, body=body, product_id=case.product_id)
    data: dict[str, Any] = {
        "case": case.reference,
        "case_id": case.id,
        "title": case.title,
        "stage": clock.stage,
        "state": clock.state.value,
        "due_at": clock.due_at,
        "exercise": case.exercise,
    }
    queue_webhook_event(session, key=key, product_id=case.product_id, event=f"psirt.clock.{event}", data=data)
