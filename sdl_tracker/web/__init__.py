"""The HTML door: per-request session and principal, security headers, errors, layout."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from .context import init_request_context
from .errors import init_error_pages
from .security import init_security_headers


def init_web(app: Flask) -> None:
    """Register the HTML blueprints, CSRF protection and per-request hooks."""
    from ..accounts.views import bp as accounts_bp
    from ..products.views import bp as products_bp
    from .views import bp as web_bp
    from .views import init_template_helpers

    csrf = CSRFProtect(app)
    app.extensions["sdl_tracker.csrf"] = csrf
    init_request_context(app)
    init_security_headers(app)
    init_error_pages(app)
    init_template_helpers(app)
    app.register_blueprint(web_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(products_bp)
