"""The page of a job: progress that refreshes itself until the job finishes."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug import Response

from ..web.context import db_session
from .schemas import JobOut
from .services import get_job, may_retry, retry_job

bp = Blueprint("jobs", __name__)

REFRESH_SECONDS = 2


@bp.route("/jobs/<int:job_id>")
def detail(job_id: int) -> str:
    """A job's state and progress; the page reloads itself while the job runs (no JavaScript)."""
    job = get_job(db_session(), g.principal, job_id)
    return render_template(
        "jobs/detail.html",
        job=JobOut.of(job),
        refresh=None if job.finished else REFRESH_SECONDS,
        may_retry=may_retry(g.principal, job),
    )


@bp.post("/jobs/<int:job_id>/retry")
def retry(job_id: int) -> Response:
    """Queue a failed job again and follow it."""
    retry_job(db_session(), g.principal, job_id)
    return redirect(url_for("jobs.detail", job_id=job_id))
