"""The outbox: messages queued inside the transaction of what they tell of, and each product's webhook endpoints.

Other features call `queue_email` and `queue_webhook_event` inside their own write transaction; nothing is
sent there. The messages, and the job that delivers them, commit or roll back with that transaction, and
the worker sends them afterwards (`outbox.worker`). A dedupe key makes queueing idempotent: the same event
for the same recipient or endpoint is queued at most once, whoever asks again.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts.models import Notification, NotificationKind, User
from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..boundary import one_line
from ..db import insert_missing, lock_row
from ..errors import Conflict, Invalid, NotFound
from ..installation import installation
from ..jobs.models import Job, JobState
from ..jobs.services import enqueue
from ..products.models import Product
from ..products.services import get_product
from .models import Channel, MessageState, OutboxMessage, WebhookEndpoint
from .rules import (
    MAX_BODY,
    MAX_ENDPOINTS,
    MAX_SUBJECT,
    TEST_EVENT,
    address_problem,
    dedupe_key,
    event_problem,
    key_problem,
    url_problem,
)

DELIVER = "notifications.deliver"
# Who the delivery jobs act as: the installation itself (they only send what was committed).
DELIVERER = Principal(label="system:outbox", is_admin=True, origin="job")
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix that makes a leaked secret recognisable, not a secret
MAX_LISTED = 200


def e_mail_configured(session: Session) -> bool:
    """Whether this installation sends e-mail (an SMTP relay is set); without one no e-mail is queued."""
    return installation(session).smtp is not None


def _message(
    channel: Channel, *, key: str, target: str, subject: str, body: str, product_id: int | None, now: datetime
) -> dict[str, Any]:
    """A new message's row, due at once."""
    return {
        "channel": channel,
        "dedupe_key": dedupe_key(channel.value, target, key),
        "delivery_id": str(uuid.uuid4()),
        "product_id": product_id,
        "target": target,
        "subject": subject,
        "body": body,
        "state": MessageState.PENDING,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
        "sent_at": None,
        "last_error": "",
    }


def _queue(session: Session, rows: list[dict[str, Any]]) -> list[OutboxMessage]:
    """Insert the messages whose dedupe key is new (ON CONFLICT DO NOTHING, so two transactions at once queue one)
    and make sure a delivery job will run after the commit; the messages this call queued."""
    if not rows:
        return []
    insert_missing(session, OutboxMessage, rows)
    ours = [row["delivery_id"] for row in rows]
    queued = list(session.scalars(select(OutboxMessage).where(OutboxMessage.delivery_id.in_(ours))))
    if queued:
        _wake_delivery(session)
    return queued


def _wake_delivery(session: Session) -> None:
    """Queue a delivery job in this transaction unless one is queued and not yet claimed: it commits (or rolls
    back) with the messages, so the worker never sees a message before its commit, nor loses one after it.

    The queued job is locked (PostgreSQL; SQLite's writers take turns anyway) so no worker claims it before this
    transaction ends and reads the outbox without these messages; a job being claimed right now is skipped,
    and another is queued."""
    waiting = session.scalar(
        select(Job.id)
        .where(Job.kind == DELIVER, Job.state == JobState.QUEUED)
        .order_by(Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if waiting is None:
        enqueue(session, DELIVERER, kind=DELIVER, arguments={}, product_id=None)


def queue_email(
    session: Session, *, key: str, to: str, subject: str, body: str, product_id: int | None = None
) -> OutboxMessage | None:
    """Queue a plain-text e-mail to `to`, sent after this transaction commits; at most once per `key` and address
    (`key` names the event, e.g. `psirt:42:notification:due-soon`). None when e-mail is not configured on this
    installation, or the same e-mail was queued before. ValueError for a key, address or text no e-mail can carry."""
    problem = key_problem(key) or address_problem(to)
    if len(body) > MAX_BODY:
        problem = f"an e-mail's body has at most {MAX_BODY} characters"
    if problem:
        raise ValueError(f"queue_email: {problem}")
    if not e_mail_configured(session):
        return None
    row = _message(
        Channel.EMAIL,
        key=key,
        target=to,
        subject=one_line(subject).strip()[:MAX_SUBJECT],  # a header: no line breaks, whatever the caller passed
        body=body,
        product_id=product_id,
        now=installation(session).now(),
    )
    queued = _queue(session, [row])
    return queued[0] if queued else None


def queue_webhook_event(
    session: Session, *, key: str, product_id: int, event: str, data: Mapping[str, Any]
) -> list[OutboxMessage]:
    """Queue `event` with `data` (JSON) for every enabled webhook endpoint of the product, sent after this
    transaction commits; at most once per `key` and endpoint. The messages this call queued (none when the
    product has no enabled endpoint, or each had it already). ValueError for a key, event or data that cannot
    be sent."""
    problem = key_problem(key) or event_problem(event)
    if problem:
        raise ValueError(f"queue_webhook_event: {problem}")
    endpoints = session.scalars(
        select(WebhookEndpoint.id).where(WebhookEndpoint.product_id == product_id, WebhookEndpoint.enabled.is_(True))
    ).all()
    now = installation(session).now()
    return _queue(session, [_event_row(key, endpoint, product_id, event, data, now) for endpoint in endpoints])


def _iso(value: object) -> str:
    """Times and days in an event's data as ISO 8601 (UTC as `Z`); anything else JSON cannot hold is refused."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _event_row(
    key: str, endpoint_id: int, product_id: int, event: str, data: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """One endpoint's message: the exact JSON it is sent (signed anew on each attempt, the same bytes each time)."""
    row = _message(
        Channel.WEBHOOK, key=key, target=str(endpoint_id), subject=event, body="", product_id=product_id, now=now
    )
    document = {
        "id": row["delivery_id"],
        "event": event,
        "product_id": product_id,
        "created_at": _iso(now),
        "data": dict(data),
    }
    try:
        row["body"] = json.dumps(document, ensure_ascii=True, separators=(",", ":"), sort_keys=True, default=_iso)
    except TypeError as exc:
        raise ValueError(f"queue_webhook_event: {exc}") from None
    if len(row["body"]) > MAX_BODY:
        raise ValueError(f"queue_webhook_event: the event's JSON exceeds {MAX_BODY} bytes")
    return row


# --- Review notifications by e-mail ------------------------------------------------------------------------

_HEADLINES = {NotificationKind.REVIEW_REQUEST: "Review requested", NotificationKind.DECISION: "Decision"}


def email_notifications(session: Session, *, notifications: list[Notification]) -> None:
    """Each new in-app notification also goes to its user by e-mail, when e-mail is configured (connected to
    accounts' `notified` signal, so it is queued in the transaction that wrote the notification)."""
    if not notifications or not e_mail_configured(session):
        return
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_({n.user_id for n in notifications})))}
    product_ids = {n.product_id for n in notifications if n.product_id is not None}
    names = {
        row.id: row.name for row in session.execute(select(Product.id, Product.name).where(Product.id.in_(product_ids)))
    }
    for notification in notifications:
        user = users.get(notification.user_id)
        if user is None or user.disabled:
            continue
        where = (
            names.get(notification.product_id, "the organisation") if notification.product_id else "the organisation"
        )
        headline = _HEADLINES[notification.kind]
        queue_email(
            session,
            key=f"notification:{notification.id}",
            to=user.email,
            subject=f"[sdl-tracker] {headline}: {notification.message}",
            body=(
                f"{headline} ({where}):\n\n{notification.message}\n\n"
                f"By {notification.actor}. Open your notifications in the tracker to act on it; this e-mail "
                "repeats the notification shown there.\n"
            ),
            product_id=notification.product_id,
        )


# --- Webhook endpoints ------------------------------------------------------------------------------------


def authorize_manage_webhooks(actor: Principal, product_id: int) -> None:
    """Raise unless the actor may see and change the product's webhook endpoints (its security officers,
    administrators): a URL may carry the receiver's token, so only they see them."""
    authorize(actor, Permission.PRODUCT_MANAGE, product_id)


def may_manage_webhooks(actor: Principal, product: Product) -> bool:
    """Whether the actor may see and change the product's webhook endpoints."""
    return permits(authorize_manage_webhooks, actor, product.id)


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint and its signing secret, which is shown this once and never again."""

    endpoint: WebhookEndpoint
    secret: str


def _sealing_context(product_id: int, url: str) -> str:
    # The sealed secret opens only for this product and URL: an endpoint whose URL was changed in the database
    # behind the tracker's back is never sent signed requests.
    return f"webhook-endpoint:{product_id}:{url}"


def endpoint_secret(session: Session, endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret (ValueError when it does not open with this installation's secrets key)."""
    return installation(session).keys.unseal(
        endpoint.secret_sealed, _sealing_context(endpoint.product_id, endpoint.url)
    )


def _origin(url: str) -> str:
    """What the audit log keeps of a URL: its scheme, host and port (a path may hold the receiver's token)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def list_webhooks(session: Session, actor: Principal, product_id: int) -> list[WebhookEndpoint]:
    """The product's webhook endpoints (not the removed ones), oldest first."""
    product = get_product(session, actor, product_id)
    authorize_manage_webhooks(actor, product.id)
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.product_id == product.id, WebhookEndpoint.removed_at.is_(None)
    )
    return list(session.scalars(query.order_by(WebhookEndpoint.id)))


def get_webhook(session: Session, actor: Principal, endpoint_id: int) -> WebhookEndpoint:
    """One webhook endpoint the actor may manage, removed ones included (NotFound for another product's, as for a
    missing one)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint not found")
    try:
        get_product(session, actor, endpoint.product_id)
    except NotFound:
        raise NotFound("webhook endpoint not found") from None
    authorize_manage_webhooks(actor, endpoint.product_id)
    return endpoint


def add_webhook(session: Session, actor: Principal, product_id: int, *, url: str) -> CreatedEndpoint:
    """Register a webhook endpoint for the product's events, with a new signing secret (returned once); audited."""
    product = get_product(session, actor, product_id)
    authorize_manage_webhooks(actor, product.id)
    url = url.strip()
    problem = url_problem(url, http_loopback=installation(session).webhooks.http_loopback)
    if problem:
        raise Invalid.field("url", problem)
    lock_row(session, Product.id, product.id)  # the count and the duplicate check see the one before
    existing = session.scalars(
        select(WebhookEndpoint.url).where(
            WebhookEndpoint.product_id == product.id, WebhookEndpoint.removed_at.is_(None)
        )
    ).all()
    if url in existing:
        raise Conflict(f"this product already posts to {_origin(url)} at that URL")
    if len(existing) >= MAX_ENDPOINTS:
        raise Conflict(f"a product has at most {MAX_ENDPOINTS} webhook endpoints; remove one first")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        product_id=product.id,
        url=url,
        secret_sealed=installation(session).keys.seal(secret, _sealing_context(product.id, url)),
        enabled=True,
        created_by=actor.label[:400],
        created_at=installation(session).now(),
        changed_by="",
    )
    session.add(endpoint)
    session.flush()
    record(
        session,
        actor,
        "outbox:webhook:add",
        target_type="webhook",
        target_id=endpoint.id,
        product_id=product.id,
        details={"origin": _origin(url)},
    )
    return CreatedEndpoint(endpoint, secret)


def set_webhook_enabled(session: Session, actor: Principal, endpoint_id: int, *, enabled: bool) -> WebhookEndpoint:
    """Disable an endpoint (it gets no new events, and those still waiting for it are given up) or enable it
    again; audited when it changes."""
    endpoint = _not_removed(get_webhook(session, actor, endpoint_id))
    if endpoint.enabled != enabled:
        endpoint.enabled = enabled
        endpoint.changed_by = actor.label[:400]
        endpoint.changed_at = installation(session).now()
        session.flush()
        dropped = 0 if enabled else give_up_for_endpoint(session, endpoint.id, "the endpoint was disabled")
        record(
            session,
            actor,
            f"outbox:webhook:{'enable' if enabled else 'disable'}",
            target_type="webhook",
            target_id=endpoint.id,
            product_id=endpoint.product_id,
            details={"origin": _origin(endpoint.url), **({} if enabled else {"given_up": dropped})},
        )
    return endpoint


def _not_removed(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """The endpoint, unless it was removed (Conflict: a removed endpoint changes no more)."""
    if endpoint.removed_at is not None:
        raise Conflict("the webhook endpoint was removed; add it again to post to that URL")
    return endpoint


def give_up_for_endpoint(session: Session, endpoint_id: int, reason: str) -> int:
    """Give up the messages still waiting for an endpoint; how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == Channel.WEBHOOK,
            OutboxMessage.target == str(endpoint_id),
            OutboxMessage.state == MessageState.PENDING,
        )
        .values(state=MessageState.FAILED, next_attempt_at=None, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def remove_webhook(session: Session, actor: Principal, endpoint_id: int) -> WebhookEndpoint:
    """Remove an endpoint: it is disabled for good and its secret deleted; what was still waiting for it is given
    up. The row stays as the record of where its messages went. Removing it again changes nothing. Audited."""
    endpoint = get_webhook(session, actor, endpoint_id)
    if endpoint.removed_at is not None:
        return endpoint
    now = installation(session).now()
    endpoint.enabled, endpoint.secret_sealed = False, ""
    endpoint.changed_by, endpoint.changed_at, endpoint.removed_at = actor.label[:400], now, now
    session.flush()
    dropped = give_up_for_endpoint(session, endpoint.id, "the endpoint was removed")
    record(
        session,
        actor,
        "outbox:webhook:remove",
        target_type="webhook",
        target_id=endpoint.id,
        product_id=endpoint.product_id,
        details={"origin": _origin(endpoint.url), "given_up": dropped},
    )
    return endpoint


def send_test_event(session: Session, actor: Principal, endpoint_id: int) -> OutboxMessage:
    """Queue a `webhook.test` event for one enabled endpoint (sent after the commit, like any event); audited."""
    endpoint = _not_removed(get_webhook(session, actor, endpoint_id))
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled; enable it before sending it a test event")
    data = {"message": "A test event sent from the tracker.", "requested_by": actor.label}
    row = _event_row(
        f"webhook-test:{uuid.uuid4()}", endpoint.id, endpoint.product_id, TEST_EVENT, data, installation(session).now()
    )
    (message,) = _queue(session, [row])
    record(
        session,
        actor,
        "outbox:webhook:test",
        target_type="webhook",
        target_id=endpoint.id,
        product_id=endpoint.product_id,
        details={"delivery_id": message.delivery_id},
    )
    return message


def webhook_deliveries(session: Session, actor: Principal, product_id: int, *, limit: int = 20) -> list[OutboxMessage]:
    """The product's newest webhook messages, sent, waiting or given up (with their errors)."""
    product = get_product(session, actor, product_id)
    authorize_manage_webhooks(actor, product.id)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == Channel.WEBHOOK, OutboxMessage.product_id == product.id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# --- The outbox as a whole (administrators) ----------------------------------------------------------------


def list_outbox(
    session: Session,
    actor: Principal,
    *,
    states: tuple[MessageState, ...] = (MessageState.PENDING, MessageState.FAILED),
) -> list[OutboxMessage]:
    """Messages in the given states, newest first (at most MAX_LISTED): what waits, and what was given up and why."""
    authorize(actor, Permission.ORGANISATION_MANAGE)
    query = select(OutboxMessage).where(OutboxMessage.state.in_(states)).order_by(OutboxMessage.id.desc())
    return list(session.scalars(query.limit(MAX_LISTED)))


def count_outbox(session: Session, actor: Principal) -> dict[str, int]:
    """How many messages are in each state."""
    authorize(actor, Permission.ORGANISATION_MANAGE)
    counted = session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    found = {state.value: count for state, count in counted}
    return {state.value: found.get(state.value, 0) for state in MessageState}
