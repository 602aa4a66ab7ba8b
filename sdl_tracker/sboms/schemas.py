"""SBOMs, their components and dependencies as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row

from .diff import HEADINGS, Change, Entry
from .models import Sbom, SbomFormat
from .services import SbomComparison


class SbomWarning(BaseModel):
    """A format-only violation kept on the SBOM: where and what."""

    path: str
    message: str


class SbomOut(BaseModel):
    """An SBOM's metadata, counts and format warnings (`created`: only in an import's answer)."""

    id: int
    product_id: int
    release: str
    release_id: int
    title: str
    filename: str
    primary: bool
    format: SbomFormat
    spec_version: str
    format_label: str  # "CycloneDX 1.6 JSON", "SPDX 2.3 tag-value"
    sha256: str
    size: int
    serial_number: str
    bom_version: int
    generated_at: datetime | None
    subject: dict[str, Any] | None
    tools: list[dict[str, str]]
    components: int
    dependencies: int
    services: int
    warnings: list[SbomWarning]
    strict: bool
    evidence_id: int | None
    imported_by: str
    imported_at: datetime
    created: bool | None = None

    @classmethod
    def of(cls, sbom: Sbom, *, created: bool | None = None) -> SbomOut:
        """An SBOM's metadata, counts and warnings."""
        return cls(
            id=sbom.id,
            product_id=sbom.product_id,
            release=sbom.release.version,
            release_id=sbom.release_id,
            title=sbom.title,
            filename=sbom.filename,
            primary=sbom.is_primary,
            format=sbom.format,
            spec_version=sbom.spec_version,
            format_label=sbom.format_label,
            sha256=sbom.sha256,
            size=sbom.size,
            serial_number=sbom.serial_number,
            bom_version=sbom.bom_version,
            generated_at=sbom.generated_at,
            subject=sbom.subject,
            tools=sbom.tools,
            components=sbom.component_count,
            dependencies=sbom.dependency_count,
            services=sbom.service_count,
            warnings=[SbomWarning.model_validate(w) for w in sbom.warnings],
            strict=sbom.strict,
            evidence_id=sbom.evidence_id,
            imported_by=sbom.imported_by,
            imported_at=sbom.imported_at,
            created=created,
        )


class ComponentFields(BaseModel):
    """What a component list and a diff both show of a component."""

    position: int
    type: str
    group: str
    name: str
    version: str
    purl: str
    cpe: str
    supplier: str
    hashes: list[dict[str, str]]
    licenses: list[dict[str, str]]


class ComponentOut(ComponentFields):
    """A component listed in an SBOM."""

    parent_position: int | None
    bom_ref: str
    scope: str

    @classmethod
    def of(cls, component: Row[Any]) -> ComponentOut:
        """One component row."""
        return cls(
            position=component.position,
            parent_position=component.parent_position,
            bom_ref=component.bom_ref,
            type=component.type,
            group=component.group_name,
            name=component.name,
            version=component.version,
            purl=component.purl,
            cpe=component.cpe,
            scope=component.scope,
            supplier=component.supplier,
            hashes=component.hashes,
            licenses=component.licenses,
        )


class DependencyOut(BaseModel):
    """A dependency edge between bom-refs."""

    ref: str
    depends_on: str

    @classmethod
    def of(cls, edge: tuple[str, str]) -> DependencyOut:
        """An edge (ref, depends on)."""
        return cls(ref=edge[0], depends_on=edge[1])


class PolicyOut(BaseModel):
    """A product's SBOM import policy."""

    product_id: int
    strict: bool


class DiffComponentOut(ComponentFields):
    """A component as a diff shows it, with the components it is nested in (`group/name@version`, outermost
    first)."""

    parents: list[str]

    @classmethod
    def of(cls, entry: Entry) -> DiffComponentOut:
        """One side of a change."""
        c = entry.component
        return cls(
            position=c.position,
            parents=list(entry.parents),
            type=c.type,
            group=c.group,
            name=c.name,
            version=c.version,
            purl=c.purl,
            cpe=c.cpe,
            supplier=c.supplier,
            hashes=[{"alg": alg, "content": content} for alg, content in c.hashes],
            licenses=[{kind: value} for kind, value in c.licenses],
        )


class DiffChangeOut(BaseModel):
    """One line of a diff: the identity both sides share, the old component, the new one (null: none)."""

    identity: str
    before: DiffComponentOut | None
    after: DiffComponentOut | None

    @classmethod
    def of(cls, change: Change) -> DiffChangeOut:
        """A change."""
        return cls(
            identity=change.identity,
            before=DiffComponentOut.of(change.before) if change.before else None,
            after=DiffComponentOut.of(change.after) if change.after else None,
        )


class SbomDiffOut(BaseModel):
    """What changed from one SBOM (`before`) to another (`after`); a pair is listed under each heading that
    applies (an upgrade that changed the licence too is in `upgraded` and `license_changed`)."""

    before: SbomOut
    after: SbomOut
    added: list[DiffChangeOut]
    removed: list[DiffChangeOut]
    upgraded: list[DiffChangeOut]
    downgraded: list[DiffChangeOut]
    license_changed: list[DiffChangeOut]
    supplier_changed: list[DiffChangeOut]
    hash_changed: list[DiffChangeOut]  # the same version with other digests: a rebuild, or tampering
    unchanged: int

    @classmethod
    def of(cls, comparison: SbomComparison) -> SbomDiffOut:
        """A comparison of two SBOMs."""
        result = comparison.diff
        lists = {name: [DiffChangeOut.of(c) for c in getattr(result, name)] for name in HEADINGS}
        return cls(
            before=SbomOut.of(comparison.before),
            after=SbomOut.of(comparison.after),
            unchanged=result.unchanged,
            **lists,
        )


def license_text(licenses: list[dict[str, str]]) -> str:
    """A component's licenses as one line for pages: ids, names and expressions joined."""
    return ", ".join(next(iter(item.values()), "") for item in licenses)
