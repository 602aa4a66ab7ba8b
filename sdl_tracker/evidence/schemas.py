"""Evidence and coverage as the API, `--json` and the OpenAPI document give them: one shape each."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from .assessment import Coverage
from .coverage import CoverageState
from .models import Artifact, Evidence, EvidenceKind, EvidenceRevision, EvidenceScope, PracticeMaturity, ReviewState


class ArtifactOut(BaseModel):
    """A file of a revision."""

    id: int
    filename: str
    media_type: str
    size: int
    sha256: str

    @classmethod
    def of(cls, artifact: Artifact) -> ArtifactOut:
        """An artifact's metadata (its bytes are a download of their own)."""
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
    state: ReviewState
    submitted_by: str
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
        return cls(
            number=revision.number,
            title=revision.title,
            description=revision.description,
            effective_date=revision.effective_date,
            author=revision.author,
            review_due=revision.review_due,
            details=revision.details,
            state=revision.state,
            submitted_by=revision.submitted_by,
            reviewed_by=revision.reviewed_by or None,
            reviewed_at=revision.reviewed_at,
            rejection_reason=revision.rejection_reason or None,
            requirements=[
                RequirementRef(standard=r.edition.standard, edition=r.edition.edition, id=r.ref)
                for r in revision.requirements
            ],
            releases=[r.version for r in revision.releases],
            artifacts=[ArtifactOut.of(a) for a in revision.artifacts],
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

    @classmethod
    def of(cls, evidence: Evidence, *, history: bool = False) -> EvidenceOut:
        """An evidence item: its current revision, and all of them with `history`."""
        return cls(
            id=evidence.id,
            product_id=evidence.product_id,
            scope=evidence.scope,
            kind=evidence.kind,
            created_at=evidence.created_at,
            created_by=evidence.created_by,
            current=RevisionOut.of(evidence.current),
            revisions=[RevisionOut.of(r) for r in evidence.revisions] if history else None,
        )

    @classmethod
    def with_history(cls, evidence: Evidence) -> EvidenceOut:
        """An evidence item with every revision."""
        return cls.of(evidence, history=True)


class MaturityOut(BaseModel):
    """A practice's self-assessed maturity level."""

    level: int
    rationale: str
    assessed_on: date
    assessed_by: str

    @classmethod
    def of(cls, row: PracticeMaturity) -> MaturityOut:
        """The newest assessment of a practice."""
        return cls(level=row.level, rationale=row.rationale, assessed_on=row.assessed_on, assessed_by=row.assessed_by)


class PracticeCoverageOut(BaseModel):
    """One practice's counts and current maturity."""

    practice: str
    name: str
    total: int
    counts: dict[str, int]
    maturity: MaturityOut | None


class RequirementCoverageOut(BaseModel):
    """One requirement's best evidence state."""

    id: str
    title: str
    practice: str
    state: CoverageState
    inherited: bool
    evidence: list[int]
    next_step: str | None


class CoverageOut(BaseModel):
    """IEC 62443-4-1 coverage of a product or release."""

    product: str
    release: str | None
    edition: str | None
    practices: list[PracticeCoverageOut]
    requirements: list[RequirementCoverageOut]

    @classmethod
    def of(cls, result: Coverage) -> CoverageOut:
        """The heat map as data: counts per practice, the best state per requirement."""
        return cls(
            product=result.product.name,
            release=result.release.version if result.release else None,
            edition=result.edition.edition if result.edition else None,
            practices=[
                PracticeCoverageOut(
                    practice=p.practice,
                    name=p.name,
                    total=p.total,
                    counts=p.counts,
                    maturity=MaturityOut.of(m) if (m := result.maturity.get(p.practice)) else None,
                )
                for p in result.practices
            ],
            requirements=[
                RequirementCoverageOut(
                    id=c.ref,
                    title=c.title,
                    practice=c.practice,
                    state=c.state,
                    inherited=c.inherited,
                    evidence=list(c.evidence_ids),
                    next_step=c.next_step or None,
                )
                for c in result.cells
            ],
        )
