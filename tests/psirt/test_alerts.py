"""Nobody misses a clock: a clock that starts, comes due within six hours or passes its due time reaches the
product's officers by e-mail (a real SMTP server) and its webhooks (a real receiver checking the signature),
once per case, stage and event; the worker's sweep moves clocks that time alone has moved."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.outbox.models import OutboxMessage
from sdl_tracker.outbox.services import add_webhook
from sdl_tracker.outbox.worker import deliver_due
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.alerts import DUE_SOON, STARTED, clock_events
from sdl_tracker.psirt.models import ReportClock
from sdl_tracker.psirt.rules import Clock, ClockState
from sdl_tracker.psirt.services import create_case, refresh_clocks
from sdl_tracker.psirt.sweep import clocks_due
from tests.factories import OPERATOR, make_product, member
from tests.outbox.conftest import Inbox, Receiver
from tests.outbox.conftest import app_config as app_config  # e-mail through the test's SMTP server
from tests.outbox.conftest import inbox as inbox
from tests.outbox.conftest import receiver as receiver
from tests.outbox.conftest import smtp_server as smtp_server

pytestmark = pytest.mark.db


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


@pytest.fixture
def plc(session: Session, receiver: Receiver) -> Product:
    product = make_product(session, "PLC")
    member(session, product, "security_officer", "so@example.com")
    member(session, product, "developer", "dev@example.com")
    receiver.secret = add_webhook(session, OPERATOR, product.id, url=receiver.url()).secret
    session.commit()
    return product


def keys(session: Session) -> list[str]:
    """The PSIRT events queued (the DM records' review requests go by e-mail too)."""
    found = {m.dedupe_key.split(":", 2)[2] for m in session.scalars(select(OutboxMessage))}
    return sorted(key.rpartition(":")[0] for key in found if key.startswith("psirt:"))  # without the due time


def test_an_overdue_clock_reaches_the_officers_and_the_webhooks_once(
    app: Flask, session: Session, plc: Product, inbox: Inbox, receiver: Receiver
) -> None:
    case = create_case(
        session,
        OPERATOR,
        plc.id,
        kind="vulnerability",
        title="Exploited overflow",
        source="coordinator",
        received_at=ago(hours=30),
        facts={"aware_at": ago(hours=30)},
    )
    session.commit()
    assert keys(session) == [
        f"psirt:{case.id}:early-warning:overdue",
        f"psirt:{case.id}:early-warning:started",
        f"psirt:{case.id}:notification:started",
    ]
    refresh_clocks(session, OPERATOR, case)  # again: nothing new to say
    session.commit()
    assert len(keys(session)) == 3
    assert deliver_due(app_db(app)).sent >= 6  # three e-mails to the one officer, three events to the endpoint
    clocks = [(to, message) for to, message in inbox.received if case.reference in message["Subject"]]
    assert len(clocks) == 3 and {tuple(to) for to, _ in clocks} == {("so@example.com",)}
    subjects = sorted(" ".join(message["Subject"].split()) for _, message in clocks)  # unfolded
    assert subjects[0].startswith(f"{case.reference}: the early warning has started (due ")
    assert subjects[1].startswith(f"{case.reference}: the early warning is overdue (due ")
    assert all(d.signature_valid for d in receiver.deliveries)
    events = sorted(json.loads(d.body)["event"] for d in receiver.deliveries)
    assert events == ["psirt.clock.overdue", "psirt.clock.started", "psirt.clock.started"]


def test_the_sweep_moves_a_clock_into_due_soon_without_anyone_looking(session: Session, plc: Product) -> None:
    case = create_case(
        session,
        OPERATOR,
        plc.id,
        kind="vulnerability",
        title="Exploited overflow",
        source="coordinator",
        received_at=ago(hours=17),
        facts={"aware_at": ago(hours=17), "exercise": True},
    )
    session.commit()
    now = datetime.now(UTC)
    assert not clocks_due(session, now)  # the early warning is due in 7 h: running, nothing to move
    assert clocks_due(session, now + timedelta(hours=2))
    refresh_clocks(session, OPERATOR, case, now + timedelta(hours=2))
    state = session.scalar(select(ReportClock.state).where(ReportClock.stage == "early-warning"))
    assert state is ClockState.DUE_SOON and f"psirt:{case.id}:early-warning:due-soon" in keys(session)
    refresh_clocks(session, OPERATOR, case, now + timedelta(hours=3))
    assert keys(session).count(f"psirt:{case.id}:early-warning:due-soon") == 1  # told once
    subject = session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.dedupe_key.like(f"email:%:psirt:{case.id}:%"))
    ).first()
    assert subject is not None and subject.startswith("[EXERCISE] ")
    assert clocks_due(session, now + timedelta(hours=8)) and not clocks_due(session, now + timedelta(hours=3))


def _clock(state: ClockState, due: datetime | None) -> Clock:
    return Clock("notification", "Notification", due, state, None, None, None, "")


def test_what_changed_for_people() -> None:
    due = datetime(2026, 12, 5, 12, tzinfo=UTC)
    corrected = due + timedelta(hours=5)
    assert clock_events((None, None), _clock(ClockState.RUNNING, due)) == [STARTED]
    assert clock_events((ClockState.RUNNING, due), _clock(ClockState.DUE_SOON, due)) == [DUE_SOON]
    assert clock_events((ClockState.DUE_SOON, due), _clock(ClockState.DUE_SOON, due)) == []
    assert clock_events((ClockState.DUE_SOON, due), _clock(ClockState.OVERDUE, due)) == []  # told as a breach
    assert clock_events((ClockState.OVERDUE, due), _clock(ClockState.RUNNING, corrected)) == []
    assert clock_events((ClockState.RUNNING, due), _clock(ClockState.RUNNING, corrected)) == [STARTED]
    assert clock_events((None, None), _clock(ClockState.NOT_STARTED, None)) == []
    assert clock_events((ClockState.RUNNING, due), _clock(ClockState.SUBMITTED, due)) == []
