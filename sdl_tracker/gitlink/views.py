"""The commits page of a release: review coverage since the previous release."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from ..products.services import get_release
from ..web.context import db_session
from .schemas import ReleaseCommitsOut
from .services import release_commits

bp = Blueprint("gitlink", __name__)


@bp.route("/releases/<int:release_id>/commits")
def commits(release_id: int) -> str:
    """Which of the release's commits were reviewed (SI-1), and which carry evidence."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    result = ReleaseCommitsOut.of(release_commits(session, g.principal, release.product_id, release.version))
    return render_template("gitlink/commits.html", release=release, product=release.product, result=result)
