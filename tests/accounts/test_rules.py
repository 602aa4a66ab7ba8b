"""Sign-in throttling as a pure function of the remembered state and the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sdl_tracker.accounts.rules import ACCOUNT_POLICY, ThrottlePolicy, after_failure, locked_for, wait_message

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
