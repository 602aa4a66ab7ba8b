"""Output shapes of the CRA file (the API publishes them)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from ..products.models import Release
from .declarations import DeclarationView, MappedRequirement, UserInformationView
from .rules import ConformityRoute, PresumptionBasis

# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


class DocumentOut(BaseModel):
    """An evidence item named as a document."""

    id: int
    title: str


class NamedDocumentOut(DocumentOut):
    """The evidence item an Annex II item names, with its current revision's review state."""

    state: str


class MappedRequirementOut(BaseModel):
    """A requirement the release's mapping version maps to an Annex II item, and the release's documents for it."""

    standard: str
    ref: str
    rationale: str = Field(description="why it serves the item; for Annex II point 8 it names the sub-point")
    documents: list[DocumentOut]

    @classmethod
    def of(cls, mapped: MappedRequirement) -> MappedRequirementOut:
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
    mapped: list[MappedRequirementOut]
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
            mapped=[MappedRequirementOut.of(m) for m in item.mapped],
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


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
