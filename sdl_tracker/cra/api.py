"""The CRA conformity file over /api/v1: the file and its completeness, Annex I points, the mapping version, the
risk assessment, support period, user information and declaration data."""

from __future__ import annotations

from flask import Blueprint, Response, g

from ..api.openapi import json_response, operation
from ..web.context import db_session
from .completeness import release_file
from .schemas import CraFileOut

bp = Blueprint("cra_api", __name__)


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


@bp.get("/releases/<int:release_id>/cra")
@operation(
    "A release's CRA conformity file in summary, with everything it still lacks before it can be exported",
    response=CraFileOut,
    tag="cra",
)
def release_file_show(release_id: int) -> Response:
    """Show a release's CRA file and its completeness."""
    return json_response(CraFileOut.of(release_file(db_session(), g.principal, release_id)))


# === end ===
