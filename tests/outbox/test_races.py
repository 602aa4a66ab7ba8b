"""The same event queued from several transactions at the same instant is queued once; two workers delivering
at once send each message once."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.app_access import app_db
from sdl_tracker.outbox.models import MessageState, OutboxMessage
from sdl_tracker.outbox.services import add_webhook, queue_email, queue_webhook_event
from sdl_tracker.outbox.worker import deliver_due
from tests.concurrency import at_once
from tests.factories import OPERATOR, make_product
from tests.outbox.conftest import Inbox, Receiver

pytestmark = pytest.mark.db


def test_one_event_queued_at_once_from_eight_transactions_is_sent_once(
    shared_app: Flask, inbox: Inbox, receiver: Receiver
) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product_id = make_product(session).id
        receiver.secret = add_webhook(session, OPERATOR, product_id, url=receiver.url()).secret

    def queue() -> int:
        with database.unit_of_work() as session:
            mail = queue_email(session, key="psirt:7:overdue", to="officer@example.com", subject="Overdue", body="b")
            hooks = queue_webhook_event(session, key="psirt:7:overdue", product_id=product_id, event="e.x", data={})
            return int(mail is not None) + len(hooks)

    outcomes = at_once([queue] * 8)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(o for o in outcomes if isinstance(o, int)) == 2  # one e-mail and one request, whoever queued them
    sends = at_once([lambda: deliver_due(database).sent] * 2)  # two workers at once
    assert sum(s for s in sends if isinstance(s, int)) == 2, sends
    assert len(inbox.received) == 1 and len(receiver.deliveries) == 1
    with database.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.state == MessageState.SENT)) == 2
