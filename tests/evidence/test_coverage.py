"""Coverage as a pure function: states at their edges, inherited evidence, rejected then resubmitted."""

from __future__ import annotations

from datetime import date

from sdl_tracker.evidence.coverage import CoverageState, EvidenceFact, compute_coverage, summarise

TODAY = date(2026, 11, 26)
REQUIREMENTS = [
    ("SM-1", "Development process", "SM"),
    ("SR-2", "Threat model", "SR"),
    ("SVV-3", "Vulnerability testing", "SVV"),
]


def fact(
    n: int, state: str, refs: tuple[str, ...] = ("SR-2",), due: date | None = None, inherited: bool = False
) -> EvidenceFact:
    return EvidenceFact(n, f"e{n}", state, due, refs, inherited)


def cell(facts: list[EvidenceFact], ref: str = "SR-2"):  # type: ignore[no-untyped-def]
    return next(c for c in compute_coverage(REQUIREMENTS, facts, TODAY) if c.ref == ref)


def test_nothing_is_none_with_a_next_step() -> None:
    none = cell([])
    assert none.state is CoverageState.NONE and none.next_step == "Attach threat model evidence for SR-2."
    assert cell([], "SVV-3").suggested_kind == "fuzz-campaign"


def test_the_best_state_wins() -> None:
    assert cell([fact(1, "draft"), fact(2, "submitted")]).state is CoverageState.SUBMITTED
    best = cell([fact(1, "submitted"), fact(2, "accepted"), fact(3, "draft")])
    assert best.state is CoverageState.ACCEPTED and best.next_step == "" and best.evidence_ids == (1, 2, 3)


def test_expiry_is_the_day_after_the_review_date() -> None:
    assert cell([fact(1, "accepted", due=TODAY)]).state is CoverageState.ACCEPTED
    expired = cell([fact(1, "accepted", due=date(2026, 11, 25))])
    assert expired.state is CoverageState.EXPIRED and "Review the activity again" in expired.next_step
    # A fresh submission beats a stale acceptance, and a fresh acceptance beats both.
    assert cell([fact(1, "accepted", due=date(2026, 1, 1)), fact(2, "submitted")]).state is CoverageState.SUBMITTED
    assert cell([fact(1, "accepted", due=date(2026, 1, 1)), fact(2, "accepted")]).state is CoverageState.ACCEPTED


def test_rejected_evidence_counts_for_nothing_until_resubmitted() -> None:
    assert cell([fact(1, "rejected")]).state is CoverageState.NONE
    assert cell([fact(1, "rejected"), fact(1, "submitted")]).state is CoverageState.SUBMITTED


def test_inherited_evidence_is_marked_and_loses_ties() -> None:
    inherited = cell([fact(1, "accepted", ("SM-1",), inherited=True)], "SM-1")
    assert inherited.state is CoverageState.ACCEPTED and inherited.inherited
    own = cell([fact(1, "accepted", ("SM-1",), inherited=True), fact(2, "accepted", ("SM-1",))], "SM-1")
    assert not own.inherited


def test_summary_per_practice() -> None:
    cells = compute_coverage(REQUIREMENTS, [fact(1, "accepted"), fact(2, "draft", ("SVV-3",))], TODAY)
    summary = {
        s.practice: s for s in summarise(cells, {"SM": "Security management", "SR": "Requirements", "SVV": "Testing"})
    }
    assert summary["SR"].accepted == 1 and summary["SR"].total == 1
    assert summary["SVV"].counts["draft"] == 1 and summary["SM"].counts["none"] == 1


def test_drafts_past_their_review_date_stay_drafts() -> None:
    draft = cell([fact(1, "draft", due=date(2026, 1, 1))])
    assert draft.state is CoverageState.DRAFT and draft.next_step == "Submit the draft for review."
