"""The pure rules of Annex I applicability and of what a release's CRA file still lacks (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sdl_tracker.cra.rules import (
    ALWAYS_APPLICABLE,
    ANNEX_I_POINTS,
    USER_INFORMATION_REFS,
    Area,
    FileFacts,
    PointFacts,
    RouteRules,
    SupportPeriodFacts,
    applicability_problems,
    missing_parts,
    needs_other_evidence,
    point_label,
)


def test_annex_i_has_twenty_two_points_in_order() -> None:
    assert len(ANNEX_I_POINTS) == 22
    assert ANNEX_I_POINTS[:3] == ("I.1", "I.2a", "I.2b") and ANNEX_I_POINTS[-1] == "II.8"
    assert {"I.1", "II.1", "II.2", "II.3", "II.4", "II.5", "II.6", "II.7", "II.8"} == ALWAYS_APPLICABLE


@pytest.mark.parametrize("ref", sorted(ALWAYS_APPLICABLE))
def test_part_i_1_and_part_ii_cannot_be_not_applicable_even_with_a_justification(ref: str) -> None:
    [error] = applicability_problems(ref, False, "We do not think it applies.")
    assert error.field == "applicable" and "cannot be marked not applicable" in error.message


def test_a_part_i_2_point_may_be_not_applicable_only_with_a_justification() -> None:
    assert applicability_problems("I.2g", False, "The component processes no personal or user data.") == []
    [error] = applicability_problems("I.2g", False, "   ")
    assert error.field == "justification"
    assert applicability_problems("I.2g", True, "") == []


@pytest.mark.parametrize("ref", ["I.2", "I.2n", "II.9", "III.1", "i.1", "", "AII.1"])
def test_unknown_points_are_refused(ref: str) -> None:
    [error] = applicability_problems(ref, True, "")
    assert error.field == "ref"


def test_points_iec_62443_cannot_cover_are_flagged() -> None:
    assert needs_other_evidence("I.2g", "EDR") and needs_other_evidence("II.8", "HDR")
    assert "transfer" in (needs_other_evidence("I.2m", "NDR") or "")
    # Update capability needs other evidence only for a software application.
    assert needs_other_evidence("I.2c", "SAR") and needs_other_evidence("I.2c", "EDR") is None
    assert needs_other_evidence("I.2d", "SAR") is None


def test_point_labels_name_the_annex() -> None:
    assert point_label("I.1") == "Annex I Part I (1)"
    assert point_label("I.2h") == "Annex I Part I (2)(h)"
    assert point_label("II.3") == "Annex I Part II (3)"


def _point(ref: str, **changes: object) -> PointFacts:
    done = PointFacts(ref, True, True, "", "Measures described.", 1, 0, needs_other_evidence(ref, "EDR"))
    if done.other_evidence_reason:
        done = replace(done, linked_accepted=1)
    return replace(done, **changes)  # type: ignore[arg-type]


COMPLETE = FileFacts(
    category="default",
    points=tuple(_point(ref) for ref in ANNEX_I_POINTS),
    risk_assessment={
        "intended_purpose": "Control of a filling line.",
        "foreseeable_use": "Operated from an HMI in the plant network.",
        "foreseeable_misuse": "Connected directly to the internet.",
        "operational_environment": "Zone 2 of an IEC 62443-3-2 zone model.",
        "assets": "Process logic, recipes, credentials.",
        "expected_use_months": "180",
    },
    risk_threat_model=True,
    support=SupportPeriodFacts(date(2027, 1, 1), date(2036, 12, 31), 180, "expected use", "", "https://ex.com/s"),
    user_information=dict.fromkeys(USER_INFORMATION_REFS, True),
    declaration={
        "manufacturer_name": "Example Industrial",
        "manufacturer_address": "1 Road, Town",
        "product_identification": "PLC 2.0",
        "object_description": "PLC firmware 2.0",
        "conformity_route": "module_a",
        "place_of_issue": "Town",
        "date_of_issue": "2027-01-01",
        "signatory_name": "A. Officer",
        "signatory_function": "Head of product security",
    },
)


def test_a_complete_file_lacks_nothing() -> None:
    assert missing_parts(COMPLETE) == []


def test_an_unassessed_point_is_missing_and_names_its_annex() -> None:
    facts = replace(COMPLETE, points=(_point("I.2d", assessed=False), *COMPLETE.points[1:]))
    [missing] = missing_parts(facts)
    assert missing.area is Area.POINT and missing.key == "I.2d"
    assert missing.message == "Annex I Part I (2)(d): applicability not assessed"


def test_an_applicable_point_needs_measures_and_accepted_evidence() -> None:
    facts = replace(COMPLETE, points=(_point("I.1", measures=" ", mapped_met=0),))
    messages = [m.message for m in missing_parts(facts)]
    assert "Annex I Part I (1): no measures that implement it" in messages
    assert "Annex I Part I (1): no accepted evidence or claim behind it" in messages


def test_a_not_applicable_point_is_complete_with_its_justification() -> None:
    facts = replace(COMPLETE, points=(_point("I.2g", applicable=False, justification="No user data.", measures=""),))
    assert missing_parts(facts) == []


def test_mapped_evidence_does_not_cover_a_point_that_needs_other_evidence() -> None:
    # I.2g backed by many met 4-1 requirements but no evidence linked by hand: data minimisation is unshown.
    facts = replace(COMPLETE, points=(_point("I.2g", mapped_met=9, linked_accepted=0),))
    [missing] = missing_parts(facts)
    assert missing.key == "I.2g" and "needs other evidence (data minimisation" in missing.message


def test_missing_records_are_named_by_area() -> None:
    facts = replace(COMPLETE, risk_assessment=None, support=None, declaration=None, user_information={})
    areas = [(m.area, m.key) for m in missing_parts(facts)]
    assert (Area.RISK, "") in areas and (Area.SUPPORT, "") in areas and (Area.DECLARATION, "") in areas
    assert [key for area, key in areas if area is Area.USER_INFORMATION] == list(USER_INFORMATION_REFS)


def test_a_risk_assessment_without_its_threat_model_or_a_field_is_incomplete() -> None:
    facts = replace(
        COMPLETE, risk_threat_model=False, risk_assessment={**(COMPLETE.risk_assessment or {}), "assets": ""}
    )
    keys = {m.key for m in missing_parts(facts)}
    assert keys == {"assets", "threat_model"}


def test_a_support_period_made_short_on_the_product_form_is_caught() -> None:
    # The record said 10 years; the product's end date was later moved to 3 years without a reason.
    support = replace(COMPLETE.support, ends_on=date(2029, 12, 31))  # type: ignore[type-var]
    keys = {m.key for m in missing_parts(replace(COMPLETE, support=support))}
    assert "shorter_reason" in keys


def test_a_route_the_category_no_longer_allows_is_missing() -> None:
    # Chosen as a default product; the product was then classed as important class II.
    [missing] = missing_parts(replace(COMPLETE, category="important_class_ii"))
    assert missing.area is Area.DECLARATION and missing.key == "conformity_route"


def test_a_notified_body_route_needs_the_body_and_certificate() -> None:
    declaration = {**(COMPLETE.declaration or {}), "conformity_route": "module_b_c"}
    keys = {m.key for m in missing_parts(replace(COMPLETE, declaration=declaration))}
    assert keys == {"notified_body_name", "notified_body_number", "certificate_reference"}


def test_module_a_for_class_i_needs_a_cited_standard_applied_in_full() -> None:
    declaration = {
        **(COMPLETE.declaration or {}),
        "presumption_basis": "harmonised_standard",
        "presumption_basis_reference": "EN 40000-1-2:2027",
    }
    facts = replace(COMPLETE, category="important_class_i", declaration=declaration)
    [missing] = missing_parts(facts)
    assert missing.key == "presumption_basis_reference" and "not a harmonised standard cited" in missing.message
    cited = replace(facts, route_rules=RouteRules(cited_standards=("EN  40000-1-2:2027",)))
    assert missing_parts(cited) == []
