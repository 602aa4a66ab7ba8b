"""The outbox: messages waiting to be sent (e-mail, webhook requests), and each product's webhook endpoints."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, str_enum, utcnow


class Channel(enum.StrEnum):
    """How a message leaves the tracker."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class MessageState(enum.StrEnum):
    """Where a message is: waiting for its (next) attempt, sent, or given up (its last error says why)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """One message to one recipient or endpoint, written in the transaction of what it tells of and sent after
    that transaction committed; queued at most once per dedupe key."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        UniqueConstraint("delivery_id"),
        # The worker looks for pending messages whose time has come.
        Index("ix_outbox_message_state_next_attempt_at", "state", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_when_sent"),
        CheckConstraint("(state = 'pending') = (next_attempt_at IS NOT NULL)", name="next_attempt_when_pending"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "outbox_channel"))
    dedupe_key: Mapped[str] = mapped_column(String(500))
    # Names this message to its receiver, the same on every attempt: a webhook's delivery header, an e-mail's
    # Message-ID, so a resend after a crash can be recognised.
    delivery_id: Mapped[str] = mapped_column(String(36))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(320))  # an e-mail address, or a webhook endpoint's id
    subject: Mapped[str] = mapped_column(String(200))  # an e-mail's subject, a webhook's event name
    body: Mapped[str] = mapped_column(Text)  # plain text for e-mail, the exact JSON a webhook request carries
    state: Mapped[MessageState] = mapped_column(str_enum(MessageState, "outbox_state"), default=MessageState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the last failed attempt met, in one short line (a status, "connection refused"; never a secret or URL).
    last_error: Mapped[str] = mapped_column(String(300), default="")


class WebhookEndpoint(Base):
    """Where a product's events are posted, signed with the endpoint's secret (stored sealed, shown once). A
    removed endpoint stays as the record of where its messages went, without its secret."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (
        # One endpoint per URL and product at a time; a removed one leaves its URL free for a new endpoint.
        Index(
            "uq_webhook_endpoint_product_id_url",
            "product_id",
            "url",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
        CheckConstraint("removed_at IS NULL OR (NOT enabled AND secret_sealed = '')", name="removed_is_inert"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The signing secret sealed by the installation's keyring for this product and URL (keys.Keyring.seal);
    # empty once the endpoint is removed.
    secret_sealed: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(400))  # the audit label of who added it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(400), default="")  # who last disabled, enabled or removed it
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
