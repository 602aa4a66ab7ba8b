"""The dashboard page and the navigation's product list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from ..products.services import list_products
from ..web.context import current_principal, db_session

bp = Blueprint("dashboard", __name__)


@bp.route("/")
def index() -> str:
    """The products the user may see, with their releases and target levels."""
    products = list_products(db_session(), g.principal, with_releases=True)
    return render_template("dashboard/index.html", products=products)


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    """The products the navigation lists on every page."""
    principal = current_principal()
    return {"nav_products": list_products(db_session(), principal) if principal else []}
