"""Pure rules of accounts: sign-in throttling (how many failures, in what window, lock for how long) and
who manages which memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    """Failures allowed within `window` before the key is locked for `lockout`."""

    max_failures: int
    window: timedelta
    lockout: timedelta


# Per account: few tries, so guessing one password is slow. Per address: more, since an office
# behind one NAT address shares the budget; it stops one client from spraying many accounts.
ACCOUNT_POLICY = ThrottlePolicy(max_failures=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
ADDRESS_POLICY = ThrottlePolicy(max_failures=30, window=timedelta(minutes=15), lockout=timedelta(minutes=15))


@dataclass(frozen=True)
class ThrottleState:
    """What is remembered for one key (an account or a client address)."""

    failures: int
    window_start: datetime
    locked_until: datetime | None


def locked_for(state: ThrottleState | None, now: datetime) -> timedelta | None:
    """How much longer the key is locked, or None when it may try."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until - now


def after_failure(state: ThrottleState | None, now: datetime, policy: ThrottlePolicy) -> ThrottleState:
    """The state after one more failure: a new window when the old one ended, a lock at the limit."""
    if state is None or now - state.window_start >= policy.window:
        state = ThrottleState(failures=0, window_start=now, locked_until=None)
    failures = state.failures + 1
    locked_until = now + policy.lockout if failures >= policy.max_failures else state.locked_until
    return ThrottleState(failures=failures, window_start=state.window_start, locked_until=locked_until)


def wait_message(remaining: timedelta) -> str:
    """`try again in 7 minutes`, rounded up so the person never comes back too early."""
    minutes = max(1, -(-int(remaining.total_seconds()) // 60))
    return f"try again in {minutes} minute{'s' if minutes != 1 else ''}"


# A product's security officers manage its developers and auditors; its officers are an administrator's.
# Roles by value (auth.Role is a StrEnum): this module stays free of auth, which builds SQL clauses.
SECURITY_OFFICER = "security_officer"
OFFICER_MANAGED_ROLES = ("developer", "auditor")
NOT_AN_OFFICER = "only the product's security officers and administrators manage its members"
OFFICERS_ARE_ADMINS = "only an administrator grants, changes or takes away a security officer's role"


def membership_change_refusal(
    *, is_admin: bool, actor_role: str | None, old: str | None, new: str | None
) -> str | None:
    """Why the actor may not move a membership from role `old` to `new` (None: no membership), or None
    when they may. An officer's own membership is a security officer's, so no officer changes (or
    escalates) their own."""
    if is_admin:
        return None
    if actor_role != SECURITY_OFFICER:
        return NOT_AN_OFFICER
    if any(role is not None and role not in OFFICER_MANAGED_ROLES for role in (old, new)):
        return OFFICERS_ARE_ADMINS
    return None
