"""The API door's bearer-token check: read-only, and the token's last use recorded off the request's path."""

from __future__ import annotations

import logging

from flask import after_this_request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug import Response

from ..app_access import app_db
from ..auth import Principal
from .tokens import check_token, touch_token

log = logging.getLogger(__name__)

# How long recording a token's last use may wait for the database lock before giving up on it.
TOUCH_LOCK_WAIT_MS = 250


def authenticate_api_token(token: str, origin: str) -> Principal | None:
    """Check a token in a read-only unit of work; its last use (at most once a minute) is written after the response.

    Recording the last use is best-effort: it runs once the response has been sent, waits only briefly
    for a busy database, and a failure is logged, never turned into an error for the request.
    """
    database = app_db()
    with database.unit_of_work(read_only=True) as session:
        checked = check_token(session, token, origin=origin)
    if checked is None:
        return None
    if checked.touch:
        token_id = checked.token_id

        def touch() -> None:
            try:
                with database.unit_of_work(lock_wait_ms=TOUCH_LOCK_WAIT_MS) as session:
                    touch_token(session, token_id, origin=origin)
            except SQLAlchemyError as exc:
                log.info("token %s: last use not recorded (%s)", token_id, str(exc).splitlines()[0])

        @after_this_request
        def touch_after_sending(response: Response) -> Response:
            response.call_on_close(touch)
            return response

    return checked.principal
