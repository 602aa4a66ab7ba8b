"""The outbox end to end: queued in a transaction, sent by the worker after it committed, through a real SMTP
server and a real webhook receiver that checks the signature; retries, give-up, no redirects, deduplication."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.db import utcnow
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import submit_evidence
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.worker import run_worker
from sdl_tracker.outbox.models import Channel, MessageState, OutboxMessage
from sdl_tracker.outbox.rules import MAX_ATTEMPTS
from sdl_tracker.outbox.services import (
    DELIVER,
    add_webhook,
    queue_email,
    queue_webhook_event,
    remove_webhook,
    set_webhook_enabled,
)
from sdl_tracker.outbox.worker import deliver_due
from sdl_tracker.products.models import Product
from tests.factories import OPERATOR, attach, make_product, member
from tests.outbox.conftest import SENDER, Inbox, Receiver, free_port


def _messages(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _time_passes(session: Session) -> None:
    """Every waiting message's next attempt has come (as if its pause had passed)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == MessageState.PENDING)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()


def _hooked(session: Session, receiver: Receiver, product: Product | None = None) -> Product:
    """A product posting its events to the receiver, which knows the endpoint's secret."""
    product = product or make_product(session)
    receiver.secret = add_webhook(session, OPERATOR, product.id, url=receiver.url()).secret
    session.commit()
    return product


def _event(session: Session, product: Product, key: str = "psirt:42:notification:due-soon") -> list[OutboxMessage]:
    queued = queue_webhook_event(
        session, key=key, product_id=product.id, event="psirt.clock.due-soon", data={"case": "PSIRT-2026-0042"}
    )
    session.commit()
    return queued


def test_an_email_leaves_only_after_its_transaction_committed(shared_app: Flask, inbox: Inbox) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        message = queue_email(
            session, key="psirt:42:notification:due-soon", to="officer@example.com", subject="Due soon", body="Act."
        )
        assert message is not None
        with database.unit_of_work(read_only=True) as other:  # what a worker sees meanwhile: nothing to send
            assert other.scalar(select(func.count()).select_from(OutboxMessage)) == 0
            assert other.scalar(select(func.count()).select_from(Job).where(Job.kind == DELIVER)) == 0
        assert inbox.received == []
    assert run_worker(database, once=True) == 1  # the delivery job, queued in that same transaction
    ((recipients, mail),) = inbox.received
    assert recipients == ["officer@example.com"] and mail["From"] == SENDER and mail["Subject"] == "Due soon"
    assert mail["Message-ID"] == f"<{message.delivery_id}@example.com>"  # the same on a resend
    assert mail.get_payload().strip() == "Act."
    with database.unit_of_work(read_only=True) as session:
        (sent,) = session.scalars(select(OutboxMessage))
        assert sent.state is MessageState.SENT and sent.sent_at is not None and sent.attempts == 1


def test_nothing_is_queued_when_the_transaction_rolls_back(app: Flask, session: Session, receiver: Receiver) -> None:
    product = _hooked(session, receiver)
    with pytest.raises(RuntimeError), app_db(app).unit_of_work() as unit:
        queue_email(unit, key="k:1", to="officer@example.com", subject="s", body="b", product_id=product.id)
        assert len(queue_webhook_event(unit, key="k:1", product_id=product.id, event="e.x", data={})) == 1
        raise RuntimeError("the write it belonged to failed")
    assert _messages(session) == []
    assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == DELIVER)) == 0


def test_the_same_event_is_queued_once_per_recipient_and_endpoint(session: Session, receiver: Receiver) -> None:
    product = _hooked(session, receiver)
    first = queue_email(session, key="psirt:42:early-warning", to="a@example.com", subject="s", body="b")
    assert first is not None
    assert queue_email(session, key="psirt:42:early-warning", to="A@example.com", subject="again", body="b") is None
    assert queue_email(session, key="psirt:42:early-warning", to="b@example.com", subject="s", body="b") is not None
    assert len(_event(session, product)) == 1
    assert _event(session, product) == []  # the same key again: nothing new
    second = add_webhook(session, OPERATOR, product.id, url=receiver.url("/second"))
    assert [m.target for m in _event(session, product)] == [str(second.endpoint.id)]  # only the new endpoint's
    channels = sorted(m.channel.value for m in _messages(session))
    assert channels == ["email", "email", "webhook", "webhook"]
    # One delivery job waits for all of them: each transaction joins the one not yet claimed.
    assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == DELIVER)) == 1


def test_a_webhook_is_signed_and_retried_after_a_500_until_it_is_taken(
    app: Flask, session: Session, receiver: Receiver
) -> None:
    product = _hooked(session, receiver)
    receiver.answers = [500]
    (queued,) = _event(session, product)
    before = utcnow()
    assert deliver_due(app_db(app)).retrying == 1
    (waiting,) = _messages(session)
    assert (waiting.state, waiting.attempts, waiting.last_error) == (MessageState.PENDING, 1, "HTTP 500")
    assert waiting.next_attempt_at is not None
    assert timedelta(seconds=59) <= waiting.next_attempt_at - before <= timedelta(seconds=70)  # a minute later
    assert deliver_due(app_db(app)).sent == 0  # not due yet
    _time_passes(session)
    assert deliver_due(app_db(app)).sent == 1
    (sent,) = _messages(session)
    assert (sent.state, sent.attempts, sent.last_error) == (MessageState.SENT, 2, "")
    first, second = receiver.deliveries
    assert first.signature_valid and second.signature_valid
    assert first.body == second.body == queued.body.encode()  # the same bytes, signed anew each time
    assert first.headers["x-sdl-tracker-delivery"] == second.headers["x-sdl-tracker-delivery"] == queued.delivery_id
    assert first.headers["x-sdl-tracker-event"] == "psirt.clock.due-soon"
    document = json.loads(second.body)
    assert document == {
        "id": queued.delivery_id,
        "event": "psirt.clock.due-soon",
        "product_id": product.id,
        "created_at": document["created_at"],
        "data": {"case": "PSIRT-2026-0042"},
    }


def test_a_receiver_that_is_down_is_tried_again_with_longer_pauses_until_it_answers(
    app: Flask, session: Session
) -> None:
    port = free_port()
    product = make_product(session)
    secret = add_webhook(session, OPERATOR, product.id, url=f"http://127.0.0.1:{port}/hook").secret
    session.commit()
    _event(session, product)
    for attempt, pause in ((1, 60), (2, 120)):
        before = utcnow()
        assert deliver_due(app_db(app)).retrying == 1
        (waiting,) = _messages(session)
        assert (waiting.attempts, waiting.last_error) == (attempt, "connection refused")
        assert waiting.next_attempt_at is not None
        assert timedelta(seconds=pause - 1) <= waiting.next_attempt_at - before <= timedelta(seconds=pause + 10)
        _time_passes(session)
    receiver = Receiver(port)  # back up
    receiver.secret = secret
    try:
        assert run_worker(app_db(app), once=True) >= 1  # the worker's sweep finds the retry due and queues it
        (delivery,) = receiver.deliveries
        assert delivery.signature_valid
    finally:
        receiver.close()
    (sent,) = _messages(session)
    assert (sent.state, sent.attempts) == (MessageState.SENT, 3)


def test_a_message_is_given_up_after_the_last_attempt_with_its_error_kept(
    app: Flask, session: Session, receiver: Receiver
) -> None:
    product = _hooked(session, receiver)
    receiver.answers = [503] * MAX_ATTEMPTS
    _event(session, product)
    for _ in range(MAX_ATTEMPTS - 1):
        assert deliver_due(app_db(app)).retrying == 1
        _time_passes(session)
    assert deliver_due(app_db(app)).failed == 1
    (failed,) = _messages(session)
    assert (failed.state, failed.attempts, failed.last_error) == (MessageState.FAILED, MAX_ATTEMPTS, "HTTP 503")
    assert failed.next_attempt_at is None and failed.sent_at is None
    assert len(receiver.deliveries) == MAX_ATTEMPTS
    run_worker(app_db(app), once=True)  # the job queued with the event finds nothing to send
    assert run_worker(app_db(app), once=True) == 0  # and the sweep queues no other
    assert len(receiver.deliveries) == MAX_ATTEMPTS


def test_a_redirect_is_not_followed(app: Flask, session: Session, receiver: Receiver) -> None:
    product = _hooked(session, receiver)
    receiver.answers = [302]
    _event(session, product)
    assert deliver_due(app_db(app)).retrying == 1
    (only,) = receiver.deliveries  # /elsewhere was never asked
    assert only.path == "/hook"
    (waiting,) = _messages(session)
    assert waiting.last_error == "HTTP 302: redirects are not followed"


def test_a_disabled_or_removed_endpoint_is_sent_nothing(app: Flask, session: Session, receiver: Receiver) -> None:
    product = _hooked(session, receiver)
    (endpoint_id,) = {int(m.target) for m in _event(session, product)}
    set_webhook_enabled(session, OPERATOR, endpoint_id, enabled=False)
    session.commit()
    assert _event(session, product, key="psirt:42:overdue") == []  # no enabled endpoint: nothing queued
    (given_up,) = _messages(session)
    assert (given_up.state, given_up.last_error) == (MessageState.FAILED, "the endpoint was disabled")
    set_webhook_enabled(session, OPERATOR, endpoint_id, enabled=True)
    _event(session, product, key="psirt:42:final")
    remove_webhook(session, OPERATOR, endpoint_id)
    session.commit()
    assert deliver_due(app_db(app)).sent == 0 and receiver.deliveries == []
    assert [m.last_error for m in _messages(session)] == ["the endpoint was disabled", "the endpoint was removed"]


def test_review_requests_and_decisions_also_go_by_email(app: Flask, session: Session, inbox: Inbox) -> None:
    product = make_product(session, "Gateway")
    officer = member(session, product, "security_officer", email="officer@example.com")
    developer = member(session, product, "developer", email="dev@example.com")
    evidence = attach(session, developer, product, "Fuzzing report", draft=True)
    submit_evidence(session, developer, evidence.id)
    session.commit()
    assert run_worker(app_db(app), once=True) == 1
    ((to, request),) = inbox.received
    assert to == ["officer@example.com"] and request["Subject"].startswith("[sdl-tracker] Review requested: ")
    assert "Fuzzing report" in request.get_payload() and "Gateway" in request.get_payload()
    review_evidence(session, officer, evidence.id, accept=False, reason="no tool version")
    session.commit()
    run_worker(app_db(app), once=True)
    (to, decision) = inbox.received[1]
    assert to == ["dev@example.com"] and decision["Subject"].startswith("[sdl-tracker] Decision: ")
    keys = sorted(m.dedupe_key.split(":", 2)[2] for m in _messages(session))
    assert all(key.startswith("notification:") for key in keys) and len(keys) == 2
    assert {m.channel for m in _messages(session)} == {Channel.EMAIL}


def test_a_busy_queue_needs_one_delivery_job_at_a_time(app: Flask, session: Session) -> None:
    for n in range(3):
        queue_email(session, key=f"k:{n}", to="officer@example.com", subject="s", body="b")
        session.commit()
    (job,) = session.scalars(select(Job).where(Job.kind == DELIVER))
    assert job.state is JobState.QUEUED and job.created_by == "system:outbox"
