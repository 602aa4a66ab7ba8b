"""Describe API endpoints with pydantic models and build the OpenAPI 3.1 document from them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.routing import IntegerConverter, Rule

from ..errors import FieldError, Invalid

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
SPEC_ATTRIBUTE = "__openapi__"


@dataclass(frozen=True)
class Operation:
    """What the document says of one endpoint."""

    summary: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)  # name -> description
    tag: str = ""
    multipart: type[BaseModel] | None = None  # a `metadata` JSON part validated by this, plus `file` parts
    binary: bool = False  # the response is a file download


def operation(summary: str, **kwargs: Any) -> Callable[[F], F]:
    """Attach an Operation to a view function; the document is built from these."""

    def decorate(view: F) -> F:
        setattr(view, SPEC_ATTRIBUTE, Operation(summary=summary, **kwargs))
        return view

    return decorate


def page_args() -> tuple[int, int]:
    """The `page` (from 1) and `per_page` (1-200, default 50) query arguments, validated."""
    values = {}
    for name, default, limit in (("page", 1, 10**9), ("per_page", 50, 200)):
        raw = request.args.get(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= limit:
            raise Invalid.field(name, f"{name} must be a whole number from 1 to {limit}")
        values[name] = int(raw)
    return values["page"], values["per_page"]


def paginated(items: list[Any], serialise: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """A list response: {"items": [...], "total": N, "page": P, "per_page": K}."""
    page, per_page = page_args()
    start = (page - 1) * per_page
    return {
        "items": [serialise(item) for item in items[start : start + per_page]],
        "total": len(items),
        "page": page,
        "per_page": per_page,
    }


def parse_metadata(model: type[M]) -> M:
    """Validate the `metadata` JSON part of a multipart request against `model`."""
    raw = request.form.get("metadata")
    if raw is None:
        raise Invalid.field("metadata", "send the fields as a JSON `metadata` part (multipart/form-data)")
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Invalid.field("metadata", f"not JSON: {exc.msg}") from None
    return _validated(model, payload)


def parse_body(model: type[M]) -> M:
    """Validate the JSON body against `model`; errors become Invalid with JSON paths."""
    payload = request.get_json(silent=True)
    if payload is None:
        raise Invalid("the body must be a JSON document (Content-Type: application/json)")
    return _validated(model, payload)


def _validated(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in err["loc"]) or "body", err["msg"])
            for err in exc.errors(include_url=False)
        ]
        raise Invalid("the request body is invalid", errors=errors) from None


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "required": ["title", "status", "detail"],
}


def build_openapi(app: Flask) -> dict[str, Any]:
    """The document for every /api/v1 route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    models: set[type[BaseModel]] = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint == "api.openapi":
            continue
        view = app.view_functions[rule.endpoint]
        spec: Operation | None = getattr(view, SPEC_ATTRIBUTE, None)
        if spec is None:
            raise RuntimeError(f"API endpoint {rule.endpoint} has no @operation description")
        for model in (spec.body, spec.response, spec.multipart):
            if model is not None:
                models.add(model)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(_openapi_path(rule.rule), {})[method.lower()] = _operation_doc(rule, spec)

    _, schema = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    schemas = schema.get("$defs", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": "sdl-tracker API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }


def _path_parameter(rule: Rule, name: str) -> dict[str, Any]:
    converter = rule._converters.get(name)  # werkzeug keeps them private; the type is all we read
    kind = "integer" if isinstance(converter, IntegerConverter) else "string"
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _operation_doc(rule: Rule, spec: Operation) -> dict[str, Any]:
    endpoint = rule.endpoint
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    doc: dict[str, Any] = {
        "operationId": endpoint.replace(".", "_"),
        "summary": spec.summary,
        "tags": [spec.tag] if spec.tag else [],
        "parameters": [_path_parameter(rule, name) for name in sorted(rule.arguments)]
        + [
            {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
            for name, text in spec.query.items()
        ],
        "responses": {
            str(spec.status): {
                "description": "success",
                **(
                    {
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{spec.response.__name__}"}}
                        }
                    }
                    if spec.response
                    else {}
                ),
            },
            "401": {"description": "no valid bearer token", "content": problem},
            "404": {"description": "not found, or not visible to you", "content": problem},
            "422": {"description": "invalid input", "content": problem},
        },
    }
    if spec.binary:
        doc["responses"][str(spec.status)]["content"] = {
            "application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
        }
    if spec.multipart is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "metadata": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "contentSchema": {"$ref": f"#/components/schemas/{spec.multipart.__name__}"},
                            },
                            "file": {
                                "type": "array",
                                "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                            },
                        },
                        "required": ["metadata"],
                    }
                }
            },
        }
    if spec.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{spec.body.__name__}"}}},
        }
    return doc
