"""Vulnerabilities the tracker knows, and the VEX decisions: one per release, vulnerability and component."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, str_enum, utcnow
from ..products.models import Release
from .rules import CdxJustification, Justification, Status


class VulnerabilitySource(enum.StrEnum):
    """Where the tracker first learnt of a vulnerability."""

    OFFICER = "officer"  # named by a security officer deciding on it
    CASE = "case"  # a PSIRT case of one of the products
    OSV = "osv"
    KEV = "kev"  # CISA's Known Exploited Vulnerabilities catalog
    SUPPLIER = "supplier"  # a supplier's CSAF or CycloneDX VEX document


class DecisionOrigin(enum.StrEnum):
    """How a decision came to be: an officer's, carried from the previous release, a match, a supplier's."""

    OFFICER = "officer"
    CARRIED = "carried"
    MATCH = "match"
    SUPPLIER = "supplier"


class Vulnerability(Base):
    """A vulnerability by its id (CVE, GHSA, an OSV id, or a case's PSIRT-YYYY-NNNN), installation-wide."""

    __tablename__ = "vulnerability"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    cwe_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    cvss_v31: Mapped[str] = mapped_column(String(200), default="")
    cvss_v40: Mapped[str] = mapped_column(String(300), default="")
    known_exploited: Mapped[bool] = mapped_column(Boolean, default=False)
    kev_date_added: Mapped[date | None] = mapped_column(Date)
    source: Mapped[VulnerabilitySource] = mapped_column(str_enum(VulnerabilitySource, "vulnerability_source"))
    # The case whose vulnerability this is (vex/services.vulnerability_for_case): at most one row per case.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("psirt_case.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class VexDecision(Base):
    """A release's standing against one vulnerability in one component ('' : the product itself).

    The component is its purl's identity (type, namespace, name; no version): the release's SBOM says which
    version it ships, and a decision carried to the next release stays about the same component. The CHECK
    constraints repeat rules.check_decision, so no door can store what the VEX formats could not carry."""

    __tablename__ = "vex_decision"
    __table_args__ = (
        UniqueConstraint("release_id", "vulnerability_id", "component_purl"),
        Index("ix_vex_decision_component_purl", "component_purl"),
        CheckConstraint(
            "(status = 'not_affected' AND justification IS NOT NULL) OR "
            "(status != 'not_affected' AND justification IS NULL AND cdx_justification IS NULL)",
            name="justified",
        ),
        CheckConstraint("status != 'affected' OR length(action) > 0", name="affected_action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the UNIQUE constraint's index starts with it.
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"))
    vulnerability_id: Mapped[int] = mapped_column(ForeignKey("vulnerability.id", ondelete="RESTRICT"), index=True)
    component_purl: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[Status] = mapped_column(str_enum(Status, "vex_status"))
    justification: Mapped[Justification | None] = mapped_column(str_enum(Justification, "vex_justification"))
    cdx_justification: Mapped[CdxJustification | None] = mapped_column(
        str_enum(CdxJustification, "vex_cdx_justification")
    )
    impact: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    # False until an officer stands by it for this release: carried forward, matched, or a supplier's proposal.
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[DecisionOrigin] = mapped_column(str_enum(DecisionOrigin, "vex_decision_origin"))
    decided_by: Mapped[str] = mapped_column(String(400))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    vulnerability: Mapped[Vulnerability] = relationship(lazy="joined")
    release: Mapped[Release] = relationship(lazy="joined")


class CsafProfile(enum.StrEnum):
    """The CSAF 2.0 profiles a case is published in."""

    ADVISORY = "csaf_security_advisory"
    VEX = "csaf_vex"


class CsafPublication(Base):
    """One published version of a case's CSAF document: frozen, its bytes a blob, never changed; a later change
    of the case is a new version with its own row (the revision history is these rows, in version order)."""

    __tablename__ = "csaf_publication"
    __table_args__ = (
        UniqueConstraint("tracking_id", "version"),
        UniqueConstraint("file_name", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status IN ('interim', 'final')", name="status_published"),
        CheckConstraint("tlp IN ('WHITE', 'GREEN', 'AMBER', 'RED')", name="tlp_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("psirt_case.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    profile: Mapped[CsafProfile] = mapped_column(str_enum(CsafProfile, "csaf_profile"))
    tracking_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(10))
    tlp: Mapped[str] = mapped_column(String(5))
    file_name: Mapped[str] = mapped_column(String(250))  # section 5.1, from the tracking id
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256", ondelete="RESTRICT"))
    signature_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256", ondelete="RESTRICT"))
    summary: Mapped[str] = mapped_column(Text)  # the revision history entry's summary
    initial_release_date: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the current release date of this version
    published_by: Mapped[str] = mapped_column(String(400))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
