"""The job table: what to run, who asked, how far it got, and which worker holds it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, str_enum, utcnow


class JobState(enum.StrEnum):
    """Where a job is: queued (or back in the queue for a retry), running, or finished."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED})


class Job(Base):
    """One piece of long work; a worker holds it under a lease that its heartbeat extends."""

    __tablename__ = "job"
    __table_args__ = (
        # An idempotency key names one job; a failed job gives its key up so the request can be retried.
        Index(
            "uq_job_idempotency_key",
            "idempotency_key",
            unique=True,
            sqlite_where=text("idempotency_key IS NOT NULL"),
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        # Workers look for the oldest claimable job.
        Index("ix_job_state_id", "state", "id"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts"),
        CheckConstraint("progress_done >= 0", name="progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[JobState] = mapped_column(str_enum(JobState, "job_state"), default=JobState.QUEUED)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_message: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(String(500), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(400))  # the audit label: user:<email>, cli:<os user>...
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # How a token narrowed the queuing actor ({"scopes": [...], "products": [...], "token_id": n}), so
    # the worker acts with no more rights than the request that queued the job.
    narrowing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        """Whether the job succeeded or failed for good."""
        return self.state in FINISHED
