"""The support period's pure rules (Art. 13(8), (9), (13)): month arithmetic, the 5-year minimum and its exception,
and how long updates and documentation are kept."""

from __future__ import annotations

from datetime import date

import pytest

from sdl_tracker.cra.rules import (
    SupportPeriodFacts,
    add_months,
    add_years,
    describe_months,
    documentation_retained_until,
    end_of_month,
    months_between,
    parse_support_end,
    stated_end,
    support_period_problems,
    update_available_until,
)


def facts(
    starts: date | None,
    ends: date | None,
    *,
    expected: int | None = None,
    reason: str = "",
) -> SupportPeriodFacts:
    return SupportPeriodFacts(starts, ends, expected, "expected use of comparable devices", reason, "https://x.test")


def fields(found: list[object]) -> list[str]:
    return [error.field for error in found]  # type: ignore[attr-defined]


def test_years_and_months_move_29_february_and_month_ends_to_the_last_day_there_is() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2026, 7, 14), 10) == date(2036, 7, 14)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert end_of_month(2024, 2) == date(2024, 2, 29)
    assert end_of_month(2025, 2) == date(2025, 2, 28)
    assert end_of_month(2030, 12) == date(2030, 12, 31)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 1), date(2030, 12, 31), 60),  # January 2026 to December 2030: five whole years
        (date(2026, 3, 15), date(2031, 3, 14), 60),  # the end day is the last day of support
        (date(2026, 3, 15), date(2031, 3, 15), 60),
        (date(2026, 3, 15), date(2031, 3, 13), 59),
        (date(2026, 3, 15), date(2031, 3, 31), 60),  # stated as "2031-03"
        (date(2026, 3, 15), date(2031, 2, 28), 59),  # stated as "2031-02"
        (date(2026, 1, 16), date(2026, 2, 15), 1),
        (date(2026, 1, 16), date(2026, 2, 14), 0),
        (date(2026, 1, 15), date(2026, 2, 28), 1),
        (date(2026, 1, 31), date(2026, 2, 28), 1),  # a month from the 31st ends with the shorter month
        (date(2026, 2, 15), date(2026, 2, 28), 0),
        (date(2024, 2, 29), date(2029, 2, 27), 60),  # five years on from 29 February is 28 February
        (date(2024, 2, 29), date(2029, 2, 26), 59),
        (date(2024, 2, 29), date(2029, 2, 28), 60),
    ],
)
def test_months_between_counts_whole_months_with_both_days_included(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months


def test_an_end_is_stated_as_a_month_or_a_day() -> None:
    assert parse_support_end("2031-02") == (date(2031, 2, 28), "month")
    assert parse_support_end(" 2032-02 ") == (date(2032, 2, 29), "month")
    assert parse_support_end("2031-02-14") == (date(2031, 2, 14), "day")
    for wrong in ("2031-13", "2031-02-30", "2031", "31-02", "2031-2", "2031-02-1", "feb 2031", "", "2031-02-14-1"):
        assert parse_support_end(wrong) is None, wrong
    assert stated_end(date(2031, 2, 28), "month") == "2031-02"
    assert stated_end(date(2031, 2, 14), "day") == "2031-02-14"


def test_exactly_five_years_needs_no_reason() -> None:
    assert support_period_problems(facts(date(2026, 1, 1), date(2030, 12, 31))) == []
    assert support_period_problems(facts(date(2026, 3, 15), date(2031, 3, 14))) == []
    assert support_period_problems(facts(date(2024, 2, 29), date(2029, 2, 27))) == []


def test_four_years_eleven_months_without_a_reason_or_expected_use_is_refused_naming_both() -> None:
    found = support_period_problems(facts(date(2026, 3, 15), date(2031, 2, 28)))
    assert fields(found) == ["shorter_reason", "expected_use_months"]
    assert "4 years 11 months is under 5 years" in found[0].message
    assert "expected to be used for less than 5 years" in found[1].message
    leap = support_period_problems(facts(date(2024, 2, 29), date(2029, 2, 26)))
    assert fields(leap) == ["shorter_reason", "expected_use_months"]


def test_four_years_eleven_months_needs_both_the_reason_and_a_shorter_expected_use() -> None:
    start, end = date(2026, 3, 15), date(2031, 2, 28)
    assert fields(support_period_problems(facts(start, end, reason="Replaced by the 2030 range"))) == [
        "expected_use_months"
    ]
    assert fields(support_period_problems(facts(start, end, expected=48))) == ["shorter_reason"]
    assert support_period_problems(facts(start, end, expected=48, reason="Used for four years")) == []
    assert support_period_problems(facts(start, end, expected=59, reason="Used for 59 months")) == []
    # An expected use of five years or more does not allow a shorter period, whatever the reason.
    long_use = support_period_problems(facts(start, end, expected=60, reason="Cheaper"))
    assert fields(long_use) == ["expected_use_months", "ends_on"]
    assert "shorter than the expected use time (5 years)" in long_use[1].message


def test_a_short_period_may_not_be_shorter_than_the_expected_use_it_reflects() -> None:
    found = support_period_problems(facts(date(2026, 1, 1), date(2028, 12, 31), expected=48, reason="Short life"))
    assert fields(found) == ["ends_on"]
    assert "the support period (3 years) is shorter than the expected use time (4 years)" in found[0].message


def test_expected_use_longer_than_a_period_of_five_years_or_more_is_allowed() -> None:
    # Art. 13(8) asks for at least 5 years; a longer expected use is for an assessor to ask about (a warning).
    assert support_period_problems(facts(date(2026, 1, 1), date(2031, 12, 31), expected=120)) == []


def test_missing_dates_an_end_not_after_the_start_and_a_use_time_not_positive_are_refused() -> None:
    assert fields(support_period_problems(facts(None, None))) == ["starts_on", "ends_on"]
    for ends in (date(2026, 1, 1), date(2025, 12, 31)):
        found = support_period_problems(facts(date(2026, 1, 1), ends))
        assert fields(found) == ["ends_on"] and "must end after it starts" in found[0].message
    for expected in (0, -3):
        found = support_period_problems(facts(date(2026, 1, 1), date(2031, 12, 31), expected=expected))
        assert fields(found) == ["expected_use_months"] and "must be positive" in found[0].message


def test_updates_stay_available_ten_years_or_to_the_end_of_support_whichever_is_later() -> None:
    assert update_available_until(date(2026, 6, 1), date(2040, 12, 31)) == date(2040, 12, 31)
    assert update_available_until(date(2026, 6, 1), date(2031, 5, 31)) == date(2036, 6, 1)
    assert update_available_until(date(2026, 6, 1), None) == date(2036, 6, 1)
    assert update_available_until(date(2028, 2, 29), None) == date(2038, 2, 28)


def test_documentation_is_kept_ten_years_from_the_market_or_to_the_end_of_support_whichever_is_later() -> None:
    assert documentation_retained_until(date(2026, 1, 1), date(2030, 12, 31)) == date(2036, 1, 1)
    assert documentation_retained_until(date(2026, 1, 1), date(2038, 12, 31)) == date(2038, 12, 31)
    assert documentation_retained_until(date(2024, 2, 29), None) == date(2034, 2, 28)


def test_months_are_described_in_years_and_months() -> None:
    assert [describe_months(m) for m in (0, 1, 12, 59, 62, 120)] == [
        "0 months",
        "1 month",
        "1 year",
        "4 years 11 months",
        "5 years 2 months",
        "10 years",
    ]
