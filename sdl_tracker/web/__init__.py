"""The HTML door: per-request session and principal, security headers, errors, layout."""

from __future__ import annotations

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

from .context import init_request_context
from .errors import init_error_pages
from .security import init_security_headers


def init_web(app: Flask) -> None:
    """Register the HTML blueprints, CSRF protection and per-request hooks."""
    from ..accounts.views import bp as accounts_bp
    from ..audit.views import bp as audit_bp
    from ..catalog.views import bp as catalog_bp
    from ..claims.views import bp as claims_bp
    from ..evidence.views import bp as evidence_bp
    from ..gitlink.views import bp as gitlink_bp
    from ..jobs.views import bp as jobs_bp
    from ..products.views import bp as products_bp
    from ..sboms.views import bp as sboms_bp
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
    app.register_blueprint(accounts_bp)
    app.register_blueprint(products_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(claims_bp)
    app.register_blueprint(sboms_bp)
    app.register_blueprint(gitlink_bp)
    app.register_blueprint(jobs_bp)
