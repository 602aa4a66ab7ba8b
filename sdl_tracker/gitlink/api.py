"""Review coverage of a release over /api/v1; a scan is queued here (202) and runs in a worker."""

from __future__ import annotations

from flask import Blueprint, Response, g

from ..api.openapi import json_response, operation
from ..jobs.api import accepted
from ..jobs.schemas import JobOut
from ..web.context import db_session
from .schemas import ReleaseCommitsOut
from .services import queue_scan, release_commits_by_id

bp = Blueprint("gitlink_api", __name__)


@bp.get("/releases/<int:release_id>/commits")
@operation(
    "A release's commits since the previous release and which were reviewed", response=ReleaseCommitsOut, tag="git"
)
def release_commits_show(release_id: int) -> Response:
    """Review coverage of a release."""
    return json_response(ReleaseCommitsOut.of(release_commits_by_id(db_session(), g.principal, release_id)))


@bp.post("/repositories/<int:repository_id>/scan")
@operation(
    "Queue a scan of the repository (202 with the job's location; a scan already queued is returned)",
    response=JobOut,
    status=202,
    tag="git",
)
def repository_scan(repository_id: int) -> Response:
    """Queue a repository scan."""
    return accepted(queue_scan(db_session(), g.principal, repository_id))
