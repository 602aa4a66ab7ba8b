"""What a release's claims are judged against: the product's catalog, the release's window and date, and
evidence as the claim rules see it (shared by writing claims and judging them)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import kept
from ..catalog.models import CatalogEdition, Requirement, RequirementLink
from ..catalog.rules import STANDARD_4_2, Annotation, CatalogItem, annotation_of
from ..catalog.services import annotations_for, links_from_each
from ..db import utcnow
from ..evidence.models import Evidence
from ..evidence.scoping import product_intervals
from ..evidence.standing import ReleaseWindow, judged_on, release_window
from ..products.models import Product, Release
from ..products.rules import previous_release
from .rules import (
    Applicability,
    ClaimContext,
    EvidenceFacts,
    Verification,
    applicable,
    resolution_chain,
)


@dataclass(frozen=True)
class ProductCatalog:
    """The 4-2 edition a product is assessed against, what applies to its type, and the rows by id."""

    edition: CatalogEdition | None
    applicability: Applicability
    rows: dict[str, Requirement]
    annotations: Mapping[str, Annotation] = field(default_factory=dict)
    known_items: dict[str, CatalogItem] | None = None  # the rows' items, when already built

    def items(self) -> dict[str, CatalogItem]:
        """Every item of the edition by id, as the pure rules see them (built once: every claim asks)."""
        return self._items

    @cached_property
    def _items(self) -> dict[str, CatalogItem]:
        if self.known_items is not None:
            return self.known_items
        return {ref: row.item() for ref, row in self.rows.items()}

    def conditional(self, ref: str) -> bool:
        """Whether the item applies only when the component has a feature (catalog annotations)."""
        return annotation_of(ref, self.items(), self.annotations).conditional


def product_catalog(session: Session, product: Product) -> ProductCatalog:
    """What of IEC 62443-4-2 applies to the product's component type."""
    edition = next((pe.edition for pe in product.editions if pe.standard == STANDARD_4_2), None)
    if edition is None:
        return ProductCatalog(None, Applicability([], {}, []), {})
    rows = list(
        session.scalars(select(Requirement).where(Requirement.edition_id == edition.id).order_by(Requirement.position))
    )
    component_type = product.component_type.value

    def judge() -> tuple[Applicability, dict[str, CatalogItem]]:
        items = [r.item() for r in rows]
        return applicable(items, component_type), {item.ref: item for item in items}

    # A loaded edition's items never change (loading other content under its name is refused): what applies
    # to a component type is kept per edition, not worked out again on every page.
    applicability, items = kept(session, ("4-2 applicability", component_type), judge, version=edition.id)
    return ProductCatalog(
        edition, applicability, {r.ref: r for r in rows}, annotations_for(session, STANDARD_4_2), items
    )


def cra_links(
    session: Session, catalog: ProductCatalog, ref: str, mapping_id: int | None = None
) -> list[RequirementLink]:
    """The CRA points an item supports in a mapping version (a release's pinned one; default the newest): its
    own mapping rows, else those of the item it resolves to (CR 1.1 RE(1) -> CR 1.1; EDR 3.10 -> CR 3.10), as
    the mapping is kept per CR."""
    return cra_links_of(session, catalog, [ref], mapping_id)[ref]


def cra_links_of(
    session: Session, catalog: ProductCatalog, refs: Collection[str], mapping_id: int | None = None
) -> dict[str, list[RequirementLink]]:
    """`cra_links` of many items at once, in a fixed number of statements (a page lists every item)."""
    items = catalog.items()
    chains = {ref: resolution_chain(ref, items) for ref in refs}
    rows = {step: catalog.rows[step] for chain in chains.values() for step in chain if step in catalog.rows}
    links = links_from_each(session, list(rows.values()), mapping_id)
    return {
        ref: next((links[rows[step].id] for step in chain if step in rows and links.get(rows[step].id)), [])
        for ref, chain in chains.items()
    }


@dataclass(frozen=True)
class ReleaseTerms:
    """What a release's claims are judged against: the window product-wide evidence must fall in, and the
    date (a released release: its release date)."""

    window: ReleaseWindow
    judged_on: date
    intervals: dict[str, int | None]  # the product's own review intervals by evidence kind


def release_terms(session: Session, release: Release, today: date | None = None) -> ReleaseTerms:
    """The release's window (from the previous release's date or creation) and the date it is judged on."""
    today = today or utcnow().date()
    siblings = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    previous = previous_release(siblings, release.version)
    window = release_window(
        release.id,
        release.release_date,
        previous.release_date if previous else None,
        previous.created_at.date() if previous else None,
        today,
    )
    return ReleaseTerms(
        window,
        judged_on(release.shipped, release.release_date, today),
        product_intervals(session, release.product_id),
    )


def evidence_facts(evidence: Evidence, as_of: date | None = None) -> EvidenceFacts:
    """Evidence as the claim rules see it: its current revision, or the one that stood on `as_of` with the
    review state it had then (a figure judged on a release date is not raised by what came later)."""
    stood = evidence.revision_on(as_of) if as_of is not None else evidence.current
    revision = stood or evidence.revisions[0]
    return EvidenceFacts(
        id=evidence.id,
        kind=evidence.kind,
        product_id=evidence.product_id,
        scope=evidence.scope,
        release_ids=frozenset(link.release_id for link in revision.release_links),
        refs=frozenset(
            (link.requirement.edition.standard, link.requirement.ref) for link in revision.requirement_links
        ),
        effective=revision.effective_date,
        review_due=revision.review_due,
        state=revision.state_on(as_of) if as_of is not None else revision.state,
        tester_independence=revision.tester_independence,
        recorded=stood is not None,
    )


def claim_context(
    catalog: ProductCatalog, release: Release, terms: ReleaseTerms, ref: str, verification: Verification | None
) -> ClaimContext:
    """A claim as the evidence rules see it."""
    return ClaimContext(
        ref, resolution_chain(ref, catalog.items()), release.product_id, release.version, terms.window, verification
    )
