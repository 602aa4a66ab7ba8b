"""Release readiness: a few figures per release for lists (batched), and one release's full readiness.

The figures for lists (home page, product page, portfolio) are read for every release at once, with a fixed
number of statements however many releases, evidence items or SBOMs there are. The full page reuses each
feature's own reading (4-1 coverage, the SL-C vector, commit review, SBOMs), so it shows the same figures
those pages do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from ..audit.services import kept
from ..auth import Principal, visible_products_clause
from ..catalog.models import Requirement
from ..claims.judging import ClaimsSummary, claims_summary
from ..claims.models import Claim
from ..claims.rules import ClaimStatus
from ..claims.services import ACCEPTED_STATUSES
from ..cra.completeness import CraFile, release_file
from ..db import utcnow
from ..evidence.assessment import CoverageView, coverage
from ..evidence.models import Evidence, EvidenceRevision, ProductReviewInterval, RevisionRelease
from ..evidence.standing import expires_on, review_months
from ..evidence.vocabulary import EvidenceKind, EvidenceScope, ReviewState
from ..gates.evaluations import GateStatus, gate_status
from ..gitlink.schemas import review_summary
from ..gitlink.services import ReleaseCommits, release_commits_by_id
from ..products.models import Product, Release, ReleaseStatus
from ..products.services import get_release
from ..sboms.models import Sbom, SbomState
from ..sboms.services import list_sboms

IN_FLIGHT = (ReleaseStatus.PLANNED, ReleaseStatus.DEVELOPMENT, ReleaseStatus.CANDIDATE)
SOON = timedelta(days=30)  # "expires soon": within 30 days


@dataclass(frozen=True)
class EvidenceRow:
    """An evidence item's current revision, as lists read it (plain columns, no links loaded)."""

    evidence_id: int
    product_id: int | None
    scope: EvidenceScope
    kind: EvidenceKind
    title: str
    state: ReviewState
    effective: date
    review_due: date | None
    submitted_at: datetime | None  # None: a draft
    submitted_by: str
    submitted_by_user_id: int | None
    rejection_reason: str
    revision_id: int
    release_ids: tuple[int, ...] = ()
    expires: date | None = None
    reviewed_at: datetime | None = None

    def covers(self, release: Release) -> bool:
        """Whether it counts for the release: organisation or product scope, or naming the release."""
        if self.scope is EvidenceScope.RELEASES:
            return self.product_id == release.product_id and release.id in self.release_ids
        return self.product_id is None or self.product_id == release.product_id


def current_revisions(session: Session, *clauses: object, with_releases: bool = True) -> list[EvidenceRow]:
    """Every evidence item's current revision matching `clauses` (on Evidence and EvidenceRevision), with
    its expiry (the product's review intervals) and, optionally, the releases it names; three statements."""
    later = aliased(EvidenceRevision)
    # Columns, not whole rows: a list reads about a dozen of them for every item. Named as EvidenceRow names
    # them, so a row becomes one without restating each field.
    query = (
        select(
            Evidence.id.label("evidence_id"),
            Evidence.product_id,
            Evidence.scope,
            Evidence.kind,
            EvidenceRevision.title,
            EvidenceRevision.state,
            EvidenceRevision.effective_date.label("effective"),
            EvidenceRevision.review_due,
            EvidenceRevision.submitted_at,
            EvidenceRevision.reviewed_at,
            EvidenceRevision.submitted_by,
            EvidenceRevision.submitted_by_user_id,
            EvidenceRevision.rejection_reason,
            EvidenceRevision.id.label("revision_id"),
        )
        .join(EvidenceRevision, EvidenceRevision.evidence_id == Evidence.id)
        # The current revision: none newer. Checked per item through the (evidence, number) key, so the cost
        # follows the items matched, not every revision of the installation (as a grouped "newest" did).
        .where(
            ~select(later.number)
            .where(later.evidence_id == EvidenceRevision.evidence_id, later.number > EvidenceRevision.number)
            .exists(),
            *clauses,  # type: ignore[arg-type]
        )
        # Submitted ones in the order they went to review (drafts, never submitted, by creation).
        .order_by(func.coalesce(EvidenceRevision.submitted_at, EvidenceRevision.created_at), Evidence.id)
    )
    found = session.execute(query).all()
    product_ids = {row.product_id for row in found if row.product_id is not None}
    intervals: dict[int, dict[str, int | None]] = defaultdict(dict)
    if product_ids:
        for product_id, kind, months in session.execute(
            select(ProductReviewInterval.product_id, ProductReviewInterval.kind, ProductReviewInterval.months).where(
                ProductReviewInterval.product_id.in_(sorted(product_ids))
            )
        ):
            intervals[product_id][kind.value] = months
    links: dict[int, list[int]] = defaultdict(list)
    scoped = [row.revision_id for row in found if row.scope is EvidenceScope.RELEASES]
    if with_releases and scoped:
        # Expanding parameters: one statement whatever the number of revisions.
        for revision_id, release_id in session.execute(
            select(RevisionRelease.revision_id, RevisionRelease.release_id).where(
                RevisionRelease.revision_id.in_(scoped)
            )
        ):
            links[revision_id].append(release_id)
    rows = []
    for r in found:
        months = review_months(r.kind, intervals.get(r.product_id) if r.product_id is not None else None)
        rows.append(
            EvidenceRow(
                **r._mapping,
                release_ids=tuple(sorted(links.get(r.revision_id, ()))),
                expires=expires_on(r.effective, r.review_due, months),
            )
        )
    return rows


def planned_day(release: Release, today: date) -> date:
    """The day a release's evidence must still stand on: its planned date, else 30 days from today."""
    if release.release_date is not None and release.release_date >= today:
        return release.release_date
    return today + SOON


@dataclass
class ReleaseFigures:
    """What a list shows of one release's readiness."""

    release: Release
    product: Product
    awaiting_review: int = 0
    expiring: int = 0  # accepted evidence that stops standing before the planned day
    sboms: int = 0
    sbom_warnings: int = 0
    decisions_awaiting: int = 0  # not applicable / compensated claims not yet accepted
    claims: int = 0

    @property
    def concerns(self) -> int:
        """How many things on the list need someone's attention."""
        return (
            self.awaiting_review
            + self.expiring
            + self.sbom_warnings
            + self.decisions_awaiting
            + (0 if self.sboms else 1)
        )


def in_flight(session: Session, actor: Principal, *, product_ids: Sequence[int] | None = None) -> list[Release]:
    """The releases not yet released (planned, in development, candidates) of the products the actor sees
    (or of `product_ids` among them), by product and version."""
    query = (
        select(Release)
        .join(Product, Product.id == Release.product_id)
        .where(Release.status.in_(IN_FLIGHT), visible_products_clause(actor, Release.product_id))
        .order_by(Product.name_key, Release.created_at, Release.id)
    )
    if product_ids is not None:
        query = query.where(Release.product_id.in_(list(product_ids)))
    return list(session.scalars(query))


def in_flight_of(
    session: Session, actor: Principal, product_ids: Sequence[int], *, per_product: int
) -> tuple[list[Release], dict[int, int]]:
    """The first `per_product` releases in flight of each of `product_ids` the actor sees (oldest first, by product
    and version), and how many each has in flight: a list of products shows a bounded number of rows each."""
    ranked = (
        select(
            Release.id.label("id"),
            func.row_number()
            .over(partition_by=Release.product_id, order_by=(Release.created_at, Release.id))
            .label("rank"),
            func.count().over(partition_by=Release.product_id).label("of"),
        )
        .where(
            Release.status.in_(IN_FLIGHT),
            Release.product_id.in_(list(product_ids)),
            visible_products_clause(actor, Release.product_id),
        )
        .subquery()
    )
    query = (
        select(Release, ranked.c.of)
        .join(ranked, ranked.c.id == Release.id)
        .join(Product, Product.id == Release.product_id)
        .where(ranked.c.rank <= per_product)
        .order_by(Product.name_key, Release.created_at, Release.id)
    )
    releases, counts = [], {}
    for release, of in session.execute(query):
        releases.append(release)
        counts[release.product_id] = of
    return releases, counts


def release_figures(
    session: Session, releases: Sequence[Release], *, today: date | None = None
) -> dict[int, ReleaseFigures]:
    """The list figures of each release (the caller checked access to their products), by release id, in a
    fixed number of statements."""
    today = today or utcnow().date()
    if not releases:
        return {}
    product_ids = sorted({r.product_id for r in releases})
    products = _products(session, product_ids)

    def count() -> dict[int, dict[str, int]]:
        figures = {r.id: _Counts() for r in releases}
        _count(session, releases, product_ids, figures, today)
        return {release_id: dict(c.__dict__) for release_id, c in figures.items()}

    # Counted over every evidence item of the products: kept per release set, day and audit chain head (each
    # figure moves only with an audited change), so the product page and the portfolio do not count again.
    counts = kept(session, ("release figures", *sorted(r.id for r in releases), today), count)
    return {r.id: ReleaseFigures(r, products[r.product_id], **counts[r.id]) for r in releases}


def _products(session: Session, product_ids: list[int]) -> dict[int, Product]:
    """The products by id: those the session holds already (the page read them) without a statement, the
    rest in one."""
    found = {i: p for i in product_ids if isinstance(p := session.identity_map.get(identity_key(Product, i)), Product)}
    missing = [i for i in product_ids if i not in found]
    if missing:
        found.update((p.id, p) for p in session.scalars(select(Product).where(Product.id.in_(missing))))
    return found


@dataclass
class _Counts:
    awaiting_review: int = 0
    expiring: int = 0
    sboms: int = 0
    sbom_warnings: int = 0
    decisions_awaiting: int = 0
    claims: int = 0


def _count(
    session: Session, releases: Sequence[Release], product_ids: list[int], figures: dict[int, _Counts], today: date
) -> None:
    release_ids = [r.id for r in releases]
    by_id = {r.id: r for r in releases}
    wanted = (ReviewState.SUBMITTED, ReviewState.ACCEPTED)
    rows = current_revisions(
        session,
        (Evidence.product_id.in_(product_ids)) | Evidence.product_id.is_(None),
        EvidenceRevision.state.in_(wanted),
    )
    by_product: dict[int, list[Release]] = defaultdict(list)
    for release in releases:
        by_product[release.product_id].append(release)
    for row in rows:
        if row.product_id is None:
            covered: Sequence[Release] = releases
        elif row.scope is EvidenceScope.RELEASES:
            covered = [by_id[i] for i in row.release_ids if i in by_id]
        else:
            covered = by_product[row.product_id]
        for release in covered:
            if row.state is ReviewState.SUBMITTED:
                figures[release.id].awaiting_review += 1
            elif row.expires is not None and row.expires < planned_day(release, today):
                figures[release.id].expiring += 1
    for release_id, warnings in session.execute(
        select(Sbom.release_id, Sbom.warnings).where(
            Sbom.release_id.in_(release_ids), Sbom.state == SbomState.PUBLISHED
        )
    ):
        figures[release_id].sboms += 1
        figures[release_id].sbom_warnings += len(warnings or ())
    awaiting = (Claim.status.in_(ACCEPTED_STATUSES)) & Claim.accepted_at.is_(None)
    for release_id, total, undecided in session.execute(
        select(Claim.release_id, func.count(), func.count().filter(awaiting))
        .where(Claim.release_id.in_(release_ids))
        .group_by(Claim.release_id)
    ):
        figures[release_id].claims = total
        figures[release_id].decisions_awaiting = undecided


@dataclass(frozen=True)
class SbomLine:
    """What readiness shows of one of the release's SBOMs."""

    id: int
    title: str
    is_primary: bool
    warnings: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Decision:
    """A not-applicable or compensated claim of the release that awaits acceptance."""

    ref: str
    status: ClaimStatus


@dataclass(frozen=True)
class Readiness:
    """One release's readiness, each part read by the feature that owns it; plain values, kept."""

    planned: date
    coverage: CoverageView | None  # None: no 4-1 catalog is assigned to the product
    process_met: int
    records_met: int
    vector: ClaimsSummary
    commits: ReleaseCommits
    sboms: tuple[SbomLine, ...]
    cra: CraFile
    awaiting_review: tuple[EvidenceRow, ...] = ()
    expiring: tuple[EvidenceRow, ...] = ()
    decisions_awaiting: tuple[Decision, ...] = ()
    gate: GateStatus | None = None  # read on every request, never kept: time alone outdates a gate result

    @property
    def gap(self) -> dict[str, list[str]]:
        """The foundational requirements whose achieved level is below the target, with what is missing."""
        return {fr: refs for fr, refs in self.vector.gap.items() if refs}

    @property
    def commits_summary(self) -> str:
        """The commits page's own words ("N of M commits reviewed", as of the release date once released, with
        today's count beside): a bare "0 of 5" on a shipped release reads as today's figure."""
        return review_summary(self.commits)

    @property
    def sbom_warnings(self) -> int:
        """Warnings over the release's SBOMs."""
        return sum(len(s.warnings) for s in self.sboms)


def release_readiness(session: Session, actor: Principal, release_id: int, *, today: date | None = None) -> Readiness:
    """Everything that stands between a release and its planned date, on one page (NotFound for a release of a
    product the actor does not see). Kept per release and day until an audited change: each part is (coverage,
    the claims summary, commit review, SBOMs, evidence and claims are all changed by audited services only),
    and reading them all took most of the page's time."""
    today = today or utcnow().date()
    release = get_release(session, actor, release_id)  # access is checked on every request, kept or not
    found = kept(session, ("readiness", release.id, today), lambda: _readiness(session, actor, release, today))
    # Not kept with the rest: a gate result goes out of date with the facts or the clock, within the day too.
    return replace(found, gate=gate_status(session, actor, release.id))


def _readiness(session: Session, actor: Principal, release: Release, today: date) -> Readiness:
    """One release's readiness, read afresh (the caller checked access; no part depends on who reads it)."""
    product = release.product
    result = coverage(session, actor, product.id, release, today=today)
    cells = result.cells
    rows = current_revisions(
        session,
        (Evidence.product_id == product.id) | Evidence.product_id.is_(None),
        EvidenceRevision.state.in_((ReviewState.SUBMITTED, ReviewState.ACCEPTED)),
    )
    planned = planned_day(release, today)
    mine = [row for row in rows if row.covers(release)]
    undecided = session.execute(
        select(Requirement.ref, Claim.status)
        .join(Requirement, Requirement.id == Claim.requirement_id)
        .where(Claim.release_id == release.id, Claim.status.in_(ACCEPTED_STATUSES), Claim.accepted_at.is_(None))
        .order_by(Claim.id)
    ).all()
    return Readiness(
        planned=planned,
        coverage=result.judged if result.edition else None,
        process_met=sum(1 for c in cells if c.process.met),
        records_met=sum(1 for c in cells if c.records.met),
        vector=claims_summary(session, actor, release.id, today=today),
        commits=release_commits_by_id(session, actor, release.id, today=today),
        sboms=tuple(
            SbomLine(s.id, s.title, s.is_primary, tuple(s.warnings or ()))
            for s in list_sboms(session, actor, product.id, release.id)
        ),
        cra=release_file(session, actor, release.id, today=today),
        awaiting_review=tuple(row for row in mine if row.state is ReviewState.SUBMITTED),
        expiring=tuple(
            sorted(
                (r for r in mine if r.state is ReviewState.ACCEPTED and r.expires is not None and r.expires < planned),
                key=lambda r: (r.expires or planned, r.evidence_id),
            )
        ),
        decisions_awaiting=tuple(Decision(ref, status) for ref, status in undecided),
    )
