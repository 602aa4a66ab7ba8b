"""IEC 62443-4-1 coverage as a pure function: per requirement its process and its records of use, per practice.

A requirement is met only when both halves stand on the date it is judged on (docs/assurance.md):
- the *process*: an accepted, unexpired process document linked to it, organisation-wide or of the product;
- the *records of use* at the requirement's record scope (catalog annotations): evidence of its record
  kinds, organisation-wide or of the product (organisation scope), of the product (product scope), or
  covering the release (release scope). A process document is never a record.
Event-driven requirements (DM-1..DM-5) with no occasion count as met on their process alone ("process in
place, not exercised"); once the product has any record of such an issue each needs its own records.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from .standing import ReleaseWindow, covers_release
from .vocabulary import TEST_KINDS, EvidenceKind, EvidenceScope, TesterIndependence


class CoverageState(enum.StrEnum):
    """How a half (process or records) or a whole requirement stands, best first."""

    ACCEPTED = "accepted"  # met
    NOT_EXERCISED = "not-exercised"  # records half of an event-driven requirement with no occasion: met
    SUBMITTED = "submitted"
    INSUFFICIENT = "insufficient"  # accepted, but its tester independence is below the minimum (Table 3)
    EXPIRED = "expired"  # past its review: once good, now stale
    DRAFT = "draft"
    NONE = "none"
    SCOPED_OUT = "scoped-out"  # a whole requirement only: scoped out of the product (SM-5), accepted


RANK = {
    CoverageState.ACCEPTED: 6,
    CoverageState.NOT_EXERCISED: 6,
    CoverageState.SUBMITTED: 5,
    CoverageState.INSUFFICIENT: 4,
    CoverageState.EXPIRED: 3,
    CoverageState.DRAFT: 2,
    CoverageState.NONE: 0,
}
MET = frozenset({CoverageState.ACCEPTED, CoverageState.NOT_EXERCISED})

# SVV-5 (tester independence, 4-1 clause 9.6) has no records of its own: it is shown by the release's
# verification records meeting the independence Table 3 sets for each activity.
DERIVED_RECORDS = {"SVV-5": ("SVV-1", "SVV-2", "SVV-3", "SVV-4")}
CONTINUOUS_IMPROVEMENT = "SM-13"  # ML4 needs its records (4-1 clause 5.14)


@dataclass(frozen=True)
class RequirementSpec:
    """A 4-1 requirement as coverage reads it: catalog row plus annotation."""

    ref: str
    title: str
    practice: str
    record_scope: str | None = None  # organisation, product or release; None: not annotated (release)
    record_kinds: tuple[str, ...] = ()
    event_driven: bool = False
    min_tester_independence: str | None = None
    records: str = ""  # the annotation's hint: what the records are


@dataclass(frozen=True)
class EvidenceFact:
    """What coverage needs to know of one piece of evidence's current revision."""

    evidence_id: int
    title: str
    kind: str
    scope: str  # organisation, product or releases
    state: str  # the revision's review state: draft, submitted, accepted, rejected
    effective: date
    expires: date | None  # the last day it stands (standing.expires_on); None: does not expire
    requirement_refs: tuple[str, ...]
    release_ids: tuple[int, ...] = ()
    tester_independence: str | None = None

    @property
    def organisation_wide(self) -> bool:
        """Whether every product inherits it."""
        return self.scope == EvidenceScope.ORGANISATION.value


@dataclass(frozen=True)
class Judgement:
    """What a view is judged on: the date, and the release's window (None: the product across releases)."""

    as_of: date
    window: ReleaseWindow | None = None


@dataclass(frozen=True)
class Half:
    """One half of a cell: its state, the evidence that decides it, and what does not count and why."""

    state: CoverageState
    deciding: int | None = None  # the evidence the cell links to
    evidence_ids: tuple[int, ...] = ()  # every piece that was considered
    notes: tuple[str, ...] = ()

    @property
    def met(self) -> bool:
        """Whether this half is present."""
        return self.state in MET


@dataclass(frozen=True)
class RequirementCoverage:
    """One requirement's cell of the heat map."""

    ref: str
    title: str
    practice: str
    state: CoverageState
    process: Half
    records: Half
    next_step: str  # empty when met
    suggested_kind: str  # the kind the next step asks for
    scoping: str = ""  # "proposed" while a scoping-out awaits acceptance, "accepted" when scoped out
    records_kind: str = ""  # the first kind that is a record of use (what the records half asks for)

    @property
    def met(self) -> bool:
        """Whether the requirement counts as met."""
        return self.state in MET

    @property
    def evidence_ids(self) -> tuple[int, ...]:
        """Every piece of evidence either half considered."""
        return tuple(sorted(set(self.process.evidence_ids) | set(self.records.evidence_ids)))


@dataclass(frozen=True)
class PracticeSummary:
    """Counts per state for one practice; scoped-out requirements leave the denominator."""

    practice: str
    name: str
    total: int  # requirements in scope
    counts: dict[str, int] = field(default_factory=dict)
    scoped_out: int = 0

    @property
    def met(self) -> int:
        """Requirements met (both halves, or an unexercised event-driven process)."""
        return sum(self.counts.get(state.value, 0) for state in MET)


def _standing(fact: EvidenceFact, as_of: date, minimum: str | None) -> CoverageState | None:
    """A piece of evidence's standing on `as_of` for a requirement; None: it does not count at all."""
    if fact.state == "rejected" or fact.effective > as_of:  # rejected, or not yet done on that day
        return None
    if fact.state == "draft":
        return CoverageState.DRAFT
    if fact.expires is not None and fact.expires < as_of:  # the last day still counts
        return CoverageState.EXPIRED
    if fact.state == "submitted":
        return CoverageState.SUBMITTED
    if minimum is not None and fact.kind in TEST_KINDS and not _qualifies(fact.tester_independence, minimum):
        return CoverageState.INSUFFICIENT
    return CoverageState.ACCEPTED


def _qualifies(independence: str | None, minimum: str) -> bool:
    """Whether a tester independence meets a minimum; not stated qualifies for nothing above none."""
    stated = TesterIndependence(independence) if independence else TesterIndependence.NONE
    return stated.meets(TesterIndependence(minimum))


def _best(candidates: Sequence[tuple[EvidenceFact, CoverageState]]) -> Half:
    """The best-standing candidate decides (ties: the product's own before inherited, then the newest)."""
    if not candidates:
        return Half(CoverageState.NONE)
    fact, state = max(candidates, key=lambda c: (RANK[c[1]], not c[0].organisation_wide, c[0].evidence_id))
    notes = tuple(
        f"#{f.evidence_id}: tester independence {f.tester_independence or 'not stated'} is below the minimum"
        for f, s in candidates
        if s is CoverageState.INSUFFICIENT
    ) + tuple(f"#{f.evidence_id}: expired on {f.expires}" for f, s in candidates if s is CoverageState.EXPIRED)
    return Half(state, fact.evidence_id, tuple(sorted({f.evidence_id for f, _ in candidates})), notes)


def process_half(spec: RequirementSpec, facts: Sequence[EvidenceFact], judgement: Judgement) -> Half:
    """The process: a process document linked to the requirement, organisation-wide or product-wide."""
    candidates = []
    for fact in facts:
        if fact.kind != EvidenceKind.PROCESS_DOCUMENT.value or spec.ref not in fact.requirement_refs:
            continue
        if fact.scope not in (EvidenceScope.ORGANISATION.value, EvidenceScope.PRODUCT.value):
            continue  # a process is defined for the organisation or the product, not per release
        state = _standing(fact, judgement.as_of, None)
        if state is not None:
            candidates.append((fact, state))
    return _best(candidates)


def _at_record_scope(spec: RequirementSpec, fact: EvidenceFact, window: ReleaseWindow | None) -> bool:
    """Whether a record sits where the requirement's records live."""
    scope = spec.record_scope or "release"
    if scope == "organisation":
        return True  # organisation-wide or this product's (the facts are of nothing else)
    if fact.organisation_wide:
        return False  # an organisation-wide document never stands in for a product's records
    if scope == "product" or window is None:
        return True  # the product across releases: any record of the product
    return covers_release(EvidenceScope(fact.scope), fact.release_ids, fact.effective, window)


def is_record(spec: RequirementSpec, fact: EvidenceFact, window: ReleaseWindow | None) -> bool:
    """Whether a piece of evidence is a record of use of the requirement in this view."""
    return (
        fact.kind != EvidenceKind.PROCESS_DOCUMENT.value  # a process document is never a record
        and fact.kind in spec.record_kinds
        and spec.ref in fact.requirement_refs
        and _at_record_scope(spec, fact, window)
    )


def records_half(spec: RequirementSpec, facts: Sequence[EvidenceFact], judgement: Judgement) -> Half:
    """The records of use at the requirement's record scope (tests: with the tester independence it needs)."""
    candidates = []
    for fact in facts:
        if is_record(spec, fact, judgement.window):
            state = _standing(fact, judgement.as_of, spec.min_tester_independence)
            if state is not None:
                candidates.append((fact, state))
    return _best(candidates)


def occasion(specs: Sequence[RequirementSpec], facts: Sequence[EvidenceFact], as_of: date) -> bool:
    """Whether the product has had an issue the event-driven requirements answer: any record of use of one of
    them, or any PSIRT fix of the product, dated on or before `as_of`, in any review state. Rejected ones
    too: the issue happened even if its record was refused, and rejecting a record must not turn DM green."""
    for fact in facts:
        if fact.organisation_wide or fact.effective > as_of:
            continue
        if fact.kind == EvidenceKind.PSIRT_FIX.value:
            return True
        if any(spec.event_driven and is_record(spec, fact, None) for spec in specs):
            return True
    return False


def _worse(process: Half, records: Half) -> CoverageState:
    if process.met and records.state is CoverageState.NOT_EXERCISED:
        return CoverageState.NOT_EXERCISED
    return min((process.state, records.state), key=lambda s: RANK[s])


def _records_words(spec: RequirementSpec) -> str:
    kinds = " or ".join(kind.replace("-", " ") for kind in spec.record_kinds)
    return spec.records or f"records of use of {spec.ref} ({kinds})"


def next_step(spec: RequirementSpec, process: Half, records: Half) -> tuple[str, str]:
    """What to do about a requirement, and the evidence kind it asks for; the process comes first."""
    if process.met and records.met:
        return "", ""
    half, kind = (
        (process, EvidenceKind.PROCESS_DOCUMENT.value)
        if not process.met
        else (records, spec.record_kinds[0] if spec.record_kinds else EvidenceKind.OTHER.value)
    )
    what = (
        f"a process document that defines {spec.ref} (organisation-wide or for this product)"
        if half is process
        else _records_words(spec)
    )
    if spec.ref in DERIVED_RECORDS and half is records:
        return f"Verify with the tester independence Table 3 sets: {', '.join(DERIVED_RECORDS[spec.ref])}.", ""
    step = {
        CoverageState.NONE: f"Attach {what}.",
        CoverageState.DRAFT: "Submit the draft for review.",
        CoverageState.SUBMITTED: "A security officer reviews the submitted evidence.",
        CoverageState.EXPIRED: "Review the activity again and attach an updated revision.",
        CoverageState.INSUFFICIENT: f"Test with at least {spec.min_tester_independence or 'the required'} "
        "tester independence, or state it on the test evidence.",
    }.get(half.state, "")
    return step, kind


def compute_coverage(
    specs: Sequence[RequirementSpec],
    facts: Sequence[EvidenceFact],
    judgement: Judgement,
    scoping: Mapping[str, str] | None = None,  # ref -> "proposed" or "accepted"
) -> list[RequirementCoverage]:
    """Each requirement's two halves and the state they give together, in catalog order."""
    scoping = scoping or {}
    exercised = occasion(specs, facts, judgement.as_of)
    halves = {spec.ref: (process_half(spec, facts, judgement), records_half(spec, facts, judgement)) for spec in specs}
    cells = []
    for spec in specs:
        process, records = halves[spec.ref]
        if spec.event_driven and not exercised and records.state is not CoverageState.ACCEPTED:
            records = Half(CoverageState.NOT_EXERCISED, None, records.evidence_ids, records.notes)
        if spec.ref in DERIVED_RECORDS:
            records = _derived(spec.ref, halves, scoping)
        state = _worse(process, records)
        step, kind = next_step(spec, process, records)
        if scoping.get(spec.ref) == "accepted":
            state, step = CoverageState.SCOPED_OUT, ""
        cells.append(
            RequirementCoverage(
                spec.ref,
                spec.title,
                spec.practice,
                state,
                process,
                records,
                step,
                kind,
                scoping.get(spec.ref, ""),
                spec.record_kinds[0] if spec.record_kinds else "",
            )
        )
    return cells


def _derived(ref: str, halves: Mapping[str, tuple[Half, Half]], scoping: Mapping[str, str]) -> Half:
    """SVV-5's records: the worst of the in-scope SVV-1..SVV-4 records halves (each with its minimum)."""
    parts = [halves[r][1] for r in DERIVED_RECORDS[ref] if r in halves and scoping.get(r) != "accepted"]
    if not parts:
        return Half(CoverageState.NONE)
    worst = min(parts, key=lambda h: RANK[h.state])
    ids = tuple(sorted({i for h in parts for i in h.evidence_ids}))
    notes = tuple(n for h in parts for n in h.notes)
    return Half(worst.state, worst.deciding, ids, notes)


def summarise(cells: Sequence[RequirementCoverage], practice_names: Mapping[str, str]) -> list[PracticeSummary]:
    """Counts per practice, in the catalog's practice order; scoped-out requirements counted apart."""
    summaries = []
    for practice, name in practice_names.items():
        mine = [c for c in cells if c.practice == practice]
        in_scope = [c for c in mine if c.state is not CoverageState.SCOPED_OUT]
        counts = {
            state.value: sum(1 for c in in_scope if c.state is state)
            for state in CoverageState
            if state is not CoverageState.SCOPED_OUT
        }
        summaries.append(PracticeSummary(practice, name, len(in_scope), counts, len(mine) - len(in_scope)))
    return summaries


# Maturity (4-1 clause 4.2, Table 1): the level a practice's evidence supports.


@dataclass(frozen=True)
class MaturitySupport:
    """The highest level the evidence supports, and what each higher level lacks."""

    level: int
    missing: dict[int, tuple[str, ...]]  # level -> what it lacks, in words


def supported_maturity(
    practice: str, views: Collection[Sequence[RequirementCoverage]], improvement: bool
) -> MaturitySupport:
    """The level a practice's evidence supports across `views` (one product's cells each).

    ML2: every requirement of the practice has its process (in some view; scoped out of every view that
    has it: not needed). ML3: also records of use of every requirement on at least one product
    (an event-driven requirement never exercised has none). ML4: also accepted continuous-improvement
    records (`improvement`: SM-13's records half met).
    """
    by_ref: dict[str, list[RequirementCoverage]] = {}
    for cells in views:
        for cell in cells:
            if cell.practice == practice:
                by_ref.setdefault(cell.ref, []).append(cell)
    needed = {ref: [c for c in cells if c.state is not CoverageState.SCOPED_OUT] for ref, cells in by_ref.items()}
    needed = {ref: cells for ref, cells in needed.items() if cells}
    no_process = [ref for ref, cells in needed.items() if not any(c.process.met for c in cells)]
    no_records = [
        ref for ref, cells in needed.items() if not any(c.records.state is CoverageState.ACCEPTED for c in cells)
    ]
    missing: dict[int, tuple[str, ...]] = {}
    if not views or not needed:
        missing[2] = ("no product is assessed against this practice",)
    elif no_process:
        missing[2] = (f"an accepted, current process document for {', '.join(no_process)}",)
    if no_records:
        missing[3] = (f"accepted, current records of use on at least one product for {', '.join(no_records)}",)
    if not improvement:
        missing[4] = (f"accepted, current continuous-improvement records ({CONTINUOUS_IMPROVEMENT})",)
    level = 1
    for candidate in (2, 3, 4):
        if any(lower in missing for lower in range(2, candidate + 1)):
            break
        level = candidate
    return MaturitySupport(level, missing)
