"""A product's webhook endpoints over /api/v1: list, add (the secret shown once), disable or enable, remove, test."""

from __future__ import annotations

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input
from ..api.openapi import ItemList, json_response, operation, parse_body
from ..web.context import db_session
from .rules import MAX_URL
from .schemas import OutboxMessageOut, WebhookCreatedOut, WebhookOut
from .services import add_webhook, list_webhooks, remove_webhook, send_test_event, set_webhook_enabled

bp = Blueprint("outbox_api", __name__)


class WebhookIn(Input):
    """Where to post the product's events: https (plain http only to loopback where the installation allows it)."""

    url: str = Field(min_length=1, max_length=MAX_URL)


class WebhookPatch(Input):
    """Disable an endpoint (it gets no new events; those still waiting are given up) or enable it again."""

    enabled: bool


@bp.get("/products/<int:product_id>/webhooks")
@operation("A product's webhook endpoints (its security officers)", response=ItemList[WebhookOut], tag="webhooks")
def webhooks_list(product_id: int) -> Response:
    """List webhook endpoints."""
    endpoints = list_webhooks(db_session(), g.principal, product_id)
    return json_response(ItemList[WebhookOut](items=[WebhookOut.of(e) for e in endpoints]))


@bp.post("/products/<int:product_id>/webhooks")
@operation(
    "Add a webhook endpoint; the answer holds its signing secret, shown this once",
    body=WebhookIn,
    response=WebhookCreatedOut,
    status=201,
    problems=[409],
    tag="webhooks",
)
def webhooks_add(product_id: int) -> Response:
    """Add a webhook endpoint."""
    data = parse_body(WebhookIn)
    created = add_webhook(db_session(), g.principal, product_id, url=data.url)
    return json_response(WebhookCreatedOut.of_created(created), 201)


@bp.patch("/webhooks/<int:webhook_id>")
@operation(
    "Disable or enable a webhook endpoint", body=WebhookPatch, response=WebhookOut, problems=[409], tag="webhooks"
)
def webhooks_update(webhook_id: int) -> Response:
    """Disable or enable a webhook endpoint."""
    data = parse_body(WebhookPatch)
    return json_response(
        WebhookOut.of(set_webhook_enabled(db_session(), g.principal, webhook_id, enabled=data.enabled))
    )


@bp.delete("/webhooks/<int:webhook_id>")
@operation(
    "Remove a webhook endpoint and its secret; what still waited for it is given up",
    response=WebhookOut,
    tag="webhooks",
)
def webhooks_remove(webhook_id: int) -> Response:
    """Remove a webhook endpoint."""
    return json_response(WebhookOut.of(remove_webhook(db_session(), g.principal, webhook_id)))


@bp.post("/webhooks/<int:webhook_id>/test")
@operation(
    "Queue a webhook.test event for the endpoint; the worker sends it after this request",
    response=OutboxMessageOut,
    status=202,
    problems=[409],
    tag="webhooks",
)
def webhooks_test(webhook_id: int) -> Response:
    """Send a test event."""
    return json_response(OutboxMessageOut.of(send_test_event(db_session(), g.principal, webhook_id)), 202)
