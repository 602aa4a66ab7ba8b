"""PSIRT cases: a vulnerability report or a severe incident, what it affects, and its Article 14 reporting."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, str_enum, utcnow
from .rules import ClockState


class CaseKind(enum.StrEnum):
    """What was reported: a vulnerability in the product, or a severe incident having an impact on its security."""

    VULNERABILITY = "vulnerability"
    INCIDENT = "incident"


class CaseSource(enum.StrEnum):
    """Who reported it."""

    RESEARCHER = "researcher"  # an external researcher
    CUSTOMER = "customer"
    INTERNAL = "internal"
    SUPPLIER = "supplier"  # an upstream supplier or maintainer
    COORDINATOR = "coordinator"  # a CSIRT, CERT or other coordinator


class CaseStatus(enum.StrEnum):
    """Where the handling stands; rejected and duplicate close a case with a reason."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    REMEDIATING = "remediating"
    FIXED = "fixed"
    DISCLOSED = "disclosed"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class PsirtSequence(Base):
    """The last case number given in a year: PSIRT-YYYY-NNNN counts per year across the installation."""

    __tablename__ = "psirt_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class PsirtSettings(Base):
    """A product's Article 14 settings: the time zone and CSIRT of the manufacturer's main establishment, and
    the Member States where the product is made available (what the reports name)."""

    __tablename__ = "psirt_settings"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), default="UTC")
    csirt: Mapped[str] = mapped_column(String(200), default="")
    member_states: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PsirtCase(Base):
    """One case of one product. Its timeline is its audit events; its clocks are computed from the facts here
    (psirt/rules.py) and kept as ReportClock rows, so a breach, once recorded, stays recorded."""

    __tablename__ = "psirt_case"
    __table_args__ = (
        UniqueConstraint("year", "number"),
        CheckConstraint("status NOT IN ('rejected', 'duplicate') OR length(status_reason) > 0", name="closed_why"),
        Index("ix_psirt_case_product_status", "product_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[CaseKind] = mapped_column(str_enum(CaseKind, "psirt_case_kind"))
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[CaseSource] = mapped_column(str_enum(CaseSource, "psirt_case_source"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reporter_contact: Mapped[str] = mapped_column(Text, default="")  # security officers only
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "psirt_case_status"), default=CaseStatus.RECEIVED)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("psirt_case.id", ondelete="SET NULL"))
    cve_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    cwe_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    cvss_v31: Mapped[str] = mapped_column(String(200), default="")
    cvss_v40: Mapped[str] = mapped_column(String(300), default="")
    severity_score: Mapped[float | None] = mapped_column(Float)  # the highest base score given, for sorting
    embargo_until: Mapped[date | None] = mapped_column(Date)
    remediation: Mapped[str] = mapped_column(Text, default="")
    mitigation: Mapped[str] = mapped_column(Text, default="")
    # What the Article 14 reports say beyond the facts above (psirt/packets.py reads them into each stage's packet).
    impact: Mapped[str] = mapped_column(Text, default="")  # severity and impact in words (Art. 14(2)(c), (4)(b)-(c))
    sensitivity: Mapped[str] = mapped_column(Text, default="")  # how sensitive the reported information is
    malicious_actor: Mapped[str] = mapped_column(Text, default="")  # who exploited it, where known (Art. 14(2)(c))
    root_cause: Mapped[str] = mapped_column(Text, default="")  # the incident's threat type or root cause (14(4)(c))
    # Article 14: when the manufacturer became aware of active exploitation (a vulnerability) or of the incident;
    # None for a vulnerability not known to be exploited (no clocks run). Back-dated before receipt, or changed
    # once set, only with a justification (kept in the audit event).
    aware_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    measure_available_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a corrective or mitigating one
    incident_criteria: Mapped[list[str]] = mapped_column(JSON, default=list)  # Art. 14(5), incidents only
    malicious_suspected: Mapped[bool | None] = mapped_column(Boolean)  # stated in an incident's early warning
    # Art. 13(6): a vulnerability in a third-party component is reported to whoever maintains it.
    upstream_component: Mapped[str] = mapped_column(Text, default="")
    maintainer_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    maintainer_reference: Mapped[str] = mapped_column(Text, default="")
    users_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # Art. 14(8)
    users_information: Mapped[str] = mapped_column(Text, default="")
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)  # a tabletop exercise: counts for nothing
    # The DM records of use the handling created (records.py), by step: the evidence id, or None where the
    # product's catalog has no requirement to link; a step is recorded once.
    records: Mapped[dict[str, int | None]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def reference(self) -> str:
        """The case's name, PSIRT-YYYY-NNNN."""
        return f"PSIRT-{self.year:04d}-{self.number:04d}"

    def under_embargo(self, day: date) -> bool:
        """Whether the case's facts are still embargoed on `day` (its embargo ends after it)."""
        return self.embargo_until is not None and self.embargo_until > day


class PsirtRelease(Base):
    """A release of the case's product that the case affects, or that fixes it."""

    __tablename__ = "psirt_release"
    __table_args__ = (
        UniqueConstraint("case_id", "release_id", "role"),
        CheckConstraint("role IN ('affected', 'fixed')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("psirt_case.id", ondelete="CASCADE"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))


class PsirtComponent(Base):
    """A component the case is about, by purl (its identity: the releases holding it are found from the SBOMs)."""

    __tablename__ = "psirt_component"
    __table_args__ = (UniqueConstraint("case_id", "purl"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("psirt_case.id", ondelete="CASCADE"), index=True)
    purl: Mapped[str] = mapped_column(String(500))


class PsirtSubmission(Base):
    """A report made to the Single Reporting Platform, recorded by the person who made it (the tracker never
    submits): when, which stages it covers, and the platform's reference."""

    __tablename__ = "psirt_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("psirt_case.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stages: Mapped[list[str]] = mapped_column(JSON)
    reference: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(400))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PsirtIntermediateRequest(Base):
    """An intermediate report the CSIRT asked for (Art. 14(2), (4)): a clock of its own, due when it said."""

    __tablename__ = "psirt_intermediate_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("psirt_case.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reference: Mapped[str] = mapped_column(String(200), default="")
    recorded_by: Mapped[str] = mapped_column(String(400))


class ReportClock(Base):
    """A case's clock as last computed, one row per stage: what dashboards sort by, and where a breach is
    recorded when it happens (breached_at is set once and never cleared, whatever is recorded later)."""

    __tablename__ = "report_clock"
    __table_args__ = (UniqueConstraint("case_id", "stage"), Index("ix_report_clock_open_due", "open", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("psirt_case.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[ClockState] = mapped_column(str_enum(ClockState, "report_clock_state"))
    open: Mapped[bool] = mapped_column(Boolean)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The instant the due time was read from, and the last due time seen missed: a reading of the same anchor
    # never moves the due time later (a zone changed), and a corrected deadline that is missed again is a breach
    # again (recorded and told), while breached_at keeps the first.
    anchor: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
