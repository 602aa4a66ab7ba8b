"""Commits of registered repositories, and the evidence their trailers created or linked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class Commit(Base):
    """One commit of a repository; `reachable` turns false when rewritten history drops it."""

    __tablename__ = "git_commit"
    __table_args__ = (
        UniqueConstraint("repository_id", "sha"),
        Index("ix_git_commit_repository_reachable", "repository_id", "reachable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repository.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(40))
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


class CommitEvidence(Base):
    """Evidence a commit's trailer created or named."""

    __tablename__ = "commit_evidence"

    commit_id: Mapped[int] = mapped_column(ForeignKey("git_commit.id", ondelete="CASCADE"), primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    trailer: Mapped[str] = mapped_column(String(80))
