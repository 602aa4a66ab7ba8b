"""Catalog editions and requirements as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from pydantic import BaseModel

from .models import CatalogEdition, Requirement
from .rules import Annotation, CrScope, ItemKind, RecordScope
from .services import RequirementView


class EditionOut(BaseModel):
    """A loaded catalog edition."""

    id: int
    catalog: str
    standard: str
    edition: str
    title: str
    published: str
    items: int

    @classmethod
    def of(cls, edition: CatalogEdition) -> EditionOut:
        """An edition with its item count."""
        return cls(
            id=edition.id,
            catalog=edition.catalog,
            standard=edition.standard,
            edition=edition.edition,
            title=edition.title,
            published=edition.published,
            items=len(edition.requirements),
        )


class RequirementOut(BaseModel):
    """A catalog item."""

    standard: str
    edition: str
    id: str
    title: str
    parent: str | None
    kind: ItemKind
    cr_scope: CrScope | None
    component_type: str | None
    practice: str | None
    fr: str | None
    sl_c: list[int] | None
    applies_via: list[str]

    @classmethod
    def of(cls, requirement: Requirement, edition: CatalogEdition) -> RequirementOut:
        """A requirement as export, API and `--json` give it."""
        return cls(
            standard=edition.standard,
            edition=edition.edition,
            id=requirement.ref,
            title=requirement.title,
            parent=requirement.parent_ref,
            kind=requirement.kind,
            cr_scope=requirement.cr_scope,
            component_type=requirement.component_type,
            practice=requirement.practice,
            fr=requirement.fr,
            sl_c=requirement.sl_c,
            applies_via=requirement.applies_via or [],
        )


class MappedPoint(BaseModel):
    """A mapping link: the other end (none: it supports no point) and the rationale."""

    standard: str | None
    id: str | None
    title: str | None
    rationale: str

    @classmethod
    def of(cls, requirement: Requirement | None, rationale: str) -> MappedPoint:
        """One end of a link."""
        if requirement is None:
            return cls(standard=None, id=None, title=None, rationale=rationale)
        return cls(
            standard=requirement.edition.standard, id=requirement.ref, title=requirement.title, rationale=rationale
        )


class AnnotationOut(BaseModel):
    """The project's reading of an item (docs/assurance.md): its clause, where its records live, its condition."""

    conditional: bool
    condition: str
    clause: str
    record_scope: RecordScope | None
    event_driven: bool
    record_kinds: list[str]
    min_tester_independence: str | None
    records: str

    @classmethod
    def of(cls, annotation: Annotation) -> AnnotationOut:
        """An annotation as data."""
        return cls(
            conditional=annotation.conditional,
            condition=annotation.condition,
            clause=annotation.clause,
            record_scope=annotation.record_scope,
            event_driven=annotation.event_driven,
            record_kinds=list(annotation.record_kinds),
            min_tester_independence=annotation.min_tester_independence,
            records=annotation.records,
        )


class RequirementDetail(BaseModel):
    """A catalog item with its enhancements, its mapping and its annotation."""

    requirement: RequirementOut
    children: list[RequirementOut]
    supports: list[MappedPoint]
    supported_by: list[MappedPoint]
    annotation: AnnotationOut | None

    @classmethod
    def of(cls, view: RequirementView, edition: CatalogEdition) -> RequirementDetail:
        """What the requirement page shows, as data."""
        return cls(
            requirement=RequirementOut.of(view.requirement, edition),
            children=[RequirementOut.of(c, edition) for c in view.children],
            supports=[MappedPoint.of(link.target, link.rationale) for link in view.supports],
            supported_by=[MappedPoint.of(link.source, link.rationale) for link in view.supported_by],
            annotation=AnnotationOut.of(view.annotation) if view.annotation else None,
        )
