"""Describe API endpoints with pydantic models and build the OpenAPI 3.1 document from them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import Flask, Response, request
from pydantic import BaseModel, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from werkzeug.routing import IntegerConverter, Rule

from ..boundary import TooDeep, loads_json, parse_whole
from ..errors import FieldError, Invalid, Malformed
from ..web.errors import PROBLEM_JSON, Problem
from ..web.inputs import page_number

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
OutT = TypeVar("OutT", bound=BaseModel)
SPEC_ATTRIBUTE = "__openapi__"
JSON = "application/json"


@dataclass(frozen=True)
class Download:
    """A file response: the media types it may be served as."""

    media_types: tuple[str, ...]
    description: str = "the file, as an attachment"


Body = type[BaseModel] | Download | None  # a success response: a JSON model, a file, or nothing

# Every authenticated route may answer these (DESIGN.md: a product you may not see is 404).
COMMON_PROBLEMS = frozenset({401, 403, 404, 422, 503})
# Routes that read a request body may also meet a malformed or oversized one.
BODY_PROBLEMS = frozenset({400, 413})
PROBLEM_DESCRIPTIONS = {
    400: "the request is malformed",
    401: "no valid bearer token",
    403: "you may see this but not do it",
    404: "not found, or not visible to you",
    409: "the request clashes with the current state",
    413: "the request body is larger than this server accepts",
    422: "invalid input",
    503: "the database is busy; try again after Retry-After seconds",
}


@dataclass(frozen=True)
class Operation:
    """What the document says of one endpoint."""

    summary: str
    responses: dict[int, Body]  # success status -> what it carries
    problems: frozenset[int]  # error statuses, answered as application/problem+json
    body: type[BaseModel] | None = None
    query: dict[str, str] = field(default_factory=dict)  # name -> description
    tag: str = ""
    multipart: type[BaseModel] | None = None  # a `metadata` JSON part validated by this, plus `file` parts


def operation(
    summary: str,
    *,
    response: Body = None,
    status: int = 200,
    responses: dict[int, Body] | None = None,
    problems: Iterable[int] = (),
    body: type[BaseModel] | None = None,
    multipart: type[BaseModel] | None = None,
    query: dict[str, str] | None = None,
    tag: str = "",
) -> Callable[[F], F]:
    """Attach an Operation to a view function; the document is built from these.

    `response`/`status` declare one success response; `responses` several (201 and 200, or 202 for
    queued work). `problems` adds error statuses (409) to the ones every route may answer.
    """
    declared = problems_for(problems, takes_body=body is not None or multipart is not None)
    spec = Operation(
        summary=summary,
        responses=dict(responses) if responses is not None else {status: response},
        problems=declared,
        body=body,
        query=dict(query or {}),
        tag=tag,
        multipart=multipart,
    )

    def decorate(view: F) -> F:
        setattr(view, SPEC_ATTRIBUTE, spec)
        return view

    return decorate


def problems_for(extra: Iterable[int], *, takes_body: bool) -> frozenset[int]:
    """The error statuses of a route: the common ones, a body's, and its own."""
    unknown = set(extra) - PROBLEM_DESCRIPTIONS.keys()
    if unknown:
        raise ValueError(f"no description for problem statuses {sorted(unknown)}")
    return COMMON_PROBLEMS | (BODY_PROBLEMS if takes_body else frozenset()) | frozenset(extra)


class Page(BaseModel, Generic[T]):
    """A page of a list: {"items": [...], "total": N, "page": P, "per_page": K}."""

    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=200)

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """`Page[ProductOut]` is called ProductPage in the document."""
        return params[0].__name__.removesuffix("Out") + "Page"


class ItemList(BaseModel, Generic[T]):
    """A short list that is never paged: {"items": [...]}."""

    items: list[T]

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """`ItemList[ClaimOut]` is called ClaimList in the document."""
        return params[0].__name__.removesuffix("Out") + "List"


def json_response(model: BaseModel, status: int = 200) -> Response:
    """A JSON response built from an output model (by alias: `from` is a Python keyword)."""
    return Response(model.model_dump_json(by_alias=True), status=status, mimetype=JSON)


# What page_args reads, as an operation's `query` documents it.
PAGE_QUERY = {"page": "page number from 1", "per_page": "1-200, default 50"}


def page_args() -> tuple[int, int]:
    """The `page` (from 1) and `per_page` (1-200, default 50) query arguments, validated."""
    per_page = parse_whole(request.args.get("per_page", "50"))
    if per_page is None or not 1 <= per_page <= 200:
        raise Invalid.field("per_page", "per_page must be a whole number from 1 to 200")
    return page_number(), per_page


def paginated(items: Sequence[T], out: Callable[[T], OutT]) -> Page[OutT]:
    """The requested page of `items`, each converted by `out`."""
    page, per_page = page_args()
    start = (page - 1) * per_page
    return Page(
        items=[out(item) for item in items[start : start + per_page]], total=len(items), page=page, per_page=per_page
    )


def parse_metadata(model: type[M]) -> M:
    """Validate the `metadata` JSON part of a multipart request against `model`."""
    raw = request.form.get("metadata")
    if raw is None:
        raise Invalid.field("metadata", "send the fields as a JSON `metadata` part (multipart/form-data)")
    try:
        payload = loads_json(raw)
    except TooDeep as exc:
        raise Malformed(f"metadata: {exc}") from None
    except json.JSONDecodeError as exc:
        raise Invalid.field("metadata", f"not JSON: {exc.msg}") from None
    return _validated(model, payload)


def parse_body(model: type[M]) -> M:
    """Validate the JSON body against `model`; errors become Invalid with JSON paths, a body nested
    too deeply is Malformed (400) before anything recurses over it."""
    if not request.is_json:
        raise Invalid("the body must be a JSON document (Content-Type: application/json)")
    try:
        payload = loads_json(request.get_data())
    except TooDeep as exc:
        raise Malformed(str(exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid("the body must be a JSON document (Content-Type: application/json)") from None
    return _validated(model, payload)


def _validated(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in err["loc"]) or "body", err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_url=False)
        ]
        raise Invalid("the request body is invalid", errors=errors) from None


def openapi_path(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path template: <int:product_id> becomes {product_id}."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


REF_TEMPLATE = "#/components/schemas/{model}"
Refs = dict[Any, dict[str, Any]]  # (model, mode) -> its {"$ref": ...}, as models_json_schema answers


class _Names(GenerateJsonSchema):
    """Schema names as the models' titles: `Page[ProductOut]` becomes ProductPage, not Page_ProductOut_."""

    def normalize_name(self, name: str) -> str:
        """Generic models go by their parametrised name (see Page.model_parametrized_name)."""
        match = re.fullmatch(r"(Page|ItemList)\[(?:[\w.]+\.)?(\w+)\]", name)
        if match:
            suffix = "Page" if match[1] == "Page" else "List"
            return match[2].removesuffix("Out") + suffix
        return super().normalize_name(name)


def api_operations(app: Flask) -> list[tuple[Rule, Operation]]:
    """Every documented /api/v1 rule with its description; a route without one is an error."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint == "api.openapi":
            continue
        spec: Operation | None = getattr(app.view_functions[rule.endpoint], SPEC_ATTRIBUTE, None)
        if spec is None:
            raise RuntimeError(f"API endpoint {rule.endpoint} has no @operation description")
        found.append((rule, spec))
    return found


def build_openapi(app: Flask) -> dict[str, Any]:
    """The document for every /api/v1 route of `app`."""
    operations = api_operations(app)
    wanted: dict[type[BaseModel], set[JsonSchemaMode]] = {Problem: {"serialization"}}
    for _, spec in operations:
        for model in (spec.body, spec.multipart):
            if model is not None:
                wanted.setdefault(model, set()).add("validation")
        for body in spec.responses.values():
            if isinstance(body, type):
                wanted.setdefault(body, set()).add("serialization")
    keys = sorted(((m, mode) for m, modes in wanted.items() for mode in modes), key=lambda k: (k[0].__name__, k[1]))
    refs, schema = models_json_schema(keys, ref_template=REF_TEMPLATE, schema_generator=_Names)
    paths: dict[str, dict[str, Any]] = {}
    for rule, spec in operations:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = _operation_doc(rule, spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "sdl-tracker API", "version": "1"},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/"}],
        "components": {
            "schemas": dict(sorted(schema.get("$defs", {}).items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
    }


def _path_parameter(rule: Rule, name: str) -> dict[str, Any]:
    converter = rule._converters.get(name)  # werkzeug keeps them private; the type is all we read
    kind = "integer" if isinstance(converter, IntegerConverter) else "string"
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _success_doc(body: Body, refs: Refs) -> dict[str, Any]:
    if body is None:
        return {"description": "done; no body"}
    if isinstance(body, Download):
        # OpenAPI 3.1: a file's bytes are described by its media type alone, without a schema.
        return {"description": body.description, "content": {media: {} for media in body.media_types}}
    return {"description": body.__doc__ or "success", "content": {JSON: {"schema": refs[(body, "serialization")]}}}


def _problem_doc(status: int, refs: Refs) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "description": PROBLEM_DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": refs[(Problem, "serialization")]}},
    }
    if status == 503:
        doc["headers"] = {
            "Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer"}}
        }
    if status == 401:
        doc["headers"] = {
            "WWW-Authenticate": {"description": "the Bearer challenge", "required": True, "schema": {"type": "string"}}
        }
    return doc


def _operation_doc(rule: Rule, spec: Operation, refs: Refs) -> dict[str, Any]:
    responses = {str(status): _success_doc(body, refs) for status, body in sorted(spec.responses.items())}
    responses |= {str(status): _problem_doc(status, refs) for status in sorted(spec.problems)}
    doc: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": spec.summary,
        "tags": [spec.tag] if spec.tag else [],
        "parameters": [_path_parameter(rule, name) for name in sorted(rule.arguments)]
        + [
            {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
            for name, text in spec.query.items()
        ],
        "responses": responses,
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
                                "contentMediaType": JSON,
                                "contentSchema": refs[(spec.multipart, "validation")],
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
        doc["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[(spec.body, "validation")]}}}
    return doc
