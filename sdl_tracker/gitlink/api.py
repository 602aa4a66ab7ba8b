"""Review coverage of a release over /api/v1 (scanning itself runs in the CLI or a worker, never a request)."""

from __future__ import annotations

from flask import Blueprint, Response, g

from ..api.openapi import json_response, operation
from ..products.services import get_release
from ..web.context import db_session
from .schemas import ReleaseCommitsOut
from .services import release_commits

bp = Blueprint("gitlink_api", __name__)


@bp.get("/releases/<int:release_id>/commits")
@operation(
    "A release's commits since the previous release and which were reviewed", response=ReleaseCommitsOut, tag="git"
)
def release_commits_show(release_id: int) -> Response:
    """Review coverage of a release."""
    release = get_release(db_session(), g.principal, release_id)
    return json_response(
        ReleaseCommitsOut.of(release_commits(db_session(), g.principal, release.product_id, release.version))
    )
