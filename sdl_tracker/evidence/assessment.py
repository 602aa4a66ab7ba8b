"""Coverage of a product or release, and maturity self-assessments per practice (services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Principal
from ..catalog.models import CatalogEdition, Requirement
from ..catalog.rules import ItemKind
from ..db import utcnow
from ..errors import FieldError, Invalid
from ..products.models import Product, Release
from ..products.services import authorize_manage_product, get_product
from .coverage import EvidenceFact, PracticeSummary, RequirementCoverage, compute_coverage, summarise
from .models import EvidenceScope, PracticeMaturity
from .queries import EvidenceQuery, list_evidence

STANDARD_4_1 = "IEC 62443-4-1"


@dataclass(frozen=True)
class Coverage:
    """The heat map of one product, or one of its releases."""

    product: Product
    release: Release | None
    edition: CatalogEdition | None
    cells: list[RequirementCoverage]
    practices: list[PracticeSummary]
    maturity: dict[str, PracticeMaturity]


def _edition_4_1(session: Session, product: Product) -> CatalogEdition | None:
    return next((pe.edition for pe in product.editions if pe.standard == STANDARD_4_1), None)


def coverage(
    session: Session, actor: Principal, product_id: int, release: Release | None, *, today: date | None = None
) -> Coverage:
    """Each 4-1 requirement's best evidence state for the release (or the product across releases)."""
    today = today or utcnow().date()
    product = get_product(session, actor, product_id)
    edition = _edition_4_1(session, product)
    if edition is None:
        return Coverage(product, release, None, [], [], {})
    items = session.scalars(
        select(Requirement).where(Requirement.edition_id == edition.id).order_by(Requirement.position)
    ).all()
    requirements = [(r.ref, r.title, r.practice or "") for r in items if r.kind is ItemKind.PROCESS_REQUIREMENT]
    practice_names = {r.ref: r.title for r in items if r.kind is ItemKind.PRACTICE}
    evidence = list_evidence(
        session, actor, EvidenceQuery(product.id, release.id if release else None, include_organisation=True)
    )
    facts = [
        EvidenceFact(
            evidence_id=e.id,
            title=e.current.title,
            state=e.current.state.value,
            review_due=e.current.review_due,
            # By standard and id, not edition: organisation-wide evidence links the newest edition,
            # and must still count for products assessed against an older one.
            requirement_refs=tuple(r.ref for r in e.current.requirements if r.edition.standard == STANDARD_4_1),
            inherited=e.scope is EvidenceScope.ORGANISATION,
        )
        for e in evidence
    ]
    cells = compute_coverage(requirements, facts, today)
    return Coverage(
        product, release, edition, cells, summarise(cells, practice_names), current_maturity(session, product.id)
    )


def current_maturity(session: Session, product_id: int) -> dict[str, PracticeMaturity]:
    """The newest assessment per practice."""
    current: dict[str, PracticeMaturity] = {}
    for row in session.scalars(
        select(PracticeMaturity).where(PracticeMaturity.product_id == product_id).order_by(PracticeMaturity.id)
    ):
        current[row.practice] = row
    return current


def maturity_history(session: Session, actor: Principal, product_id: int) -> list[PracticeMaturity]:
    """Every assessment of the product, newest first."""
    product = get_product(session, actor, product_id)
    return list(
        session.scalars(
            select(PracticeMaturity)
            .where(PracticeMaturity.product_id == product.id)
            .order_by(PracticeMaturity.id.desc())
        )
    )


def record_maturity(
    session: Session, actor: Principal, product_id: int, *, practice: str, level: int, rationale: str, assessed_on: date
) -> PracticeMaturity:
    """A security officer records a practice's self-assessed maturity level (ML1-ML4) with its rationale."""
    product = get_product(session, actor, product_id)
    authorize_manage_product(actor, product)
    edition = _edition_4_1(session, product)
    practices = set(
        session.scalars(
            select(Requirement.ref).where(
                Requirement.edition_id == (edition.id if edition else -1), Requirement.kind == ItemKind.PRACTICE
            )
        )
    )
    errors = []
    if practice not in practices:
        errors.append(FieldError("practice", f"unknown practice {practice!r} (one of: {', '.join(sorted(practices))})"))
    if level not in (1, 2, 3, 4):
        errors.append(FieldError("level", "a maturity level is 1-4"))
    if not rationale.strip() or len(rationale) > 5000:
        errors.append(FieldError("rationale", "a rationale of 1-5,000 characters is required"))
    if assessed_on > utcnow().date():
        errors.append(FieldError("assessed_on", "the assessment date is in the future"))
    if errors:
        raise Invalid("the maturity level was not recorded", errors=errors)
    row = PracticeMaturity(
        product_id=product.id,
        practice=practice,
        level=level,
        rationale=rationale.strip(),
        assessed_on=assessed_on,
        assessed_by=actor.label,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        "evidence:maturity:create",
        target_type="practice_maturity",
        target_id=row.id,
        product_id=product.id,
        details={"practice": practice, "level": level, "assessed_on": assessed_on},
    )
    return row
