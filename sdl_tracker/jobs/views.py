"""The page of a job: progress that refreshes itself until the job finishes."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from ..web.context import db_session
from .serialise import JobOut
from .services import get_job

bp = Blueprint("jobs", __name__)

REFRESH_SECONDS = 2


@bp.route("/jobs/<int:job_id>")
def detail(job_id: int) -> str:
    """A job's state and progress; the page reloads itself while the job runs (no JavaScript)."""
    job = get_job(db_session(), g.principal, job_id)
    return render_template("jobs/detail.html", job=JobOut.of(job), refresh=None if job.finished else REFRESH_SECONDS)
