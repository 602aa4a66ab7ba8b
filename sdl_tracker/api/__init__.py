"""The JSON door: /api/v1, bearer tokens only, problem+json errors, OpenAPI 3.1."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import cast

from flask import Blueprint, Flask, current_app, g, jsonify, request
from werkzeug import Response

from ..auth import Principal
from ..errors import Unauthorized
from ..web.context import client_origin
from .openapi import build_openapi

# Resolves a bearer token to a Principal (or None). The app module installs the accounts feature's
# check of API tokens; until one is installed every token is refused.
TokenAuthenticator = Callable[[str, str], Principal | None]
TOKEN_AUTHENTICATOR = "sdl_tracker.token_authenticator"  # noqa: S105 - an extension key


def _refuse_every_token(_token: str, _origin: str) -> Principal | None:
    return None


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


def init_api(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Register the features' API blueprints under /api/v1; the API takes no cookies, so CSRF does not apply."""
    app.extensions.setdefault(TOKEN_AUTHENTICATOR, _refuse_every_token)
    # A new parent blueprint per app: nesting mutates the parent, so it cannot be module-level.
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(authenticate_bearer)
    api.add_url_rule("/openapi.json", view_func=openapi)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.register_blueprint(api)
