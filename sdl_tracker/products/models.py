"""Products, releases, repositories and interfaces."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from ..catalog.models import CatalogEdition, CatalogMapping

from ..catalog.rules import FOUNDATIONAL_REQUIREMENTS
from ..db import Base, UTCDateTime, str_enum, utcnow

DEFAULT_REF_PATTERNS = ("refs/heads", "refs/tags")


class ComponentType(enum.StrEnum):
    """IEC 62443-4-2 component types."""

    SAR = "SAR"  # software application
    EDR = "EDR"  # embedded device
    HDR = "HDR"  # host device
    NDR = "NDR"  # network device


class CraCategory(enum.StrEnum):
    """CRA product categories (Annexes III and IV)."""

    DEFAULT = "default"
    IMPORTANT_CLASS_I = "important_class_i"
    IMPORTANT_CLASS_II = "important_class_ii"
    CRITICAL = "critical"


class InterfaceKind(enum.StrEnum):
    """How an interface is reached."""

    NETWORK = "network"
    SERIAL = "serial"
    USB = "usb"
    WIRELESS = "wireless"
    DEBUG = "debug"
    FIELDBUS = "fieldbus"
    OTHER = "other"


class ReleaseStatus(enum.StrEnum):
    """Where a release stands."""

    PLANNED = "planned"
    DEVELOPMENT = "development"
    CANDIDATE = "candidate"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


def _level_check(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} BETWEEN 1 AND 4", name=f"{column}_level")


class Product(Base):
    """A component the manufacturer develops and claims capabilities for."""

    __tablename__ = "product"
    __table_args__ = tuple(_level_check(f"target_sl_{fr.lower()}") for fr in FOUNDATIONAL_REQUIREMENTS)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    name_key: Mapped[str] = mapped_column(String(120), unique=True)  # rules.name_key(name)
    vendor: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    component_type: Mapped[ComponentType] = mapped_column(str_enum(ComponentType, "component_type"))
    # The target SL-C vector: the capability level the manufacturer aims to claim per FR.
    target_sl_fr1: Mapped[int] = mapped_column(Integer)
    target_sl_fr2: Mapped[int] = mapped_column(Integer)
    target_sl_fr3: Mapped[int] = mapped_column(Integer)
    target_sl_fr4: Mapped[int] = mapped_column(Integer)
    target_sl_fr5: Mapped[int] = mapped_column(Integer)
    target_sl_fr6: Mapped[int] = mapped_column(Integer)
    target_sl_fr7: Mapped[int] = mapped_column(Integer)
    cra_category: Mapped[CraCategory] = mapped_column(
        str_enum(CraCategory, "cra_category"), default=CraCategory.DEFAULT
    )
    support_period_end: Mapped[date | None] = mapped_column(Date)
    security_contact: Mapped[str] = mapped_column(String(320), default="")
    cvd_policy_url: Mapped[str] = mapped_column(String(500), default="")
    # Review coverage counts a commit only when a signature verified its author (docs/assurance.md).
    require_verified_authors: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    interfaces: Mapped[list[Interface]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Interface.name"
    )
    releases: Mapped[list[Release]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Release.id"
    )
    repositories: Mapped[list[Repository]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Repository.name"
    )
    editions: Mapped[list[ProductEdition]] = relationship(
        cascade="all, delete-orphan", order_by="ProductEdition.standard"
    )

    @property
    def edition_names(self) -> dict[str, str]:
        """The catalog editions the product is assessed against: {standard: edition}."""
        return {pe.standard: pe.edition.edition for pe in self.editions}

    @property
    def target_sl(self) -> dict[str, int]:
        """The target SL-C vector as {"FR1": level, ...}."""
        return {fr: getattr(self, f"target_sl_{fr.lower()}") for fr in FOUNDATIONAL_REQUIREMENTS}

    @target_sl.setter
    def target_sl(self, vector: dict[str, int]) -> None:
        for fr in FOUNDATIONAL_REQUIREMENTS:
            setattr(self, f"target_sl_{fr.lower()}", vector[fr])


class Interface(Base):
    """An external interface of a product: the attack surface (CRA Annex I Part I (2j))."""

    __tablename__ = "interface"
    __table_args__ = (
        UniqueConstraint("product_id", "name"),
        CheckConstraint("port IS NULL OR port BETWEEN 1 AND 65535", name="port_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[InterfaceKind] = mapped_column(str_enum(InterfaceKind, "interface_kind"))
    protocol: Mapped[str] = mapped_column(String(120), default="")
    port: Mapped[int | None] = mapped_column(Integer)

    product: Mapped[Product] = relationship(back_populates="interfaces")


class Release(Base):
    """A version of a product."""

    __tablename__ = "release"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[ReleaseStatus] = mapped_column(
        str_enum(ReleaseStatus, "release_status"), default=ReleaseStatus.PLANNED
    )
    release_date: Mapped[date | None] = mapped_column(Date)
    git_ref: Mapped[str] = mapped_column(String(255), default="")  # a tag name or a commit SHA
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The version of the IEC 62443 -> CRA mapping the release is assessed with: the newest loaded when it was
    # made, moved on only by an officer (audited), so a new mapping never rewrites an old release's file.
    # None only for a release made before any mapping was loaded: reads then use the newest.
    # RESTRICT: a mapping that releases were assessed with cannot disappear under them.
    cra_mapping_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_mapping.id", ondelete="RESTRICT"), index=True
    )

    product: Mapped[Product] = relationship(back_populates="releases")
    cra_mapping: Mapped[CatalogMapping | None] = relationship()

    @property
    def shipped(self) -> bool:
        """Released, or released and then withdrawn: its figures are judged as of its release date."""
        return self.status in (ReleaseStatus.RELEASED, ReleaseStatus.WITHDRAWN)


class Repository(Base):
    """A source repository whose commits belong to a product."""

    __tablename__ = "repository"
    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    location: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Branches and tags at the last scan ({refname: commit}): the next scan reads only what lies
    # beyond them, and release tags resolve without running git in a web request.
    refs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Which refs are history (for-each-ref patterns); never hosting refs such as refs/pull.
    ref_patterns: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_REF_PATTERNS))
    last_scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Removed repositories stay as history (their commits, the evidence linked to them): no scans, no
    # deliveries, no edits; the name stays theirs.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[Product] = relationship(back_populates="repositories")


class ProductEdition(Base):
    """The catalog edition a product is assessed against, per standard."""

    __tablename__ = "product_edition"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    standard: Mapped[str] = mapped_column(String(80), primary_key=True)
    # RESTRICT: an edition that products are assessed against cannot disappear under them.
    edition_id: Mapped[int] = mapped_column(ForeignKey("catalog_edition.id", ondelete="RESTRICT"), index=True)

    edition: Mapped[CatalogEdition] = relationship(lazy="joined")
