"""Output shapes of the CRA file (the API publishes them)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from ..products.models import Release
from .applicability import LinkedEvidence, MappedRequirement, MappingState, PointView
from .completeness import CraFile
from .declarations import DeclarationView, ItemRequirement, UserInformationView
from .models import RiskAssessment, SupportPeriod
from .records import RISK_TEXT_FIELDS, SupportObligations
from .rules import Area, ConformityRoute, Missing, PresumptionBasis, stated_end

# --- Annex I applicability and the mapping version ---


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
    accepted: bool = Field(
        description="its current revision is accepted, it still covers the release and it is not past its review"
    )
    covers: bool = Field(description="product or organisation scope, or its current revision names the release")
    expired: bool = Field(description="past its review on the day the release is judged: it shows nothing any more")

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


# --- risk assessment and support period ---


class RiskAssessmentOut(BaseModel):
    """A revision of a product's cybersecurity risk assessment (Art. 13(2)-(3)); revisions never change."""

    product_id: int
    number: int = Field(description="1, 2, ...: the newest is the current assessment")
    intended_purpose: str
    foreseeable_use: str = Field(description="reasonably foreseeable use")
    foreseeable_misuse: str = Field(description="reasonably foreseeable misuse")
    operational_environment: str
    assets: str = Field(description="the assets to protect")
    expected_use_months: int | None = Field(description="how long the product is expected to be used, in months")
    threat_model_evidence_id: int | None = Field(
        description="the product's threat model (an evidence item) it rests on"
    )
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, revision: RiskAssessment) -> RiskAssessmentOut:
        """One revision."""
        return cls(
            product_id=revision.product_id,
            number=revision.number,
            **{name: getattr(revision, name) for name in RISK_TEXT_FIELDS},
            expected_use_months=revision.expected_use_months,
            threat_model_evidence_id=revision.threat_model_evidence_id,
            created_by=revision.created_by,
            created_at=revision.created_at,
        )


class SupportPeriodOut(BaseModel):
    """How a product's support period was set (Art. 13(8))."""

    product_id: int
    starts_on: date = Field(description="placed on the market: support starts")
    ends_on: date = Field(description="the end this record set (the month's last day when stated as a month)")
    ends_precision: Literal["month", "day"]
    ends: str = Field(description="the end as stated: YYYY-MM or YYYY-MM-DD")
    expected_use_months: int | None
    method: str = Field(description="how the period was set")
    shorter_reason: str = Field(description="why it is under 5 years ('' : it is not)")
    published_where: str = Field(description="where the end date is published: a URL or a short description")
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, period: SupportPeriod) -> SupportPeriodOut:
        """The record."""
        return cls(
            product_id=period.product_id,
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            ends_precision="day" if period.ends_precision == "day" else "month",
            ends=stated_end(period.ends_on, period.ends_precision),
            expected_use_months=period.expected_use_months,
            method=period.method,
            shorter_reason=period.shorter_reason,
            published_where=period.published_where,
            updated_by=period.updated_by,
            updated_at=period.updated_at,
        )


class UpdateAvailabilityOut(BaseModel):
    """How long a shipped release (a security update, or the release placed on the market) stays available."""

    release_id: int
    version: str
    released_on: date
    available_until: date = Field(description="10 years after its release or the end of support, whichever is later")


class SupportObligationsOut(BaseModel):
    """A product's support period and what it obliges (Art. 13(8), (9), (13))."""

    period: SupportPeriodOut
    support_period_end: date | None = Field(
        description="the end in force: the product's support period end (differs from the record's end only when the "
        "product was changed after it, which a warning says)"
    )
    months: int | None = Field(description="the period's length in whole months")
    documentation_retained_until: date = Field(
        description="technical documentation and declaration kept until: 10 years after placing on the market or the "
        "end of support, whichever is later"
    )
    updates: list[UpdateAvailabilityOut]
    warnings: list[str] = Field(description="what is allowed but an assessor would ask about")

    @classmethod
    def of(cls, obligations: SupportObligations) -> SupportObligationsOut:
        """The period and its obligations."""
        return cls(
            period=SupportPeriodOut.of(obligations.period),
            support_period_end=obligations.ends_on,
            months=obligations.months,
            documentation_retained_until=obligations.documentation_retained_until,
            updates=[UpdateAvailabilityOut(**asdict(update)) for update in obligations.updates],
            warnings=list(obligations.warnings),
        )


# --- Annex II user information and declaration of conformity ---


class DocumentOut(BaseModel):
    """An evidence item named as a document."""

    id: int
    title: str


class NamedDocumentOut(DocumentOut):
    """The evidence item an Annex II item names, with its current revision's review state."""

    state: str


class ItemRequirementOut(BaseModel):
    """A requirement the release's mapping version maps to an Annex II item, and the release's documents for it."""

    standard: str
    ref: str
    rationale: str = Field(description="why it serves the item; for Annex II point 8 it names the sub-point")
    documents: list[DocumentOut]

    @classmethod
    def of(cls, mapped: ItemRequirement) -> ItemRequirementOut:
        """One mapped requirement."""
        return cls(
            standard=mapped.standard,
            ref=mapped.ref,
            rationale=mapped.rationale,
            documents=[DocumentOut(id=i, title=t) for i, t in mapped.evidence],
        )


class UserInformationItemOut(BaseModel):
    """One Annex II item of a release."""

    ref: str = Field(description="AII.1..AII.7, AII.8a..AII.8f, AII.9")
    title: str
    recorded: bool = Field(description="whether a text or a document is recorded")
    text: str
    document: NamedDocumentOut | None
    suggestion: str = Field(description="a starting text from what the tracker knows; not recorded")
    mapped: list[ItemRequirementOut]
    warning: str = Field(description="a recorded text that does not fit the release ('' : none)")

    @classmethod
    def of(cls, item: UserInformationView) -> UserInformationItemOut:
        """One item."""
        return cls(
            ref=item.ref,
            title=item.title,
            recorded=item.recorded,
            text=item.text,
            document=NamedDocumentOut(id=item.evidence[0], title=item.evidence[1], state=item.evidence[2])
            if item.evidence
            else None,
            suggestion=item.suggestion,
            mapped=[ItemRequirementOut.of(m) for m in item.mapped],
            warning=item.warning,
        )


class UserInformationOut(BaseModel):
    """A release's Annex II user information, every item in the Annex's order."""

    release_id: int
    release: str = Field(description="the release's version")
    items: list[UserInformationItemOut]

    @classmethod
    def of(cls, release: Release, items: list[UserInformationView]) -> UserInformationOut:
        """The release's items."""
        return cls(release_id=release.id, release=release.version, items=[UserInformationItemOut.of(i) for i in items])


class DeclarationOut(BaseModel):
    """A release's EU declaration of conformity data (Annex V), its conformity route and the standards applied (the
    empty declaration, `recorded` false, until an officer records one)."""

    release_id: int
    release: str = Field(description="the release's version")
    recorded: bool
    manufacturer_name: str
    manufacturer_address: str
    representative: str
    product_identification: str
    object_description: str
    conformity_route: ConformityRoute | None
    presumption_basis: PresumptionBasis | None = Field(description="module A of an important product of class I")
    presumption_basis_reference: str
    notified_body_name: str
    notified_body_number: str
    certificate_reference: str
    other_standards: list[str] = Field(description="standards applied besides IEC 62443-4-1 and 4-2")
    declaration_url: str
    place_of_issue: str
    date_of_issue: date | None
    signatory_name: str
    signatory_function: str
    updated_by: str | None
    updated_at: datetime | None
    allowed_routes: list[ConformityRoute] = Field(description="the routes the product's category allows (Art. 32)")
    route_note: str
    applied_standards: list[str] = Field(description="IEC 62443-4-1 and 4-2 in the product's editions, then the others")
    standards_statement: str = Field(description="which standards give a presumption of conformity as of today")
    warnings: list[str] = Field(description="recorded data that no longer fits the release or its product's category")

    @classmethod
    def of(cls, shown: DeclarationView) -> DeclarationOut:
        """The release's declaration with what is shown beside it."""
        recorded = shown.declaration
        text = {
            name: getattr(recorded, name) if recorded is not None else ""
            for name in (
                "manufacturer_name",
                "manufacturer_address",
                "representative",
                "product_identification",
                "object_description",
                "presumption_basis_reference",
                "notified_body_name",
                "notified_body_number",
                "certificate_reference",
                "declaration_url",
                "place_of_issue",
                "signatory_name",
                "signatory_function",
            )
        }
        return cls(
            release_id=shown.release.id,
            release=shown.release.version,
            recorded=recorded is not None,
            **text,
            conformity_route=recorded.conformity_route if recorded else None,
            presumption_basis=recorded.presumption_basis if recorded else None,
            other_standards=list(recorded.other_standards) if recorded else [],
            date_of_issue=recorded.date_of_issue if recorded else None,
            updated_by=recorded.updated_by if recorded else None,
            updated_at=recorded.updated_at if recorded else None,
            allowed_routes=list(shown.routes),
            route_note=shown.route_note,
            applied_standards=list(shown.applied_standards),
            standards_statement=shown.standards_statement,
            warnings=list(shown.warnings),
        )


# --- the file as a whole and its completeness ---


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
            mapping=MappingStateOut.of(file.mapping),
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
