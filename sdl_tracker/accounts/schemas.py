"""Accounts as the API gives them: a user's notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .models import Notification, NotificationKind


class NotificationOut(BaseModel):
    """A review request or a decision told to the user; its subject by type and id (for a claim, its release
    and requirement), so a client builds the link."""

    id: int
    kind: NotificationKind
    subject_type: str = Field(description="evidence, claim or requirement_scoping")
    subject_id: int
    product_id: int | None  # null: organisation-wide
    release_id: int | None  # a claim's release
    ref: str  # a claim's requirement
    message: str
    actor: str  # who caused it, as the audit log names them
    created_at: datetime
    read_at: datetime | None  # null: unread

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        """One notification (its columns of the same names)."""
        return cls.model_validate(notification, from_attributes=True)


class MarkedReadOut(BaseModel):
    """How many notifications were marked read."""

    count: int = Field(ge=0)
