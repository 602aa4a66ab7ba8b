"""Jobs over /api/v1: follow queued work; `accepted()` is the 202 answer of endpoints that queue."""

from __future__ import annotations

from flask import Blueprint, Response, g

from ..api.openapi import json_response, operation
from ..web.context import db_session
from .models import Job
from .schemas import JobOut
from .services import get_job, retry_job

bp = Blueprint("jobs_api", __name__)


def accepted(job: Job) -> Response:
    """202 Accepted with the job's location and body (the work runs in a worker)."""
    body = JobOut.of(job)
    response = json_response(body, 202)
    response.headers["Location"] = body.location
    return response


@bp.get("/jobs/<int:job_id>")
@operation("A queued job's state, progress, and result or error", response=JobOut, tag="jobs")
def job_show(job_id: int) -> Response:
    """Show a job."""
    return json_response(JobOut.of(get_job(db_session(), g.principal, job_id)))


@bp.post("/jobs/<int:job_id>/retry")
@operation(
    "Queue a failed job again (its creator, or who manages its product); 202 with the job",
    response=JobOut,
    status=202,
    tag="jobs",
    problems=[409],
)
def job_retry(job_id: int) -> Response:
    """Retry a failed job."""
    return accepted(retry_job(db_session(), g.principal, job_id))
