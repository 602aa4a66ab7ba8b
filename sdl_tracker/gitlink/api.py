"""Review coverage of a release over /api/v1 (scanning itself runs in the CLI or a worker, never a request)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify
from pydantic import BaseModel

from ..api.openapi import operation
from ..products.services import get_release
from ..web.context import db_session
from .serialise import release_commits_json
from .services import release_commits

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
