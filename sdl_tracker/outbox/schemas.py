"""Webhook endpoints and outbox messages as the API and `--json` give them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .models import Channel, MessageState, OutboxMessage, WebhookEndpoint
from .services import CreatedEndpoint


class WebhookOut(BaseModel):
    """A webhook endpoint (never its secret, which is shown once, when it is added)."""

    id: int
    product_id: int
    url: str
    enabled: bool
    created_by: str
    created_at: datetime
    changed_by: str
    changed_at: datetime | None
    removed_at: datetime | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        """An endpoint as returned."""
        return cls.model_validate(endpoint, from_attributes=True)


class WebhookCreatedOut(WebhookOut):
    """A new endpoint with its signing secret: the only time the secret is shown."""

    secret: str = Field(description="The HMAC-SHA256 key of X-SDL-Tracker-Signature; shown this once only")

    @classmethod
    def of_created(cls, created: CreatedEndpoint) -> WebhookCreatedOut:
        """The new endpoint and its secret."""
        return cls(**WebhookOut.of(created.endpoint).model_dump(), secret=created.secret)


class OutboxMessageOut(BaseModel):
    """A message of the outbox: where it goes, how far it got, and why its last attempt failed."""

    id: int
    channel: Channel
    delivery_id: str
    product_id: int | None
    target: str = Field(description="The e-mail address, or the webhook endpoint's id")
    subject: str = Field(description="The e-mail's subject, or the webhook's event name")
    state: MessageState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str

    @classmethod
    def of(cls, message: OutboxMessage) -> OutboxMessageOut:
        """A message as returned (never its body)."""
        return cls.model_validate(message, from_attributes=True)
