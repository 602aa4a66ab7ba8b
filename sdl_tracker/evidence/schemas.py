"""Evidence and coverage as the API, `--json` and the OpenAPI document give them: one shape each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from .assessment import Coverage, CoverageView, MaturityView
from .coverage import CoverageState, Half, MaturitySupport
from .models import (
    Artifact,
    Evidence,
    EvidenceKind,
    EvidenceRevision,
    EvidenceScope,
    PracticeMaturity,
    RequirementScoping,
    ReviewState,
    ScopingState,
)
from .scoping import ReviewInterval
from .triage import BulkResult, Columns, CurrentEvidence, Outcome
from .vocabulary import TesterIndependence


class ArtifactOut(BaseModel):
    """A file of a revision."""

    id: int
    filename: str
    media_type: str
    size: int
    sha256: str

    @classmethod
    def of(cls, artifact: Artifact | Columns) -> ArtifactOut:
        """An artifact's metadata (its bytes are a download of their own), from its row or its columns."""
        return cls(
            id=artifact.id,
            filename=artifact.filename,
            media_type=artifact.media_type,
            size=artifact.size,
            sha256=artifact.blob_sha256,
        )


class RequirementRef(BaseModel):
    """A requirement a revision links."""

    standard: str
    edition: str
    id: str


class RevisionOut(BaseModel):
    """A revision."""

    number: int
    title: str
    description: str
    effective_date: date
    author: str
    review_due: date | None
    details: dict[str, Any]
    tester_independence: TesterIndependence | None  # test evidence (IEC 62443-4-1 Table 3); null: not stated
    state: ReviewState
    submitted_by: str
    submitted_at: datetime | None  # when it went to review; null: a draft
    reviewed_by: str | None
    reviewed_at: datetime | None
    rejection_reason: str | None
    requirements: list[RequirementRef]
    releases: list[str]
    artifacts: list[ArtifactOut]
    created_at: datetime

    @classmethod
    def of(cls, revision: EvidenceRevision) -> RevisionOut:
        """One revision, with its artifacts and links."""
        return cls.read(
            revision,
            requirements=[(r.edition.standard, r.edition.edition, r.ref) for r in revision.requirements],
            releases=[r.version for r in revision.releases],
            artifacts=revision.artifacts,
        )

    @classmethod
    def read(
        cls,
        revision: EvidenceRevision | Columns,
        *,
        requirements: Iterable[tuple[str, str, str]],
        releases: Iterable[str],
        artifacts: Iterable[Artifact | Columns],
    ) -> RevisionOut:
        """A revision from its row or its columns, with its links: requirements as (standard, edition, id)."""
        return cls(
            number=revision.number,
            title=revision.title,
            description=revision.description,
            effective_date=revision.effective_date,
            author=revision.author,
            review_due=revision.review_due,
            details=revision.details,
            tester_independence=revision.tester_independence,
            state=revision.state,
            submitted_by=revision.submitted_by,
            submitted_at=revision.submitted_at,
            reviewed_by=revision.reviewed_by or None,
            reviewed_at=revision.reviewed_at,
            rejection_reason=revision.rejection_reason or None,
            requirements=[RequirementRef(standard=s, edition=e, id=ref) for s, e, ref in requirements],
            releases=list(releases),
            artifacts=[ArtifactOut.of(a) for a in artifacts],
            created_at=revision.created_at,
        )


class EvidenceOut(BaseModel):
    """An evidence item with its current revision (and, on its own page, every revision)."""

    id: int
    product_id: int | None
    scope: EvidenceScope
    kind: EvidenceKind
    created_at: datetime
    created_by: str
    current: RevisionOut
    revisions: list[RevisionOut] | None = None
    created: bool | None = None  # only in an attach's answer: false when the files were already this item's

    @classmethod
    def of(cls, evidence: Evidence, *, history: bool = False) -> EvidenceOut:
        """An evidence item: its current revision, and all of them with `history`."""
        revisions = [RevisionOut.of(r) for r in evidence.revisions] if history else None
        return cls.read(evidence, RevisionOut.of(evidence.current), revisions)

    @classmethod
    def with_history(cls, evidence: Evidence) -> EvidenceOut:
        """An evidence item with every revision."""
        return cls.of(evidence, history=True)

    @classmethod
    def listed(cls, found: CurrentEvidence) -> EvidenceOut:
        """An item of a list, which read its current revision and links as columns."""
        current = RevisionOut.read(
            found.current,
            requirements=found.requirements,
            releases=found.releases,
            artifacts=found.artifacts,
        )
        return cls.read(found.item, current)

    @classmethod
    def read(
        cls, evidence: Evidence | Columns, current: RevisionOut, revisions: list[RevisionOut] | None = None
    ) -> EvidenceOut:
        """An evidence item from its row or its columns, with its revisions as given."""
        return cls(
            id=evidence.id,
            product_id=evidence.product_id,
            scope=evidence.scope,
            kind=evidence.kind,
            created_at=evidence.created_at,
            created_by=evidence.created_by,
            current=current,
            revisions=revisions,
        )


class MaturityOut(BaseModel):
    """A recorded maturity level of a practice."""

    level: int
    rationale: str
    assessed_on: date
    assessed_by: str
    product: str | None = None  # set only on per-product self-assessments from before (history)

    @classmethod
    def of(cls, row: PracticeMaturity) -> MaturityOut:
        """One recorded level."""
        return cls(level=row.level, rationale=row.rationale, assessed_on=row.assessed_on, assessed_by=row.assessed_by)


class SupportOut(BaseModel):
    """The level the evidence supports, and what each higher level lacks."""

    level: int
    missing: dict[str, list[str]]  # "ML3": what it lacks

    @classmethod
    def of(cls, support: MaturitySupport) -> SupportOut:
        """A supported level."""
        return cls(level=support.level, missing={f"ML{n}": list(w) for n, w in sorted(support.missing.items())})


class PracticeMaturityOut(BaseModel):
    """A practice's maturity: the organisation's recorded level and what the evidence supports."""

    practice: str
    name: str
    recorded: MaturityOut | None
    organisation_supports: SupportOut
    product_supports: SupportOut | None

    @classmethod
    def of(cls, view: MaturityView) -> PracticeMaturityOut:
        """One practice."""
        return cls(
            practice=view.practice,
            name=view.name,
            recorded=MaturityOut.of(view.recorded) if view.recorded else None,
            organisation_supports=SupportOut.of(view.organisation),
            product_supports=SupportOut.of(view.product) if view.product else None,
        )


class PracticeCoverageOut(BaseModel):
    """One practice's counts: met of in scope, per state, and how many are scoped out."""

    practice: str
    name: str
    total: int
    met: int
    scoped_out: int
    counts: dict[str, int]


class HalfOut(BaseModel):
    """One half of a requirement's cell."""

    state: CoverageState
    evidence: int | None  # the evidence that decides it
    considered: list[int]
    notes: list[str]

    @classmethod
    def of(cls, half: Half) -> HalfOut:
        """A half."""
        return cls(state=half.state, evidence=half.deciding, considered=list(half.evidence_ids), notes=list(half.notes))


class RequirementCoverageOut(BaseModel):
    """One requirement: its state, its process and records halves, what to do next."""

    id: str
    title: str
    practice: str
    state: CoverageState
    met: bool
    process: HalfOut
    records: HalfOut
    scoping: str | None
    next_step: str | None
    suggested_kind: str | None


class CoverageViewOut(BaseModel):
    """A view judged on one date."""

    as_of: date
    met: int
    total: int
    practices: list[PracticeCoverageOut]
    requirements: list[RequirementCoverageOut]

    @classmethod
    def of(cls, view: CoverageView) -> CoverageViewOut:
        """Counts per practice and each requirement's cell."""
        return cls(
            as_of=view.as_of,
            met=view.met,
            total=view.total,
            practices=[
                PracticeCoverageOut(
                    practice=p.practice, name=p.name, total=p.total, met=p.met, scoped_out=p.scoped_out, counts=p.counts
                )
                for p in view.practices
            ],
            requirements=[
                RequirementCoverageOut(
                    id=c.ref,
                    title=c.title,
                    practice=c.practice,
                    state=c.state,
                    met=c.met,
                    process=HalfOut.of(c.process),
                    records=HalfOut.of(c.records),
                    scoping=c.scoping or None,
                    next_step=c.next_step or None,
                    suggested_kind=c.suggested_kind or None,
                )
                for c in view.cells
            ],
        )


class ScopingOut(BaseModel):
    """A requirement scoped out of a product (SM-5)."""

    id: int
    requirement: str
    justification: str
    state: ScopingState
    set_by: str
    set_at: datetime
    accepted_by: str | None
    accepted_at: datetime | None
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None

    @classmethod
    def of(cls, row: RequirementScoping) -> ScopingOut:
        """One scoping-out."""
        return cls(
            id=row.id,
            requirement=row.requirement_ref,
            justification=row.justification,
            state=row.state,
            set_by=row.set_by,
            set_at=row.set_at,
            accepted_by=row.accepted_by or None,
            accepted_at=row.accepted_at,
            withdrawn_by=row.withdrawn_by or None,
            withdrawn_at=row.withdrawn_at,
            withdrawal_reason=row.withdrawal_reason or None,
        )


class ReviewIntervalOut(BaseModel):
    """A kind's review interval for a product (months; null: does not expire)."""

    kind: EvidenceKind
    default_months: int | None
    product_set: bool
    months: int | None

    @classmethod
    def of(cls, interval: ReviewInterval) -> ReviewIntervalOut:
        """One interval."""
        return cls(
            kind=interval.kind,
            default_months=interval.default,
            product_set=interval.product_set,
            months=interval.months,
        )


class CoverageOut(BaseModel):
    """IEC 62443-4-1 coverage of a product or release: judged on its date, today's view beside it."""

    product: str
    release: str | None
    edition: str | None
    judged: CoverageViewOut
    current: CoverageViewOut | None  # as of today, when the release is judged on an earlier date
    scoping: list[ScopingOut]
    maturity: list[PracticeMaturityOut]

    @classmethod
    def of(cls, result: Coverage) -> CoverageOut:
        """The heat map as data."""
        return cls(
            product=result.product.name,
            release=result.release.version if result.release else None,
            edition=result.edition.edition if result.edition else None,
            judged=CoverageViewOut.of(result.judged),
            current=CoverageViewOut.of(result.current) if result.current else None,
            scoping=[ScopingOut.of(row) for row in result.scoping.values()],
            maturity=[PracticeMaturityOut.of(m) for m in result.maturity.values()],
        )


class OrganisationMaturityOut(BaseModel):
    """The organisation's maturity per practice."""

    practices: list[PracticeMaturityOut]


class BulkResultOut(BaseModel):
    """What became of one item of a bulk review: accepted or rejected, or why it was refused."""

    evidence_id: int
    title: str  # empty for a refused item: it may be one the reviewer cannot see
    outcome: Outcome
    done: bool  # whether the decision was recorded
    message: str

    @classmethod
    def of(cls, result: BulkResult) -> BulkResultOut:
        """One item's result."""
        return cls.model_validate(result, from_attributes=True)
