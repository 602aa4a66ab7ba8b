"""Claims, the SL-C vector and release comparisons as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ..audit.services import kept
from ..auth import Principal
from ..db import utcnow
from ..products.services import get_release
from .judging import ClaimStanding, ReleaseComparison, VectorReport, judged_claims
from .models import Claim
from .rules import ClaimStatus, Verification


class EvidenceStandingOut(BaseModel):
    """One linked evidence item: whether it counts for the claim, and why not."""

    id: int
    counts: bool
    not_counting: list[str]


class ClaimOut(BaseModel):
    """A claim: what it says, who set and accepted it, and (when judged) whether it counts and why not."""

    requirement: str
    status: ClaimStatus
    verification: Verification | None
    justification: str
    countermeasure: str
    notes: str
    evidence: list[int]
    override_reason: str
    documentation: int | None
    updated_at: datetime
    updated_by: str
    set_by: str
    accepted_by: str | None
    accepted_at: datetime | None
    carried_from: str | None = Field(description="carried forward from this release, not yet confirmed for this one")
    confirmed_by: str | None
    confirmed_at: datetime | None
    counts: bool | None = Field(default=None, description="whether it counts toward its level (null: not judged)")
    not_counting: list[str] = Field(default_factory=list, description="why it does not count")
    evidence_standing: list[EvidenceStandingOut] = Field(default_factory=list)

    @classmethod
    def of(cls, claim: Claim, standing: ClaimStanding | None = None) -> ClaimOut:
        """A claim as the API, `--json` and the JSON export give it; judged when `standing` is given."""
        return cls(
            requirement=claim.requirement.ref,
            status=claim.status,
            verification=claim.verification,
            justification=claim.justification,
            countermeasure=claim.countermeasure,
            notes=claim.notes,
            evidence=sorted(link.evidence_id for link in claim.evidence_links),
            override_reason=claim.override_reason,
            documentation=claim.documentation_id,
            updated_at=claim.updated_at,
            updated_by=claim.updated_by,
            set_by=claim.set_by,
            accepted_by=claim.accepted_by or None,
            accepted_at=claim.accepted_at,
            carried_from=claim.carried_from or None,
            confirmed_by=claim.confirmed_by or None,
            confirmed_at=claim.confirmed_at,
            counts=standing.counts if standing else None,
            not_counting=standing.reasons if standing else [],
            evidence_standing=[
                EvidenceStandingOut(id=e.evidence.id, counts=e.counts, not_counting=e.problems)
                for e in (standing.evidence if standing else [])
            ],
        )

    @classmethod
    def judged(cls, standing: ClaimStanding) -> ClaimOut:
        """A claim with whether it counts."""
        return cls.of(standing.claim, standing)


def claim_list(session: Session, actor: Principal, release_id: int) -> list[ClaimOut]:
    """A release's claims judged, as the API lists them; kept like the claims summary (until an audited change
    or the next day), after the access check every request makes."""
    release = get_release(session, actor, release_id)
    key = ("api claims", release.id, utcnow().date())
    return kept(session, key, lambda: [ClaimOut.judged(s) for s in judged_claims(session, actor, release.id)])


class FrGap(BaseModel):
    """One foundational requirement's target, achieved level and missing ids, and how its items are met."""

    fr: str
    target: int
    achieved: int
    missing: list[str]
    met_by_implementation: int
    met_by_compensation: int
    met_by_accepted_not_applicable: int
    claimed_not_counting: int
    unclaimed: int
    medium_confidence: list[str] = Field(
        description="items required up to the target (or achieved) level whose SL-C is of medium confidence"
    )


class OverrideOut(BaseModel):
    """A "not applicable" claim on an unconditional item, with the officer's override."""

    requirement: str
    override_reason: str
    justification: str
    set_by: str
    accepted_by: str | None


class NotCountingOut(BaseModel):
    """A claim that does not count, and why."""

    requirement: str
    status: ClaimStatus
    reasons: list[str]


class VectorOut(BaseModel):
    """Target against achieved SL-C vector, and the gap."""

    product: str
    release: str | None
    component_type: str
    edition: str | None
    judged_on: date | None = Field(description="the date the release is judged on (a released release: its date)")
    frs: list[FrGap]
    overrides: list[OverrideOut]
    not_counting: list[NotCountingOut]

    @classmethod
    def of(cls, report: VectorReport) -> VectorOut:
        """Per FR: target, achieved, the missing ids and the breakdown; overrides; claims that do not count."""
        rows = {row.fr: row for row in report.breakdown}
        return cls(
            product=report.product.name,
            release=report.release.version if report.release else None,
            component_type=report.product.component_type.value,
            edition=report.catalog.edition.edition if report.catalog.edition else None,
            judged_on=report.judged_on,
            frs=[
                FrGap(
                    fr=fr,
                    target=report.target[fr],
                    achieved=report.achieved[fr],
                    missing=report.gap[fr],
                    met_by_implementation=rows[fr].implemented,
                    met_by_compensation=rows[fr].compensated,
                    met_by_accepted_not_applicable=rows[fr].not_applicable,
                    claimed_not_counting=rows[fr].not_counting,
                    unclaimed=rows[fr].unclaimed,
                    medium_confidence=rows[fr].medium_confidence,
                )
                for fr in report.target
            ],
            overrides=[
                OverrideOut(
                    requirement=s.claim.requirement.ref,
                    override_reason=s.claim.override_reason,
                    justification=s.claim.justification,
                    set_by=s.claim.set_by,
                    accepted_by=s.claim.accepted_by or None,
                )
                for s in report.overrides
            ],
            not_counting=[
                NotCountingOut(requirement=ref, status=s.claim.status, reasons=s.reasons)
                for ref, s in report.standings.items()
                if s.reasons
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
