"""The CRA conformity file's pages: a release's file and completeness, each Annex I point, the product's risk
assessment and support period, the release's user information and declaration data."""

from __future__ import annotations

from flask import Blueprint, g, render_template, url_for

from ..products.models import Release
from ..products.services import get_release
from ..web.context import db_session
from .applicability import may_keep_file
from .completeness import release_file
from .rules import Area, Missing

bp = Blueprint("cra", __name__)


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


@bp.route("/releases/<int:release_id>/cra")
def release_file_view(release_id: int) -> str:
    """A release's CRA file on one page: what is missing (each with its fix), then every part."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    file = release_file(session, g.principal, release.id)
    return render_template(
        "cra/file.html",
        file=file,
        release=release,
        product=release.product,
        may_edit=may_keep_file(g.principal, release.product_id),
        fix_url=fix_url,
    )


def fix_url(release: Release, missing: Missing) -> str:
    """Where a missing part of a release's CRA file is fixed."""
    anchor = f"#{missing.key}" if missing.key else ""
    if missing.area is Area.POINT:
        return url_for("cra.point", release_id=release.id, ref=missing.key)
    if missing.area is Area.RISK:
        return url_for("cra.risk_assessment", product_id=release.product_id) + anchor
    if missing.area is Area.SUPPORT:
        return url_for("cra.support_period", product_id=release.product_id) + anchor
    if missing.area is Area.USER_INFORMATION:
        return url_for("cra.user_information", release_id=release.id) + anchor
    if missing.area is Area.DECLARATION:
        return url_for("cra.declaration", release_id=release.id) + anchor
    return url_for("cra.release_file_view", release_id=release.id) + "#mapping"


# === end ===
