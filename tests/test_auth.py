"""authorize(): the one permission check, as a pure function of the Principal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sdl_tracker.auth import (
    ACCOUNT_PERMISSIONS,
    GLOBAL_PERMISSIONS,
    ROLE_PERMISSIONS,
    Permission,
    Principal,
    Role,
    authorize,
)
from sdl_tracker.errors import Forbidden, NotFound

ADMIN = Principal(label="user:admin", user_id=1, is_admin=True)
OFFICER = Principal(label="user:so", user_id=2, role_by_product={10: Role.SECURITY_OFFICER})
DEVELOPER = Principal(label="user:dev", user_id=3, role_by_product={10: Role.DEVELOPER})
AUDITOR = Principal(label="user:aud", user_id=4, role_by_product={10: Role.AUDITOR})
STRANGER = Principal(label="user:x", user_id=5, role_by_product={11: Role.SECURITY_OFFICER})


@pytest.mark.parametrize("actor", [OFFICER, DEVELOPER, AUDITOR, STRANGER])
def test_global_permissions_need_an_admin(actor: Principal) -> None:
    with pytest.raises(Forbidden):
        authorize(actor, Permission.PRODUCT_CREATE)
    authorize(ADMIN, Permission.PRODUCT_CREATE)


@pytest.mark.parametrize(
    "permission",
    [p for p in Permission if p not in GLOBAL_PERMISSIONS | ACCOUNT_PERMISSIONS],
)
def test_non_members_get_not_found_never_forbidden(permission: Permission) -> None:
    with pytest.raises(NotFound):
        authorize(STRANGER, permission, 10)


@pytest.mark.parametrize(
    ("actor", "role"), [(OFFICER, Role.SECURITY_OFFICER), (DEVELOPER, Role.DEVELOPER), (AUDITOR, Role.AUDITOR)]
)
def test_members_get_exactly_their_roles_permissions(actor: Principal, role: Role) -> None:
    for permission in Permission:
        if permission in GLOBAL_PERMISSIONS | ACCOUNT_PERMISSIONS:
            continue
        if permission in ROLE_PERMISSIONS[role]:
            authorize(actor, permission, 10)
        else:
            with pytest.raises(Forbidden):
                authorize(actor, permission, 10)


def test_account_permissions_are_every_users_for_themselves_and_a_tokens_only_when_it_carries_them() -> None:
    for actor in (OFFICER, DEVELOPER, AUDITOR, STRANGER):
        for permission in ACCOUNT_PERMISSIONS:
            authorize(actor, permission)
    without_user = Principal(label="token:someone", scopes=None)
    with pytest.raises(Forbidden):
        authorize(without_user, Permission.SIGNING_KEYS_MANAGE)
    narrowed = replace(DEVELOPER, scopes=frozenset({Permission.PRODUCT_READ}))
    with pytest.raises(Forbidden):
        authorize(narrowed, Permission.SIGNING_KEYS_MANAGE)
    authorize(replace(DEVELOPER, scopes=frozenset({Permission.SIGNING_KEYS_MANAGE})), Permission.SIGNING_KEYS_MANAGE)


def test_developer_cannot_review_or_sign_off_but_attaches() -> None:
    authorize(DEVELOPER, Permission.EVIDENCE_ATTACH, 10)
    for permission in (Permission.EVIDENCE_REVIEW, Permission.GATE_SIGNOFF, Permission.RELEASE_MANAGE):
        with pytest.raises(Forbidden):
            authorize(DEVELOPER, permission, 10)


def test_auditor_is_read_only() -> None:
    writes = {
        p for p in Permission if p not in {Permission.PRODUCT_READ, Permission.DOSSIER_EXPORT, Permission.AUDIT_READ}
    }
    assert not writes & ROLE_PERMISSIONS[Role.AUDITOR]


def test_admin_sees_every_product() -> None:
    authorize(ADMIN, Permission.PRODUCT_MANAGE, 999)
    assert ADMIN.can_see(999)


def test_token_scope_narrows_its_owner() -> None:
    token = Principal(
        label="token:ci",
        user_id=2,
        role_by_product={10: Role.SECURITY_OFFICER, 12: Role.SECURITY_OFFICER},
        scopes=frozenset({Permission.EVIDENCE_ATTACH, Permission.PRODUCT_READ}),
        token_products=frozenset({10}),
    )
    authorize(token, Permission.EVIDENCE_ATTACH, 10)
    with pytest.raises(Forbidden):
        authorize(token, Permission.RELEASE_MANAGE, 10)
    with pytest.raises(NotFound):
        authorize(token, Permission.EVIDENCE_ATTACH, 12)  # the owner may, the token may not even see it
    with pytest.raises(NotFound):
        authorize(token, Permission.RELEASE_MANAGE, 12)


def test_product_permission_without_product_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs a product"):
        authorize(ADMIN, Permission.PRODUCT_READ)


def test_has_mirrors_authorize() -> None:
    assert OFFICER.has(Permission.GATE_SIGNOFF, 10)
    assert not DEVELOPER.has(Permission.GATE_SIGNOFF, 10)
    assert not STRANGER.has(Permission.PRODUCT_READ, 10)
