"""The commits page of a release: review coverage since the previous release."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug import Response

from ..products.services import get_release
from ..web.context import db_session
from .schemas import ReleaseCommitsOut
from .services import queue_scan, release_commits

bp = Blueprint("gitlink", __name__)


@bp.route("/releases/<int:release_id>/commits")
def commits(release_id: int) -> str:
    """Which of the release's commits were reviewed (SI-1), and which carry evidence."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    result = ReleaseCommitsOut.of(release_commits(session, g.principal, release.product_id, release.version))
    return render_template("gitlink/commits.html", release=release, product=release.product, result=result)


@bp.post("/repositories/<int:repository_id>/scan")
def scan(repository_id: int) -> Response:
    """Queue a scan of the repository and show its job's progress."""
    job = queue_scan(db_session(), g.principal, repository_id)
    return redirect(url_for("jobs.detail", job_id=job.id))
