"""Per-request database session and acting principal, shared by the HTML and API doors."""

from __future__ import annotations

from typing import cast

from flask import Flask, g, request
from sqlalchemy.orm import Session

from ..auth import Principal
from ..installation import app_db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def db_session() -> Session:
    """This request's session; safe methods get a read-only one (no SQLite write lock)."""
    if "db_session" not in g:
        g.db_session = app_db().session(read_only=request.method in SAFE_METHODS)
    return cast(Session, g.db_session)


def commit() -> None:
    """Commit this request's unit of work: the door calls it once, after the service."""
    db_session().commit()


def rollback() -> None:
    """Undo this request's unit of work: the door calls it when a service refused after writing, so the
    page it renders next shows nothing of the refused change."""
    db_session().rollback()


def current_principal() -> Principal | None:
    """The principal the request authenticated as, if any."""
    return cast(Principal | None, g.get("principal"))


def client_origin(door: str) -> str:
    """Where a request came from, for the audit log: the door and the client address."""
    return f"{door} {request.remote_addr or '-'}"


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever the view did not commit


def init_request_context(app: Flask) -> None:
    """Close each request's session at teardown."""
    app.teardown_request(_close_session)
