"""Accounts changed from several places at the same instant: one active administrator stays, nothing is added twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.accounts.models import Membership, User
from sdl_tracker.accounts.rules import ACCOUNT_POLICY
from sdl_tracker.accounts.services import (
    add_member,
    authenticate,
    check_sign_in,
    get_user_by_email,
    principal_for,
    record_sign_in,
    set_admin,
    set_disabled,
)
from sdl_tracker.accounts.tokens import create_token, revoke_token
from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.db import Database, utcnow
from sdl_tracker.errors import Conflict, Forbidden, TooManyRequests, Unauthorized
from tests.concurrency import at_once
from tests.factories import OPERATOR, PASSWORD, make_product, make_user

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


def test_one_user_or_membership_added_from_several_places_at_once_is_added_once(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product_id = make_product(session, "PLC").id

    def create() -> int:
        with database.unit_of_work() as session:
            return make_user(session, "dev@example.com").id

    def add(role: str) -> str:
        with database.unit_of_work() as session:
            return add_member(session, OPERATOR, product_id, email="dev@example.com", role=role).role.value

    created = at_once([create] * 4)
    assert len([a for a in created if isinstance(a, int)]) == 1, created
    refused = [a for a in created if isinstance(a, Conflict)]
    assert len(refused) == 3 and all(c.message == "a user dev@example.com already exists" for c in refused)
    roles = ["developer", "auditor", "security_officer", "developer"]
    assert sorted(at_once([partial(add, role) for role in roles]), key=str) == sorted(roles)  # no 500 among them
    with database.unit_of_work(read_only=True) as session:
        stored = session.scalars(select(Membership)).all()
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("accounts:membership:%")).order_by(AuditEvent.seq)
        ).all()
    assert len(stored) == 1 and stored[0].role.value == events[-1].details["role"]
    assert [e.action for e in events] == ["accounts:membership:create"] + ["accounts:membership:update"] * 3
    # Each change names the role the one before it left.
    assert [e.details["old_role"] for e in events[1:]] == [e.details["role"] for e in events[:-1]]


def test_a_right_password_checked_before_the_account_locked_is_refused_once_it_is(shared_app: Flask) -> None:
    # The web door checks the password (slow Argon2) in one unit and records the outcome in another; guesses
    # sent in parallel are all checked before any failure is recorded. Here the right one is recorded only
    # after the others have locked the account: it must not sign in, nor lift the lock.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        make_user(session, "victim@example.com")
    now = utcnow()
    with database.unit_of_work(read_only=True) as session:
        right = check_sign_in(session, "victim@example.com", PASSWORD, client_address="203.0.113.7", now=now)
    assert right.password_ok and right.locked is None
    for _ in range(ACCOUNT_POLICY.max_failures):  # each failure kept, as the door keeps it
        with database.unit_of_work() as session, pytest.raises((Unauthorized, TooManyRequests)):
            authenticate(session, "victim@example.com", "wrong", origin="web", client_address="203.0.113.8", now=now)
    with pytest.raises(TooManyRequests), database.unit_of_work() as session:
        record_sign_in(session, right, origin="web", client_address="203.0.113.7", now=now, password=PASSWORD)
    with database.unit_of_work(read_only=True) as session:
        assert get_user_by_email(session, "victim@example.com").last_login_at is None
        locked = check_sign_in(session, "victim@example.com", PASSWORD, client_address="203.0.113.9", now=now)
        assert locked.locked is not None and "this account" in locked.locked


def test_a_token_revoked_from_two_places_at_once_is_revoked_once(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        owner = make_user(session, "dev@example.com")
        product = make_product(session, "PLC")
        add_member(session, OPERATOR, product.id, email=owner.email, role="developer")
        ids = [
            create_token(session, OPERATOR, user_id=owner.id, name=f"ci {n}", product_ids=[product.id]).token.id
            for n in range(6)
        ]

    def revoke(token_id: int) -> datetime | None:
        with database.unit_of_work() as session:
            return revoke_token(session, OPERATOR, token_id).revoked_at

    for token_id in ids:
        answers = at_once([partial(revoke, token_id) for _ in range(3)])
        assert len(set(answers)) == 1, answers  # every caller sees the one revocation time
    with database.unit_of_work(read_only=True) as session:
        recorded = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "accounts:token:revoke")
        )
        assert recorded == len(ids)
