"""Output shapes of the CRA file (the API publishes them)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, Field

from .applicability import LinkedEvidence, MappedRequirement, MappingState, PointView

# === Annex I applicability and the mapping version (applicability) ===


class MappedRequirementOut(BaseModel):
    """A 4-1 requirement or 4-2 CR the release's pinned mapping version maps to the point."""

    standard: str = Field(description="IEC 62443-4-1 or IEC 62443-4-2")
    ref: str
    title: str
    rationale: str = Field(description="why the mapping maps it to the point")
    met: bool = Field(
        description="4-1: the release's coverage meets it; 4-2: the release's claim for it counts and is "
        "implemented or compensated"
    )
    detail: str

    @classmethod
    def of(cls, mapped: MappedRequirement) -> MappedRequirementOut:
        """One mapped requirement."""
        return cls(**asdict(mapped))


class LinkedEvidenceOut(BaseModel):
    """An evidence item linked to the point by hand."""

    id: int
    title: str
    kind: str
    state: str = Field(description="its current revision's review state")
    accepted: bool = Field(description="its current revision is accepted and it still covers the release")
    covers: bool = Field(description="product or organisation scope, or its current revision names the release")

    @classmethod
    def of(cls, linked: LinkedEvidence) -> LinkedEvidenceOut:
        """One linked item."""
        return cls(**asdict(linked))


class PointOut(BaseModel):
    """One Annex I point of a release: how it applies, its measures, the mapping's requirements and other
    evidence."""

    ref: str = Field(description="I.1, I.2a-I.2m, II.1-II.8")
    label: str
    title: str
    always_applicable: bool = Field(description="Part I (1) and Part II apply to every product")
    other_evidence_reason: str | None = Field(description="why IEC 62443 evidence cannot show it (null: it can)")
    assessed: bool = Field(description="false: no decision recorded yet (it reads as applicable)")
    applicable: bool
    justification: str
    measures: str
    updated_by: str
    updated_at: datetime | None
    mapped: list[MappedRequirementOut]
    mapped_met: int
    linked: list[LinkedEvidenceOut]
    linked_accepted: int

    @classmethod
    def of(cls, view: PointView) -> PointOut:
        """One point."""
        return cls(
            ref=view.ref,
            label=view.label,
            title=view.title,
            always_applicable=view.always_applicable,
            other_evidence_reason=view.other_evidence_reason,
            assessed=view.assessed,
            applicable=view.applicable,
            justification=view.justification,
            measures=view.measures,
            updated_by=view.updated_by,
            updated_at=view.updated_at,
            mapped=[MappedRequirementOut.of(m) for m in view.mapped],
            mapped_met=view.mapped_met,
            linked=[LinkedEvidenceOut.of(e) for e in view.linked],
            linked_accepted=view.linked_accepted,
        )


class MappingStateOut(BaseModel):
    """The IEC 62443 -> CRA mapping version a release is assessed with."""

    release_id: int
    release: str = Field(description="the release's version")
    pinned: str | None = Field(description="the version it is assessed with (null: none pinned, the newest is read)")
    newest: str | None = Field(description="the newest loaded version")
    newer: list[str] = Field(description="loaded versions newer than the pinned one, oldest first")
    shipped: bool = Field(description="a shipped release keeps the version it was assessed with")

    @classmethod
    def of(cls, state: MappingState) -> MappingStateOut:
        """A release's mapping state."""
        return cls(
            release_id=state.release_id,
            release=state.release,
            pinned=state.pinned,
            newest=state.newest,
            newer=list(state.newer),
            shipped=state.shipped,
        )


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
