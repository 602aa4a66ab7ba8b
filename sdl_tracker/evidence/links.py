"""What evidence shows and covers: catalog requirements by id, a product's releases by version."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.models import CatalogEdition, Requirement
from ..catalog.rules import ItemKind
from ..catalog.services import current_editions
from ..errors import FieldError, Invalid
from ..products.models import Product, Release

# Grouping items are not something an activity shows; their requirements are. (The common component
# security constraints CCSC 1-3 are claimed, so evidence may name them.)
NOT_LINKABLE = frozenset({ItemKind.PRACTICE, ItemKind.MATURITY_LEVEL, ItemKind.FOUNDATIONAL_REQUIREMENT})


def _editions_for(session: Session, product: Product | None) -> list[CatalogEdition]:
    if product is not None and product.editions:
        return [pe.edition for pe in product.editions]
    return list(current_editions(session).values())


def _normalise_ref(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def _look_up_requirements(
    session: Session, product: Product | None, refs: Sequence[str]
) -> tuple[list[Requirement], list[str]]:
    """The linkable requirements among `refs`, and the refs that name none."""
    edition_ids = [e.id for e in _editions_for(session, product)]
    found: list[Requirement] = []
    unknown: list[str] = []
    for ref in dict.fromkeys(_normalise_ref(r) for r in refs if r.strip()):
        requirement = session.scalar(
            select(Requirement).where(Requirement.edition_id.in_(edition_ids), Requirement.ref == ref)
        )
        if requirement is None or requirement.kind in NOT_LINKABLE:
            unknown.append(ref)
        else:
            found.append(requirement)
    return found, unknown


def known_requirement_refs(session: Session, product: Product | None, refs: Sequence[str]) -> list[str]:
    """Those of `refs` that the product's catalog editions know: for evidence a record brings with it,
    which links what exists rather than fail on an edition without one of its ids."""
    return [requirement.ref for requirement in _look_up_requirements(session, product, refs)[0]]


def resolve_requirements(session: Session, product: Product | None, refs: Sequence[str]) -> list[Requirement]:
    """Catalog requirements by id (`SR-2`, `CR 3.4`), in the editions the product is assessed against."""
    found, unknown = _look_up_requirements(session, product, refs)
    if unknown:
        raise Invalid(
            "unknown requirement ids",
            errors=[FieldError("requirements", f"unknown requirement {r!r}") for r in unknown],
        )
    return found


def resolve_releases(session: Session, product: Product, versions: Sequence[str]) -> list[Release]:
    """The product's releases by version, else Invalid naming the unknown one."""
    releases = []
    for version in dict.fromkeys(v.strip() for v in versions if v.strip()):
        release = session.scalar(select(Release).where(Release.product_id == product.id, Release.version == version))
        if release is None:
            raise Invalid.field("releases", f"{product.name} has no release {version!r}")
        releases.append(release)
    return releases


def linkable_requirements(session: Session, product: Product | None) -> list[Requirement]:
    """Every requirement evidence of the product may name, in catalog order (for a picker)."""
    edition_ids = [e.id for e in _editions_for(session, product)]
    statement = (
        select(Requirement)
        .where(Requirement.edition_id.in_(edition_ids), Requirement.kind.not_in(NOT_LINKABLE))
        .order_by(Requirement.edition_id, Requirement.position)
    )
    return list(session.scalars(statement))
