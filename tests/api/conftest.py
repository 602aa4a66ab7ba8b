"""API fixtures: until API tokens exist (their own issue), a test authenticator maps fixed bearer
tokens to real users' Principals, so the API's validation and permissions are tested end to end."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import find_user, principal_for
from sdl_tracker.api import set_token_authenticator
from sdl_tracker.auth import Principal


class ApiClient:
    """A test client that sends `Authorization: Bearer <token>` for a named user."""

    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def as_user(self, email: str) -> str:
        """Register a token for `email` and return it."""
        token = f"test-token-{len(self.tokens)}"
        self.tokens[token] = email
        return token

    def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
        """Make a request with the token (if any)."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> ApiClient:
    tokens: dict[str, str] = {}

    def authenticate(session: Session, token: str, origin: str) -> Principal | None:
        email = tokens.get(token)
        user = find_user(session, email) if email else None
        return principal_for(session, user, origin=origin) if user else None

    set_token_authenticator(app, authenticate)
    return ApiClient(client, tokens)
