"""IEC 62443-4-1 coverage of a product or release, and the organisation's maturity per practice (services)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..audit.services import kept, record
from ..auth import Permission, Principal, Role, permits
from ..catalog.models import CatalogEdition, Requirement
from ..catalog.rules import STANDARD_4_1, ItemKind
from ..catalog.services import annotations_for
from ..db import utcnow
from ..errors import FieldError, Forbidden, Invalid
from ..products.models import Product, Release
from ..products.rules import previous_release
from ..products.services import get_product, list_releases
from .coverage import (
    CONTINUOUS_IMPROVEMENT,
    CoverageState,
    EvidenceFact,
    Judgement,
    MaturitySupport,
    PracticeSummary,
    RequirementCoverage,
    RequirementSpec,
    compute_coverage,
    summarise,
    supported_maturity,
)
from .models import Evidence, EvidenceRevision, PracticeMaturity, RequirementScoping, ScopingState
from .scoping import active_scoping, edition_4_1, product_intervals
from .standing import ReleaseWindow, expires_on, judged_on, release_window, review_months

T = TypeVar("T")


@dataclass(frozen=True)
class CoverageView:
    """The cells and counts of one view, judged on one date."""

    as_of: date
    cells: list[RequirementCoverage]
    practices: list[PracticeSummary]

    @property
    def met(self) -> int:
        """Requirements met."""
        return sum(p.met for p in self.practices)

    @property
    def total(self) -> int:
        """Requirements in scope (the denominator)."""
        return sum(p.total for p in self.practices)


@dataclass(frozen=True)
class MaturityView:
    """One practice's maturity: the organisation's recorded level, and what the evidence supports."""

    practice: str
    name: str
    recorded: PracticeMaturity | None  # the organisation's current level
    organisation: MaturitySupport  # what the evidence of every product supports
    product: MaturitySupport | None  # what this product's own evidence supports


@dataclass(frozen=True)
class Coverage:
    """The heat map of one product, or one of its releases (judged on its date, with today's view beside)."""

    product: Product
    release: Release | None
    edition: CatalogEdition | None
    judged: CoverageView
    current: CoverageView | None  # as of today, when the release is judged on an earlier date
    scoping: dict[str, RequirementScoping]
    maturity: dict[str, MaturityView]

    @property
    def cells(self) -> list[RequirementCoverage]:
        """The judged view's cells."""
        return self.judged.cells

    @property
    def practices(self) -> list[PracticeSummary]:
        """The judged view's counts per practice."""
        return self.judged.practices

    @property
    def cells_by_practice(self) -> dict[str, list[RequirementCoverage]]:
        """The judged view's cells of each practice, in catalog order (the heat map's rows)."""
        rows: dict[str, list[RequirementCoverage]] = {}
        for cell in self.judged.cells:
            rows.setdefault(cell.practice, []).append(cell)
        return rows


def _catalog(session: Session, edition: CatalogEdition) -> tuple[list[RequirementSpec], dict[str, str]]:
    """The edition's requirements as coverage reads them (with their annotations), and its practices; kept
    (loading a catalog or annotations is audited)."""
    return _kept(session, ("catalog", edition.id), lambda: _read_catalog(session, edition))


def _read_catalog(session: Session, edition: CatalogEdition) -> tuple[list[RequirementSpec], dict[str, str]]:
    items = session.scalars(
        select(Requirement).where(Requirement.edition_id == edition.id).order_by(Requirement.position)
    ).all()
    notes = annotations_for(session, STANDARD_4_1)
    specs = []
    for r in items:
        if r.kind is not ItemKind.PROCESS_REQUIREMENT:
            continue
        a = notes.get(r.ref)
        specs.append(
            RequirementSpec(
                r.ref,
                r.title,
                r.practice or "",
                a.record_scope.value if a and a.record_scope else None,
                a.record_kinds if a else (),
                a.event_driven if a else False,
                a.min_tester_independence if a else None,
                a.records if a else "",
            )
        )
    return specs, {r.ref: r.title for r in items if r.kind is ItemKind.PRACTICE}


def _kept(session: Session, question: tuple[Any, ...], compute: Callable[[], T]) -> T:
    # Views judged from many evidence items: a product's (1,000 items in a portfolio) and every product's, for
    # the organisation's supported maturity that each coverage page shows. Judging them on every page view
    # made the page's cost grow with the evidence.
    return kept(session, ("coverage", *question), compute)


def _facts(session: Session, product_id: int, as_of: date) -> list[EvidenceFact]:
    """The product's and the organisation's evidence as it stood on `as_of` (the revision then, with its
    review state then), as coverage sees it (the caller checked access)."""
    intervals = product_intervals(session, product_id)
    items = session.scalars(
        select(Evidence)
        .where((Evidence.product_id == product_id) | Evidence.product_id.is_(None))
        .options(
            selectinload(Evidence.revisions).selectinload(EvidenceRevision.release_links),
            selectinload(Evidence.revisions).selectinload(EvidenceRevision.requirement_links),
        )
    )
    facts = []
    for e in items:
        current = e.revision_on(as_of)
        if current is None:
            continue  # recorded only later
        facts.append(
            EvidenceFact(
                evidence_id=e.id,
                title=current.title,
                kind=e.kind.value,
                scope=e.scope.value,
                state=current.state_on(as_of).value,
                effective=current.effective_date,
                expires=expires_on(current.effective_date, current.review_due, review_months(e.kind, intervals)),
                # By standard and id, not edition: organisation-wide evidence links the newest edition,
                # and must still count for products assessed against an older one.
                requirement_refs=tuple(r.ref for r in current.requirements if r.edition.standard == STANDARD_4_1),
                release_ids=tuple(link.release_id for link in current.release_links),
                tester_independence=current.tester_independence.value if current.tester_independence else None,
            )
        )
    return facts


def _window(session: Session, actor: Principal, release: Release, today: date) -> ReleaseWindow:
    previous = previous_release(list_releases(session, actor, release.product_id), release.version)
    return release_window(
        release.id,
        release.release_date,
        previous.release_date if previous else None,
        previous.created_at.date() if previous else None,
        today,
    )


def _scoping_states(rows: dict[str, RequirementScoping], as_of: date) -> dict[str, str]:
    # A scoping-out proposed or accepted after `as_of` had not happened on that day.
    states = {}
    for ref, row in rows.items():
        if row.set_at.date() > as_of:
            continue
        accepted = row.accepted_at is not None and row.accepted_at.date() <= as_of
        states[ref] = ScopingState.ACCEPTED.value if accepted else ScopingState.PROPOSED.value
    return states


def _view(
    specs: list[RequirementSpec],
    names: dict[str, str],
    facts: list[EvidenceFact],
    scoping: dict[str, str],
    judgement: Judgement,
) -> CoverageView:
    cells = compute_coverage(specs, facts, judgement, scoping)
    return CoverageView(judgement.as_of, cells, summarise(cells, names))


def _product_view(session: Session, product: Product, today: date) -> CoverageView | None:
    """A product's view across releases as of today (no access check: maturity reads every product)."""
    edition = edition_4_1(product)
    if edition is None:
        return None
    specs, names = _catalog(session, edition)
    scoping = _scoping_states(active_scoping(session, product.id), today)
    return _view(specs, names, _facts(session, product.id, today), scoping, Judgement(today))


def coverage(
    session: Session, actor: Principal, product_id: int, release: Release | None, *, today: date | None = None
) -> Coverage:
    """Each 4-1 requirement's process and records for the release (judged on its date when released, with
    today's view beside), or for the product across releases; with maturity per practice."""
    today = today or utcnow().date()
    product = get_product(session, actor, product_id)
    edition = edition_4_1(product)
    scoping_rows = active_scoping(session, product.id)
    if edition is None:
        return Coverage(product, release, None, CoverageView(today, [], []), None, scoping_rows, {})
    specs, names = _catalog(session, edition)
    window = _window(session, actor, release, today) if release else None
    as_of = judged_on(release.shipped, release.release_date, today) if release else today

    def judge() -> tuple[CoverageView, CoverageView | None, CoverageView]:
        # What stood on the judged day: records made, accepted or scoped out later cannot raise its figure.
        facts, scoping = _facts(session, product.id, today), _scoping_states(scoping_rows, today)
        then = (_facts(session, product.id, as_of), _scoping_states(scoping_rows, as_of)) if as_of != today else None
        judged = _view(specs, names, *(then or (facts, scoping)), Judgement(as_of, window))
        current = _view(specs, names, facts, scoping, Judgement(today, window)) if then else None
        own = _view(specs, names, facts, scoping, Judgement(today)) if release or then else judged
        return judged, current, own

    judged, current, own = _kept(session, ("product", product.id, edition.id, window, as_of, today), judge)
    maturity = _maturity(session, names, today, own)
    return Coverage(product, release, edition, judged, current, scoping_rows, maturity)


def _improvement(views: list[CoverageView]) -> bool:
    return any(
        c.ref == CONTINUOUS_IMPROVEMENT and c.records.state is CoverageState.ACCEPTED for v in views for c in v.cells
    )


def _all_views(session: Session, today: date) -> list[CoverageView]:
    def compute() -> list[CoverageView]:
        views = (_product_view(session, p, today) for p in session.scalars(select(Product).order_by(Product.id)))
        return [v for v in views if v is not None]

    return _kept(session, ("organisation", today), compute)


def _maturity(
    session: Session, names: dict[str, str], today: date, own: CoverageView | None
) -> dict[str, MaturityView]:
    def organisation() -> dict[str, MaturitySupport]:
        views = _all_views(session, today)
        cells, improved = [v.cells for v in views], _improvement(views)
        return {practice: supported_maturity(practice, cells, improved) for practice in names}

    # What every product's evidence supports is the same for every product's page: kept, not judged per view.
    supported = _kept(session, ("organisation support", today, *names), organisation)
    recorded = current_maturity(session)
    return {
        practice: MaturityView(
            practice,
            name,
            recorded.get(practice),
            supported[practice],
            supported_maturity(practice, [own.cells], _improvement([own])) if own is not None else None,
        )
        for practice, name in names.items()
    }


def organisation_maturity(session: Session, actor: Principal, *, today: date | None = None) -> list[MaturityView]:
    """The organisation's maturity per practice: recorded, and what the evidence of every product supports."""
    today = today or utcnow().date()
    names: dict[str, str] = {}
    for edition in session.scalars(
        select(CatalogEdition).where(CatalogEdition.standard == STANDARD_4_1).order_by(CatalogEdition.id)
    ):
        names.update(_catalog(session, edition)[1])
    return list(_maturity(session, names, today, None).values())


def current_maturity(session: Session) -> dict[str, PracticeMaturity]:
    """The organisation's newest level per practice (per-product rows from before are history only)."""
    current: dict[str, PracticeMaturity] = {}
    for row in session.scalars(
        select(PracticeMaturity).where(PracticeMaturity.product_id.is_(None)).order_by(PracticeMaturity.id)
    ):
        current[row.practice] = row
    return current


def maturity_history(session: Session, actor: Principal, product_id: int | None = None) -> list[PracticeMaturity]:
    """The organisation's levels, and with a product its per-product self-assessments from before; newest first."""
    statement = select(PracticeMaturity).order_by(PracticeMaturity.id.desc())
    if product_id is None:
        return list(session.scalars(statement.where(PracticeMaturity.product_id.is_(None))))
    product = get_product(session, actor, product_id)
    owners = PracticeMaturity.product_id.is_(None) | (PracticeMaturity.product_id == product.id)
    return list(session.scalars(statement.where(owners)))


def authorize_record_maturity(actor: Principal) -> None:
    """Raise unless the actor may record the organisation's maturity: an administrator or a security officer
    (the same people who accept organisation-wide evidence)."""
    in_reach = [
        role
        for product_id, role in actor.role_by_product.items()
        if actor.token_products is None or product_id in actor.token_products
    ]
    if not (actor.is_admin or Role.SECURITY_OFFICER in in_reach):
        raise Forbidden("the organisation's maturity is recorded by an administrator or a security officer")
    if actor.scopes is not None and Permission.PRODUCT_MANAGE not in actor.scopes:
        raise Forbidden("this token does not grant product:manage")


def may_record_maturity(actor: Principal) -> bool:
    """Whether the actor may record the organisation's maturity."""
    return permits(authorize_record_maturity, actor)


def record_maturity(
    session: Session,
    actor: Principal,
    *,
    practice: str,
    level: int,
    rationale: str,
    assessed_on: date,
    today: date | None = None,
) -> PracticeMaturity:
    """Record the organisation's maturity level (ML1-ML4) of a practice, within what the evidence supports."""
    authorize_record_maturity(actor)
    today = today or utcnow().date()
    views = {m.practice: m for m in organisation_maturity(session, actor, today=today)}
    errors = []
    if practice not in views:
        errors.append(FieldError("practice", f"unknown practice {practice!r} (one of: {', '.join(sorted(views))})"))
    if level not in (1, 2, 3, 4):
        errors.append(FieldError("level", "a maturity level is 1-4"))
    if not rationale.strip() or len(rationale) > 5000:
        errors.append(FieldError("rationale", "a rationale of 1-5,000 characters is required"))
    if assessed_on > today:
        errors.append(FieldError("assessed_on", "the assessment date is in the future"))
    if not errors and level > (support := views[practice].organisation).level:
        missing = "; ".join(
            f"ML{n} needs {', '.join(what)}" for n, what in sorted(support.missing.items()) if n <= level
        )
        errors.append(FieldError("level", f"the evidence supports at most ML{support.level} for {practice}: {missing}"))
    if errors:
        raise Invalid("the maturity level was not recorded", errors=errors)
    row = PracticeMaturity(
        product_id=None,
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
        details={"practice": practice, "level": level, "assessed_on": assessed_on, "scope": "organisation"},
    )
    return row
