"""Health and the template helpers every page uses (the dashboard is its own feature)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, jsonify
from sqlalchemy import text
from werkzeug import Response

from ..auth import Permission, Principal
from .context import current_principal, db_session

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
        "current_user": g.get("user"),
        "Permission": Permission,
    }


def can(permission: Permission, product_id: int | None = None) -> bool:
    """Template test: may the current principal do this? (Hides buttons; services still check.)"""
    principal: Principal | None = current_principal()
    return bool(principal and principal.has(permission, product_id))


def init_template_helpers(app: Flask) -> None:
    """Globals every template may use."""
    app.context_processor(_template_globals)
    app.jinja_env.globals["can"] = can
