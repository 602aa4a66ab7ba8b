"""Users, passwords, memberships and the Principal they make."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, Role, authorize
from ..db import utcnow
from ..errors import Conflict, FieldError, Invalid, NotFound, Unauthorized
from ..products.services import get_product
from .models import Membership, User

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 accepts more, but nobody types this much; it bounds the work

# argon2-cffi's defaults follow RFC 9106's second recommended profile (argon2id, 64 MiB).
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("sdl-tracker-no-such-user-placeholder")


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding space."""
    return email.strip().lower()


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password has at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    return None


def create_user(
    session: Session,
    actor: Principal,
    *,
    email: str,
    password: str,
    name: str = "",
    is_admin: bool = False,
) -> User:
    """Create a user (administrators only); the password is stored as an Argon2id hash."""
    authorize(actor, Permission.USERS_MANAGE)
    email = normalise_email(email)
    errors: list[FieldError] = []
    if not EMAIL.match(email) or len(email) > 320:
        errors.append(FieldError("email", "not an email address"))
    problem = password_problem(password)
    if problem:
        errors.append(FieldError("password", problem))
    if len(name) > 200:
        errors.append(FieldError("name", "at most 200 characters"))
    if errors:
        raise Invalid("the user was not created", errors=errors)
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"a user {email} already exists", errors=[FieldError("email", "already exists")])
    user = User(email=email, name=name.strip(), password_hash=_hasher.hash(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "accounts:user:create",
        target_type="user",
        target_id=user.id,
        details={"email": email, "name": user.name, "is_admin": is_admin},
    )
    return user


def find_user(session: Session, email: str) -> User | None:
    """The user with this email, if any."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user_by_email(session: Session, email: str) -> User:
    """The user with this email, else NotFound."""
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user {normalise_email(email)}")
    return user


def authenticate(session: Session, email: str, password: str, *, origin: str) -> User:
    """Check a login; record success and failure in the audit log; raise Unauthorized on failure."""
    user = find_user(session, email)
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]  # still verified, so timing reveals nothing
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or user.disabled:
        record(
            session,
            Principal(label=f"anonymous:{normalise_email(email)[:200]}", origin=origin),
            "accounts:login:fail",
            target_type="user",
            target_id=user.id if user else "-",
        )
        raise Unauthorized("wrong email or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    record(
        session,
        principal_for(session, user, origin=origin),
        "accounts:login:success",
        target_type="user",
        target_id=user.id,
    )
    return user


def logout(session: Session, user_id: int, *, origin: str) -> None:
    """End every session of the user (bumps the session epoch) and audit it."""
    user = session.get(User, user_id)
    if user is None:
        return
    user.session_epoch += 1
    record(
        session,
        principal_for(session, user, origin=origin),
        "accounts:logout:create",
        target_type="user",
        target_id=user.id,
    )


def principal_for(session: Session, user: User, *, origin: str = "") -> Principal:
    """The Principal of a logged-in user, with their roles per product."""
    roles = {
        product_id: role
        for product_id, role in session.execute(
            select(Membership.product_id, Membership.role).where(Membership.user_id == user.id)
        )
    }
    return Principal(
        label=f"user:{user.email}",
        user_id=user.id,
        is_admin=user.is_admin,
        role_by_product=roles,
        origin=origin,
    )


def add_member(session: Session, actor: Principal, product_id: int, *, email: str, role: str) -> Membership:
    """Give a user a role in a product (administrators only); a second call changes the role."""
    authorize(actor, Permission.USERS_MANAGE)
    product = get_product(session, actor, product_id)
    try:
        member_role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid.field("role", f"unknown role {role!r} (one of: {allowed})") from None
    user = get_user_by_email(session, email)
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.product_id == product.id)
    )
    old = membership.role.value if membership else None
    if membership is None:
        membership = Membership(user_id=user.id, product_id=product.id, role=member_role)
        session.add(membership)
    else:
        membership.role = member_role
    session.flush()
    record(
        session,
        actor,
        "accounts:membership:update" if old else "accounts:membership:create",
        target_type="membership",
        target_id=membership.id,
        product_id=product.id,
        details={"email": user.email, "role": member_role.value, "old_role": old},
    )
    return membership


def count_users(session: Session) -> int:
    """How many users exist (the first one must be an administrator)."""
    return session.scalar(select(func.count(User.id))) or 0
