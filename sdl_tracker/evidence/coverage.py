"""IEC 62443-4-1 coverage as a pure function: each requirement's best evidence state, per practice."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date


class CoverageState(enum.StrEnum):
    """How well a requirement is evidenced, best first."""

    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    EXPIRED = "expired"  # past its review-due date: once good, now stale
    DRAFT = "draft"
    NONE = "none"


RANK = {
    CoverageState.ACCEPTED: 4,
    CoverageState.SUBMITTED: 3,
    CoverageState.EXPIRED: 2,
    CoverageState.DRAFT: 1,
    CoverageState.NONE: 0,
}

# The kind of evidence that usually shows a requirement, for "what to do next".
SUGGESTED_KIND = {
    "SR-2": "threat-model",
    "SR-1": "process-document",
    "SR-3": "requirements-test",
    "SR-4": "requirements-test",
    "SR-5": "design-review",
    "SD-1": "design-review",
    "SD-2": "design-review",
    "SD-3": "design-review",
    "SD-4": "design-review",
    "SI-1": "code-review",
    "SI-2": "static-analysis",
    "SVV-1": "requirements-test",
    "SVV-2": "threat-mitigation-test",
    "SVV-3": "fuzz-campaign",
    "SVV-4": "penetration-test",
    "SVV-5": "penetration-test",
    "SM-4": "security-training",
    "SM-9": "sbom",
}
PRACTICE_KIND = {"SM": "process-document", "DM": "process-document", "SUM": "update-record", "SG": "guideline-document"}


@dataclass(frozen=True)
class EvidenceFact:
    """What coverage needs to know of one piece of evidence's current revision."""

    evidence_id: int
    title: str
    state: str  # the revision's review state: draft, submitted, accepted, rejected
    review_due: date | None
    requirement_refs: tuple[str, ...]
    inherited: bool  # organisation-wide


@dataclass(frozen=True)
class RequirementCoverage:
    """One requirement's cell of the heat map."""

    ref: str
    title: str
    practice: str
    state: CoverageState
    evidence_ids: tuple[int, ...]
    inherited: bool  # the best evidence is organisation-wide
    next_step: str  # empty when covered
    suggested_kind: str


@dataclass(frozen=True)
class PracticeSummary:
    """Counts per state for one practice."""

    practice: str
    name: str
    total: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        """Requirements with valid accepted evidence."""
        return self.counts.get(CoverageState.ACCEPTED.value, 0)


def fact_state(fact: EvidenceFact, today: date) -> CoverageState | None:
    """A piece of evidence's standing today; rejected evidence counts for nothing."""
    if fact.state == "rejected":
        return None
    if fact.state != "draft" and fact.review_due is not None and fact.review_due < today:  # the due day still counts
        return CoverageState.EXPIRED
    return CoverageState(fact.state)


def next_step(state: CoverageState, ref: str, kind: str) -> str:
    """What to do about a requirement in this state."""
    return {
        CoverageState.NONE: f"Attach {kind.replace('-', ' ')} evidence for {ref}.",
        CoverageState.DRAFT: "Submit the draft for review.",
        CoverageState.SUBMITTED: "A security officer reviews the submitted evidence.",
        CoverageState.EXPIRED: "Review the activity again and attach an updated revision.",
        CoverageState.ACCEPTED: "",
    }[state]


def compute_coverage(
    requirements: Sequence[tuple[str, str, str]],  # (ref, title, practice) in catalog order
    facts: Sequence[EvidenceFact],
    today: date,
) -> list[RequirementCoverage]:
    """Each requirement's best evidence state (ties: product evidence before inherited evidence)."""
    cells = []
    for ref, title, practice in requirements:
        best: tuple[int, bool] = (0, False)
        best_state, ids, inherited = CoverageState.NONE, [], False
        for fact in facts:
            if ref not in fact.requirement_refs:
                continue
            state = fact_state(fact, today)
            if state is None:
                continue
            ids.append(fact.evidence_id)
            key = (RANK[state], not fact.inherited)
            if key > best:
                best, best_state, inherited = key, state, fact.inherited
        kind = SUGGESTED_KIND.get(ref, PRACTICE_KIND.get(practice, "other"))
        cells.append(
            RequirementCoverage(
                ref, title, practice, best_state, tuple(sorted(ids)), inherited, next_step(best_state, ref, kind), kind
            )
        )
    return cells


def summarise(cells: Sequence[RequirementCoverage], practice_names: dict[str, str]) -> list[PracticeSummary]:
    """Counts per practice, in the catalog's practice order."""
    summaries = []
    for practice, name in practice_names.items():
        mine = [c for c in cells if c.practice == practice]
        counts = {state.value: sum(1 for c in mine if c.state is state) for state in CoverageState}
        summaries.append(PracticeSummary(practice, name, len(mine), counts))
    return summaries
