"""A build artifact recorded on a release: one row per file a tagged build produced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class BuildArtifact(Base):
    """A file a release's build produced, by name and SHA-256: what the dossiers say was shipped."""

    __tablename__ = "build_artifact"
    # One digest per file name and release: a second build that gives the same name other bytes is refused,
    # not recorded beside the first (an assessor must be able to say which bytes were released).
    __table_args__ = (
        UniqueConstraint("release_id", "name"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    ci_run_url: Mapped[str] = mapped_column(String(2000), default="")
    recorded_by: Mapped[str] = mapped_column(String(400))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
