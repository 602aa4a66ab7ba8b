"""The achieved SL-C vector and the gap, tested exhaustively on the real catalog."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdl_tracker.catalog.rules import FOUNDATIONAL_REQUIREMENTS, parse_catalog, required_at
from sdl_tracker.catalog.services import packaged_document
from sdl_tracker.claims.rules import (
    ClaimFact,
    ClaimStatus,
    achieved_vector,
    applicable,
    breakdown,
    gap,
    level_matrix,
    not_counting,
    resolution_chain,
    satisfied,
)

CATALOG = parse_catalog(packaged_document("iec62443-4-2.json"))
TYPES = ("SAR", "EDR", "HDR", "NDR")
APPLICABLE = {t: applicable(CATALOG.items, t) for t in TYPES}
GOOD = ClaimFact(ClaimStatus.IMPLEMENTED, evidence_counts=True, verification=True)
ACCEPTED_NA = ClaimFact(ClaimStatus.NOT_APPLICABLE, justified=True, accepted=True)
COMPENSATED = ClaimFact(
    ClaimStatus.COMPENSATED, evidence_counts=True, verification=True, described=True, documentation=None, accepted=True
)


def everything(component_type: str) -> dict[str, ClaimFact]:
    return {item.ref: GOOD for item in APPLICABLE[component_type].items}


@pytest.mark.parametrize("component_type", TYPES)
def test_everything_implemented_gives_4_everywhere(component_type: str) -> None:
    items = APPLICABLE[component_type].items
    assert achieved_vector(items, everything(component_type)) == dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 4)
    assert gap(items, everything(component_type), dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 4)) == {
        fr: [] for fr in FOUNDATIONAL_REQUIREMENTS
    }


@pytest.mark.parametrize("component_type", TYPES)
def test_nothing_implemented_gives_the_full_list(component_type: str) -> None:
    items = APPLICABLE[component_type].items
    target = dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 4)
    assert achieved_vector(items, {}) == dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 0)
    missing = gap(items, {}, target)
    assert sorted(ref for refs in missing.values() for ref in refs) == sorted(i.ref for i in items if i.sl_c)


def test_applicability_per_component_type_by_hand() -> None:
    edr = {i.ref for i in APPLICABLE["EDR"].items}
    assert {"CR 1.1", "CR 1.1 RE(2)", "EDR 2.4", "EDR 2.4 RE(1)", "EDR 3.2", "EDR 3.14 RE(1)"} <= edr
    assert not {"CR 2.4", "SAR 2.4", "NDR 1.6", "CR 2.3"} & edr
    assert APPLICABLE["EDR"].resolved["CR 2.4"] == "EDR 2.4"
    assert {i.ref for i in APPLICABLE["EDR"].no_component_requirement} == {"CR 2.3", "CR 5.4", "CR 7.5"}
    ndr = {i.ref for i in APPLICABLE["NDR"].items}
    assert {"NDR 1.6", "NDR 1.13", "NDR 5.2", "NDR 5.2 RE(3)", "NDR 5.3"} <= ndr
    sar = {i.ref for i in APPLICABLE["SAR"].items}
    assert {"SAR 2.4", "SAR 3.2"} <= sar and "EDR 3.10" not in sar
    assert "CR 1.6" not in APPLICABLE["SAR"].resolved  # wireless access: stated for network devices only


def test_hand_checked_edr_fr1_levels() -> None:
    items = APPLICABLE["EDR"].items
    claims = everything("EDR")
    fr1_level_2 = [i.ref for i in items if i.fr == "FR1" and i.sl_c and min(i.sl_c) == 2]
    for ref in fr1_level_2:
        del claims[ref]
    assert achieved_vector(items, claims)["FR1"] == 1  # SL 1 complete, SL 2 not
    assert gap(items, claims, {**dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 4), "FR1": 1})["FR1"] == []
    assert sorted(gap(items, claims, dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 2))["FR1"]) == sorted(fr1_level_2)


def test_what_counts() -> None:
    assert satisfied(GOOD) and satisfied(ACCEPTED_NA) and satisfied(COMPENSATED)
    assert not satisfied(None)
    cases = [
        (replace(GOOD, evidence_counts=False), "no linked evidence fits"),
        (replace(GOOD, verification=False), "no verification method"),
        (ClaimFact(ClaimStatus.PARTIALLY_IMPLEMENTED, evidence_counts=True, verification=True), "does not count"),
        (replace(ACCEPTED_NA, accepted=False), "not accepted for this release"),  # a justification alone: no
        (replace(ACCEPTED_NA, justified=False), "without a justification"),
        (replace(ACCEPTED_NA, needs_override=True), "without an officer's override"),
        (replace(ACCEPTED_NA, carried_from="1.0"), "carried forward from 1.0"),
        (replace(COMPENSATED, documentation="no link to the user documentation"), "user documentation"),
        (replace(COMPENSATED, described=False), "countermeasure is not described"),
        (replace(COMPENSATED, accepted=False), "not accepted"),
        (replace(COMPENSATED, evidence_counts=False, evidence_notes=("#4: still in review",)), "#4: still in review"),
    ]
    for fact, fragment in cases:
        assert not satisfied(fact)
        assert any(fragment in reason for reason in not_counting(fact)), (fact, not_counting(fact))
    assert satisfied(replace(ACCEPTED_NA, needs_override=True, overridden=True))
    assert satisfied(replace(GOOD, carried_from="1.0"))  # implemented: its evidence fits the new release


def test_an_all_not_applicable_product_reaches_nothing_until_accepted() -> None:
    # The assessor's scenario: every claim "not applicable" with a one-word justification.
    items = APPLICABLE["SAR"].items
    unaccepted = dict.fromkeys((i.ref for i in items), ClaimFact(ClaimStatus.NOT_APPLICABLE, justified=True))
    assert achieved_vector(items, unaccepted) == dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 0)
    rows = breakdown(items, unaccepted, dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 4), achieved_vector(items, unaccepted))
    assert all(r.not_applicable == 0 and r.not_counting > 0 for r in rows)


def test_breakdown_counts_each_way_of_meeting_an_item_and_names_medium_confidence() -> None:
    items = APPLICABLE["HDR"].items
    fr3 = [i for i in items if i.fr == "FR3" and i.sl_c]
    claims = {
        fr3[0].ref: GOOD,
        fr3[1].ref: COMPENSATED,
        fr3[2].ref: ACCEPTED_NA,
        fr3[3].ref: replace(GOOD, verification=False),
    }
    target = dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, 4)
    row = next(r for r in breakdown(items, claims, target, achieved_vector(items, claims)) if r.fr == "FR3")
    assert (row.implemented, row.compensated, row.not_applicable, row.not_counting) == (1, 1, 1, 1)
    assert row.unclaimed == len(fr3) - 4
    assert "HDR 3.10" in row.medium_confidence and all(
        i.confidence == "medium" for i in fr3 if i.ref in row.medium_confidence
    )


def test_ccsc_can_be_claimed_and_never_moves_the_vector() -> None:
    for component_type in TYPES:
        refs = {i.ref for i in APPLICABLE[component_type].items}
        assert {"CCSC 1", "CCSC 2", "CCSC 3", "CCSC 4"} <= refs
    items = APPLICABLE["EDR"].items
    with_ccsc = {**everything("EDR"), **dict.fromkeys(("CCSC 1", "CCSC 4"), ClaimFact(ClaimStatus.NOT_IMPLEMENTED))}
    assert achieved_vector(items, with_ccsc) == achieved_vector(items, everything("EDR"))


def test_resolution_chain_reaches_the_cr_of_enhancements_and_component_specific_items() -> None:
    by_ref = {item.ref: item for item in CATALOG.items}
    assert resolution_chain("CR 1.1 RE(1)", by_ref) == ("CR 1.1 RE(1)", "CR 1.1")
    assert resolution_chain("EDR 3.10", by_ref) == ("EDR 3.10", "CR 3.10")
    assert resolution_chain("EDR 2.4 RE(1)", by_ref) == ("EDR 2.4 RE(1)", "EDR 2.4", "CR 2.4")
    assert resolution_chain("CR 1.1", by_ref) == ("CR 1.1",)


claim_states = st.sampled_from(
    [
        None,
        GOOD,
        ACCEPTED_NA,
        COMPENSATED,
        ClaimFact(ClaimStatus.IMPLEMENTED),
        ClaimFact(ClaimStatus.NOT_IMPLEMENTED),
        ClaimFact(ClaimStatus.PARTIALLY_IMPLEMENTED, evidence_counts=True, verification=True),
        ClaimFact(ClaimStatus.NOT_APPLICABLE, justified=True),
        ClaimFact(ClaimStatus.NOT_APPLICABLE, justified=True, accepted=True, needs_override=True),
        replace(COMPENSATED, accepted=False),
    ]
)


@st.composite
def claim_sets(draw: st.DrawFn) -> tuple[str, dict[str, ClaimFact]]:
    component_type = draw(st.sampled_from(TYPES))
    claims = {}
    for item in APPLICABLE[component_type].items:
        state = draw(claim_states)
        if state is not None:
            claims[item.ref] = state
    return component_type, claims


@settings(max_examples=300, deadline=None)
@given(claim_sets(), st.data())
def test_adding_an_implemented_claim_never_lowers_a_level(
    case: tuple[str, dict[str, ClaimFact]], data: st.DataObject
) -> None:
    component_type, claims = case
    items = APPLICABLE[component_type].items
    item = data.draw(st.sampled_from(items))
    before = achieved_vector(items, claims)
    after = achieved_vector(items, {**claims, item.ref: GOOD})
    assert all(after[fr] >= before[fr] for fr in FOUNDATIONAL_REQUIREMENTS)
    removed = {k: v for k, v in claims.items() if k != item.ref}
    assert all(achieved_vector(items, removed)[fr] <= before[fr] for fr in FOUNDATIONAL_REQUIREMENTS)


@settings(max_examples=300, deadline=None)
@given(claim_sets(), st.lists(st.integers(1, 4), min_size=7, max_size=7))
def test_the_gap_is_exactly_what_stands_between_achieved_and_target(
    case: tuple[str, dict[str, ClaimFact]], levels: list[int]
) -> None:
    component_type, claims = case
    items = APPLICABLE[component_type].items
    target = dict(zip(FOUNDATIONAL_REQUIREMENTS, levels, strict=True))
    achieved = achieved_vector(items, claims)
    missing = gap(items, claims, target)
    for fr in FOUNDATIONAL_REQUIREMENTS:
        # Nothing missing exactly when the target is reached...
        assert (missing[fr] == []) == (achieved[fr] >= target[fr])
        # ...and satisfying every missing item reaches it.
        assert achieved_vector(items, {**claims, **dict.fromkeys(missing[fr], GOOD)})[fr] >= target[fr]
        # Every missing item is needed at the target level.
        assert all(required_at(next(i for i in items if i.ref == ref), target[fr]) for ref in missing[fr])


@settings(max_examples=100, deadline=None)
@given(claim_sets())
def test_the_matrix_agrees_with_the_vector(case: tuple[str, dict[str, ClaimFact]]) -> None:
    component_type, claims = case
    items = APPLICABLE[component_type].items
    matrix, achieved = level_matrix(items, claims), achieved_vector(items, claims)
    for fr in FOUNDATIONAL_REQUIREMENTS:
        complete = [n for n in (1, 2, 3, 4) if matrix[fr][n][0] == matrix[fr][n][1]]
        expected = 0
        for n in (1, 2, 3, 4):
            if n in complete:
                expected = n
            else:
                break
        assert achieved[fr] == expected


@settings(max_examples=300, deadline=None)
@given(claim_sets(), st.data())
def test_an_unaccepted_not_applicable_never_raises_a_level(
    case: tuple[str, dict[str, ClaimFact]], data: st.DataObject
) -> None:
    component_type, claims = case
    items = APPLICABLE[component_type].items
    item = data.draw(st.sampled_from(items))
    before = achieved_vector(items, {k: v for k, v in claims.items() if k != item.ref})
    unaccepted = ClaimFact(
        ClaimStatus.NOT_APPLICABLE,
        justified=data.draw(st.booleans()),
        needs_override=data.draw(st.booleans()),
        overridden=data.draw(st.booleans()),
        carried_from=data.draw(st.sampled_from(["", "1.0"])),
    )
    after = achieved_vector(items, {**claims, item.ref: unaccepted})
    assert after == before


@settings(max_examples=300, deadline=None)
@given(claim_sets(), st.data())
def test_evidence_that_stops_counting_never_raises_a_level(
    case: tuple[str, dict[str, ClaimFact]], data: st.DataObject
) -> None:
    # Removing evidence (or its no longer fitting) turns evidence_counts off: no level may rise.
    component_type, claims = case
    items = APPLICABLE[component_type].items
    refs = data.draw(st.lists(st.sampled_from(sorted(claims) or ["-"]), unique=True))
    fewer = {ref: replace(fact, evidence_counts=False) if ref in refs else fact for ref, fact in claims.items()}
    before, after = achieved_vector(items, claims), achieved_vector(items, fewer)
    assert all(after[fr] <= before[fr] for fr in FOUNDATIONAL_REQUIREMENTS)
