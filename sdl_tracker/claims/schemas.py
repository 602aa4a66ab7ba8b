"""Claims, the SL-C vector and release comparisons as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .models import Claim
from .rules import ClaimStatus, Verification
from .services import ReleaseComparison, VectorReport


class ClaimOut(BaseModel):
    """A claim."""

    requirement: str
    status: ClaimStatus
    verification: Verification | None
    justification: str
    countermeasure: str
    notes: str
    evidence: list[int]
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, claim: Claim) -> ClaimOut:
        """A claim as the API, `--json` and the JSON export give it."""
        return cls(
            requirement=claim.requirement.ref,
            status=claim.status,
            verification=claim.verification,
            justification=claim.justification,
            countermeasure=claim.countermeasure,
            notes=claim.notes,
            evidence=sorted(link.evidence_id for link in claim.evidence_links),
            updated_at=claim.updated_at,
            updated_by=claim.updated_by,
        )


class FrGap(BaseModel):
    """One foundational requirement's target, achieved level and missing ids."""

    fr: str
    target: int
    achieved: int
    missing: list[str]


class VectorOut(BaseModel):
    """Target against achieved SL-C vector, and the gap."""

    product: str
    release: str | None
    component_type: str
    edition: str | None
    frs: list[FrGap]

    @classmethod
    def of(cls, report: VectorReport) -> VectorOut:
        """Per FR: target, achieved and the missing ids."""
        return cls(
            product=report.product.name,
            release=report.release.version if report.release else None,
            component_type=report.product.component_type.value,
            edition=report.catalog.edition.edition if report.catalog.edition else None,
            frs=[
                FrGap(fr=fr, target=report.target[fr], achieved=report.achieved[fr], missing=report.gap[fr])
                for fr in report.target
            ],
        )


class ClaimSnapshot(BaseModel):
    """What a claim said in one release."""

    status: ClaimStatus
    verification: Verification | None
    justification: str
    countermeasure: str
    notes: str
    evidence: list[int]


class ClaimChangeOut(BaseModel):
    """A requirement whose claim differs (null: no claim in that release)."""

    requirement: str
    before: ClaimSnapshot | None
    after: ClaimSnapshot | None


class LevelMoveOut(BaseModel):
    """An FR's achieved level in both releases."""

    model_config = ConfigDict(populate_by_name=True)
    fr: str
    from_: int = Field(alias="from")
    to: int


class CompareOut(BaseModel):
    """What changed between two releases."""

    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    changed: list[ClaimChangeOut]
    levels: list[LevelMoveOut]

    @classmethod
    def of(cls, result: ReleaseComparison) -> CompareOut:
        """Claims that changed and levels that moved, first release to second."""
        return cls(
            from_=result.first.version,
            to=result.second.version,
            changed=[
                ClaimChangeOut(
                    requirement=c.requirement,
                    before=ClaimSnapshot.model_validate(c.before) if c.before else None,
                    after=ClaimSnapshot.model_validate(c.after) if c.after else None,
                )
                for c in result.changed
            ],
            levels=[LevelMoveOut(fr=m.fr, from_=m.before, to=m.after) for m in result.levels],
        )
