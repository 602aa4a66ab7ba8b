"""The CRA conformity file's records: Annex I applicability per release, the risk assessment and support
period per product, the Annex II user information and the declaration of conformity data per release."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, str_enum, utcnow
from .rules import ConformityRoute, PresumptionBasis


class PointApplicability(Base):
    """How one Annex I point applies to a release: applicable or not (with the justification Art. 13(4)
    requires), the measures that implement it, and evidence linked by hand beside what the mapping brings."""

    __tablename__ = "cra_point"
    __table_args__ = (
        UniqueConstraint("release_id", "ref"),
        # Not applicable only with a justification, and never Part I (1) or a Part II duty.
        CheckConstraint("applicable OR justification <> ''", name="justified"),
        CheckConstraint("applicable OR (ref <> 'I.1' AND ref NOT LIKE 'II.%')", name="may_not_apply"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(8))  # I.1, I.2a..I.2m, II.1..II.8
    applicable: Mapped[bool] = mapped_column(Boolean, default=True)
    justification: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    evidence: Mapped[list[PointEvidence]] = relationship(
        back_populates="point", cascade="all, delete-orphan", order_by="PointEvidence.evidence_id"
    )


class PointEvidence(Base):
    """An evidence item linked by hand to an Annex I point of a release (other evidence than the mapping's)."""

    __tablename__ = "cra_point_evidence"

    point_id: Mapped[int] = mapped_column(ForeignKey("cra_point.id", ondelete="CASCADE"), primary_key=True)
    # RESTRICT: evidence a conformity file cites cannot disappear under it.
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="RESTRICT"), primary_key=True, index=True
    )

    point: Mapped[PointApplicability] = relationship(back_populates="evidence")


class RiskAssessment(Base):
    """A revision of a product's cybersecurity risk assessment (Art. 13(2)-(3)); revisions are never changed,
    a change is a new revision."""

    __tablename__ = "cra_risk_assessment"
    __table_args__ = (
        UniqueConstraint("product_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("expected_use_months IS NULL OR expected_use_months > 0", name="use_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    intended_purpose: Mapped[str] = mapped_column(Text, default="")
    foreseeable_use: Mapped[str] = mapped_column(Text, default="")
    foreseeable_misuse: Mapped[str] = mapped_column(Text, default="")
    operational_environment: Mapped[str] = mapped_column(Text, default="")
    assets: Mapped[str] = mapped_column(Text, default="")
    expected_use_months: Mapped[int | None] = mapped_column(Integer)
    # The threat model (an evidence item of the product) the assessment rests on.
    threat_model_evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="RESTRICT"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SupportPeriod(Base):
    """How a product's support period was set (Art. 13(8)); its end date is the product's
    `support_period_end`, which this record sets."""

    __tablename__ = "cra_support_period"
    __table_args__ = (
        CheckConstraint("expected_use_months IS NULL OR expected_use_months > 0", name="use_positive"),
        CheckConstraint("ends_precision IN ('month', 'day')", name="precision_known"),
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
    )

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date)  # placed on the market
    # The end this record set and justified. The product's `support_period_end` is the end date in force; the
    # product form may still change it, and where the two differ the record must be confirmed again.
    ends_on: Mapped[date] = mapped_column(Date)
    # Stated to the month (the law's minimum) or to the day; a month ends the period on its last day.
    ends_precision: Mapped[str] = mapped_column(String(5), default="month")
    expected_use_months: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(Text, default="")
    shorter_reason: Mapped[str] = mapped_column(Text, default="")
    published_where: Mapped[str] = mapped_column(String(1000), default="")
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserInformation(Base):
    """One Annex II item of a release's user information: its text, a document (an evidence item), or both."""

    __tablename__ = "cra_user_information"
    __table_args__ = (UniqueConstraint("release_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(8))  # AII.1..AII.7, AII.8a..AII.8f, AII.9
    text: Mapped[str] = mapped_column(Text, default="")
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="RESTRICT"), index=True)
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Declaration(Base):
    """The data of a release's EU declaration of conformity (Annex V) and its conformity route (Art. 32)."""

    __tablename__ = "cra_declaration"

    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), primary_key=True)
    manufacturer_name: Mapped[str] = mapped_column(String(300), default="")
    manufacturer_address: Mapped[str] = mapped_column(Text, default="")
    representative: Mapped[str] = mapped_column(Text, default="")  # authorised representative, if any
    product_identification: Mapped[str] = mapped_column(Text, default="")
    object_description: Mapped[str] = mapped_column(Text, default="")
    conformity_route: Mapped[ConformityRoute | None] = mapped_column(str_enum(ConformityRoute, "conformity_route"))
    # Only for module A of an important class I product: what is applied in full, and its reference.
    presumption_basis: Mapped[PresumptionBasis | None] = mapped_column(str_enum(PresumptionBasis, "presumption_basis"))
    presumption_basis_reference: Mapped[str] = mapped_column(String(300), default="")
    notified_body_name: Mapped[str] = mapped_column(String(300), default="")
    notified_body_number: Mapped[str] = mapped_column(String(4), default="")
    certificate_reference: Mapped[str] = mapped_column(String(300), default="")
    # Standards and specifications applied besides IEC 62443-4-1 and 4-2, which every file records.
    other_standards: Mapped[list[str]] = mapped_column(JSON, default=list)
    declaration_url: Mapped[str] = mapped_column(String(1000), default="")
    place_of_issue: Mapped[str] = mapped_column(String(200), default="")
    date_of_issue: Mapped[date | None] = mapped_column(Date)
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_function: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
