"""Users, passwords, memberships and the Principal they make."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import ROLE_PERMISSIONS, Permission, Principal, Role, authorize, permits
from ..db import lock_row, utcnow
from ..errors import Conflict, FieldError, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from ..products.models import Product
from ..products.services import flush_or_conflict, get_product
from .models import LoginThrottle, Membership, User
from .rules import (
    ACCOUNT_POLICY,
    ADDRESS_POLICY,
    NOT_AN_OFFICER,
    OFFICER_MANAGED_ROLES,
    ThrottlePolicy,
    ThrottleState,
    after_failure,
    locked_for,
    membership_change_refusal,
    wait_message,
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 accepts more, but nobody types this much; it bounds the work

# RFC 9106's second recommended profile (argon2id, 64 MiB), named rather than left to the library's default.
_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Verified against when the email is unknown, so a miss costs as much time as a wrong password: the hash of a
# random password that was thrown away, made with the profile above and written out so that importing this
# module (every command, worker and server process does) hashes nothing. A test checks it has the profile.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$jJdbGhqTbZzbrmutdvjkOw$C4hwBGbhtCE9B9owQaeUM7X0/0OjsFAWTTx+i2n5IGM"


def authorize_manage_users(actor: Principal) -> None:
    """Raise unless the actor may manage users and product memberships (administrators)."""
    authorize(actor, Permission.USERS_MANAGE)


def may_manage_users(actor: Principal) -> bool:
    """Whether the actor may manage users and product memberships."""
    return permits(authorize_manage_users, actor)


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
    authorize_manage_users(actor)
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
    taken = f"a user {email} already exists"
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(taken, errors=[FieldError("email", "already exists")])
    user = User(email=email, name=name.strip(), password_hash=_hasher.hash(password), is_admin=is_admin)
    session.add(user)
    flush_or_conflict(session, taken, errors=[FieldError("email", "already exists")])
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


def principal_for_email(session: Session, email: str, *, origin: str) -> Principal:
    """The principal of the active user with this email (the CLI's --as), else Invalid naming --as."""
    user = find_user(session, email)
    if user is None or user.disabled:
        raise Invalid.field("--as", f"no active user {email}")
    return principal_for(session, user, origin=origin)


def _password_matches(password_hash: str, password: str) -> bool:
    # Over-long input is cut, not refused, so it costs the same time as any other attempt.
    try:
        return _hasher.verify(password_hash, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


def _throttle(session: Session, key: str, *, for_update: bool = False) -> LoginThrottle | None:
    query = select(LoginThrottle).where(LoginThrottle.key == key)
    return session.scalar(query.with_for_update() if for_update else query)


def _state(row: LoginThrottle | None) -> ThrottleState | None:
    return ThrottleState(row.failures, row.window_start, row.locked_until) if row else None


def _locked_row(session: Session, key: str, now: datetime) -> LoginThrottle:
    """The key's row, locked against concurrent sign-ins (PostgreSQL; SQLite writers are serial anyway)."""
    row = _throttle(session, key, for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(LoginThrottle(key=key, failures=0, window_start=now))
        except IntegrityError:
            pass  # another sign-in created it first: lock theirs
        row = _throttle(session, key, for_update=True)
    assert row is not None
    return row


def _record_failure(session: Session, key: str, now: datetime, policy: ThrottlePolicy) -> ThrottleState:
    row = _locked_row(session, key, now)
    state = after_failure(_state(row), now, policy)
    row.failures, row.window_start, row.locked_until = state.failures, state.window_start, state.locked_until
    return state


def _throttle_keys(email: str, client_address: str) -> tuple[tuple[str, str], tuple[str, str]]:
    return (f"account:{email[:300]}", "this account"), (f"address:{client_address[:90]}", "your address")


def _audit_email(email: str) -> str:
    # Whatever was typed as the email goes into an append-only log: only if it looks like one (a
    # password pasted into the wrong field must not be kept forever).
    return email[:300] if EMAIL.match(email) else "(not an email address)"


@dataclass(frozen=True)
class SignInAttempt:
    """What a sign-in looked like before anything was written: checked without any write lock."""

    email: str
    user_id: int | None
    password_ok: bool
    locked: str | None  # the message, when the account or address is locked


def check_sign_in(session: Session, email: str, password: str, *, client_address: str, now: datetime) -> SignInAttempt:
    """Read the throttle state and check the password (the slow Argon2 work holds no write lock)."""
    email = normalise_email(email)
    for key, what in _throttle_keys(email, client_address):
        remaining = locked_for(_state(_throttle(session, key)), now)
        if remaining is not None:
            return SignInAttempt(email, None, False, f"Too many failed sign-ins for {what}; {wait_message(remaining)}.")
    user = find_user(session, email)
    # Unknown emails cost the same time as wrong passwords, so timing reveals nothing.
    ok = _password_matches(user.password_hash if user else _DUMMY_HASH, password)
    return SignInAttempt(email, user.id if user else None, ok and user is not None and not user.disabled, None)


def _locked_meanwhile(session: Session, email: str, client_address: str, now: datetime) -> str | None:
    """Why the account or address is locked now (None when neither is), read under the throttle rows' lock.

    check_sign_in read this before the slow password check: guesses sent in parallel are all checked
    before any of their failures is recorded, and one of them must not sign in (nor lift the lock) once
    the others have locked the account."""
    for key, what in _throttle_keys(email, client_address):
        remaining = locked_for(_state(_throttle(session, key, for_update=True)), now)
        if remaining is not None:
            return f"Too many failed sign-ins for {what}; {wait_message(remaining)}."
    return None


def record_sign_in(
    session: Session, attempt: SignInAttempt, *, origin: str, client_address: str, now: datetime, password: str = ""
) -> User:
    """Write the outcome of a checked attempt: count a failure or forgive the account; audit either way.

    Raises TooManyRequests while locked (or when this failure locks) and Unauthorized on a failure.
    """
    anonymous = Principal(label=f"anonymous:{_audit_email(attempt.email)}", origin=origin)
    (account_key, _), (address_key, _) = _throttle_keys(attempt.email, client_address)
    locked = attempt.locked or _locked_meanwhile(session, attempt.email, client_address, now)
    if locked:
        record(
            session,
            anonymous,
            "accounts:login:throttle",
            target_type="login",
            target_id="-",
            details={"email": _audit_email(attempt.email)},
        )
        raise TooManyRequests(locked)
    user = session.get(User, attempt.user_id) if attempt.user_id else None
    if not attempt.password_ok or user is None or user.disabled:
        account = _record_failure(session, account_key, now, ACCOUNT_POLICY)
        _record_failure(session, address_key, now, ADDRESS_POLICY)
        record(session, anonymous, "accounts:login:fail", target_type="user", target_id=user.id if user else "-")
        if account.locked_until is not None and account.locked_until > now:
            raise TooManyRequests(
                f"Too many failed sign-ins for this account; {wait_message(account.locked_until - now)}."
            )
        raise Unauthorized("wrong email or password")
    if password and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    row = _throttle(session, account_key)
    if row is not None:
        session.delete(row)  # a success forgives the account's failures (not the address's)
    record(
        session,
        principal_for(session, user, origin=origin),
        "accounts:login:success",
        target_type="user",
        target_id=user.id,
    )
    return user


def authenticate(
    session: Session, email: str, password: str, *, origin: str, client_address: str, now: datetime | None = None
) -> User:
    """Check and record a sign-in in one session (the web door splits the two, see accounts/views.py)."""
    now = now or utcnow()
    attempt = check_sign_in(session, email, password, client_address=client_address, now=now)
    return record_sign_in(session, attempt, origin=origin, client_address=client_address, now=now, password=password)


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


def session_principal(session: Session, user_id: int, epoch: object, *, origin: str) -> Principal | None:
    """The Principal of a signed-in session's user, or None when the user is gone, disabled, or the session's
    epoch is older than theirs (logout, a password change). One statement: every page request pays it."""
    rows = session.execute(
        select(
            User.email,
            User.is_admin,
            User.disabled,
            User.session_epoch,
            User.time_zone,
            Membership.product_id,
            Membership.role,
        )
        .outerjoin(Membership, Membership.user_id == User.id)
        .where(User.id == user_id)
    ).all()
    if not rows or rows[0].disabled or rows[0].session_epoch != epoch:
        return None
    first = rows[0]
    return Principal(
        label=f"user:{first.email}",
        user_id=user_id,
        is_admin=first.is_admin,
        role_by_product={row.product_id: row.role for row in rows if row.product_id is not None},
        origin=origin,
        time_zone=first.time_zone,
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
        time_zone=user.time_zone,
    )


def _membership_to_change(session: Session, user: User, product: Product) -> Membership | None:
    """The user's membership of the product as the change before this one left it: a product's membership
    changes take turns (its row is locked), so none adds a second row or removes a role changed meanwhile."""
    lock_row(session, Product.id, product.id)
    query = select(Membership).where(Membership.user_id == user.id, Membership.product_id == product.id)
    return session.scalar(query.execution_options(populate_existing=True))


def manageable_roles(*, is_admin: bool, actor_role: Role | None) -> list[Role]:
    """The roles an actor may give or take away in a product where they hold `actor_role`."""
    if is_admin:
        return list(Role)
    return [Role(r) for r in OFFICER_MANAGED_ROLES] if actor_role is Role.SECURITY_OFFICER else []


def authorize_manage_members(actor: Principal, product_id: int) -> None:
    """Raise unless the actor may manage some of the product's memberships: its security officers (its
    developers and auditors) and administrators (everyone); NotFound when the product is not theirs."""
    authorize(actor, Permission.PRODUCT_MANAGE, product_id)
    if not manageable_roles(is_admin=actor.is_admin, actor_role=actor.role_by_product.get(product_id)):
        raise Forbidden(NOT_AN_OFFICER)


def may_manage_members(actor: Principal, product: Product) -> bool:
    """Whether the actor may add, change or remove some of the product's members."""
    return permits(authorize_manage_members, actor, product.id)


def may_change_member(actor: Principal, product: Product, role: Role) -> bool:
    """Whether the actor may change or take away a member's `role` in the product (a row's buttons)."""
    return may_manage_members(actor, product) and role in roles_to_manage(actor, product)


def roles_to_manage(actor: Principal, product: Product) -> list[Role]:
    """The roles the actor may give and take away in the product (none for most)."""
    if not permits(authorize_manage_members, actor, product.id):
        return []
    return manageable_roles(is_admin=actor.is_admin, actor_role=actor.role_by_product.get(product.id))


def _check_membership_change(
    session: Session, actor: Principal, product: Product, old: Role | None, new: Role | None
) -> None:
    """Raise unless the actor may move a membership of the product from `old` to `new`.

    Called once the product's row is locked: the actor's own role is read as it stands now, so an
    officer whose role was taken away meanwhile manages nothing."""
    authorize_manage_members(actor, product.id)
    actor_role = None
    if not actor.is_admin and actor.user_id is not None:
        actor_role = session.scalar(
            select(Membership.role)
            .where(Membership.user_id == actor.user_id, Membership.product_id == product.id)
            .execution_options(populate_existing=True)
        )
    refusal = membership_change_refusal(is_admin=actor.is_admin, actor_role=actor_role, old=old, new=new)
    if refusal:
        raise Forbidden(refusal)


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid.field("role", f"unknown role {role!r} (one of: {allowed})") from None


def add_member(session: Session, actor: Principal, product_id: int, *, email: str, role: str) -> Membership:
    """Give a user a role in a product; a second call changes the role. Administrators give any role, a
    product's security officers make developers and auditors of it."""
    product = get_product(session, actor, product_id)
    authorize_manage_members(actor, product.id)
    member_role = _role(role)
    user = get_user_by_email(session, email)
    membership = _membership_to_change(session, user, product)
    old = membership.role if membership else None
    _check_membership_change(session, actor, product, old, member_role)
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
        details={"email": user.email, "role": member_role.value, "old_role": old.value if old else None},
    )
    return membership


def own_account(session: Session, actor: Principal) -> User:
    """The signed-in actor's own user row, for their account page."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound("no account is signed in")
    return user


def get_user(session: Session, actor: Principal, user_id: int) -> User:
    """A user by id (administrators), else NotFound."""
    authorize_manage_users(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def list_users(session: Session, actor: Principal) -> list[User]:
    """Every user, by email (administrators)."""
    authorize_manage_users(actor)
    return list(session.scalars(select(User).order_by(User.email)))


@dataclass(frozen=True)
class ProductRole:
    """A user's role in one product, with the product's name (the users page and `user list`)."""

    product_id: int
    product: str
    role: Role


def list_users_with_roles(session: Session, actor: Principal) -> list[tuple[User, list[ProductRole]]]:
    """Every user (administrators) with their role in each product, by product name: two queries in all,
    however many users and memberships there are."""
    users = list_users(session, actor)
    roles: dict[int, list[ProductRole]] = {}
    rows = session.execute(
        select(Membership.user_id, Product.id, Product.name, Membership.role)
        .join(Product, Product.id == Membership.product_id)
        .order_by(Product.name_key, Product.id)
    )
    for user_id, product_id, name, role in rows:
        roles.setdefault(user_id, []).append(ProductRole(product_id, name, role))
    return [(user, roles.get(user.id, [])) for user in users]


def _lock_active_admins(session: Session) -> list[int]:
    """The active administrators' ids, their rows locked until the transaction ends (in id order, so two
    callers never deadlock): a concurrent revocation or disabling waits here, then counts what this one left."""
    query = select(User.id).where(User.is_admin.is_(True), User.disabled.is_(False)).order_by(User.id)
    return list(session.scalars(query.with_for_update(key_share=True)))


def _user_losing_rights(session: Session, actor: Principal, email: str) -> User:
    """The user about to be disabled or lose administrator rights, once the administrators are locked;
    Forbidden when the actor lost their own rights meanwhile, Conflict for the last active administrator."""
    admins = _lock_active_admins(session)
    if actor.user_id is not None and actor.user_id not in admins:
        # Revoked or disabled by another administrator since this request began: it acts no more.
        raise Forbidden("you are no longer an active administrator")
    user = get_user_by_email(session, email)
    session.refresh(user)  # as it stands now: another administrator's change may have moved it since it was read
    if admins == [user.id]:
        raise Conflict(f"{user.email} is the last active administrator; make someone else an administrator first")
    return user


def set_disabled(session: Session, actor: Principal, email: str, *, disabled: bool) -> User:
    """Disable a user (every session ends at once) or enable them again (administrators)."""
    authorize_manage_users(actor)
    user = _user_losing_rights(session, actor, email) if disabled else get_user_by_email(session, email)
    if user.disabled == disabled:
        return user
    if disabled:
        user.session_epoch += 1
    user.disabled = disabled
    record(
        session,
        actor,
        "accounts:user:disable" if disabled else "accounts:user:enable",
        target_type="user",
        target_id=user.id,
        details={"email": user.email},
    )
    return user


def set_admin(session: Session, actor: Principal, email: str, *, is_admin: bool) -> User:
    """Grant or revoke administrator rights (administrators); the last active administrator stays."""
    authorize_manage_users(actor)
    user = get_user_by_email(session, email) if is_admin else _user_losing_rights(session, actor, email)
    if user.is_admin == is_admin:
        return user
    if not is_admin:
        user.session_epoch += 1  # rights shrink: sessions built on the old ones end
    user.is_admin = is_admin
    record(
        session,
        actor,
        "accounts:admin:update",
        target_type="user",
        target_id=user.id,
        details={"email": user.email, "is_admin": is_admin},
    )
    return user


def change_password(session: Session, actor: Principal, *, current_password: str, new_password: str) -> User:
    """A user changes their own password; every other session of theirs ends."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.disabled:
        raise Forbidden("only a signed-in user changes their own password")
    if not _password_matches(user.password_hash, current_password):
        raise Invalid.field("current_password", "the current password is wrong")
    return _set_password(session, actor, user, new_password)


def reset_password(session: Session, actor: Principal, email: str, new_password: str) -> User:
    """An administrator sets another user's password; the user's sessions end."""
    authorize_manage_users(actor)
    return _set_password(session, actor, get_user_by_email(session, email), new_password)


def _set_password(session: Session, actor: Principal, user: User, new_password: str) -> User:
    problem = password_problem(new_password)
    if problem:
        raise Invalid.field("new_password", problem)
    user.password_hash = _hasher.hash(new_password)
    user.session_epoch += 1
    record(
        session, actor, "accounts:password:update", target_type="user", target_id=user.id, details={"email": user.email}
    )
    return user


def remove_member(session: Session, actor: Principal, product_id: int, *, email: str, role: str) -> None:
    """Take a user's role in a product away (administrators; a product's officers for its developers and auditors)."""
    product = get_product(session, actor, product_id)
    authorize_manage_members(actor, product.id)
    user = get_user_by_email(session, email)
    membership = _membership_to_change(session, user, product)
    if membership is None or membership.role.value != role:
        raise NotFound(f"{user.email} is not a {role} of {product.name}")
    _check_membership_change(session, actor, product, membership.role, None)
    session.delete(membership)
    record(
        session,
        actor,
        "accounts:membership:delete",
        target_type="membership",
        target_id=membership.id,
        product_id=product.id,
        details={"email": user.email, "role": role},
    )


def list_members(session: Session, actor: Principal, product_id: int) -> list[tuple[User, Role]]:
    """A product's members and their roles (anyone who may see the product)."""
    product = get_product(session, actor, product_id)
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.product_id == product.id)
        .order_by(User.email)
    )
    return [(user, role) for user, role in rows]


@dataclass(frozen=True)
class ReviewerDigests:
    """Every user's e-mail as a salted SHA-256 digest, under a salt drawn for this answer."""

    salt: str
    digests: list[str]


def reviewer_email_digest(salt: str, email: str) -> str:
    """The digest a hook compares a `Security-Review:` address by: SHA-256 of the salt and the folded address."""
    return hashlib.sha256((salt + email.strip().lower()).encode()).hexdigest()


def reviewer_digests(session: Session, actor: Principal) -> ReviewerDigests:
    """What a commit-msg hook checks a reviewer's e-mail against, offline: whether it is an enabled user's (a
    review counts only by a known user). For those who deliver commits (`commits:submit` on some product):
    a digest confirms an address one guesses, it lists none. Each answer draws its own salt, so digests from
    two answers cannot be matched with each other."""
    delivers = actor.is_admin or any(
        Permission.COMMITS_SUBMIT in ROLE_PERMISSIONS[role] for role in actor.role_by_product.values()
    )
    if (actor.scopes is not None and Permission.COMMITS_SUBMIT not in actor.scopes) or not delivers:
        raise Forbidden(f"only those who deliver commits ({Permission.COMMITS_SUBMIT.value}) read this")
    salt = secrets.token_hex(16)
    emails = session.scalars(select(User.email).where(User.disabled.is_(False)))
    return ReviewerDigests(salt, sorted(reviewer_email_digest(salt, email) for email in emails))
