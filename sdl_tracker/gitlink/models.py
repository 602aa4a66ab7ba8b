"""Commits of registered repositories, and the evidence their trailers created or linked."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, str_enum, utcnow
from .signatures import KeyKind

CommitState = Literal["delivered", "reachable", "unreachable"]


class Commit(Base):
    """One commit of a repository, found by a scan or delivered by a client (a git hook, CI).

    A delivered commit is `delivered` until a scan finds it in the repository's history (`seen_by_scan`);
    from then on `reachable` turns false when rewritten history drops it.
    """

    __tablename__ = "git_commit"
    __table_args__ = (
        UniqueConstraint("repository_id", "sha"),
        Index("ix_git_commit_repository_reachable", "repository_id", "reachable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repository.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))  # 40 hex digits (SHA-1) or 64 (SHA-256)
    parents: Mapped[list[str]] = mapped_column(JSON)
    author_name: Mapped[str] = mapped_column(String(300))
    author_email: Mapped[str] = mapped_column(String(320))
    authored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    committer_name: Mapped[str] = mapped_column(String(300))
    committer_email: Mapped[str] = mapped_column(String(320))
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    subject: Mapped[str] = mapped_column(String(1000))
    trailers: Mapped[list[Any]] = mapped_column(JSON)  # [[key, value], ...] as git parsed them
    paths: Mapped[list[str]] = mapped_column(JSON)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    seen_by_scan: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who delivered it through the API (a token's label), when a client did before any scan found it.
    delivered_by: Mapped[str | None] = mapped_column(String(400))
    # The object exactly as delivered (at most 1 MiB), signature included, for a later verification step. A
    # column, not a blob file: a batch of deliveries then costs one fsync (the commit's), not three per commit.
    raw_object: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # loaded only when read
    signature: Mapped[str | None] = mapped_column(String(20))  # the signature header it carries ("gpgsig"...)
    # The verdict on that signature (signatures.SignatureStatus): None until the scan or the intake checked it
    # (commits stored before signatures were checked get theirs at the repository's next scan).
    signature_status: Mapped[str | None] = mapped_column(String(20))
    signature_reason: Mapped[str | None] = mapped_column(String(300))
    # The registered key that verified it; its removal makes the commit unverified again (signing.remove_key).
    signature_key_id: Mapped[int | None] = mapped_column(ForeignKey("signing_key.id", ondelete="SET NULL"), index=True)
    signature_signer: Mapped[str | None] = mapped_column(String(100))  # the signing key's fingerprint, if known
    signature_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def state(self) -> CommitState:
        """`delivered` (no scan has found it yet), `reachable` or `unreachable` (rewritten history dropped it)."""
        if not self.seen_by_scan:
            return "delivered"
        return "reachable" if self.reachable else "unreachable"


class CommitEvidence(Base):
    """Evidence a commit's trailer created or named."""

    __tablename__ = "commit_evidence"

    commit_id: Mapped[int] = mapped_column(ForeignKey("git_commit.id", ondelete="CASCADE"), primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    trailer: Mapped[str] = mapped_column(String(80))


class SigningKey(Base):
    """A public key a user signs commits with: a commit it verifies counts as authored by that user.

    One key may be registered by several users (a public key is public, and registering someone else's
    gains nothing: a signature verifies a commit only for the user whose e-mail is its author's)."""

    __tablename__ = "signing_key"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[KeyKind] = mapped_column(str_enum(KeyKind, "signing_key_kind"))
    fingerprint: Mapped[str] = mapped_column(String(100), index=True)
    public_key: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    identities: Mapped[list[str]] = mapped_column(JSON, default=list)  # OpenPGP user ids, an SSH key's comment
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
