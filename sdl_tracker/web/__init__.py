"""The HTML door: per-request session and principal, security headers, errors, layout."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

from ..boundary import MAX_ID
from .context import init_request_context
from .errors import init_error_pages
from .inputs import init_input_boundary
from .security import init_security_headers


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a non-negative integer that fits the database's id columns."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        # A bigger number in a URL names nothing (404) on every database alike, rather than failing in
        # the database (500 on one, 404 on the other).
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        """The id; one beyond the columns is 404 outright.

        Werkzeug's refusal (ValidationError) would answer 405 on a path that also has a GET route,
        since the method was compared before the value (PATCH /api/v1/products/2147483648).
        """
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def init_web(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Register CSRF protection, per-request hooks, error pages and the features' HTML blueprints."""
    app.url_map.converters["int"] = IdConverter  # before any route is registered, pages and API alike
    from .views import bp as web_bp
    from .views import init_template_helpers

    # CSRF is checked here, for every non-API path, rather than per blueprint: an exemption list
    # keyed by blueprint name misses nested blueprints, and a forgotten entry fails open.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    def protect_forms() -> None:
        if not request.path.startswith("/api/"):
            csrf.protect()

    app.before_request(protect_forms)
    init_input_boundary(app)
    init_security_headers(app)
    init_request_context(app)  # after the headers: its commit step must run first (see there)
    init_error_pages(app)
    init_template_helpers(app)
    app.register_blueprint(web_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
