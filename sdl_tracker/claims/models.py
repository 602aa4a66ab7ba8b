"""Capability claims: one per release and applicable requirement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Requirement
from ..db import Base, UTCDateTime, str_enum, utcnow
from ..evidence.models import Evidence
from .rules import ClaimStatus, Verification


class Claim(Base):
    """What a release claims for one IEC 62443-4-2 requirement or enhancement."""

    __tablename__ = "claim"
    __table_args__ = (UniqueConstraint("release_id", "requirement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirement.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus, "claim_status"))
    verification: Mapped[Verification | None] = mapped_column(str_enum(Verification, "claim_verification"))
    justification: Mapped[str] = mapped_column(Text, default="")  # why it does not apply
    countermeasure: Mapped[str] = mapped_column(Text, default="")  # the compensating countermeasure
    notes: Mapped[str] = mapped_column(Text, default="")
    # Not applicable on an unconditional item: the officer's reason for overriding the catalog's reading.
    override_reason: Mapped[str] = mapped_column(Text, default="")
    # Compensated: the user documentation (SG-1/SG-2) telling the integrator what the environment provides.
    documentation_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="RESTRICT"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(400))
    # Who made the decision (status, justification, countermeasure, override, documentation) last.
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    set_by: Mapped[str] = mapped_column(String(400), default="")
    # Not applicable and compensated: accepted for this release by another officer or an administrator.
    accepted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    accepted_by: Mapped[str] = mapped_column(String(400), default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Copied from the previous release and not yet confirmed for this one: its version ("": not carried).
    carried_from: Mapped[str] = mapped_column(String(64), default="")
    confirmed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    confirmed_by: Mapped[str] = mapped_column(String(400), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    requirement: Mapped[Requirement] = relationship(lazy="joined")
    documentation: Mapped[Evidence | None] = relationship(foreign_keys=[documentation_id])
    evidence_links: Mapped[list[ClaimEvidence]] = relationship(cascade="all, delete-orphan")


class ClaimEvidence(Base):
    """Evidence a claim rests on."""

    __tablename__ = "claim_evidence"

    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="RESTRICT"), primary_key=True)

    evidence: Mapped[Evidence] = relationship(lazy="joined")
