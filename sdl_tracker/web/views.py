"""Health and the template helpers every page uses (the dashboard is its own feature)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text
from werkzeug import Response

from ..labels import label
from .context import current_principal, db_session
from .templating import local_time, row_url, static_field, text_url, viewer_zone

bp = Blueprint("web", __name__)


@bp.route("/health")
def health() -> Response:
    """Liveness and database reachability, for load balancers; reveals nothing else."""
    db_session().execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


def _template_globals() -> dict[str, Any]:
    principal = current_principal()
    return {
        "principal": principal,
    }


def init_template_helpers(app: Flask) -> None:
    """Globals every template may use (each feature's views add its services' `may_*` predicates), the
    `label` filter: how a stored word reads (`{{ evidence.kind|label }}` -> "SBOM"), the `local_time` filter and
    `viewer_zone()`: a time on the viewer's clock and which clock that is, and `row_url` for the
    links of long lists, `static_field` for the fields of filter forms."""
    app.context_processor(_template_globals)
    app.add_template_filter(label, "label")
    app.add_template_filter(local_time, "local_time")
    app.add_template_global(viewer_zone)
    app.add_template_global(row_url)
    app.add_template_global(text_url)
    app.add_template_global(static_field)
