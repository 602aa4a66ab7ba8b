"""A release's build artifacts page."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from ..products.services import get_release
from ..web.context import db_session
from .services import list_artifacts

bp = Blueprint("builds", __name__)


@bp.route("/releases/<int:release_id>/artifacts")
def release_artifacts(release_id: int) -> str:
    """The files the release's builds produced, with their digests and CI runs."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    artifacts = list_artifacts(session, g.principal, release.id)
    return render_template("builds/artifacts.html", release=release, product=release.product, artifacts=artifacts)
