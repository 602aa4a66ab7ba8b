"""A job's output shape: one pydantic model for the API, `--json` and the page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from .models import Job, JobState


class ProgressOut(BaseModel):
    """How far a job got: `done` of `total` (null while unknown), and what it is doing."""

    done: int
    total: int | None
    message: str


class JobOut(BaseModel):
    """A queued piece of long work: its state, progress, and result or error."""

    id: int
    kind: str
    state: JobState
    progress: ProgressOut
    attempts: int
    max_attempts: int
    result: dict[str, Any] | None
    error: str
    product_id: int | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    location: str

    @classmethod
    def of(cls, job: Job) -> JobOut:
        """The model of a stored job."""
        return cls(
            id=job.id,
            kind=job.kind,
            state=job.state,
            progress=ProgressOut(done=job.progress_done, total=job.progress_total, message=job.progress_message),
            attempts=min(job.attempts, job.max_attempts),
            max_attempts=job.max_attempts,
            result=job.result,
            error=job.error,
            product_id=job.product_id,
            created_by=job.created_by,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            location=f"/api/v1/jobs/{job.id}",
        )


def job_json(job: Job) -> dict[str, Any]:
    """The job as the command line's --json prints it (the API's shape)."""
    return JobOut.of(job).model_dump(mode="json")
