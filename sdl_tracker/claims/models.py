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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(400))

    requirement: Mapped[Requirement] = relationship(lazy="joined")
    evidence_links: Mapped[list[ClaimEvidence]] = relationship(cascade="all, delete-orphan")


class ClaimEvidence(Base):
    """Evidence a claim rests on."""

    __tablename__ = "claim_evidence"

    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="RESTRICT"), primary_key=True)

    evidence: Mapped[Evidence] = relationship(lazy="joined")
