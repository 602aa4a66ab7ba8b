"""`sdl-tracker webhook add|list|disable|enable|remove|test` and `sdl-tracker notifications outbox`."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..auth import Principal
from ..commands import echo_lines, emit, json_option, server_command
from ..products.services import get_product_by_name
from .models import MessageState
from .schemas import OutboxMessageOut, WebhookCreatedOut, WebhookOut
from .services import (
    add_webhook,
    count_outbox,
    list_outbox,
    list_webhooks,
    remove_webhook,
    send_test_event,
    set_webhook_enabled,
)

webhook = AppGroup("webhook", help="A product's webhook endpoints: add, list, disable, enable, remove, test.")
notifications = AppGroup(
    "notifications", help="Notifications that leave the tracker: the outbox of e-mail and webhooks."
)


def _line(data: dict[str, Any]) -> str:
    state = "removed" if data["removed_at"] else "enabled" if data["enabled"] else "disabled"
    return f"{data['id']:>5}  {state:<8}  {data['url']}  (added {data['created_at'][:16]} by {data['created_by']})"


@webhook.command("add")
@click.argument("product_name", metavar="PRODUCT")
@click.argument("url")
@json_option
@server_command()
def webhook_add(session: Session, actor: Principal, product_name: str, url: str, as_json: bool) -> None:
    """Post PRODUCT's events to URL; prints the endpoint's signing secret, this once only."""
    product = get_product_by_name(session, actor, product_name)
    created = WebhookCreatedOut.of_created(add_webhook(session, actor, product.id, url=url)).model_dump(mode="json")
    lines = [f"webhook {created['id']} added: {created['url']}", f"secret (shown this once): {created['secret']}"]
    emit(created, as_json, echo_lines(lines, ""))


@webhook.command("list")
@click.argument("product_name", metavar="PRODUCT")
@json_option
@server_command(read_only=True)
def webhook_list(session: Session, actor: Principal, product_name: str, as_json: bool) -> None:
    """PRODUCT's webhook endpoints (never their secrets)."""
    product = get_product_by_name(session, actor, product_name)
    items = [WebhookOut.of(e).model_dump(mode="json") for e in list_webhooks(session, actor, product.id)]
    emit(items, as_json, echo_lines([_line(item) for item in items], f"no webhook endpoints for {product.name}"))


def _changed(webhook_id: int, as_json: bool, data: WebhookOut, done: str) -> None:
    emit(data.model_dump(mode="json"), as_json, echo_lines([f"webhook {webhook_id} {done}"], ""))


@webhook.command("disable")
@click.argument("webhook_id", metavar="ID", type=int)
@json_option
@server_command()
def webhook_disable(session: Session, actor: Principal, webhook_id: int, as_json: bool) -> None:
    """Send endpoint ID no new events (and give up what still waits for it)."""
    endpoint = set_webhook_enabled(session, actor, webhook_id, enabled=False)
    _changed(webhook_id, as_json, WebhookOut.of(endpoint), "disabled")


@webhook.command("enable")
@click.argument("webhook_id", metavar="ID", type=int)
@json_option
@server_command()
def webhook_enable(session: Session, actor: Principal, webhook_id: int, as_json: bool) -> None:
    """Send endpoint ID the product's events again."""
    endpoint = set_webhook_enabled(session, actor, webhook_id, enabled=True)
    _changed(webhook_id, as_json, WebhookOut.of(endpoint), "enabled")


@webhook.command("remove")
@click.argument("webhook_id", metavar="ID", type=int)
@json_option
@server_command()
def webhook_remove(session: Session, actor: Principal, webhook_id: int, as_json: bool) -> None:
    """Remove endpoint ID and its secret; what still waits for it is given up."""
    _changed(webhook_id, as_json, WebhookOut.of(remove_webhook(session, actor, webhook_id)), "removed")


@webhook.command("test")
@click.argument("webhook_id", metavar="ID", type=int)
@json_option
@server_command()
def webhook_test(session: Session, actor: Principal, webhook_id: int, as_json: bool) -> None:
    """Queue a webhook.test event for endpoint ID; the worker sends it (`notifications outbox` shows failures)."""
    data = OutboxMessageOut.of(send_test_event(session, actor, webhook_id)).model_dump(mode="json")
    emit(data, as_json, echo_lines([f"test event {data['delivery_id']} queued for webhook {webhook_id}"], ""))


def _message_line(data: dict[str, Any]) -> str:
    when = f"sent {data['sent_at'][:16]}" if data["sent_at"] else ""
    if data["next_attempt_at"]:
        when = f"next {data['next_attempt_at'][:16]}"
    error = f"  {data['last_error']}" if data["last_error"] else ""
    return (
        f"{data['id']:>6}  {data['state']:<7}  {data['channel']:<7}  {data['target']}  {data['subject']}"
        f"  attempts {data['attempts']}  {when}{error}"
    )


@notifications.command("outbox")
@click.option("--all", "every", is_flag=True, help="Sent messages too (the newest 200).")
@json_option
@server_command(read_only=True)
def notifications_outbox(session: Session, actor: Principal, every: bool, as_json: bool) -> None:
    """Messages waiting to be sent and those given up, with their last errors (administrators)."""
    states = tuple(MessageState) if every else (MessageState.PENDING, MessageState.FAILED)
    counts = count_outbox(session, actor)
    items = [OutboxMessageOut.of(m).model_dump(mode="json") for m in list_outbox(session, actor, states=states)]
    summary = ", ".join(f"{count} {state}" for state, count in counts.items())
    emit({"counts": counts, "items": items}, as_json, echo_lines([summary, *map(_message_line, items)], ""))
