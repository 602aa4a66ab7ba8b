"""Accounts as the API gives them: the caller's own account, a user's notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .models import Notification, NotificationKind, User
from .services import ReviewerDigests


class AccountOut(BaseModel):
    """The caller's own account: who they are, and the zone their pages show times in."""

    id: int
    email: str
    name: str
    is_admin: bool
    time_zone: str | None = Field(description="the IANA zone the user's pages show times in; null: UTC")

    @classmethod
    def of(cls, user: User) -> AccountOut:
        """One user (its columns of the same names; never the password hash)."""
        return cls.model_validate(user, from_attributes=True)


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


class ReviewerDigestsOut(BaseModel):
    """Every user's e-mail address as a salted digest: a hook checks a `Security-Review:` address offline."""

    algorithm: str = Field(description="sha256: the hex digest of the salt followed by the lower-cased address")
    salt: str = Field(description="drawn afresh for each answer")
    digests: list[str]

    @classmethod
    def of(cls, found: ReviewerDigests) -> ReviewerDigestsOut:
        """The digests as the API gives them."""
        return cls(algorithm="sha256", salt=found.salt, digests=found.digests)
