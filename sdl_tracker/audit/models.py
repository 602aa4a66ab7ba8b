"""Audit events, chained by keyed hashes, and signed checkpoints of the chain head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow
from .chain import ChainedEvent


class AuditEvent(Base):
    """Who did what to which object, when and from where; `hash` chains it to the event before."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_product_at", "product_id", "at"),
        # A product's log page reads its newest events: by seq within the product, without sorting them all.
        Index("ix_audit_event_product_seq", "product_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(400), index=True)
    origin: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(400))
    # No foreign key: the log outlives what it talks about, and must never change when it goes.
    product_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def chained(self) -> ChainedEvent:
        """The event as the pure chain functions see it."""
        return ChainedEvent(
            id=self.id,
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            origin=self.origin,
            action=self.action,
            target_type=self.target_type,
            target_id=self.target_id,
            product_id=self.product_id,
            details=self.details,
            digest=self.digest,
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


class AuditCheckpoint(Base):
    """The chain head at `seq`, signed with the installation's Ed25519 key."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))  # ISO 8601 text, exactly as signed
    signature: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(Text)
    # Which signing key made the signature (keys.key_id), so rotated keys still verify by their id.
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    created_by: Mapped[str] = mapped_column(String(400))
