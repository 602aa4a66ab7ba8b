"""Users, their memberships in products, and the notifications they receive."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth import Role
from ..db import Base, UTCDateTime, str_enum, utcnow
from ..zones import MAX_ZONE_NAME


class User(Base):
    """A person who logs in; `is_admin` is global."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on logout, password change and disable: sessions carrying an older epoch die.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The IANA zone their pages show times in; None: UTC. Times are stored and computed in UTC regardless.
    time_zone: Mapped[str | None] = mapped_column(String(MAX_ZONE_NAME))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Membership(Base):
    """A user's role in one product."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "membership_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")


class LoginThrottle(Base):
    """Recent sign-in failures of one account or client address (`account:<email>`, `address:<ip>`)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for the API: a user's own rights, narrowed to named products and permissions.

    Only a SHA-256 of the token is stored; the prefix (public) finds the row.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(20), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    all_products: Mapped[bool] = mapped_column(Boolean, default=False)  # administrators' tokens only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_from: Mapped[str] = mapped_column(String(120), default="")

    user: Mapped[User] = relationship()
    products: Mapped[list[ApiTokenProduct]] = relationship(cascade="all, delete-orphan")


class ApiTokenProduct(Base):
    """A product a token may act on."""

    __tablename__ = "api_token_product"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)


class NotificationKind(enum.StrEnum):
    """Why someone is told."""

    REVIEW_REQUEST = "review-request"  # something awaits their review or acceptance
    DECISION = "decision"  # what they submitted or set was accepted or rejected


class Notification(Base):
    """One message to one user about a review request or a decision; read once they mark it so.

    It names its subject (evidence, claim, scoping) by type and id, so the page that shows it builds the
    link; the text is written when the event happens, as the audit log's details are."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, "notification_kind"))
    subject_type: Mapped[str] = mapped_column(String(40))  # evidence, claim, requirement_scoping
    subject_id: Mapped[int] = mapped_column(Integer)
    release_id: Mapped[int | None] = mapped_column(Integer)  # a claim's release (its page is per release)
    ref: Mapped[str] = mapped_column(String(40), default="")  # a claim's requirement
    message: Mapped[str] = mapped_column(String(400))
    actor: Mapped[str] = mapped_column(String(400))  # who caused it, as the audit log names them
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
