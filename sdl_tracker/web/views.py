"""Dashboard and health."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, jsonify, render_template
from sqlalchemy import text
from werkzeug import Response

from ..products.services import list_products
from .context import current_principal, db_session

bp = Blueprint("web", __name__)


@bp.route("/")
def dashboard() -> str:
    """The products the user may see, with their releases and target levels."""
    products = list_products(db_session(), g.principal)
    return render_template("web/dashboard.html", products=products)


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
        "nav_products": list_products(db_session(), principal) if principal else [],
    }


def init_template_helpers(app: Flask) -> None:
    """Globals every template may use (each feature's views add its services' `may_*` predicates)."""
    app.context_processor(_template_globals)
