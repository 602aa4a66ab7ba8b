"""SBOMs per release: the original document (a blob), its metadata, components and dependency edges."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, str_enum, utcnow
from ..products.models import Release
from .formats import SbomFormat


class SbomState(enum.StrEnum):
    """A big import is staged (invisible to every query) until it is published in one short transaction."""

    STAGING = "staging"
    PUBLISHED = "published"


class Sbom(Base):
    """One imported CycloneDX or SPDX document; its bytes are the blob, the rows below are read from it."""

    __tablename__ = "sbom"
    __table_args__ = (
        UniqueConstraint("release_id", "sha256"),
        # At most one primary SBOM per release.
        Index(
            "uq_sbom_primary_per_release",
            "release_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256", ondelete="RESTRICT"))
    size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[SbomFormat] = mapped_column(str_enum(SbomFormat, "sbom_format"))
    spec_version: Mapped[str] = mapped_column(String(8))  # "1.6"; SPDX's "SPDX-2.3" is kept as "2.3"
    serial_number: Mapped[str] = mapped_column(Text, default="")  # SPDX: the documentNamespace
    bom_version: Mapped[int] = mapped_column(Integer, default=1)
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # metadata.timestamp
    subject: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # metadata.component; SPDX: what it DESCRIBES
    tools: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    warnings: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # format-only violations: {path, message}
    component_count: Mapped[int] = mapped_column(Integer)
    dependency_count: Mapped[int] = mapped_column(Integer)
    service_count: Mapped[int] = mapped_column(Integer)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    strict: Mapped[bool] = mapped_column(Boolean)  # validated in strict mode
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    imported_by: Mapped[str] = mapped_column(String(400))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[SbomState] = mapped_column(
        str_enum(SbomState, "sbom_state"), default=SbomState.PUBLISHED, server_default=SbomState.PUBLISHED.value
    )
    # The job whose attempt staged the rows, so a retry or a failure can remove them.
    staged_by_job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"), index=True)

    release: Mapped[Release] = relationship(lazy="joined")

    @property
    def format_label(self) -> str:
        """`CycloneDX 1.6 JSON`, `SPDX 2.3 tag-value`."""
        return self.format.label(self.spec_version)


class SbomComponent(Base):
    """A component listed in an SBOM (an SPDX package); nesting is kept as the parent's position in the same SBOM."""

    __tablename__ = "sbom_component"
    __table_args__ = (
        UniqueConstraint("sbom_id", "position"),
        Index("ix_sbom_component_name_folded", "name_folded", "sbom_id"),
        Index("ix_sbom_component_purl_key", "purl_key", "sbom_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sbom_id: Mapped[int] = mapped_column(ForeignKey("sbom.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # document order, nested components after their parent
    parent_position: Mapped[int | None] = mapped_column(Integer)
    bom_ref: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(40))
    group_name: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(Text, default="")
    purl: Mapped[str] = mapped_column(Text, default="")
    cpe: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(String(20), default="")
    supplier: Mapped[str] = mapped_column(Text, default="")
    hashes: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    licenses: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # each {"id"}, {"name"} or {"expression"}
    # Kept for searches across the portfolio, so they read an index instead of folding every row: the name as
    # they compare it (rules.fold, done once here, alike on both databases) and the purl's identity
    # (diff.purl_identity: type/namespace/name, without version; "" when there is no purl).
    name_folded: Mapped[str] = mapped_column(Text, default="")
    purl_key: Mapped[str] = mapped_column(Text, default="")


class ComponentName(Base):
    """Every folded component name an import stored, once: a search by part of a name reads these (a few
    thousand in a portfolio) instead of every component row (hundreds of thousands); never pruned, as a
    name no SBOM still holds only finds nothing."""

    __tablename__ = "component_name"

    name_folded: Mapped[str] = mapped_column(Text, primary_key=True)


class SbomDependency(Base):
    """A dependency edge: the component or service `ref` depends on `depends_on` (bom-refs, or SPDXIDs)."""

    __tablename__ = "sbom_dependency"

    id: Mapped[int] = mapped_column(primary_key=True)
    sbom_id: Mapped[int] = mapped_column(ForeignKey("sbom.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(Text)
    depends_on: Mapped[str] = mapped_column(Text)


class SbomPolicy(Base):
    """A product's SBOM import policy: strict refuses format-only violations too."""

    __tablename__ = "sbom_policy"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    strict: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SbomExport(Base):
    """A content a release's BOM was exported with, and the BOM version it was given: the version rises by one
    each time the release's exported content changes (writer.py; the same content keeps its version)."""

    __tablename__ = "sbom_export"
    __table_args__ = (UniqueConstraint("release_id", "content_sha256"), UniqueConstraint("release_id", "version"))

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    sbom_id: Mapped[int | None] = mapped_column(ForeignKey("sbom.id", ondelete="SET NULL"))  # what it was read from
    # The bytes of this content as validated, per format, once exported: the same content is the same bytes, so a
    # later export serves them (their digest checked on reading) instead of writing and validating them again.
    json_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256", ondelete="RESTRICT"))
    # What the content was last written from (exports.source_key: the SBOM, the product's name and type, the
    # release's version, the writer's revision): an export from the same source serves the kept bytes unread.
    source_key: Mapped[str | None] = mapped_column(String(64))
    xml_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256", ondelete="RESTRICT"))
    first_exported_by: Mapped[str] = mapped_column(String(400))
    first_exported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
