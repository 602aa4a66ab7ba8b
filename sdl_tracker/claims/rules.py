"""IEC 62443-4-2 applicability, the achieved SL-C vector and the gap to the target: pure functions."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ..catalog.rules import (
    FOUNDATIONAL_REQUIREMENTS,
    STANDARD_4_1,
    STANDARD_4_2,
    CatalogItem,
    CrScope,
    ItemKind,
    applies_to,
    base_item,
    required_at,
)
from ..evidence.standing import ReleaseWindow, covers_release, expired
from ..evidence.vocabulary import EvidenceKind, EvidenceScope, ReviewState, TesterIndependence

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
    """What the vector needs to know of a claim (docs/assurance.md, "SL-C vector")."""

    status: ClaimStatus
    evidence_counts: bool = False  # at least one linked evidence item fits the claim and stands
    verification: bool = False  # the claim states how it is verified
    justified: bool = False  # not applicable: a justification is given
    described: bool = False  # compensated: the countermeasure is described
    documentation: str | None = "no link to the user documentation"  # compensated: None when it stands
    accepted: bool = False  # accepted for this release by an officer other than the one who set it
    needs_override: bool = False  # not applicable on an unconditional item
    overridden: bool = False  # ... with an officer's override and its reason
    carried_from: str = ""  # copied from this release's predecessor, not yet confirmed for it ("": no)
    evidence_notes: tuple[str, ...] = ()  # why linked evidence does not count
    # Set or accepted only after the day the release is judged on: what came later cannot raise its figure.
    late: tuple[str, ...] = ()


COUNTED_STATUSES = (ClaimStatus.IMPLEMENTED, ClaimStatus.COMPENSATED, ClaimStatus.NOT_APPLICABLE)


def not_counting(fact: ClaimFact) -> list[str]:
    """Why a claim does not count toward a level (empty: it counts).

    Implemented counts with a verification method and evidence that fits and stands; not applicable only
    once justified (with an override on an unconditional item) and accepted for this release by a second
    officer; compensated needs its countermeasure, the user documentation, the acceptance and evidence.
    A claim carried forward and not confirmed counts only through evidence that fits the new release.
    """
    status = fact.status
    if status not in COUNTED_STATUSES:
        return [f"{status.value.replace('_', ' ')}: does not count"]
    reasons: list[str] = list(fact.late)
    if status is ClaimStatus.NOT_APPLICABLE:
        if not fact.justified:
            reasons.append("not applicable without a justification")
        if fact.needs_override and not fact.overridden:
            reasons.append("not applicable on an unconditional item without an officer's override")
        if fact.carried_from:
            reasons.append(f"carried forward from {fact.carried_from}, not confirmed for this release")
    if status is ClaimStatus.COMPENSATED:
        if not fact.described:
            reasons.append("the compensating countermeasure is not described")
        if fact.documentation is not None:
            reasons.append(fact.documentation)
    if status in (ClaimStatus.NOT_APPLICABLE, ClaimStatus.COMPENSATED) and not fact.accepted:
        reasons.append("not accepted for this release by a second security officer")
    if status in (ClaimStatus.IMPLEMENTED, ClaimStatus.COMPENSATED):
        if not fact.verification:
            reasons.append("no verification method: evidence cannot be judged against it")
        elif not fact.evidence_counts:
            reasons.append("no linked evidence fits the claim and stands" + _notes(fact.evidence_notes))
    return reasons


def _notes(notes: Sequence[str]) -> str:
    return f" ({'; '.join(notes)})" if notes else ""


@dataclass(frozen=True)
class Applicability:
    """The 4-2 items a component of one type is assessed on, and the CRs that do not apply to it."""

    items: list[CatalogItem]  # CRs with their own requirement, the type's items, and their enhancements
    resolved: dict[str, str]  # CR stated only per component type -> the type's item, e.g. CR 2.4 -> EDR 2.4
    no_component_requirement: list[CatalogItem]  # CRs with no requirement at component level


def applicable(items: Sequence[CatalogItem], component_type: str) -> Applicability:
    """The items that apply to `component_type`, in catalog order."""
    parents = {item.ref: item for item in items}
    # The common component security constraints (CCSC 1-4) apply to every component; they carry no SL-C.
    chosen = [item for item in items if item.kind is ItemKind.CCSC or applies_to(item, component_type, parents)]
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
    """Whether a claim counts toward a level (see not_counting)."""
    return fact is not None and not not_counting(fact)


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


def resolution_chain(ref: str, items: Mapping[str, CatalogItem]) -> tuple[str, ...]:
    """The item, the item its enhancements build on, and the CR a component-specific item states:
    CR 1.1 RE(1) -> (CR 1.1 RE(1), CR 1.1); EDR 2.4 RE(1) -> (EDR 2.4 RE(1), EDR 2.4, CR 2.4)."""
    chain = [ref]
    base = base_item(ref, items)
    if base != ref:
        chain.append(base)
    item = items.get(base)
    if item is not None and item.kind is ItemKind.TYPE_REQUIREMENT and item.parent and item.parent in items:
        chain.append(item.parent)
    return tuple(chain)


# Evidence that can show a capability of the component, by the verification method a claim states
# (docs/assurance.md): a design described or reviewed, or the capability tested. Code reviews, static
# analysis, single fuzz runs on a commit, SBOMs and process documents show the process, not a capability.
DESIGN_KINDS = frozenset({EvidenceKind.DESIGN_DOCUMENT, EvidenceKind.DESIGN_REVIEW})
CAPABILITY_TEST_KINDS = frozenset(
    {
        EvidenceKind.REQUIREMENTS_TEST,
        EvidenceKind.THREAT_MITIGATION_TEST,
        EvidenceKind.VULNERABILITY_SCAN,
        EvidenceKind.PENETRATION_TEST,
        EvidenceKind.FUZZ_CAMPAIGN,
    }
)
CAPABILITY_KINDS = DESIGN_KINDS | CAPABILITY_TEST_KINDS
# An "independent test" claim: the stricter reading of IEC 62443-4-1 Table 3 (an independent department).
INDEPENDENT_TEST_MINIMUM = TesterIndependence.DEPARTMENT
# CCSC 4 (software development process) rests on the IEC 62443-4-1 evidence itself.
PROCESS_CONSTRAINT = "CCSC 4"
# The user documentation a compensated claim links to: a guideline telling the integrator what to provide.
DOCUMENTATION_KIND = EvidenceKind.GUIDELINE_DOCUMENT
DOCUMENTATION_REQUIREMENTS = frozenset({"SG-1", "SG-2"})


@dataclass(frozen=True)
class EvidenceFacts:
    """What the claim rules need of one evidence item's current revision."""

    id: int
    kind: EvidenceKind
    product_id: int | None  # None: organisation-wide
    scope: EvidenceScope
    release_ids: frozenset[int]
    refs: frozenset[tuple[str, str]]  # (standard, id) of the requirements it names
    effective: date
    review_due: date | None
    state: ReviewState
    tester_independence: TesterIndependence | None = None
    recorded: bool = True  # False: nothing of it was recorded yet on the day it is judged on


@dataclass(frozen=True)
class ClaimContext:
    """The claim evidence is offered for: its item, product, release and verification method."""

    ref: str
    chain: tuple[str, ...]  # resolution_chain(ref)
    product_id: int
    release: str  # its version, for messages
    window: ReleaseWindow
    verification: Verification | None


def fit_problems(evidence: EvidenceFacts, claim: ClaimContext) -> list[str]:
    """Why evidence does not fit a claim, each naming the rule (empty: it fits). Linking such evidence is
    refused; its review state and expiry are judged apart (standing_problems)."""
    problems: list[str] = []
    if claim.ref == PROCESS_CONSTRAINT:
        if evidence.product_id not in (None, claim.product_id):
            problems.append("it belongs to another product")
        if not any(standard == STANDARD_4_1 for standard, _ in evidence.refs):
            problems.append("CCSC 4 rests on evidence that names IEC 62443-4-1 requirements")
        if evidence.product_id is not None and not covers_release(
            evidence.scope, evidence.release_ids, evidence.effective, claim.window
        ):
            problems.append(_window_problem(evidence, claim))
        return problems
    if evidence.product_id is None:
        return ["organisation-wide evidence shows no capability of this product's release"]
    if evidence.product_id != claim.product_id:
        problems.append("it belongs to another product")
    named = {ref for standard, ref in evidence.refs if standard == STANDARD_4_2}
    if not named & set(claim.chain):
        problems.append(f"it does not name {' or '.join(claim.chain)}")
    if evidence.kind not in CAPABILITY_KINDS:
        problems.append(f"{_a(evidence.kind)} cannot show a capability (design or test evidence can)")
    elif claim.verification is not None:
        problems += _verification_problems(evidence, claim.verification)
    if not covers_release(evidence.scope, evidence.release_ids, evidence.effective, claim.window):
        problems.append(_window_problem(evidence, claim))
    return problems


def _a(kind: EvidenceKind) -> str:
    return f"{'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value}"


def _window_problem(evidence: EvidenceFacts, claim: ClaimContext) -> str:
    if evidence.scope is EvidenceScope.RELEASES:
        return f"it does not name release {claim.release}"
    start = claim.window.start.isoformat() if claim.window.start else "the start"
    return (
        f"product-wide evidence dated {evidence.effective.isoformat()} is outside release {claim.release}'s "
        f"window ({start} to {claim.window.end.isoformat()})"
    )


def _verification_problems(evidence: EvidenceFacts, verification: Verification) -> list[str]:
    if verification is Verification.DESIGN_REVIEW:
        if evidence.kind not in DESIGN_KINDS:
            return [f"a design review claim rests on a design document or design review, not {_a(evidence.kind)}"]
        return []
    if evidence.kind not in CAPABILITY_TEST_KINDS:
        return [f"a {verification.value.replace('_', ' ')} claim rests on test evidence, not {_a(evidence.kind)}"]
    if verification is Verification.INDEPENDENT_TEST:
        independence = evidence.tester_independence
        if independence is None or not independence.meets(INDEPENDENT_TEST_MINIMUM):
            stated = independence.value if independence else "not stated"
            return [f"an independent test needs a tester of at least {INDEPENDENT_TEST_MINIMUM.value} ({stated})"]
    return []


def standing_problems(evidence: EvidenceFacts, months: int | None, as_of: date) -> list[str]:
    """Why fitting evidence does not count on `as_of`: not accepted, done only after that day, or past its
    review."""
    if not evidence.recorded:
        return [f"recorded only after {as_of.isoformat()}"]
    if evidence.state is not ReviewState.ACCEPTED:
        # Submitted on that day: in review then, or accepted only later.
        return ["still in review" if evidence.state is ReviewState.SUBMITTED else evidence.state.value]
    if evidence.effective > as_of:  # the activity did not exist on the day the release is judged on
        return [f"dated {evidence.effective.isoformat()}, after {as_of.isoformat()}"]
    if expired(evidence.effective, evidence.review_due, months, as_of):
        return [f"expired before {as_of.isoformat()}"]
    return []


def documentation_problems(evidence: EvidenceFacts, product_id: int) -> list[str]:
    """Why evidence is not the user documentation a compensated claim needs (empty: it is)."""
    problems = []
    if evidence.product_id not in (None, product_id):
        problems.append("it belongs to another product")
    if evidence.kind is not DOCUMENTATION_KIND:
        problems.append(f"user documentation is a {DOCUMENTATION_KIND.value}, not {_a(evidence.kind)}")
    if not {ref for standard, ref in evidence.refs if standard == STANDARD_4_1} & DOCUMENTATION_REQUIREMENTS:
        problems.append("user documentation names SG-1 or SG-2")
    return problems


@dataclass(frozen=True)
class FrBreakdown:
    """How one FR's items with an SL-C are met, and which rest on catalog data of medium confidence."""

    fr: str
    implemented: int
    compensated: int
    not_applicable: int
    not_counting: int  # claimed but not counting
    unclaimed: int
    medium_confidence: list[str]  # items required up to the target or achieved level


def breakdown(
    items: Sequence[CatalogItem],
    claims: Mapping[str, ClaimFact],
    target: Mapping[str, int],
    achieved: Mapping[str, int],
) -> list[FrBreakdown]:
    """Per FR: items met by implementation, by compensation, by accepted N/A; claimed but not counting;
    unclaimed; and the items up to the target (or achieved) level whose SL-C is of medium confidence."""
    rows = []
    for fr in FOUNDATIONAL_REQUIREMENTS:
        mine = [item for item in items if item.fr == fr and item.sl_c]
        met = {s: 0 for s in COUNTED_STATUSES}
        short = unclaimed = 0
        for item in mine:
            fact = claims.get(item.ref)
            if fact is None:
                unclaimed += 1
            elif satisfied(fact):
                met[fact.status] += 1
            else:
                short += 1
        top = max(target.get(fr, 0), achieved.get(fr, 0))
        medium = [i.ref for i in mine if required_at(i, top) and (i.confidence or "high") != "high"]
        rows.append(
            FrBreakdown(
                fr,
                met[ClaimStatus.IMPLEMENTED],
                met[ClaimStatus.COMPENSATED],
                met[ClaimStatus.NOT_APPLICABLE],
                short,
                unclaimed,
                medium,
            )
        )
    return rows
