"""Who is acting, and the one permission check every service calls."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import InstrumentedAttribute

from .errors import DomainError, Forbidden, NotFound

P = ParamSpec("P")


class Role(enum.StrEnum):
    """A member's role in one product."""

    SECURITY_OFFICER = "security_officer"
    DEVELOPER = "developer"
    AUDITOR = "auditor"


class Permission(enum.StrEnum):
    """What an actor may do; product permissions are checked against a product's membership."""

    # Global: only administrators.
    PRODUCT_CREATE = "product:create"
    USERS_MANAGE = "users:manage"
    ORGANISATION_MANAGE = "organisation:manage"
    CATALOG_MANAGE = "catalog:manage"
    # Per account: any user, for themselves (a token must carry it).
    SIGNING_KEYS_MANAGE = "signing-keys:manage"
    # Per product.
    PRODUCT_READ = "product:read"
    PRODUCT_MANAGE = "product:manage"
    RELEASE_MANAGE = "release:manage"
    REPOSITORY_MANAGE = "repository:manage"
    EVIDENCE_ATTACH = "evidence:attach"
    EVIDENCE_REVIEW = "evidence:review"
    CLAIMS_MANAGE = "claims:manage"
    SBOM_UPLOAD = "sbom:upload"
    ARTIFACT_RECORD = "artifact:record"
    COMMITS_SUBMIT = "commits:submit"  # deliver commits of the product's repositories (git hooks, CI)
    PSIRT_MANAGE = "psirt:manage"
    VEX_DECIDE = "vex:decide"  # record, confirm and delete a release's VEX decisions
    CRA_MANAGE = "cra:manage"  # the CRA conformity file: applicability, risk assessment, support period, DoC
    GATE_SIGNOFF = "gate:signoff"
    DOSSIER_EXPORT = "dossier:export"
    AUDIT_READ = "audit:read"


GLOBAL_PERMISSIONS = frozenset(
    {Permission.PRODUCT_CREATE, Permission.USERS_MANAGE, Permission.ORGANISATION_MANAGE, Permission.CATALOG_MANAGE}
)

# What every signed-in user may do to their own account; a token narrowed to other scopes may not.
ACCOUNT_PERMISSIONS = frozenset({Permission.SIGNING_KEYS_MANAGE})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SECURITY_OFFICER: frozenset(
        {
            Permission.PRODUCT_READ,
            Permission.PRODUCT_MANAGE,
            Permission.RELEASE_MANAGE,
            Permission.REPOSITORY_MANAGE,
            Permission.EVIDENCE_ATTACH,
            Permission.EVIDENCE_REVIEW,
            Permission.CLAIMS_MANAGE,
            Permission.SBOM_UPLOAD,
            Permission.ARTIFACT_RECORD,
            Permission.COMMITS_SUBMIT,
            Permission.PSIRT_MANAGE,
            Permission.VEX_DECIDE,
            Permission.CRA_MANAGE,
            Permission.GATE_SIGNOFF,
            Permission.DOSSIER_EXPORT,
            Permission.AUDIT_READ,
        }
    ),
    Role.DEVELOPER: frozenset(
        {
            Permission.PRODUCT_READ,
            Permission.EVIDENCE_ATTACH,
            Permission.SBOM_UPLOAD,
            Permission.ARTIFACT_RECORD,
            Permission.COMMITS_SUBMIT,
        }
    ),
    Role.AUDITOR: frozenset({Permission.PRODUCT_READ, Permission.DOSSIER_EXPORT, Permission.AUDIT_READ}),
}


@dataclass(frozen=True)
class Principal:
    """The acting user (or token, or CLI operator), built once per request or command."""

    label: str  # who, as the audit log names it: "user:<email>", "token:<prefix>", "cli:<os user>"
    user_id: int | None = None
    is_admin: bool = False
    role_by_product: dict[int, Role] = field(default_factory=dict)
    # A token narrows its owner's rights: None means "not narrowed".
    scopes: frozenset[Permission] | None = None
    token_products: frozenset[int] | None = None
    token_id: int | None = None
    origin: str = ""  # where the action came from: "web 192.0.2.1", "api 192.0.2.1", "cli"
    time_zone: str | None = None  # the user's choice of zone for the times pages show (None: UTC); decides nothing

    @classmethod
    def operator(cls, os_user: str) -> Principal:
        """The host operator running a server command without --as: all rights, audited as cli."""
        return cls(label=f"cli:{os_user}", is_admin=True, origin="cli")

    def can_see(self, product_id: int) -> bool:
        """Whether the actor may know that the product exists."""
        if self.token_products is not None and product_id not in self.token_products:
            return False
        return self.is_admin or product_id in self.role_by_product

    def has(self, permission: Permission, product_id: int | None = None) -> bool:
        """Whether authorize() would pass."""
        try:
            authorize(self, permission, product_id)
        except (Forbidden, NotFound):
            return False
        return True


def authorize(actor: Principal, permission: Permission, product_id: int | None = None) -> None:
    """Raise unless `actor` may do `permission` (on `product_id`); unseen products are NotFound."""
    if actor.scopes is not None and permission not in actor.scopes:
        if product_id is not None and not actor.can_see(product_id):
            raise NotFound("product not found")
        raise Forbidden(f"this token does not grant {permission.value}")

    if permission in ACCOUNT_PERMISSIONS:
        if actor.user_id is None and not actor.is_admin:
            raise Forbidden("only a user has an account to manage")
        return

    if permission in GLOBAL_PERMISSIONS:
        if not actor.is_admin:
            raise Forbidden("only an administrator may do this")
        return

    if product_id is None:
        raise ValueError(f"{permission.value} needs a product")
    if not actor.can_see(product_id):
        # Never Forbidden: the ids of other products' objects must reveal nothing.
        raise NotFound("product not found")
    if actor.is_admin:
        return
    role = actor.role_by_product[product_id]
    if permission not in ROLE_PERMISSIONS[role]:
        raise Forbidden(f"a {role.value.replace('_', ' ')} may not do this ({permission.value})")


def authorize_second_person(actor: Principal, author_user_id: int | None, *, unnamed: str, own: str) -> None:
    """Raise unless the actor is a named user other than the author of what they accept (a review, a
    decision, a scoping-out): the four-eyes rule every acceptance follows. `unnamed` and `own` are the
    refusals' messages."""
    if actor.user_id is None:
        raise Forbidden(unnamed)
    if author_user_id is not None and author_user_id == actor.user_id:
        raise Forbidden(own)


def permits(check: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> bool:
    """Whether a rule (a function that raises a domain error to refuse) lets the call through.

    The `may_*` predicates that pages ask are built this way from the very checks their services
    call, so a button shows exactly when the action would be allowed.
    """
    try:
        check(*args, **kwargs)
    except DomainError:
        return False
    return True


def visible_products_clause(actor: Principal, product_id_column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """A WHERE clause limiting a query to the products the actor may see."""
    if actor.is_admin and actor.token_products is None:
        return true()
    visible = set(actor.role_by_product) if not actor.is_admin else set(actor.token_products or ())
    if actor.token_products is not None:
        visible &= set(actor.token_products)
    return product_id_column.in_(sorted(visible))
