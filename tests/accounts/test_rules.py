"""Accounts' pure rules: sign-in throttling as a function of the remembered state and the time, who manages
which memberships; and how token permissions are named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sdl_tracker.accounts.forms import SCOPE_LABELS, scope_groups
from sdl_tracker.accounts.rules import (
    ACCOUNT_POLICY,
    NOT_AN_OFFICER,
    OFFICER_MANAGED_ROLES,
    OFFICERS_ARE_ADMINS,
    ThrottlePolicy,
    after_failure,
    locked_for,
    membership_change_refusal,
    wait_message,
)
from sdl_tracker.accounts.services import manageable_roles
from sdl_tracker.auth import Permission, Role

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(max_failures=3, window=timedelta(minutes=10), lockout=timedelta(minutes=5))


def test_locks_at_the_limit_within_the_window() -> None:
    state = None
    for n in range(1, 4):
        state = after_failure(state, T0 + timedelta(minutes=n), POLICY)
        assert state.failures == n
    assert state is not None and state.locked_until == T0 + timedelta(minutes=8)
    assert locked_for(state, T0 + timedelta(minutes=4)) == timedelta(minutes=4)
    assert locked_for(state, T0 + timedelta(minutes=8)) is None  # the lock ends exactly on time


def test_failures_spread_over_more_than_the_window_never_lock() -> None:
    state = None
    for n in range(10):
        state = after_failure(state, T0 + timedelta(minutes=6 * n), POLICY)
        assert locked_for(state, T0 + timedelta(minutes=6 * n)) is None


def test_a_new_window_starts_after_the_old_one() -> None:
    state = after_failure(after_failure(None, T0, POLICY), T0 + timedelta(minutes=1), POLICY)
    later = after_failure(state, T0 + timedelta(minutes=11), POLICY)
    assert (later.failures, later.window_start) == (1, T0 + timedelta(minutes=11))


def test_no_state_means_no_lock() -> None:
    assert locked_for(None, T0) is None


def test_wait_message_rounds_up() -> None:
    assert wait_message(timedelta(seconds=1)) == "try again in 1 minute"
    assert wait_message(timedelta(minutes=14, seconds=1)) == "try again in 15 minutes"


def test_account_policy_is_strict() -> None:
    assert ACCOUNT_POLICY.max_failures <= 5


def test_officers_manage_developers_and_auditors_and_administrators_everyone() -> None:
    officer = {"is_admin": False, "actor_role": Role.SECURITY_OFFICER}
    roles: list[Role | None] = [None, *Role]
    for old in roles:
        for new in roles:
            assert membership_change_refusal(is_admin=True, actor_role=None, old=old, new=new) is None
            touches_officer = Role.SECURITY_OFFICER in (old, new)
            refusal = membership_change_refusal(**officer, old=old, new=new)  # type: ignore[arg-type]
            assert (refusal == OFFICERS_ARE_ADMINS) if touches_officer else refusal is None, (old, new)
            for role in (Role.DEVELOPER, Role.AUDITOR, None):
                assert membership_change_refusal(is_admin=False, actor_role=role, old=old, new=new) == NOT_AN_OFFICER
    assert set(OFFICER_MANAGED_ROLES) < {r.value for r in Role}  # the rule names roles by value
    assert manageable_roles(is_admin=False, actor_role=Role.SECURITY_OFFICER) == [Role.DEVELOPER, Role.AUDITOR]
    assert manageable_roles(is_admin=False, actor_role=Role.AUDITOR) == []


def test_every_permission_has_a_label_and_groups_keep_their_order() -> None:
    assert set(SCOPE_LABELS) == set(Permission)
    groups = scope_groups([Permission.SBOM_UPLOAD, Permission.PRODUCT_READ, Permission.EVIDENCE_ATTACH])
    assert groups == [
        ("Read", [Permission.PRODUCT_READ]),
        ("Contribute", [Permission.EVIDENCE_ATTACH, Permission.SBOM_UPLOAD]),
    ]
