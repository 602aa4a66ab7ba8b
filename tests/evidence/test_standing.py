"""When evidence stands: expiry per kind, release windows, the date a release is judged on (pure rules)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from sdl_tracker.evidence.standing import (
    DEFAULT_REVIEW_MONTHS,
    add_months,
    covers_release,
    expired,
    expires_on,
    judged_on,
    release_window,
    review_months,
)
from sdl_tracker.evidence.vocabulary import EvidenceKind, EvidenceScope


def test_every_document_kind_has_a_review_interval_and_records_of_events_do_not_go_stale() -> None:
    assert DEFAULT_REVIEW_MONTHS[EvidenceKind.THREAT_MODEL] == 12
    assert review_months(EvidenceKind.PROCESS_DOCUMENT) == 24
    assert review_months(EvidenceKind.PENETRATION_TEST) is None
    assert review_months(EvidenceKind.PROCESS_DOCUMENT, {"process-document": 12}) == 12
    assert review_months(EvidenceKind.PENETRATION_TEST, {"penetration-test": 36}) == 36


def test_expiry_is_the_own_review_date_else_the_interval_and_the_due_day_still_counts() -> None:
    effective = date(2025, 1, 31)
    assert expires_on(effective, None, 1) == date(2025, 2, 28)
    assert expires_on(effective, date(2025, 6, 1), 12) == date(2025, 6, 1)
    assert expires_on(effective, None, None) is None
    assert not expired(effective, None, 12, date(2026, 1, 31))
    assert expired(effective, None, 12, date(2026, 2, 1))


def test_product_evidence_covers_a_release_only_within_its_window() -> None:
    window = release_window(7, date(2026, 6, 1), date(2025, 12, 1), date(2025, 10, 1), date(2026, 12, 4))
    assert window.start == date(2025, 12, 1) and window.end == date(2026, 6, 1)
    assert covers_release(EvidenceScope.PRODUCT, (), date(2026, 1, 5), window)
    assert not covers_release(EvidenceScope.PRODUCT, (), date(2025, 11, 30), window)  # the previous release's
    assert not covers_release(EvidenceScope.PRODUCT, (), date(2026, 6, 2), window)  # after the release
    assert covers_release(EvidenceScope.RELEASES, (7,), date(2020, 1, 1), window)
    assert not covers_release(EvidenceScope.RELEASES, (8,), date(2026, 1, 5), window)
    assert not covers_release(EvidenceScope.ORGANISATION, (), date(2026, 1, 5), window)
    unreleased_first = release_window(9, None, None, None, date(2026, 12, 4))
    assert unreleased_first.start is None and unreleased_first.end == date(2026, 12, 4)
    no_date_before = release_window(9, None, None, date(2026, 3, 1), date(2026, 12, 4))
    assert no_date_before.start == date(2026, 3, 1)


def test_a_shipped_release_is_judged_on_its_release_date() -> None:
    today = date(2026, 12, 4)
    assert judged_on(True, date(2026, 6, 1), today) == date(2026, 6, 1)
    assert judged_on(False, date(2026, 6, 1), today) == today
    assert judged_on(True, None, today) == today


@given(st.dates(), st.integers(min_value=0, max_value=240))
def test_adding_months_never_goes_back_and_lands_in_the_right_month(day: date, months: int) -> None:
    later = add_months(day, months)
    assert later >= day
    if later != date.max:  # the calendar ends at 9999-12-31
        assert (later.year - day.year) * 12 + later.month - day.month == months
    assert add_months(date(9990, 1, 1), 120) == date.max


@given(st.integers(1, 5), st.dates(), st.dates(), st.dates())
def test_evidence_for_another_release_never_counts(other: int, effective: date, start: date, end: date) -> None:
    window = release_window(99, end, start, None, end)
    assert not covers_release(EvidenceScope.RELEASES, (other,), effective, window)
