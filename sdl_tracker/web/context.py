"""Per-request database session and acting principal, shared by the HTML and API doors."""

from __future__ import annotations

from typing import cast

from flask import Flask, Response, current_app, g, request
from flask import session as cookie_session
from sqlalchemy.orm import Session

from ..app_access import app_db
from ..auth import Principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def db_session() -> Session:
    """This request's session; safe methods get a read-only one (no SQLite write lock)."""
    if "db_session" not in g:
        g.db_session = app_db().session(read_only=request.method in SAFE_METHODS)
    return cast(Session, g.db_session)


def rollback() -> None:
    """Undo this request's unit of work so far: the door calls it when a service refused (it may have
    written before it raised), so the page it renders next, and the request's commit, keep nothing of it."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def keep_despite_error() -> None:
    """Commit this request's unit of work although the response is an error (a refused sign-in still
    counts and is audited)."""
    g.db_keep = True


def finish_unit_of_work(response: Response) -> Response:
    """The request's one commit: a write request's session commits after a 2xx/3xx response, before it
    is sent, so a failing commit still becomes an error response; anything else rolls back."""
    session: Session | None = g.get("db_session")
    # Once per request: Flask runs this step again on the error response a failure here produces.
    if session is None or request.method in SAFE_METHODS or g.get("db_finished"):
        return response
    g.db_finished = True
    if response.status_code >= 400 and not g.pop("db_keep", False):
        session.rollback()
        return response
    try:
        session.commit()
    except Exception as exc:
        # Never a silent loss: the client learns that nothing was kept, from the app's error handlers,
        # and the cookie session goes back to what the request brought (no sign-in, no success flash).
        session.rollback()
        _restore_cookie_session()
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


def _restore_cookie_session() -> None:
    original = current_app.session_interface.open_session(current_app, request)
    cookie_session.clear()
    cookie_session.update(original or {})


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
    """Commit each write request once, after its response is ready; close its session at teardown."""
    # Registered after the other response steps, so it runs before them and its error response
    # gets their headers too.
    app.after_request(finish_unit_of_work)
    app.teardown_request(_close_session)
