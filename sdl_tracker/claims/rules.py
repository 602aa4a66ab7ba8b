"""IEC 62443-4-2 applicability, the achieved SL-C vector and the gap to the target: pure functions."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..catalog.rules import FOUNDATIONAL_REQUIREMENTS, CatalogItem, CrScope, ItemKind, applies_to, required_at

LEVELS = (1, 2, 3, 4)


class ClaimStatus(enum.StrEnum):
    """What the manufacturer claims for one requirement of one release."""

    IMPLEMENTED = "implemented"
    PARTIALLY_IMPLEMENTED = "partially_implemented"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_APPLICABLE = "not_applicable"  # with a justification
    COMPENSATED = "compensated"  # met by a compensating countermeasure (CCSC 2), described


class Verification(enum.StrEnum):
    """How the claim is verified."""

    DESIGN_REVIEW = "design_review"
    SUPPLIER_TEST = "supplier_test"
    INDEPENDENT_TEST = "independent_test"


@dataclass(frozen=True)
class ClaimFact:
    """What the vector needs to know of a claim."""

    status: ClaimStatus
    accepted_evidence: bool


@dataclass(frozen=True)
class Applicability:
    """The 4-2 items a component of one type is assessed on, and the CRs that do not apply to it."""

    items: list[CatalogItem]  # CRs with their own requirement, the type's items, and their enhancements
    resolved: dict[str, str]  # CR stated only per component type -> the type's item, e.g. CR 2.4 -> EDR 2.4
    no_component_requirement: list[CatalogItem]  # CRs with no requirement at component level


def applicable(items: Sequence[CatalogItem], component_type: str) -> Applicability:
    """The items that apply to `component_type`, in catalog order."""
    parents = {item.ref: item for item in items}
    chosen = [item for item in items if applies_to(item, component_type, parents)]
    chosen_refs = {item.ref for item in chosen}
    resolved = {
        item.ref: via
        for item in items
        if item.kind is ItemKind.COMPONENT_REQUIREMENT and item.cr_scope is CrScope.COMPONENT_SPECIFIC
        for via in item.applies_via
        if via in chosen_refs
    }
    none = [i for i in items if i.kind is ItemKind.COMPONENT_REQUIREMENT and i.cr_scope is CrScope.NONE]
    return Applicability(chosen, resolved, none)


def satisfied(fact: ClaimFact | None) -> bool:
    """Whether a claim counts toward a level: implemented or compensated with accepted evidence, or
    justified as not applicable (an item that does not apply cannot hold a level back)."""
    if fact is None:
        return False
    if fact.status is ClaimStatus.NOT_APPLICABLE:
        return True
    return fact.status in (ClaimStatus.IMPLEMENTED, ClaimStatus.COMPENSATED) and fact.accepted_evidence


def achieved_vector(items: Sequence[CatalogItem], claims: Mapping[str, ClaimFact]) -> dict[str, int]:
    """Per FR, the highest level n such that every applicable item required at a level <= n is satisfied."""
    vector = {}
    for fr in FOUNDATIONAL_REQUIREMENTS:
        mine = [item for item in items if item.fr == fr and item.sl_c]
        level = 0
        for n in LEVELS:
            if all(satisfied(claims.get(item.ref)) for item in mine if required_at(item, n)):
                level = n
            else:
                break
        vector[fr] = level
    return vector


def gap(
    items: Sequence[CatalogItem], claims: Mapping[str, ClaimFact], target: Mapping[str, int]
) -> dict[str, list[str]]:
    """Per FR, exactly the applicable items required up to the target level that are not yet satisfied."""
    return {
        fr: [
            item.ref
            for item in items
            if item.fr == fr and item.sl_c and required_at(item, target[fr]) and not satisfied(claims.get(item.ref))
        ]
        for fr in FOUNDATIONAL_REQUIREMENTS
    }


def level_matrix(
    items: Sequence[CatalogItem], claims: Mapping[str, ClaimFact]
) -> dict[str, dict[int, tuple[int, int]]]:
    """Per FR and level: (items required up to that level that are satisfied, items required)."""
    matrix: dict[str, dict[int, tuple[int, int]]] = {}
    for fr in FOUNDATIONAL_REQUIREMENTS:
        mine = [item for item in items if item.fr == fr and item.sl_c]
        matrix[fr] = {}
        for n in LEVELS:
            required = [item for item in mine if required_at(item, n)]
            matrix[fr][n] = (sum(1 for item in required if satisfied(claims.get(item.ref))), len(required))
    return matrix
