"""Every API response the suite produces is checked against the OpenAPI document.

conftest.py makes every test client a `CheckedClient`: each /api/v1 response is matched to its
route and validated (status, media type, body) against what the document declares, and a mismatch
fails the test that made the request.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from sdl_tracker.api.openapi import build_openapi, openapi_path

DIALECT = "https://json-schema.org/draft/2020-12/schema"
PROBLEM_JSON = "application/problem+json"
# How many responses were checked, by (method, path, status): printed at the end of the run.
CHECKED: Counter[tuple[str, str, int]] = Counter()


class ContractError(AssertionError):
    """A response the document does not describe."""


@dataclass(frozen=True)
class Answer:
    """What the checker looks at in a response."""

    method: str
    path: str | None  # the OpenAPI path template, None when no route matched
    status: int
    media_type: str
    body: bytes
    headers: frozenset[str] = frozenset()  # the header names, lower case


class Contract:
    """The responses an OpenAPI document declares, with a compiled validator per schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._validators: dict[str, Any] = {}

    def check(self, answer: Answer) -> None:
        """Raise ContractError unless the document declares this status and media type and the body fits."""
        where = f"{answer.method} {answer.path or '(no route)'} -> {answer.status} {answer.media_type}"
        if answer.path is None:
            # No route (404, 405): the API's error handlers still answer with a problem.
            content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        else:
            operation = self.document["paths"].get(answer.path, {}).get(answer.method.lower())
            if operation is None:
                raise ContractError(f"{where}: the document has no such operation")
            declared = operation["responses"].get(str(answer.status))
            if declared is None:
                raise ContractError(
                    f"{where}: status {answer.status} is not declared ({sorted(operation['responses'])})"
                )
            content = declared.get("content", {})
            for name, header in declared.get("headers", {}).items():
                if header.get("required") and name.lower() not in answer.headers:
                    raise ContractError(f"{where}: the required header {name} is missing")
        if not content:
            if answer.body:
                raise ContractError(f"{where}: declared without a body but has {len(answer.body)} bytes")
            return
        media = content.get(answer.media_type)
        if media is None:
            raise ContractError(f"{where}: media type not declared ({sorted(content)})")
        if "schema" not in media:
            return  # a download: its type is what the document promises; its bytes are the file's
        try:
            body = json.loads(answer.body)
        except ValueError as exc:
            raise ContractError(f"{where}: the body is not JSON ({exc})") from None
        errors = [f"{e.instance_path or '/'}: {e.message}" for e in self._validator(media["schema"]).iter_errors(body)]
        if errors:
            raise ContractError(f"{where}: the body does not match the document:\n  " + "\n  ".join(errors[:10]))

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            # The schema's $refs point into #/components/schemas: validate under a root that holds them.
            root = {"$schema": DIALECT, "components": self.document["components"], "allOf": [schema]}
            self._validators[key] = jsonschema_rs.validator_for(root, validate_formats=True)
        return self._validators[key]


_contracts: dict[frozenset[str], Contract] = {}


def unexercised() -> list[str]:
    """Documented operations no test called (in the plain app's document, without routes tests add)."""
    if not _contracts:
        return []
    document = min((c.document for c in _contracts.values()), key=lambda d: len(d["paths"]))
    seen = {(method, path) for method, path, _ in CHECKED}
    return [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if (method.upper(), path) not in seen
    ]


def contract_for(app: Flask) -> Contract:
    """The app's contract, built once per set of API endpoints (every test app has the same ones)."""
    endpoints = frozenset(rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1"))
    if endpoints not in _contracts:
        _contracts[endpoints] = Contract(build_openapi(app))
    return _contracts[endpoints]


def answer_of(app: Flask, response: TestResponse) -> Answer:
    """The route a test response came from, and what it carried."""
    environ = response.request.environ
    method = environ["REQUEST_METHOD"]
    media_type = response.mimetype or ""
    try:
        rule, _ = app.url_map.bind_to_environ(environ).match(method=method, return_rule=True)
        path: str | None = openapi_path(rule.rule)
    except HTTPException:
        path = None
    # A download's stream is left to the test that asked for it (only JSON bodies are checked).
    body = response.get_data() if media_type.endswith("json") or not media_type else b""
    headers = frozenset(name.lower() for name, _value in response.headers.items())
    return Answer(method, path, response.status_code, media_type, body, headers)


class CheckedClient(FlaskClient):
    """A test client that checks each /api/v1 response against the OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # type: ignore[override]
        """Make the request, then check the response (the document itself is not an operation)."""
        response = super().open(*args, **kwargs)
        path = response.request.path
        # HEAD answers are GETs without a body, OPTIONS answers (the allowed methods) are HTTP's own, not
        # operations, and the document is not one of its own operations.
        if (
            path.startswith("/api/v1/")
            and path != "/api/v1/openapi.json"
            and response.request.method not in {"HEAD", "OPTIONS"}
        ):
            answer = answer_of(self.application, response)
            contract_for(self.application).check(answer)
            CHECKED[(answer.method, answer.path or "(no route)", answer.status)] += 1
        return response
