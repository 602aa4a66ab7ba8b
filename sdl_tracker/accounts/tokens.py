"""API tokens: created by users for themselves, shown once, stored hashed, scoped, expiring, revocable."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..audit.services import record
from ..auth import ACCOUNT_PERMISSIONS, GLOBAL_PERMISSIONS, ROLE_PERMISSIONS, Permission, Principal, authorize
from ..boundary import day_problem, parse_day
from ..db import locked, utcnow
from ..errors import FieldError, Forbidden, Invalid, NotFound
from ..products.services import get_product
from .models import ApiToken, ApiTokenProduct, User
from .services import principal_for

TOKEN_PREFIX = "sdlt"  # noqa: S105 - the public marker of our tokens, not a secret
# sdlt_<10 hex: the public, indexed prefix>_<43 url-safe characters: 256 bits of secret>
TOKEN_FORMAT = re.compile(r"^sdlt_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$")
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)
DEFAULT_SCOPES = (Permission.PRODUCT_READ,)
TOUCH_INTERVAL = timedelta(minutes=1)  # last use is written at most this often per token
_NO_PRODUCT = "name at least one product: a token for no product grants nothing"
_NO_PRODUCT_ADMIN = (
    "name at least one product, all products, or an administrator's permission "
    f"({', '.join(sorted(GLOBAL_PERMISSIONS))}): a token without any grants nothing"
)


def _hash(token: str) -> str:
    # The secret has 256 bits of entropy, so a plain SHA-256 cannot be brute-forced; a slow KDF
    # would only make every API call slow.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just created: `secret` is shown once and never stored."""

    token: ApiToken
    secret: str


def parse_lifetime(text: str, now: datetime) -> datetime:
    """`30d`, `12h` or a date `2027-03-01` (end of that day, UTC) into an expiry time."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,4})([dh])", text)
    if match:
        amount = int(match.group(1))
        return now + (timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount))
    day = parse_day(text)
    if day is None:
        raise Invalid.field("expires", f"expected 30d, 12h or YYYY-MM-DD, got {text!r}")
    problem = day_problem(day)
    if problem:
        raise Invalid.field("expires", problem)
    return datetime.combine(day, time(), tzinfo=now.tzinfo) + timedelta(days=1)


def token_label(token: ApiToken) -> str:
    """How the audit log and pages name a token (never the secret)."""
    return f"{TOKEN_PREFIX}_{token.prefix}"


def create_token(
    session: Session,
    actor: Principal,
    *,
    user_id: int,
    name: str,
    product_ids: Sequence[int],
    scopes: Sequence[str] = (),
    expires_at: datetime | None = None,
    all_products: bool = False,
) -> NewToken:
    """Create a token for `user_id` (oneself, or anyone for an administrator), narrowed to products and scopes.

    A token names the products it may act on; only an administrator's may cover all products. One that
    names none is refused, as it would grant nothing, unless it carries an administrator's permission.
    """
    if actor.user_id != user_id:
        authorize(actor, Permission.USERS_MANAGE)
    owner = session.get(User, user_id)
    if owner is None or owner.disabled:
        raise NotFound("no active user with that id")
    now = utcnow()
    owner_rights = principal_for(session, owner)
    errors: list[FieldError] = []
    if not name.strip() or len(name) > 120:
        errors.append(FieldError("name", "a name of 1-120 characters is required"))
    if all_products and not owner.is_admin:
        errors.append(FieldError("products", "only an administrator's token may cover all products"))
    if all_products and product_ids:
        errors.append(FieldError("products", "name products or ask for all products, not both"))
    # Every token may read the products it names: a CI token that attaches evidence must find them.
    chosen: list[Permission] = [Permission.PRODUCT_READ]
    for scope in scopes or [p.value for p in DEFAULT_SCOPES]:
        try:
            chosen.append(Permission(scope))
        except ValueError:
            errors.append(FieldError("scopes", f"unknown scope {scope!r}"))
    if not all_products and not product_ids and not (GLOBAL_PERMISSIONS | ACCOUNT_PERMISSIONS).intersection(chosen):
        # Product permissions act only on the products a token names: with none, it would grant nothing.
        errors.append(FieldError("products", _NO_PRODUCT_ADMIN if owner.is_admin else _NO_PRODUCT))
    expires = expires_at or now + DEFAULT_LIFETIME
    if expires <= now:
        errors.append(FieldError("expires", "the expiry must be in the future"))
    elif expires - now > MAX_LIFETIME:
        errors.append(FieldError("expires", "a token lives at most a year"))
    if errors:
        raise Invalid("the token was not created", errors=errors)

    for product_id in product_ids:
        get_product(session, owner_rights, product_id)  # NotFound unless the owner sees the product
    for permission in chosen:
        # A token never carries more than its owner holds on every product it names.
        holds = (
            owner_rights.is_admin
            or permission in ACCOUNT_PERMISSIONS
            or (
                permission not in GLOBAL_PERMISSIONS
                and all(permission in ROLE_PERMISSIONS[owner_rights.role_by_product[p]] for p in product_ids)
            )
        )
        if not holds:
            raise Forbidden(f"{owner.email} does not hold {permission.value} on every product named")

    secret_prefix = secrets.token_hex(5)
    secret = f"{TOKEN_PREFIX}_{secret_prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=owner.id,
        name=name.strip(),
        prefix=secret_prefix,
        token_hash=_hash(secret),
        all_products=all_products,
        scopes=sorted({p.value for p in chosen}),
        expires_at=expires,
        products=[ApiTokenProduct(product_id=p) for p in sorted(set(product_ids))],
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        "accounts:token:create",
        target_type="api_token",
        target_id=token.id,
        details={
            "token": token_label(token),
            "owner": owner.email,
            "name": token.name,
            "scopes": token.scopes,
            "products": "all" if all_products else sorted(set(product_ids)),
            "expires_at": expires.isoformat(),
        },
    )
    return NewToken(token, secret)


def list_tokens(session: Session, actor: Principal, *, user_id: int | None = None) -> list[ApiToken]:
    """One's own tokens; an administrator may list anyone's (user_id) or everyone's (None)."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user_id is None or user_id != actor.user_id:
        authorize(actor, Permission.USERS_MANAGE)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def revoke_token(session: Session, actor: Principal, token_id: int) -> ApiToken:
    """Revoke a token at once: one's own, or any for an administrator."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("token not found")
    if actor.token_id is not None and not actor.is_admin and actor.token_id != token.id:
        authorize(actor, Permission.USERS_MANAGE)  # a token does not manage its owner's other tokens
    token = locked(session, token)  # two revocations at once: one is recorded, the first time stays
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(
            session,
            actor,
            "accounts:token:revoke",
            target_type="api_token",
            target_id=token.id,
            details={"token": token_label(token)},
        )
    return token


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of presenting a token: who it acts as, and whether its last use should be written."""

    principal: Principal
    token_id: int
    touch: bool


def check_token(session: Session, presented: str, *, origin: str, now: datetime | None = None) -> TokenCheck | None:
    """The narrowed Principal of a valid token, or None (unknown, malformed, expired, revoked, owner disabled)."""
    now = now or utcnow()
    match = TOKEN_FORMAT.match(presented)
    if match is None:
        return None
    # With its owner in the same statement (every API request presents a token); its products apart, as joined
    # rows would repeat the token and its owner for each of them (fifty, for an officer of a portfolio).
    query = select(ApiToken).options(joinedload(ApiToken.user), selectinload(ApiToken.products))
    token = session.scalar(query.where(ApiToken.prefix == match.group(1)))
    if token is None or not hmac.compare_digest(token.token_hash, _hash(presented)):
        return None
    if token.revoked_at is not None or token.expires_at <= now or token.user.disabled:
        return None
    owner = principal_for(session, token.user, origin=origin)
    principal = replace(
        owner,
        label=f"token:{token_label(token)}:{token.user.email}",
        scopes=frozenset(Permission(s) for s in token.scopes),
        token_products=None if token.all_products else frozenset(p.product_id for p in token.products),
        token_id=token.id,
    )
    touch = token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL
    return TokenCheck(principal, token.id, touch)


def touch_token(session: Session, token_id: int, *, origin: str, now: datetime | None = None) -> None:
    """Record when and from where a token was last used (not audited: it is not a change)."""
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now or utcnow()
        token.last_used_from = origin[:120]


def grantable_scopes(session: Session, actor: Principal) -> list[Permission]:
    """The permissions a user may put in a token of their own: what they hold on some product (all, for admins)."""
    if actor.is_admin:
        return list(Permission)
    held = {p for role in actor.role_by_product.values() for p in ROLE_PERMISSIONS[role]} | ACCOUNT_PERMISSIONS
    return [p for p in Permission if p in held]
