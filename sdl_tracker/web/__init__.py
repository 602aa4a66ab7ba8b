"""The HTML door: per-request session and principal, security headers, errors, layout."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, request
from flask_wtf.csrf import CSRFProtect

from .context import init_request_context
from .errors import init_error_pages
from .security import init_security_headers


def init_web(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Register CSRF protection, per-request hooks, error pages and the features' HTML blueprints."""
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
    init_request_context(app)
    init_security_headers(app)
    init_error_pages(app)
    init_template_helpers(app)
    app.register_blueprint(web_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
