"""Accounts: throttled sign-in, passwords, disabling, administrators, memberships."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Membership, User
from sdl_tracker.accounts.services import (
    add_member,
    authenticate,
    change_password,
    create_user,
    list_members,
    principal_for,
    remove_member,
    reset_password,
    set_admin,
    set_disabled,
)
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from tests.factories import OPERATOR, PASSWORD, make_product, make_user, member

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def sign_in(session: Session, email: str, password: str, at: datetime, address: str = "192.0.2.10") -> User:
    return authenticate(session, email, password, origin=f"web {address}", client_address=address, now=at)


def test_five_wrong_passwords_lock_the_account_for_a_while(session: Session) -> None:
    make_user(session, "dev@example.com")
    for n in range(4):
        with pytest.raises(Unauthorized):
            sign_in(session, "dev@example.com", "wrong password", T0 + timedelta(seconds=n))
    with pytest.raises(TooManyRequests, match="this account; try again in 15 minutes"):
        sign_in(session, "dev@example.com", "wrong password", T0 + timedelta(seconds=5))
    with pytest.raises(TooManyRequests):  # even the right password waits
        sign_in(session, "dev@example.com", PASSWORD, T0 + timedelta(minutes=5))
    assert sign_in(session, "dev@example.com", PASSWORD, T0 + timedelta(minutes=16)).email == "dev@example.com"
    with pytest.raises(Unauthorized):  # the success forgave the earlier failures
        sign_in(session, "dev@example.com", "wrong password", T0 + timedelta(minutes=17))


def test_unknown_accounts_are_throttled_alike(session: Session) -> None:
    """Whether an account exists must not show in the answers either."""
    for n in range(4):
        with pytest.raises(Unauthorized, match="wrong email or password"):
            sign_in(session, "ghost@example.com", "guess", T0 + timedelta(seconds=n))
    with pytest.raises(TooManyRequests):
        sign_in(session, "ghost@example.com", "guess", T0 + timedelta(seconds=9))


def test_one_address_spraying_many_accounts_is_stopped(session: Session) -> None:
    make_user(session, "dev@example.com")
    for n in range(30):
        with pytest.raises((Unauthorized, TooManyRequests)):
            sign_in(session, f"user{n}@example.com", "guess", T0 + timedelta(seconds=n), address="198.51.100.7")
    with pytest.raises(TooManyRequests, match="your address"):
        sign_in(session, "dev@example.com", PASSWORD, T0 + timedelta(minutes=1), address="198.51.100.7")
    assert sign_in(session, "dev@example.com", PASSWORD, T0 + timedelta(minutes=1), address="203.0.113.9")


def test_disabled_users_cannot_sign_in(session: Session) -> None:
    make_user(session, "dev@example.com")
    set_disabled(session, OPERATOR, "dev@example.com", disabled=True)
    with pytest.raises(Unauthorized):
        sign_in(session, "dev@example.com", PASSWORD, T0)


def test_every_sign_in_outcome_is_audited(session: Session) -> None:
    make_user(session, "dev@example.com")
    sign_in(session, "dev@example.com", PASSWORD, T0)
    with pytest.raises(Unauthorized):
        sign_in(session, "dev@example.com", "nope", T0)
    query = select(AuditEvent.action).where(AuditEvent.action.like("accounts:login:%")).order_by(AuditEvent.id)
    actions = session.scalars(query).all()
    assert actions == ["accounts:login:success", "accounts:login:fail"]


def test_change_password_needs_the_current_one_and_ends_other_sessions(session: Session) -> None:
    user = make_user(session, "dev@example.com")
    actor = principal_for(session, user)
    epoch = user.session_epoch
    with pytest.raises(Invalid, match="current password is wrong"):
        change_password(session, actor, current_password="not it", new_password="a brand new password")
    with pytest.raises(Invalid, match="at least 12"):
        change_password(session, actor, current_password=PASSWORD, new_password="short")
    change_password(session, actor, current_password=PASSWORD, new_password="a brand new password")
    assert user.session_epoch == epoch + 1
    assert sign_in(session, "dev@example.com", "a brand new password", T0)
    with pytest.raises(Forbidden):
        change_password(session, OPERATOR, current_password="x", new_password="a brand new password")


def test_reset_password_is_for_administrators(session: Session) -> None:
    product = make_product(session)
    make_user(session, "dev@example.com")
    officer = member(session, product, "security_officer")
    with pytest.raises(Forbidden):
        reset_password(session, officer, "dev@example.com", "another long password")
    reset_password(session, OPERATOR, "dev@example.com", "another long password")
    assert sign_in(session, "dev@example.com", "another long password", T0)


def test_the_last_administrator_stays(session: Session) -> None:
    admin = make_user(session, "admin@example.com", admin=True)
    with pytest.raises(Conflict, match="last active administrator"):
        set_disabled(session, OPERATOR, "admin@example.com", disabled=True)
    with pytest.raises(Conflict, match="last active administrator"):
        set_admin(session, OPERATOR, "admin@example.com", is_admin=False)
    make_user(session, "second@example.com", admin=True)
    set_admin(session, OPERATOR, "admin@example.com", is_admin=False)
    assert not admin.is_admin
    with pytest.raises(Conflict):
        set_disabled(session, OPERATOR, "second@example.com", disabled=True)


def test_an_administrator_whose_rights_went_meanwhile_takes_nobody_else_s(session: Session) -> None:
    first = principal_for(session, make_user(session, "first@example.com", admin=True))
    make_user(session, "second@example.com", admin=True)
    make_user(session, "third@example.com", admin=True)
    set_admin(session, OPERATOR, "first@example.com", is_admin=False)  # while `first` still holds its principal
    with pytest.raises(Forbidden, match="no longer an active administrator"):
        set_admin(session, first, "second@example.com", is_admin=False)
    with pytest.raises(Forbidden, match="no longer an active administrator"):
        set_disabled(session, first, "third@example.com", disabled=True)
    assert session.scalar(select(func.count()).select_from(User).where(User.is_admin.is_(True))) == 2


def test_users_are_unique_and_well_formed(session: Session) -> None:
    make_user(session, "dev@example.com")
    with pytest.raises(Conflict):
        create_user(session, OPERATOR, email="DEV@example.com", password=PASSWORD)
    with pytest.raises(Invalid) as caught:
        create_user(session, OPERATOR, email="not-an-email", password="short", name="x" * 201)
    assert {e.field for e in caught.value.errors} == {"email", "password", "name"}
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_memberships(session: Session) -> None:
    product = make_product(session, "P")
    make_user(session, "dev@example.com")
    add_member(session, OPERATOR, product.id, email="dev@example.com", role="developer")
    add_member(session, OPERATOR, product.id, email="dev@example.com", role="auditor")  # changes the role
    assert [(u.email, r.value) for u, r in list_members(session, OPERATOR, product.id)] == [
        ("dev@example.com", "auditor")
    ]
    with pytest.raises(Invalid, match="unknown role 'owner'"):
        add_member(session, OPERATOR, product.id, email="dev@example.com", role="owner")
    with pytest.raises(NotFound):
        add_member(session, OPERATOR, product.id, email="ghost@example.com", role="developer")
    with pytest.raises(NotFound, match="not a developer"):
        remove_member(session, OPERATOR, product.id, email="dev@example.com", role="developer")
    remove_member(session, OPERATOR, product.id, email="dev@example.com", role="auditor")
    assert session.scalar(select(func.count()).select_from(Membership)) == 0
    developer = member(session, product, "developer")
    with pytest.raises(Forbidden):
        add_member(session, developer, product.id, email="dev@example.com", role="developer")
