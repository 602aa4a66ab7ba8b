"""An installation without an SMTP relay queues no e-mail at all; webhooks and in-app notifications go on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Notification
from sdl_tracker.app_access import app_db
from sdl_tracker.evidence.services import submit_evidence
from sdl_tracker.outbox.models import Channel, OutboxMessage
from sdl_tracker.outbox.services import add_webhook, e_mail_configured, queue_email, queue_webhook_event
from sdl_tracker.outbox.worker import deliver_due
from tests.factories import OPERATOR, attach, make_product, member
from tests.outbox.conftest import Receiver


@pytest.fixture
def app_config() -> dict[str, object]:
    """No SMTP settings at all; the receivers are on loopback."""
    return {"WEBHOOK_HTTP_LOOPBACK": True}


def test_no_email_is_queued_but_webhooks_are_sent(app: Flask, session: Session, receiver: Receiver) -> None:
    product = make_product(session)
    member(session, product, "security_officer")
    developer = member(session, product, "developer")
    assert not e_mail_configured(session)
    assert queue_email(session, key="k:1", to="officer@example.com", subject="s", body="b") is None
    submit_evidence(session, developer, attach(session, developer, product, "Report", draft=True).id)
    assert session.scalars(select(Notification)).all()  # told in the tracker, as before
    receiver.secret = add_webhook(session, OPERATOR, product.id, url=receiver.url()).secret
    queue_webhook_event(session, key="k:1", product_id=product.id, event="psirt.clock.started", data={})
    session.commit()
    assert [m.channel for m in session.scalars(select(OutboxMessage))] == [Channel.WEBHOOK]
    assert deliver_due(app_db(app)).sent == 1 and receiver.deliveries[0].signature_valid


def test_a_bad_key_or_address_is_a_programming_error(session: Session) -> None:
    with pytest.raises(ValueError, match="queue_email"):
        queue_email(session, key="has space", to="officer@example.com", subject="s", body="b")
    with pytest.raises(ValueError, match="queue_webhook_event"):
        queue_webhook_event(session, key="k:1", product_id=1, event="Not An Event", data={})
    product = make_product(session)
    add_webhook(session, OPERATOR, product.id, url="https://hooks.example.com/sdl")
    with pytest.raises(ValueError, match="set is not JSON"):
        queue_webhook_event(session, key="k:2", product_id=product.id, event="e.x", data={"ids": {1, 2}})


def test_times_in_an_events_data_are_iso_8601(session: Session) -> None:
    product = make_product(session)
    add_webhook(session, OPERATOR, product.id, url="https://hooks.example.com/sdl")
    due = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    (message,) = queue_webhook_event(
        session, key="k:1", product_id=product.id, event="psirt.clock.due-soon", data={"due": due, "day": due.date()}
    )
    assert json.loads(message.body)["data"] == {"due": "2026-12-06T09:30:00Z", "day": "2026-12-06"}
