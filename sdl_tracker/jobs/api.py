"""Jobs over /api/v1: follow queued work; `accepted()` is the 202 answer of endpoints that queue."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from ..api.openapi import operation
from ..web.context import commit, db_session
from .models import Job
from .serialise import JobOut, job_json
from .services import get_job, retry_job

bp = Blueprint("jobs_api", __name__)


def accepted(job: Job) -> tuple[Response, int, dict[str, str]]:
    """202 Accepted with the job's location and body (the work runs in a worker)."""
    body = job_json(job)
    return jsonify(body), 202, {"Location": body["location"]}


@bp.get("/jobs/<int:job_id>")
@operation("A queued job's state, progress, and result or error", response=JobOut, tag="jobs")
def job_show(job_id: int) -> Response:
    """Show a job."""
    return jsonify(job_json(get_job(db_session(), g.principal, job_id)))


@bp.post("/jobs/<int:job_id>/retry")
@operation(
    "Queue a failed job again (its creator, or who manages its product); 202 with the job",
    response=JobOut,
    status=202,
    tag="jobs",
)
def job_retry(job_id: int) -> tuple[Response, int, dict[str, str]]:
    """Retry a failed job."""
    job = retry_job(db_session(), g.principal, job_id)
    commit()
    return accepted(job)
