"""Administrators acting on each other at the same instant: at least one active administrator always stays."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.accounts.models import User
from sdl_tracker.accounts.services import get_user_by_email, principal_for, set_admin, set_disabled
from sdl_tracker.app_access import app_db
from sdl_tracker.auth import Principal
from sdl_tracker.db import Database
from sdl_tracker.errors import Forbidden
from tests.concurrency import at_once
from tests.factories import OPERATOR, make_user

pytestmark = pytest.mark.db

ROUNDS = 12  # without a lock most rounds on PostgreSQL end with no active administrator at all
# Who does what to whom in a round: each administrator takes the other's rights or account away.
MOVES = [("revoke", "revoke"), ("disable", "disable"), ("revoke", "disable")]


def _move(database: Database, kind: str, actor: Principal, email: str) -> Callable[[], str]:
    def run() -> str:
        with database.unit_of_work() as session:
            if kind == "revoke":
                set_admin(session, actor, email, is_admin=False)
            else:
                set_disabled(session, actor, email, disabled=True)
        return "done"

    return run


def test_two_administrators_revoking_or_disabling_each_other_at_once_leave_one(shared_app: Flask) -> None:
    # On PostgreSQL the two transactions really overlap; on SQLite they take turns, with the same outcome.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        emails = [make_user(session, f"admin{n}@example.com", admin=True).email for n in (1, 2)]
    for n in range(ROUNDS):
        with database.unit_of_work() as session:
            for email in emails:  # both active administrators again
                set_admin(session, OPERATOR, email, is_admin=True)
                set_disabled(session, OPERATOR, email, disabled=False)
            actors = [principal_for(session, get_user_by_email(session, email)) for email in emails]
        first, second = MOVES[n % len(MOVES)]
        answers = at_once([_move(database, first, actors[0], emails[1]), _move(database, second, actors[1], emails[0])])
        with database.unit_of_work(read_only=True) as session:
            active = session.scalar(
                select(func.count()).select_from(User).where(User.is_admin.is_(True), User.disabled.is_(False))
            )
        assert active == 1, f"round {n} ({first}, {second}): {active} active administrators; answers {answers}"
        # The second to get the lock is no administrator any more: refused for that, not for the count.
        refused = [a for a in answers if isinstance(a, Forbidden)]
        assert answers.count("done") == 1 and len(refused) == 1, answers
        assert refused[0].message == "you are no longer an active administrator"
