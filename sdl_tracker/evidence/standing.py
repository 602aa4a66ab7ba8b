"""When evidence stands: its expiry per kind, the window of a release it covers, the date a release is judged on.

Pure rules shared by 4-1 coverage, 4-2 claims and commit review, so each figure applies the same reading
(docs/assurance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from .vocabulary import EvidenceKind, EvidenceScope

# Months after its effective date that evidence of a kind stands before it must be reviewed again,
# unless its own review date says sooner or later. None: a record of an event, which does not go
# stale (a 2025 test report stays the record of that test); whether it covers a release is decided
# by the release's window instead. A product may set its own interval per kind.
DEFAULT_REVIEW_MONTHS: dict[EvidenceKind, int | None] = {
    EvidenceKind.THREAT_MODEL: 12,  # SR-2: reviewed at least yearly once released
    EvidenceKind.PROCESS_DOCUMENT: 24,  # SM-1, SI-2 coding standard, DM procedures: kept current
    EvidenceKind.PROCESS_RECORD: 12,  # DM-6 periodic review, SM-12 process verification: yearly
    EvidenceKind.GUIDELINE_DOCUMENT: 24,  # SG-7 documentation review
    EvidenceKind.REQUIREMENTS_SPECIFICATION: 24,
    EvidenceKind.DESIGN_DOCUMENT: 24,
    EvidenceKind.SECURITY_TRAINING: 24,  # SM-4: expertise is refreshed
}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when that day does not exist; never past the last
    date there is (a review due after year 9999 is due on 9999-12-31)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def review_months(kind: EvidenceKind, product_intervals: Mapping[str, int | None] | None = None) -> int | None:
    """The review interval of a kind: the product's setting if it has one, else the default."""
    if product_intervals is not None and kind.value in product_intervals:
        return product_intervals[kind.value]
    return DEFAULT_REVIEW_MONTHS.get(kind)


def expires_on(effective: date, review_due: date | None, months: int | None) -> date | None:
    """The last day evidence stands: its own review date, else its effective date plus the interval."""
    if review_due is not None:
        return review_due
    return add_months(effective, months) if months else None


def latest_effective_expiring_by(day: date, months: int) -> date:
    """The latest effective date whose interval of `months` ends on or before `day`, so "expires by `day`"
    is a plain bound on the effective date (add_months is monotonic; month ends make it up to three days
    later than `day` less `months`: 2024-02-29 plus 12 months is 2025-02-28)."""
    candidate = add_months(day, -months)
    while add_months(candidate, months) > day:
        candidate -= timedelta(days=1)
    while candidate < date.max and add_months(candidate + timedelta(days=1), months) <= day:
        candidate += timedelta(days=1)
    return candidate


def expired(effective: date, review_due: date | None, months: int | None, as_of: date) -> bool:
    """Whether evidence is past its review on `as_of` (the due day itself still counts)."""
    last = expires_on(effective, review_due, months)
    return last is not None and last < as_of


@dataclass(frozen=True)
class ReleaseWindow:
    """The days product-wide evidence must fall in to speak for one release."""

    release_id: int
    start: date | None  # the previous release's date (or creation); None: no earlier release
    end: date  # this release's date, or today while it has none

    def contains(self, day: date) -> bool:
        """Whether `day` falls in the window (both ends included)."""
        return (self.start is None or self.start <= day) and day <= self.end


def release_window(
    release_id: int,
    release_date: date | None,
    previous_date: date | None,
    previous_created: date | None,
    today: date,
) -> ReleaseWindow:
    """The window of a release: from the previous release's date (or its creation) to this one's (or today)."""
    start = previous_date or previous_created
    return ReleaseWindow(release_id, start, release_date or today)


def covers_release(scope: EvidenceScope, release_ids: Collection[int], effective: date, window: ReleaseWindow) -> bool:
    """Whether product evidence speaks for the release: it names the release, or it is product-wide and
    dated within the release's window. Organisation-wide evidence never covers a release."""
    if scope is EvidenceScope.RELEASES:
        return window.release_id in release_ids
    if scope is EvidenceScope.PRODUCT:
        return window.contains(effective)
    return False


T = TypeVar("T")


def stood_on(versions: Sequence[T], day: date, made_on: Callable[[T], date]) -> T | None:
    """The version that stood on `day`: the newest (last, in the order made) made on or before it; None when
    nothing was made yet. Figures judged on a past day read this, so what came later cannot raise them."""
    earlier = [version for version in versions if made_on(version) <= day]
    return earlier[-1] if earlier else None


def judged_on(released: bool, release_date: date | None, today: date) -> date:
    """The date a release's figures are evaluated on: a shipped release as of its release date, so it does
    not turn red by the passing of time; anything else as of today."""
    if released and release_date is not None:
        return min(release_date, today)
    return today
