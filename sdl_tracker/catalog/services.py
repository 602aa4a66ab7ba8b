"""Loading catalog editions and mappings (idempotently), and reading them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from ..audit.services import kept, record
from ..auth import Permission, Principal, authorize
from ..errors import Conflict, FieldError, Invalid, NotFound
from .models import (
    CatalogAnnotationSet,
    CatalogEdition,
    CatalogMapping,
    Requirement,
    RequirementAnnotation,
    RequirementLink,
)
from .rules import (
    STANDARD_4_1,
    STANDARD_4_2,
    Annotation,
    ItemKind,
    annotation_of,
    edition_differences,
    filter_items,
    parse_annotations,
    parse_catalog,
    parse_mapping,
)

# Loaded in this order: the mapping refers to the three catalogs.
PACKAGED_CATALOGS = ("iec62443-4-1.json", "iec62443-4-2.json", "cra.json")
# In version order: the newest loaded version of a mapping is the one a new release pins.
PACKAGED_MAPPINGS = ("mapping-cra.json", "mapping-cra-2026.2.json")
CRA_MAPPING = "iec62443-to-cra-annex-i"
PACKAGED_ANNOTATIONS = ("annotations.json",)
# Every requirement of these kinds must appear in a mapping (with targets, or saying it has none).
MAPPED_KINDS = (ItemKind.PROCESS_REQUIREMENT, ItemKind.COMPONENT_REQUIREMENT)


@dataclass(frozen=True)
class LoadResult:
    """What loading one document did."""

    what: str  # "IEC 62443-4-2 2019" or "mapping iec62443-to-cra-annex-i 2026.1"
    created: bool
    items: int


def _digest(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def packaged_document(name: str) -> Any:
    """A catalog or mapping document shipped with the package."""
    return json.loads(resources.files("sdl_tracker.catalog").joinpath("data", name).read_text(encoding="utf-8"))


def _conflict(what: str, problems: list[str]) -> Conflict:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Conflict(
        f"{what} is already loaded with different content: {problems[0]}{more}; "
        "a changed standard needs a new edition id",
        errors=[FieldError("document", p) for p in problems[:20]],
    )


def load_catalog(session: Session, actor: Principal, document: Any) -> LoadResult:
    """Load a catalog edition; loading the same content again changes nothing, changed content is refused."""
    authorize(actor, Permission.CATALOG_MANAGE)
    parsed = parse_catalog(document)
    what = f"{parsed.standard} {parsed.edition}"
    edition = session.scalar(
        select(CatalogEdition)
        .where(CatalogEdition.standard == parsed.standard, CatalogEdition.edition == parsed.edition)
        .options(selectinload(CatalogEdition.requirements))
    )
    if edition is not None:
        problems = edition_differences([r.item() for r in edition.requirements], parsed.items)
        if not problems and edition.content_digest != _digest(document):
            problems = ["the edition's title, publication date or metadata (dates, clocks, counts) changed"]
        if problems:
            raise _conflict(what, problems)
        return LoadResult(what, created=False, items=len(parsed.items))

    edition = CatalogEdition(
        catalog=parsed.catalog,
        standard=parsed.standard,
        edition=parsed.edition,
        title=parsed.title,
        published=parsed.published,
        meta=parsed.meta,
        content_digest=_digest(document),
    )
    edition.requirements = [
        Requirement(
            ref=item.ref,
            title=item.title,
            kind=item.kind,
            parent_ref=item.parent,
            practice=item.practice,
            fr=item.fr,
            component_type=item.component_type,
            sl_c=list(item.sl_c) if item.sl_c is not None else None,
            applies_via=list(item.applies_via),
            cr_scope=item.cr_scope,
            confidence=item.confidence,
            position=position,
        )
        for position, item in enumerate(parsed.items)
    ]
    session.add(edition)
    session.flush()
    record(
        session,
        actor,
        "catalog:edition:load",
        target_type="catalog_edition",
        target_id=edition.id,
        details={
            "standard": parsed.standard,
            "edition": parsed.edition,
            "items": len(parsed.items),
            "digest": edition.content_digest,
        },
    )
    return LoadResult(what, created=True, items=len(parsed.items))


def load_mapping(session: Session, actor: Principal, document: Any) -> LoadResult:
    """Load a versioned mapping; every source requirement and CRA point must exist, and it must be complete."""
    authorize(actor, Permission.CATALOG_MANAGE)
    parsed = parse_mapping(document)
    what = f"mapping {parsed.name} {parsed.version}"
    editions: dict[str, CatalogEdition] = {}
    for standard, edition_id in parsed.source_editions.items():
        edition = find_edition(session, standard, edition_id)
        if edition is None:
            raise Invalid.field("source_editions", f"{standard} edition {edition_id} is not loaded")
        editions[standard] = edition
    if parsed.target_standard not in editions:
        raise Invalid.field("source_editions", f"the {parsed.target_standard} edition is not named")
    refs = {
        (standard, r.ref): r
        for standard, edition in editions.items()
        for r in session.scalars(select(Requirement).where(Requirement.edition_id == edition.id))
    }
    wanted: set[tuple[str, str | None, str]] = set()
    errors: list[FieldError] = []
    for index, row in enumerate(parsed.rows):
        if (row.standard, row.ref) not in refs:
            errors.append(FieldError(f"rows[{index}]", f"unknown requirement {row.standard} {row.ref}"))
        for point in row.targets:
            if (parsed.target_standard, point) not in refs:
                errors.append(FieldError(f"rows[{index}]", f"unknown {parsed.target_standard} point {point}"))
        targets: tuple[str | None, ...] = row.targets or (None,)
        wanted.update((f"{row.standard}|{row.ref}", target, row.rationale) for target in targets)
    mapped = {(row.standard, row.ref) for row in parsed.rows}
    missing = sorted(
        f"{standard} {r.ref}"
        for (standard, _ref), r in refs.items()
        if r.kind in MAPPED_KINDS and (standard, r.ref) not in mapped
    )
    if missing:
        errors.append(FieldError("rows", f"no row for: {', '.join(missing)}"))
    if errors:
        raise Invalid(f"{what} is not valid", errors=errors)

    mapping = session.scalar(
        select(CatalogMapping).where(CatalogMapping.name == parsed.name, CatalogMapping.version == parsed.version)
    )
    if mapping is not None:
        stored = {
            (
                f"{link.source.edition.standard}|{link.source.ref}",
                link.target.ref if link.target else None,
                link.rationale,
            )
            for link in mapping.links
        }
        if stored != wanted:
            raise _conflict(what, [f"{len(stored ^ wanted)} mapping rows differ"])
        return LoadResult(what, created=False, items=len(parsed.rows))

    mapping = CatalogMapping(name=parsed.name, version=parsed.version, content_digest=_digest(document))
    for row in parsed.rows:
        source = refs[(row.standard, row.ref)]
        for point in row.targets:
            target_row = refs[(parsed.target_standard, point)]
            mapping.links.append(RequirementLink(source=source, target=target_row, rationale=row.rationale))
        if not row.targets:  # the row says, with its rationale, that the requirement supports no point
            mapping.links.append(RequirementLink(source=source, target=None, rationale=row.rationale))
    session.add(mapping)
    session.flush()
    record(
        session,
        actor,
        "catalog:mapping:load",
        target_type="catalog_mapping",
        target_id=mapping.id,
        details={"name": parsed.name, "version": parsed.version, "rows": len(parsed.rows)},
    )
    return LoadResult(what, created=True, items=len(parsed.rows))


def _annotation_facts(annotation: Annotation) -> dict[str, Any]:
    facts = {
        "conditional": annotation.conditional,
        "condition": annotation.condition,
        "clause": annotation.clause,
        "record_scope": annotation.record_scope.value if annotation.record_scope else None,
        "event_driven": annotation.event_driven,
        "record_kinds": list(annotation.record_kinds),
        "min_tester_independence": annotation.min_tester_independence,
        "records": annotation.records,
    }
    return {key: value for key, value in facts.items() if value not in (None, "", False, [])}


def load_annotations(session: Session, actor: Principal, document: Any) -> LoadResult:
    """Load a versioned annotation document; every 4-1 requirement of its edition must be annotated and
    every item it names must exist. Loading the same content again changes nothing."""
    authorize(actor, Permission.CATALOG_MANAGE)
    parsed = parse_annotations(document)
    what = f"annotations {parsed.name} {parsed.version}"
    rows: dict[str, dict[str, Requirement]] = {}
    for standard in (STANDARD_4_1, STANDARD_4_2):
        edition_id = parsed.source_editions.get(standard)
        edition = find_edition(session, standard, edition_id) if edition_id else None
        if edition is None:
            raise Invalid.field("source_editions", f"{standard} edition {edition_id} is not loaded")
        rows[standard] = {r.ref: r for r in edition_requirements(session, edition)}
    errors: list[FieldError] = []
    for standard, stated in ((STANDARD_4_1, parsed.process), (STANDARD_4_2, parsed.component)):
        errors += [
            FieldError("items", f"unknown {standard} item {a.ref}") for a in stated if a.ref not in rows[standard]
        ]
    annotated = {a.ref for a in parsed.process}
    missing = [
        r.ref for r in rows[STANDARD_4_1].values() if r.kind is ItemKind.PROCESS_REQUIREMENT and r.ref not in annotated
    ]
    if missing:
        errors.append(FieldError("process_requirements", f"no annotation for: {', '.join(missing)}"))
    if errors:
        raise Invalid(f"{what} is not valid", errors=errors)
    digest = _digest(document)
    existing = session.scalar(
        select(CatalogAnnotationSet).where(
            CatalogAnnotationSet.name == parsed.name, CatalogAnnotationSet.version == parsed.version
        )
    )
    if existing is not None:
        if existing.content_digest != digest:
            raise _conflict(what, ["the annotations differ from the loaded version"])
        return LoadResult(what, created=False, items=len(existing.annotations))
    annotation_set = CatalogAnnotationSet(name=parsed.name, version=parsed.version, content_digest=digest)
    annotation_set.annotations = [
        RequirementAnnotation(requirement=rows[standard][a.ref], facts=_annotation_facts(a))
        for standard, stated in ((STANDARD_4_1, parsed.process), (STANDARD_4_2, parsed.component))
        for a in stated
    ]
    session.add(annotation_set)
    session.flush()
    record(
        session,
        actor,
        "catalog:annotations:load",
        target_type="catalog_annotation_set",
        target_id=annotation_set.id,
        details={"name": parsed.name, "version": parsed.version, "items": len(annotation_set.annotations)},
    )
    return LoadResult(what, created=True, items=len(annotation_set.annotations))


def annotations_for(session: Session, standard: str) -> dict[str, Annotation]:
    """The newest loaded annotations of a standard's items, by id: by standard and id, not edition, so a
    later edition keeps the reading of the ids it shares with the annotated one."""
    newest = session.scalar(select(func.max(CatalogAnnotationSet.id)))
    if newest is None:
        return {}

    def read() -> dict[str, Annotation]:
        rows = session.scalars(
            select(RequirementAnnotation)
            .join(Requirement, Requirement.id == RequirementAnnotation.requirement_id)
            .join(CatalogEdition, CatalogEdition.id == Requirement.edition_id)
            .where(RequirementAnnotation.set_id == newest, CatalogEdition.standard == standard)
            .options(contains_eager(RequirementAnnotation.requirement))
        )
        return {row.requirement.ref: row.annotation() for row in rows}

    # A loaded set never changes (loading other content under its name and version is refused): kept by its id.
    return dict(kept(session, ("annotations", standard), read, version=newest))


def load_packaged(session: Session, actor: Principal) -> list[LoadResult]:
    """Load every catalog and mapping shipped with the package (run by `db upgrade` and `demo`)."""
    results = [load_catalog(session, actor, packaged_document(name)) for name in PACKAGED_CATALOGS]
    results += [load_mapping(session, actor, packaged_document(name)) for name in PACKAGED_MAPPINGS]
    results += [load_annotations(session, actor, packaged_document(name)) for name in PACKAGED_ANNOTATIONS]
    return results


def list_editions(session: Session) -> list[CatalogEdition]:
    """Every loaded edition, by standard and then newest first."""
    editions = session.scalars(select(CatalogEdition)).all()
    return sorted(editions, key=lambda e: (e.standard, -int(e.published.replace("-", ""))))


def current_editions(session: Session) -> dict[str, CatalogEdition]:
    """The newest loaded edition of each standard: what a new product is assessed against."""
    current: dict[str, CatalogEdition] = {}
    for edition in session.scalars(select(CatalogEdition)):
        if edition.standard not in current or edition.published > current[edition.standard].published:
            current[edition.standard] = edition
    return current


def find_edition(session: Session, standard: str, edition: str) -> CatalogEdition | None:
    """An edition by standard and edition id."""
    return session.scalar(
        select(CatalogEdition).where(CatalogEdition.standard == standard, CatalogEdition.edition == edition)
    )


def get_edition(session: Session, edition_id: int) -> CatalogEdition:
    """An edition by id, else NotFound."""
    edition = session.get(CatalogEdition, edition_id)
    if edition is None:
        raise NotFound("catalog edition not found")
    return edition


def edition_requirements(session: Session, edition: CatalogEdition) -> list[Requirement]:
    """Every item of an edition, in catalog order."""
    return list(
        session.scalars(select(Requirement).where(Requirement.edition_id == edition.id).order_by(Requirement.position))
    )


def get_requirement(session: Session, edition: CatalogEdition, ref: str) -> Requirement:
    """An item of an edition by its id (`CR 1.1 RE(1)`), else NotFound."""
    requirement = session.scalar(
        select(Requirement).where(Requirement.edition_id == edition.id, Requirement.ref == ref)
    )
    if requirement is None:
        raise NotFound(f"{edition.standard} {edition.edition} has no requirement {ref!r}")
    return requirement


def _latest_mapping_ids(session: Session) -> list[int]:
    newest: dict[str, CatalogMapping] = {}
    for mapping in session.scalars(select(CatalogMapping).order_by(CatalogMapping.id)):
        newest[mapping.name] = mapping
    return [m.id for m in newest.values()]


def _mapping_ids(session: Session, mapping_id: int | None) -> list[int]:
    """The mapping a read uses: the one named (a release's pinned version), else the newest of each."""
    return [mapping_id] if mapping_id is not None else _latest_mapping_ids(session)


def newest_mapping(session: Session, name: str = CRA_MAPPING) -> CatalogMapping | None:
    """The newest loaded version of a mapping (loaded in version order), None when none is loaded."""
    return session.scalar(select(CatalogMapping).where(CatalogMapping.name == name).order_by(CatalogMapping.id.desc()))


def get_mapping(session: Session, version: str, name: str = CRA_MAPPING) -> CatalogMapping:
    """A loaded mapping version, else NotFound."""
    mapping = session.scalar(
        select(CatalogMapping).where(CatalogMapping.name == name, CatalogMapping.version == version)
    )
    if mapping is None:
        raise NotFound(f"mapping {name} has no loaded version {version!r}")
    return mapping


def links_from(session: Session, requirement: Requirement, mapping_id: int | None = None) -> list[RequirementLink]:
    """What `requirement` supports in a mapping version (default the newest; a link without target: supports
    none)."""
    return list(
        session.scalars(
            select(RequirementLink)
            .where(
                RequirementLink.source_id == requirement.id,
                RequirementLink.mapping_id.in_(_mapping_ids(session, mapping_id)),
            )
            .options(selectinload(RequirementLink.target))
        )
    )


def links_from_each(
    session: Session, requirements: Collection[Requirement], mapping_id: int | None = None
) -> dict[int, list[RequirementLink]]:
    """`links_from` for many requirements in two statements: by requirement id (absent: no links)."""
    found: dict[int, list[RequirementLink]] = {}
    if not requirements:
        return found
    links = session.scalars(
        select(RequirementLink)
        .where(
            RequirementLink.source_id.in_([r.id for r in requirements]),
            RequirementLink.mapping_id.in_(_mapping_ids(session, mapping_id)),
        )
        .order_by(RequirementLink.id)
        .options(selectinload(RequirementLink.target))
    )
    for link in links:
        found.setdefault(link.source_id, []).append(link)
    return found


def links_to(session: Session, requirement: Requirement, mapping_id: int | None = None) -> list[RequirementLink]:
    """The requirements that support `requirement` (a CRA point) in a mapping version (default the newest)."""
    return links_to_each(session, [requirement], mapping_id).get(requirement.id, [])


def links_to_each(
    session: Session, targets: Collection[Requirement], mapping_id: int | None = None
) -> dict[int, list[RequirementLink]]:
    """`links_to` for many CRA points in a fixed number of statements: by target id (absent: none maps to it)."""
    found: dict[int, list[RequirementLink]] = {}
    if not targets:
        return found
    links = session.scalars(
        select(RequirementLink)
        .where(
            RequirementLink.target_id.in_([t.id for t in targets]),
            RequirementLink.mapping_id.in_(_mapping_ids(session, mapping_id)),
        )
        .options(selectinload(RequirementLink.source).selectinload(Requirement.edition))
    ).all()
    for link in sorted(links, key=lambda link: (link.source.edition.standard, link.source.position)):
        assert link.target_id is not None  # selected by target
        found.setdefault(link.target_id, []).append(link)
    return found


def mapping_versions(session: Session) -> list[CatalogMapping]:
    """Every loaded mapping version."""
    return list(session.scalars(select(CatalogMapping).order_by(CatalogMapping.name, CatalogMapping.id)))


def export_rows(
    session: Session, *, standard: str | None = None, edition: str | None = None
) -> list[tuple[Requirement, CatalogEdition]]:
    """Every requirement with its edition, in standard, publication and catalog order."""
    query = select(Requirement, CatalogEdition).join(CatalogEdition)
    if standard:
        query = query.where(CatalogEdition.standard == standard)
    if edition:
        query = query.where(CatalogEdition.edition == edition)
    rows = session.execute(query.order_by(CatalogEdition.standard, CatalogEdition.published, Requirement.position))
    return [(requirement, catalog_edition) for requirement, catalog_edition in rows]


@dataclass(frozen=True)
class RequirementFilter:
    """What a catalog search asks for; every field optional."""

    query: str = ""
    kind: str | None = None
    fr: str | None = None
    component_type: str | None = None
    level: int | None = None
    practice: str | None = None


def search_requirements(session: Session, edition: CatalogEdition, wanted: RequirementFilter) -> list[Requirement]:
    """An edition's items matching the filter, in catalog order."""
    rows = edition_requirements(session, edition)
    matches = {
        item.ref
        for item in filter_items(
            (row.item() for row in rows),
            query=wanted.query,
            kind=wanted.kind,
            fr=wanted.fr,
            component_type=wanted.component_type,
            level=wanted.level,
            practice=wanted.practice,
        )
    }
    return [row for row in rows if row.ref in matches]


@dataclass(frozen=True)
class RequirementView:
    """A requirement with what surrounds it: parent, enhancements, mapped CRA points, supporters."""

    requirement: Requirement
    parent: Requirement | None
    children: list[Requirement]
    supports: list[RequirementLink]  # CRA points this requirement supports (target None: none)
    supported_by: list[RequirementLink]  # for a CRA point: the requirements that support it
    annotation: Annotation | None  # the project's reading: conditional item, clause, record scope


def requirement_view(session: Session, edition: CatalogEdition, ref: str) -> RequirementView:
    """Everything the requirement page shows."""
    requirement = get_requirement(session, edition, ref)
    parent = (
        session.scalar(
            select(Requirement).where(Requirement.edition_id == edition.id, Requirement.ref == requirement.parent_ref)
        )
        if requirement.parent_ref
        else None
    )
    children = list(
        session.scalars(
            select(Requirement)
            .where(Requirement.edition_id == edition.id, Requirement.parent_ref == requirement.ref)
            .order_by(Requirement.position)
        )
    )
    return RequirementView(
        requirement,
        parent,
        children,
        links_from(session, requirement),
        links_to(session, requirement),
        _annotation_of(session, edition, requirement),
    )


def _annotation_of(session: Session, edition: CatalogEdition, requirement: Requirement) -> Annotation | None:
    if edition.standard not in (STANDARD_4_1, STANDARD_4_2):
        return None
    items = {row.ref: row.item() for row in edition_requirements(session, edition)}
    annotation = annotation_of(requirement.ref, items, annotations_for(session, edition.standard))
    return annotation if annotation != Annotation(requirement.ref) else None
