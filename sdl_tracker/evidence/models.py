"""Evidence items and their immutable revisions, artifacts and links."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Requirement
from ..db import Base, UTCDateTime, str_enum, utcnow
from ..products.models import Release
from .standing import stood_on
from .vocabulary import TEST_KINDS, EvidenceKind, EvidenceScope, ReviewState, TesterIndependence


class Evidence(Base):
    """One piece of evidence; what it says lives in its revisions, the newest being current."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    scope: Mapped[EvidenceScope] = mapped_column(str_enum(EvidenceScope, "evidence_scope"))
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "evidence_kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(400))

    revisions: Mapped[list[EvidenceRevision]] = relationship(
        back_populates="evidence", order_by="EvidenceRevision.number", cascade="all, delete-orphan"
    )

    @property
    def current(self) -> EvidenceRevision:
        """The newest revision."""
        return self.revisions[-1]

    def revision_on(self, day: date) -> EvidenceRevision | None:
        """The revision that stood on `day`: the newest made on or before it (None: nothing was recorded yet).
        A figure judged on a release date reads this, so records made or changed later cannot raise it."""
        return stood_on(self.revisions, day, lambda revision: revision.created_at.date())

    @property
    def is_test(self) -> bool:
        """Whether it records a test, which carries a tester independence (IEC 62443-4-1 Table 3)."""
        return self.kind in TEST_KINDS


class EvidenceRevision(Base):
    """One immutable version of an evidence item: its text, dates, review, artifacts and links."""

    __tablename__ = "evidence_revision"
    __table_args__ = (
        UniqueConstraint("evidence_id", "number"),
        # A draft was never submitted; everything else was, at a known time (the review queue's age).
        CheckConstraint(
            "(state = 'draft' AND submitted_at IS NULL) OR (state <> 'draft' AND submitted_at IS NOT NULL)",
            name="submitted_unless_draft",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    effective_date: Mapped[date] = mapped_column(Date)  # when the activity happened, not the upload
    author: Mapped[str] = mapped_column(String(200), default="")
    review_due: Mapped[date | None] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Test evidence only (IEC 62443-4-1 Table 3); None: not stated, which qualifies for nothing.
    tester_independence: Mapped[TesterIndependence | None] = mapped_column(
        str_enum(TesterIndependence, "tester_independence")
    )
    state: Mapped[ReviewState] = mapped_column(str_enum(ReviewState, "review_state"))
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_by: Mapped[str] = mapped_column(String(400))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when it went to review; None: a draft
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_by: Mapped[str] = mapped_column(String(400), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="revisions")
    artifacts: Mapped[list[Artifact]] = relationship(cascade="all, delete-orphan", order_by="Artifact.id")
    requirement_links: Mapped[list[RevisionRequirement]] = relationship(cascade="all, delete-orphan")
    release_links: Mapped[list[RevisionRelease]] = relationship(cascade="all, delete-orphan")

    def state_on(self, day: date) -> ReviewState:
        """The revision's review state on `day`: a review given after that day had not happened yet."""
        if self.state in (ReviewState.ACCEPTED, ReviewState.REJECTED) and (
            self.reviewed_at is None or self.reviewed_at.date() > day
        ):
            return ReviewState.SUBMITTED
        return self.state

    @property
    def requirements(self) -> list[Requirement]:
        """The catalog requirements this revision claims to show."""
        return sorted((link.requirement for link in self.requirement_links), key=lambda r: r.position)

    @property
    def releases(self) -> list[Release]:
        """The releases it covers (release scope)."""
        return sorted((link.release for link in self.release_links), key=lambda r: r.id)


class Artifact(Base):
    """A file attached to a revision; its bytes are the blob it names."""

    __tablename__ = "artifact"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("evidence_revision.id", ondelete="CASCADE"), index=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256", ondelete="RESTRICT"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)


class RevisionRequirement(Base):
    """A requirement (catalog edition and id) a revision supports."""

    __tablename__ = "revision_requirement"

    revision_id: Mapped[int] = mapped_column(ForeignKey("evidence_revision.id", ondelete="CASCADE"), primary_key=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirement.id", ondelete="RESTRICT"), primary_key=True)

    requirement: Mapped[Requirement] = relationship(lazy="joined")


class RevisionRelease(Base):
    """A release a revision covers."""

    __tablename__ = "revision_release"

    revision_id: Mapped[int] = mapped_column(ForeignKey("evidence_revision.id", ondelete="CASCADE"), primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="RESTRICT"), primary_key=True, index=True)

    release: Mapped[Release] = relationship(lazy="joined")


class PracticeMaturity(Base):
    """A maturity level of one 4-1 practice, recorded for the organisation (product_id None) within what its
    evidence supports; rows are never changed, so the newest per practice is current and the rest is the
    history. Rows with a product are per-product self-assessments recorded before maturity became the
    organisation's: kept as history, never current, never bounded by evidence."""

    __tablename__ = "practice_maturity"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    practice: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text)
    assessed_on: Mapped[date] = mapped_column(Date)
    assessed_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScopingState(enum.StrEnum):
    """Where a scoping-out of a requirement stands."""

    PROPOSED = "proposed"  # set with its justification, awaiting an officer's acceptance
    ACCEPTED = "accepted"  # the requirement leaves the product's denominator
    WITHDRAWN = "withdrawn"  # no longer in force (kept as history)


class RequirementScoping(Base):
    """A 4-1 requirement scoped out of a product (SM-5, clause 5.6) with its justification; it counts once a
    security officer other than the setter, or an administrator, has accepted it."""

    __tablename__ = "requirement_scoping"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    requirement_ref: Mapped[str] = mapped_column(String(40))  # by id, like annotations: editions share ids
    justification: Mapped[str] = mapped_column(Text)
    state: Mapped[ScopingState] = mapped_column(str_enum(ScopingState, "scoping_state"))
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    set_by: Mapped[str] = mapped_column(String(400))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_by: Mapped[str] = mapped_column(String(400), default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str] = mapped_column(String(400), default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")


class ProductReviewInterval(Base):
    """A product's own review interval for an evidence kind (months; None: evidence of the kind does not
    expire), in place of standing.DEFAULT_REVIEW_MONTHS."""

    __tablename__ = "product_review_interval"
    __table_args__ = (CheckConstraint("months IS NULL OR months BETWEEN 1 AND 120", name="months_range"),)

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "evidence_kind"), primary_key=True)
    months: Mapped[int | None] = mapped_column(Integer)
