"""The JSON door: /api/v1, bearer tokens only, problem+json errors, OpenAPI 3.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from flask import Blueprint, Flask, current_app, g, jsonify, request
from werkzeug import Response

from ..accounts.tokens import check_token, touch_token
from ..auth import Principal
from ..errors import Unauthorized
from ..web.context import app_db, client_origin
from .openapi import build_openapi

# Resolves a bearer token to a Principal (or None). The real one checks API tokens; tests of
# other features may install their own through set_token_authenticator.
TokenAuthenticator = Callable[[str, str], Principal | None]
TOKEN_AUTHENTICATOR = "sdl_tracker.token_authenticator"  # noqa: S105 - an extension key


def authenticate_api_token(token: str, origin: str) -> Principal | None:
    """Check a token in a read-only unit of work; write its last use (at most once a minute) in another."""
    database = app_db()
    with database.unit_of_work(read_only=True) as session:
        checked = check_token(session, token, origin=origin)
    if checked is None:
        return None
    if checked.touch:
        with database.unit_of_work() as session:
            touch_token(session, checked.token_id, origin=origin)
    return checked.principal


def set_token_authenticator(app: Flask, authenticator: TokenAuthenticator) -> None:
    """Install the function that turns a bearer token into a Principal."""
    app.extensions[TOKEN_AUTHENTICATOR] = authenticator


def authenticate_bearer() -> None:
    """Every API route but the OpenAPI document needs `Authorization: Bearer <token>`."""
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    authenticator = cast(TokenAuthenticator, current_app.extensions[TOKEN_AUTHENTICATOR])
    principal = authenticator(token.strip(), client_origin("api"))
    if principal is None:
        raise Unauthorized("the token is unknown, expired or revoked")
    g.principal = principal


def openapi() -> Response:
    """The OpenAPI 3.1 document, generated from the schemas that validate the API's input."""
    return jsonify(build_openapi(current_app))


def init_api(app: Flask) -> None:
    """Register the API blueprints; the API takes no cookies, so CSRF does not apply (see web)."""
    from ..catalog.api import bp as catalog_api
    from ..claims.api import bp as claims_api
    from ..evidence.api import bp as evidence_api
    from ..gitlink.api import bp as gitlink_api
    from ..jobs.api import bp as jobs_api
    from ..products.api import bp as products_api
    from ..sboms.api import bp as sboms_api

    app.extensions.setdefault(TOKEN_AUTHENTICATOR, authenticate_api_token)
    # A new parent blueprint per app: nesting mutates the parent, so it cannot be module-level.
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(authenticate_bearer)
    api.add_url_rule("/openapi.json", view_func=openapi)
    api.register_blueprint(products_api)
    api.register_blueprint(catalog_api)
    api.register_blueprint(evidence_api)
    api.register_blueprint(claims_api)
    api.register_blueprint(gitlink_api)
    api.register_blueprint(sboms_api)
    api.register_blueprint(jobs_api)
    app.register_blueprint(api)
