"""Whether evidence fits a claim: the pure rule, by hand and as properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sdl_tracker.catalog.rules import STANDARD_4_1, STANDARD_4_2
from sdl_tracker.claims.rules import (
    CAPABILITY_KINDS,
    ClaimContext,
    EvidenceFacts,
    Verification,
    documentation_problems,
    fit_problems,
    standing_problems,
)
from sdl_tracker.evidence.standing import ReleaseWindow, review_months
from sdl_tracker.evidence.vocabulary import EvidenceKind, EvidenceScope, ReviewState
from sdl_tracker.evidence.vocabulary import TesterIndependence as Independence

WINDOW = ReleaseWindow(2, date(2026, 1, 1), date(2026, 6, 30))
CLAIM = ClaimContext("CR 1.1 RE(1)", ("CR 1.1 RE(1)", "CR 1.1"), 7, "2.0", WINDOW, Verification.SUPPLIER_TEST)
TEST = EvidenceFacts(
    id=1,
    kind=EvidenceKind.REQUIREMENTS_TEST,
    product_id=7,
    scope=EvidenceScope.RELEASES,
    release_ids=frozenset({2}),
    refs=frozenset({(STANDARD_4_2, "CR 1.1")}),
    effective=date(2026, 5, 1),
    review_due=None,
    state=ReviewState.ACCEPTED,
    tester_independence=Independence.NONE,
)


def test_fitting_evidence_by_hand() -> None:
    assert fit_problems(TEST, CLAIM) == []  # names the base CR of the enhancement
    cases = [
        (replace(TEST, refs=frozenset({(STANDARD_4_2, "CR 1.2")})), "does not name CR 1.1 RE(1) or CR 1.1"),
        (replace(TEST, refs=frozenset({(STANDARD_4_1, "SVV-1")})), "does not name"),
        (replace(TEST, kind=EvidenceKind.CODE_REVIEW), "cannot show a capability"),
        (replace(TEST, kind=EvidenceKind.FUZZ_RUN), "cannot show a capability"),
        (replace(TEST, product_id=8), "another product"),
        (replace(TEST, product_id=None, scope=EvidenceScope.ORGANISATION), "organisation-wide"),
        (replace(TEST, release_ids=frozenset({1})), "does not name release 2.0"),
        (replace(TEST, scope=EvidenceScope.PRODUCT, effective=date(2025, 12, 31)), "outside release 2.0's window"),
        (replace(TEST, kind=EvidenceKind.DESIGN_DOCUMENT), "rests on test evidence"),
    ]
    for evidence, fragment in cases:
        problems = fit_problems(evidence, CLAIM)
        assert any(fragment in p for p in problems), (fragment, problems)
    assert fit_problems(replace(TEST, scope=EvidenceScope.PRODUCT, release_ids=frozenset()), CLAIM) == []


def test_verification_methods() -> None:
    design = replace(CLAIM, verification=Verification.DESIGN_REVIEW)
    assert fit_problems(replace(TEST, kind=EvidenceKind.DESIGN_DOCUMENT), design) == []
    assert "design review claim" in fit_problems(TEST, design)[0]
    independent = replace(CLAIM, verification=Verification.INDEPENDENT_TEST)
    for level, fits in (
        (None, False),
        (Independence.NONE, False),
        (Independence.PERSON, False),  # the stricter reading: a department at least
        (Independence.DEPARTMENT, True),
        (Independence.ORGANISATION, True),
    ):
        assert (fit_problems(replace(TEST, tester_independence=level), independent) == []) is fits, level


def test_ccsc_4_rests_on_4_1_evidence() -> None:
    process = ClaimContext("CCSC 4", ("CCSC 4",), 7, "2.0", WINDOW, None)
    sdl = replace(
        TEST,
        kind=EvidenceKind.PROCESS_DOCUMENT,
        product_id=None,
        scope=EvidenceScope.ORGANISATION,
        release_ids=frozenset(),
        refs=frozenset({(STANDARD_4_1, "SM-1")}),
    )
    assert fit_problems(sdl, process) == []
    assert "names IEC 62443-4-1" in fit_problems(TEST, process)[0]
    assert "another product" in fit_problems(replace(sdl, product_id=8), process)[0]


def test_standing_and_documentation() -> None:
    assert standing_problems(TEST, None, date(2026, 6, 1)) == []
    assert standing_problems(replace(TEST, state=ReviewState.SUBMITTED), None, date(2026, 6, 1)) == ["still in review"]
    assert standing_problems(replace(TEST, state=ReviewState.REJECTED), None, date(2026, 6, 1)) == ["rejected"]
    due = replace(TEST, review_due=date(2026, 5, 31))
    assert standing_problems(due, None, date(2026, 5, 31)) == []  # the due day still counts
    assert "expired" in standing_problems(due, None, date(2026, 6, 1))[0]
    design = replace(TEST, kind=EvidenceKind.DESIGN_DOCUMENT, effective=date(2024, 1, 1))
    assert standing_problems(design, review_months(EvidenceKind.DESIGN_DOCUMENT), date(2026, 6, 1))
    guide = replace(
        TEST, kind=EvidenceKind.GUIDELINE_DOCUMENT, product_id=None, refs=frozenset({(STANDARD_4_1, "SG-2")})
    )
    assert documentation_problems(guide, 7) == []
    assert len(documentation_problems(replace(TEST, product_id=8), 7)) == 3


releases = st.integers(1, 5)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def evidence(draw: st.DrawFn) -> EvidenceFacts:
    scope = draw(st.sampled_from(list(EvidenceScope)))
    return EvidenceFacts(
        id=draw(st.integers(1, 100)),
        kind=draw(st.sampled_from(list(EvidenceKind))),
        product_id=None if scope is EvidenceScope.ORGANISATION else draw(st.sampled_from([7, 8])),
        scope=scope,
        release_ids=frozenset(draw(st.sets(releases, max_size=3))) if scope is EvidenceScope.RELEASES else frozenset(),
        refs=frozenset(draw(st.sets(st.sampled_from([(STANDARD_4_2, "CR 1.1"), (STANDARD_4_2, "CR 2.1")])))),
        effective=draw(days),
        review_due=draw(st.none() | days),
        state=draw(st.sampled_from(list(ReviewState))),
        tester_independence=draw(st.none() | st.sampled_from(list(Independence))),
    )


@settings(max_examples=500, deadline=None)
@given(evidence(), releases, days, st.integers(0, 400), st.sampled_from([None, *Verification]))
def test_evidence_for_another_release_never_counts(
    item: EvidenceFacts, release_id: int, start: date, length: int, verification: Verification | None
) -> None:
    window = ReleaseWindow(release_id, start, start + timedelta(days=length))
    claim = ClaimContext("CR 1.1", ("CR 1.1",), 7, "x", window, verification)
    if fit_problems(item, claim) == []:
        assert item.product_id == 7 and item.kind in CAPABILITY_KINDS
        if item.scope is EvidenceScope.RELEASES:
            assert release_id in item.release_ids
        else:
            assert item.scope is EvidenceScope.PRODUCT and window.contains(item.effective)
