"""Error pages for the HTML door and problem+json for the API, from one vocabulary."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException

from ..db import RETRY_AFTER_SECONDS, is_busy
from ..errors import DomainError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    """One rejected input field and why."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document: every API error answers with one."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


def wants_problem_json() -> bool:
    """API paths answer with problem+json; everything else with a page."""
    return request.path.startswith("/api/")


def problem_response(problem: Problem) -> Response:
    """An RFC 9457 problem response (fields without a value are left out)."""
    return Response(problem.model_dump_json(exclude_none=True), status=problem.status, mimetype=PROBLEM_JSON)


def _render(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def _domain_error(error: DomainError) -> Response | tuple[str, int]:
    if wants_problem_json():
        errors = [FieldProblem(field=e.field, message=e.message) for e in error.errors] or None
        response = problem_response(
            Problem(title=error.title, status=error.status, detail=error.message, instance=request.path, errors=errors)
        )
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="sdl-tracker"'
        return response
    return _render(error.status, error.title, error.message)


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    title = error.name
    detail = error.description or title
    if status == 413:
        detail = "the upload is larger than this server accepts"
    if wants_problem_json():
        response = problem_response(Problem(title=title, status=status, detail=detail, instance=request.path))
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response
    return _render(status, title, detail)


def _busy(error: Exception) -> Response:
    log.warning("database busy on %s %s: %s", request.method, request.path, str(error).splitlines()[0])
    detail = "The database is busy; nothing was changed. Try again in a moment."
    if wants_problem_json():
        response = problem_response(
            Problem(title="Service Unavailable", status=503, detail=detail, instance=request.path)
        )
    else:
        page, _status = _render(503, "Service Unavailable", detail)
        response = Response(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _unexpected(error: Exception) -> Response | tuple[str, int]:
    if is_busy(error):
        return _busy(error)
    # Logged with its trace for the operator; the user sees no internals.
    log.exception("unhandled error on %s %s", request.method, request.path)
    detail = "Something went wrong on our side; the error has been logged."
    if wants_problem_json():
        return problem_response(
            Problem(title="Internal Server Error", status=500, detail=detail, instance=request.path)
        )
    return _render(500, "Internal Server Error", detail)


def init_error_pages(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
