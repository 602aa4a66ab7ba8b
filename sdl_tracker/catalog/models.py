"""Catalog editions, their requirements, and versioned mappings between requirements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, str_enum, utcnow
from .rules import Annotation, CatalogItem, CrScope, ItemKind, RecordScope


class CatalogEdition(Base):
    """One edition of one standard (or regulation), loaded from a catalog document."""

    __tablename__ = "catalog_edition"
    __table_args__ = (UniqueConstraint("standard", "edition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog: Mapped[str] = mapped_column(String(40))  # iec62443-4-1, iec62443-4-2, cra
    standard: Mapped[str] = mapped_column(String(80))
    edition: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    published: Mapped[str] = mapped_column(String(10))  # YYYY-MM: orders editions of a standard
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    requirements: Mapped[list[Requirement]] = relationship(
        back_populates="edition", order_by="Requirement.position", cascade="all, delete-orphan"
    )


class Requirement(Base):
    """An item of a catalog edition, keyed by (edition, ref) so later editions never break links."""

    __tablename__ = "requirement"
    __table_args__ = (UniqueConstraint("edition_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("catalog_edition.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(400))
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, "requirement_kind"))
    parent_ref: Mapped[str | None] = mapped_column(String(40))
    practice: Mapped[str | None] = mapped_column(String(10))
    fr: Mapped[str | None] = mapped_column(String(4))
    component_type: Mapped[str | None] = mapped_column(String(3))
    sl_c: Mapped[list[int] | None] = mapped_column(JSON)
    applies_via: Mapped[list[str]] = mapped_column(JSON, default=list)
    cr_scope: Mapped[CrScope | None] = mapped_column(str_enum(CrScope, "cr_scope"))
    confidence: Mapped[str | None] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer)

    edition: Mapped[CatalogEdition] = relationship(back_populates="requirements")

    def item(self) -> CatalogItem:
        """The row as the pure rules see it."""
        return CatalogItem(
            ref=self.ref,
            title=self.title,
            kind=self.kind,
            parent=self.parent_ref,
            practice=self.practice,
            fr=self.fr,
            component_type=self.component_type,
            sl_c=tuple(self.sl_c) if self.sl_c is not None else None,
            applies_via=tuple(self.applies_via or ()),
            cr_scope=self.cr_scope,
            confidence=self.confidence,
        )


class CatalogMapping(Base):
    """A versioned mapping between catalogs (IEC 62443 requirements to CRA Annex I points)."""

    __tablename__ = "catalog_mapping"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    content_digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    links: Mapped[list[RequirementLink]] = relationship(back_populates="mapping", cascade="all, delete-orphan")


class RequirementLink(Base):
    """One mapping row: a source requirement supports a target (or, with no target, supports none)."""

    __tablename__ = "requirement_link"
    __table_args__ = (UniqueConstraint("mapping_id", "source_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mapping_id: Mapped[int] = mapped_column(ForeignKey("catalog_mapping.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("requirement.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("requirement.id", ondelete="CASCADE"), index=True)
    rationale: Mapped[str] = mapped_column(Text)

    mapping: Mapped[CatalogMapping] = relationship(back_populates="links")
    source: Mapped[Requirement] = relationship(foreign_keys=[source_id])
    target: Mapped[Requirement | None] = relationship(foreign_keys=[target_id])


class CatalogAnnotationSet(Base):
    """A versioned annotation document: the project's reading of the standards, kept apart from the
    catalogs so that links keyed by (edition, ref) never change when the reading does."""

    __tablename__ = "catalog_annotation_set"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    content_digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    annotations: Mapped[list[RequirementAnnotation]] = relationship(
        back_populates="annotation_set", cascade="all, delete-orphan"
    )


class RequirementAnnotation(Base):
    """One item's annotation in one set (the fields of rules.Annotation, as JSON)."""

    __tablename__ = "requirement_annotation"
    __table_args__ = (UniqueConstraint("set_id", "requirement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("catalog_annotation_set.id", ondelete="CASCADE"), index=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirement.id", ondelete="CASCADE"), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)

    annotation_set: Mapped[CatalogAnnotationSet] = relationship(back_populates="annotations")
    requirement: Mapped[Requirement] = relationship(lazy="joined")

    def annotation(self) -> Annotation:
        """The row as the pure rules see it."""
        facts = dict(self.facts)
        scope = facts.pop("record_scope", None)
        return Annotation(
            ref=self.requirement.ref,
            record_scope=RecordScope(scope) if scope else None,
            record_kinds=tuple(facts.pop("record_kinds", ())),
            **facts,
        )
