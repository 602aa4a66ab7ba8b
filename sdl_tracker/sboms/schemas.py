"""SBOMs, their components and dependencies as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row

from .diff import HEADINGS, Change, Entry
from .models import Sbom, SbomFormat
from .queries import ComponentPaths, HistoryEntry, Hit, LicenceSummary, WhereFound
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


class ComponentHitOut(BaseModel):
    """A component a search found, and the release whose primary SBOM holds it."""

    product_id: int
    product: str
    release_id: int
    release: str
    sbom_id: int
    sbom_title: str
    position: int
    parent_position: int | None
    type: str
    group: str
    name: str
    version: str
    purl: str
    cpe: str

    @classmethod
    def of(cls, hit: Hit) -> ComponentHitOut:
        """One hit."""
        return cls(**asdict(hit))


class ComponentSearchOut(BaseModel):
    """A page of a component search: `understood` says how the query was read; `releases` and `products`
    count every match, not the page's; `truncated`: too many candidates were read to answer (narrow it)."""

    query: str
    understood: str
    items: list[ComponentHitOut]
    total: int
    page: int
    per_page: int
    releases: int
    products: int
    truncated: bool

    @classmethod
    def of(cls, found: WhereFound, page: int, per_page: int) -> ComponentSearchOut:
        """A search's page."""
        return cls(
            query=found.wanted.text,
            understood=found.wanted.description,
            items=[ComponentHitOut.of(h) for h in found.items],
            total=found.total,
            page=page,
            per_page=per_page,
            releases=found.releases,
            products=found.products,
            truncated=found.truncated,
        )


class LicenceCountOut(BaseModel):
    """A licence as the SBOM gives it (`kind`: id, name or expression) and how many components give it."""

    kind: str
    value: str
    components: int


class LicenceSummaryOut(BaseModel):
    """The licences of a release's primary SBOM's components, most given first; `without_licence` components
    give none (a component with two licences counts under each)."""

    sbom_id: int
    release: str
    components: int
    without_licence: int
    licences: list[LicenceCountOut]

    @classmethod
    def of(cls, summary: LicenceSummary) -> LicenceSummaryOut:
        """A release's licence summary."""
        return cls(
            sbom_id=summary.sbom.id,
            release=summary.sbom.release.version,
            components=summary.components,
            without_licence=summary.without,
            licences=[LicenceCountOut(kind=c.kind, value=c.value, components=c.components) for c in summary.licences],
        )


class NodeOut(BaseModel):
    """A ref of the dependency graph: a component (`position`), or the subject or a service (position null)."""

    ref: str
    label: str
    position: int | None


class PathOut(BaseModel):
    """The component first, then what depends on it, up to `end`: `root` (nothing depends on it), `cycle` (a
    dependent already on the path) or `depth` (the limit)."""

    nodes: list[NodeOut]
    end: str


class PulledOut(NodeOut):
    """A transitive dependency, `depth` steps away, first reached through `via`."""

    depth: int
    via: str


class ComponentPathsOut(BaseModel):
    """What depends on a component (paths to the roots, at most `max_paths`, `dependents_cut` when there were
    more) and what it pulls in (within `max_depth` steps, `pulls_in_cut` when more lay beyond)."""

    sbom_id: int
    component: ComponentOut
    dependents: list[PathOut]
    dependents_cut: bool
    pulls_in: list[PulledOut]
    pulls_in_cut: bool
    max_paths: int
    max_depth: int

    @classmethod
    def of(cls, found: ComponentPaths) -> ComponentPathsOut:
        """A component's paths."""

        def node(ref: str) -> NodeOut:
            n = found.nodes[ref]
            return NodeOut(ref=n.ref, label=n.label, position=n.position)

        return cls(
            sbom_id=found.sbom.id,
            component=ComponentOut.of(found.component),
            dependents=[PathOut(nodes=[node(r) for r in p.refs], end=p.end) for p in found.dependents.paths],
            dependents_cut=found.dependents.cut,
            pulls_in=[PulledOut(**node(p.ref).model_dump(), depth=p.depth, via=p.via) for p in found.pulled],
            pulls_in_cut=found.pulled_cut,
            max_paths=found.max_paths,
            max_depth=found.max_depth,
        )


class PeriodOut(BaseModel):
    """From when until when (null: still) an SBOM was its release's primary one."""

    start: datetime
    end: datetime | None


class HistoryEntryOut(BaseModel):
    """An SBOM the release had: its metadata and counts, when it was primary, and the SBOM imported before it
    (`previous_sbom_id`; the diff takes both: `/products/{id}/sboms/diff?from_sbom=...&to_sbom=...`)."""

    sbom: SbomOut
    primary_periods: list[PeriodOut]
    previous_sbom_id: int | None

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryOut:
        """One SBOM of the history."""
        return cls(
            sbom=SbomOut.of(entry.sbom),
            primary_periods=[PeriodOut(start=p.start, end=p.end) for p in entry.periods],
            previous_sbom_id=entry.previous.id if entry.previous else None,
        )
