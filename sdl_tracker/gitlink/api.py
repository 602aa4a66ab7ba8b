"""Review coverage of a release over /api/v1; a scan is queued here (202) and runs in a worker."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from pydantic import BaseModel

from ..api.openapi import operation
from ..jobs.api import accepted
from ..jobs.serialise import JobOut
from ..products.services import get_release
from ..web.context import commit, db_session
from .serialise import release_commits_json
from .services import queue_scan, release_commits

bp = Blueprint("gitlink_api", __name__)


class ReleaseCommitsOut(BaseModel):
    """A release's commits since the previous release, and their review coverage."""

    product: str
    release: str
    previous: str | None
    commits: int
    reviewed: int
    summary: str
    unreviewed: list[dict[str, Any]]
    evidence_linked: list[dict[str, Any]]
    problems: list[str]


@bp.get("/releases/<int:release_id>/commits")
@operation(
    "A release's commits since the previous release and which were reviewed", response=ReleaseCommitsOut, tag="git"
)
def release_commits_show(release_id: int) -> Response:
    """Review coverage of a release."""
    release = get_release(db_session(), g.principal, release_id)
    return jsonify(
        release_commits_json(release_commits(db_session(), g.principal, release.product_id, release.version))
    )


@bp.post("/repositories/<int:repository_id>/scan")
@operation(
    "Queue a scan of the repository (202 with the job's location; a scan already queued is returned)",
    response=JobOut,
    status=202,
    tag="git",
)
def repository_scan(repository_id: int) -> tuple[Response, int, dict[str, str]]:
    """Queue a repository scan."""
    job = queue_scan(db_session(), g.principal, repository_id)
    commit()
    return accepted(job)
