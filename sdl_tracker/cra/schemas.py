"""Output shapes of the CRA file (the API publishes them)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from .completeness import CraFile
from .rules import Area, Missing

# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


class MissingOut(BaseModel):
    """One thing a release's CRA file still lacks, and the area where it is fixed."""

    area: Area
    key: str = Field(description="the point, item or field; empty for the area as a whole")
    message: str

    @classmethod
    def of(cls, missing: Missing) -> MissingOut:
        """The shape of a missing part."""
        return cls(area=missing.area, key=missing.key, message=missing.message)


class PointSummaryOut(BaseModel):
    """An Annex I point as the file's summary gives it."""

    ref: str
    label: str
    assessed: bool
    applicable: bool
    mapped_met: int = Field(description="mapped IEC 62443 requirements met and claims standing for the release")
    linked_accepted: int = Field(description="evidence linked by hand whose current revision is accepted")
    needs_other_evidence: str | None


class MappingStateOut(BaseModel):
    """The mapping version a release is assessed with, and the newest loaded."""

    pinned: str | None
    newest: str | None
    behind: bool


class CraFileOut(BaseModel):
    """A release's CRA conformity file in summary, and everything it still lacks before it can be exported."""

    release_id: int
    product_id: int
    category: str
    complete: bool
    missing: list[MissingOut]
    mapping: MappingStateOut
    points: list[PointSummaryOut]
    risk_assessment_revision: int | None
    support_period_end: date | None
    support_period_recorded: bool
    user_information_done: int
    user_information_total: int
    declaration_recorded: bool
    conformity_route: str
    applied_standards: list[str]
    standards_statement: str

    @classmethod
    def of(cls, file: CraFile) -> CraFileOut:
        """The shape of a release's file."""
        return cls(
            release_id=file.release_id,
            product_id=file.product_id,
            category=file.category,
            complete=file.complete,
            missing=[MissingOut.of(m) for m in file.missing],
            mapping=MappingStateOut(pinned=file.mapping.pinned, newest=file.mapping.newest, behind=file.mapping.behind),
            points=[
                PointSummaryOut(
                    ref=p.ref,
                    label=p.label,
                    assessed=p.assessed,
                    applicable=p.applicable,
                    mapped_met=p.mapped_met,
                    linked_accepted=p.linked_accepted,
                    needs_other_evidence=p.other_evidence_reason,
                )
                for p in file.points
            ],
            risk_assessment_revision=file.risk_number,
            support_period_end=file.support_end,
            support_period_recorded=file.support_recorded,
            user_information_done=file.user_information_done,
            user_information_total=file.user_information_total,
            declaration_recorded=file.declaration_recorded,
            conformity_route=file.conformity_route,
            applied_standards=list(file.standards),
            standards_statement=file.standards_note,
        )


# === end ===
