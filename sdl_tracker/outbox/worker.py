"""Delivering the outbox, in phases: claim due messages in a short transaction, send them outside any
transaction, then record each outcome in another short one.

At most once, with one honest exception: a message recorded as sent is never sent again, but a worker that
dies after sending and before recording leaves its claim to run out, and the message is then sent once more.
Receivers recognise the repeat by its delivery id (the `X-SDL-Tracker-Delivery` header, an e-mail's
Message-ID), which is the same on every attempt.
"""

from __future__ import annotations

import smtplib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import Database, utcnow
from ..installation import SmtpRelay, installation
from ..jobs.registry import JobContext, register
from .models import Channel, MessageState, OutboxMessage, WebhookEndpoint
from .rules import retry_at, webhook_headers
from .services import DELIVER, endpoint_secret
from .transport import Mailer, mail_error, post_webhook

BATCH = 10
# A claimed message is left alone this long (a batch's sends take at most a minute); a worker that died holding
# it lets it come due again after that.
CLAIM = timedelta(minutes=5)
# Batches one job delivers before it ends; what is left is the next job's (the sweep queues it).
MAX_BATCHES = 50


@dataclass(frozen=True)
class Claimed:
    """A message taken for one attempt, with what sending it needs (read in the claim's transaction)."""

    id: int
    channel: Channel
    attempt: int
    delivery_id: str
    target: str
    subject: str
    body: str
    url: str = ""
    secret: str = field(default="", repr=False)


@dataclass
class Delivered:
    """What one delivery run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def has_due(session: Session, now: datetime) -> bool:
    """Whether a message waits whose time has come (the worker's sweep asks, for retries)."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.state == MessageState.PENDING, OutboxMessage.next_attempt_at <= now
    )
    return session.scalar(query.limit(1)) is not None


def _unsendable(session: Session, message: OutboxMessage, endpoint: WebhookEndpoint | None) -> str | None:
    """Why a message can no longer be sent at all (given up at once), or None."""
    if message.channel is Channel.EMAIL:
        return None if installation(session).smtp is not None else "e-mail is no longer configured on this installation"
    if endpoint is None or endpoint.removed_at is not None:
        return "the endpoint was removed"
    if not endpoint.enabled:
        return "the endpoint was disabled"
    return None


def claim_due(session: Session, now: datetime, *, limit: int = BATCH) -> tuple[list[Claimed], int]:
    """Take up to `limit` due messages for an attempt each (counted now; FOR UPDATE SKIP LOCKED on PostgreSQL, so
    workers never take the same one); give up those that can no longer be sent. (claimed, how many were given up)."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state == MessageState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    endpoint_ids = [int(m.target) for m in rows if m.channel is Channel.WEBHOOK]
    endpoints = {e.id: e for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids)))}
    claimed: list[Claimed] = []
    given_up = 0
    for message in rows:
        endpoint = endpoints.get(int(message.target)) if message.channel is Channel.WEBHOOK else None
        why_not = _unsendable(session, message, endpoint)
        secret = ""
        if endpoint is not None and why_not is None:
            try:
                secret = endpoint_secret(session, endpoint)
            except ValueError:
                why_not = "the endpoint's secret does not open with this installation's secrets key"
        if why_not is not None:
            message.state, message.next_attempt_at, message.last_error = MessageState.FAILED, None, why_not
            given_up += 1
            continue
        message.attempts += 1
        message.next_attempt_at = now + CLAIM
        claimed.append(
            Claimed(
                id=message.id,
                channel=message.channel,
                attempt=message.attempts,
                delivery_id=message.delivery_id,
                target=message.target,
                subject=message.subject,
                body=message.body,
                url=endpoint.url if endpoint is not None else "",
                secret=secret,
            )
        )
    session.flush()
    return claimed, given_up


def _send_mail(messages: list[Claimed], relay: SmtpRelay | None) -> dict[int, str | None]:
    """Hand the e-mails to the relay over one connection; each one's error, or None once the relay took it."""
    if not messages:
        return {}
    if relay is None:
        return dict.fromkeys((m.id for m in messages), "e-mail is no longer configured on this installation")
    outcomes: dict[int, str | None] = {}
    try:
        with Mailer(relay) as mailer:
            for message in messages:
                try:
                    mailer.send(
                        to=message.target, subject=message.subject, body=message.body, delivery_id=message.delivery_id
                    )
                    outcomes[message.id] = None
                except (smtplib.SMTPException, OSError) as exc:
                    outcomes[message.id] = mail_error(exc)
    except (smtplib.SMTPException, OSError) as exc:  # no connection, or it broke off: the rest failed with it
        for message in messages:
            outcomes.setdefault(message.id, mail_error(exc))
    return outcomes


def _post(message: Claimed) -> str | None:
    """Post one webhook message, signed now (the timestamp is the attempt's, the body the same every time)."""
    body = message.body.encode()
    timestamp = int(utcnow().timestamp())
    headers = webhook_headers(
        event=message.subject, delivery_id=message.delivery_id, secret=message.secret, timestamp=timestamp, body=body
    )
    return post_webhook(message.url, headers, body)


def send(claimed: list[Claimed], relay: SmtpRelay | None) -> dict[int, str | None]:
    """Send every claimed message (outside any transaction): each one's error, or None when it was delivered."""
    outcomes = _send_mail([m for m in claimed if m.channel is Channel.EMAIL], relay)
    outcomes.update({m.id: _post(m) for m in claimed if m.channel is Channel.WEBHOOK})
    return outcomes


def settle(session: Session, claimed: list[Claimed], outcomes: dict[int, str | None], now: datetime) -> Delivered:
    """Record each attempt's outcome: sent for good, tried again later (1 minute doubling to an hour), or given
    up after the last attempt with its error kept. A message another worker claimed meanwhile (this claim ran
    out) keeps that worker's record, except that it was sent, which always counts."""
    done = Delivered()
    for message in claimed:
        error = outcomes[message.id]
        pending = (OutboxMessage.id == message.id) & (OutboxMessage.state == MessageState.PENDING)
        if error is None:
            values: dict[str, Any] = {
                "state": MessageState.SENT,
                "sent_at": now,
                "next_attempt_at": None,
                "last_error": "",
            }
            done.sent += 1
        else:
            later = retry_at(message.attempt, now)
            state = MessageState.PENDING if later is not None else MessageState.FAILED
            values = {"state": state, "next_attempt_at": later, "last_error": error}
            pending &= OutboxMessage.attempts == message.attempt
            if later is None:
                done.failed += 1
            else:
                done.retrying += 1
        session.execute(
            update(OutboxMessage).where(pending).values(**values).execution_options(synchronize_session=False)
        )
    return done


def deliver_due(database: Database, *, max_batches: int = MAX_BATCHES) -> Delivered:
    """Deliver what is due, a batch at a time, each in its three phases; what it did."""
    total = Delivered()
    for _ in range(max_batches):
        with database.unit_of_work() as session:
            claimed, given_up = claim_due(session, installation(session).now())
            relay = installation(session).smtp
        total.failed += given_up
        if not claimed and not given_up:
            break
        outcomes = send(claimed, relay)
        with database.unit_of_work() as session:
            done = settle(session, claimed, outcomes, installation(session).now())
        total.sent, total.retrying, total.failed = (
            total.sent + done.sent,
            total.retrying + done.retrying,
            total.failed + done.failed,
        )
    return total


def _run(context: JobContext) -> dict[str, Any]:
    """The delivery job: every message due now (a message's own failure is recorded on it, not on the job)."""
    return asdict(deliver_due(context.database))


def register_jobs() -> None:
    """Make `notifications.deliver` runnable, and let workers queue it when retries come due."""
    register(DELIVER, _run, due=has_due)
