"""A security officer's decision on one substantial-modification signal of a release."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, str_enum, utcnow


class Verdict(enum.StrEnum):
    """Whether the change is taken as a substantial modification (confirmed) or not (dismissed)."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ModificationDecision(Base):
    """The decision on a release's signal, stored under the signal's stable key: when the SBOM or the commits
    change and the signal no longer appears, the decision stays (and is shown as stale), never lost."""

    __tablename__ = "modification_decision"
    __table_args__ = (
        # Keys name paths and purls of any length: the digest is what is unique (an index entry stays small).
        UniqueConstraint("release_id", "key_sha256"),
        CheckConstraint("length(key_sha256) = 64", name="key_sha256_length"),
        # A dismissal always says why.
        CheckConstraint("verdict = 'confirmed' OR length(reason) > 0", name="dismissal_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(Text)
    key_sha256: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)  # the signal as it read when decided
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict, "modification_verdict"))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(400))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
