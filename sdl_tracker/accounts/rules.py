"""Pure rules of sign-in throttling: how many failures, in what window, lock for how long."""

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
