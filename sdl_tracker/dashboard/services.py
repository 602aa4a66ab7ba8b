"""My work: the home page as a list of sections, each read by one provider registered in `SECTIONS`.

A provider takes the session, the actor and today, and returns a `Section` (None: nothing for this actor,
e.g. a developer has no review queue). Items name the page where they are acted on by endpoint and
arguments, so the page builds the link and providers stay free of Flask. A later feature (release gates,
PSIRT clocks, jobs) adds its provider to `SECTIONS`; the template renders every section with one loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ..audit.services import kept
from ..auth import Principal, Role, visible_products_clause
from ..claims.models import Claim
from ..claims.services import ACCEPTED_STATUSES
from ..db import utcnow
from ..evidence.models import Evidence, EvidenceRevision, RequirementScoping, ScopingState
from ..evidence.vocabulary import ReviewState
from ..labels import label
from ..products.models import Product, Release
from ..psirt.rules import ClockState
from ..psirt.services import due_clocks
from .readiness import SOON, EvidenceRow, ReleaseFigures, current_revisions, in_flight, release_figures

MAX_ITEMS = 50  # a section lists this many and says how many more there are


@dataclass(frozen=True)
class Link:
    """Where an item is acted on: an endpoint and its arguments (the page builds the URL)."""

    endpoint: str
    args: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Fact:
    """A labelled figure of an item; `warn` when it needs attention, with where to fix it."""

    label: str
    value: str
    warn: bool = False
    link: Link | None = None
    moment: datetime | None = None  # a time the value ends with, which the page shows on the viewer's clock


@dataclass(frozen=True)
class Item:
    """One line of a section."""

    title: str
    link: Link
    meta: str = ""  # product, kind, who
    age_days: int | None = None
    note: str = ""  # a reason, a state
    facts: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class Section:
    """One block of the home page."""

    key: str
    title: str
    items: list[Item]
    total: int
    empty: str  # what the section says when it has nothing
    more: Link | None = None


Provider = Callable[[Session, Principal, date], Section | None]


def _officer_products(actor: Principal) -> list[int] | None:
    """The products whose evidence and decisions the actor reviews (None: every product, an administrator)."""
    if actor.is_admin:
        return None
    return sorted(p for p, role in actor.role_by_product.items() if role is Role.SECURITY_OFFICER)


def _reviews_organisation(actor: Principal) -> bool:
    return actor.is_admin or Role.SECURITY_OFFICER in actor.role_by_product.values()


def _names(session: Session, rows: Sequence[EvidenceRow]) -> dict[int, str]:
    ids = sorted({r.product_id for r in rows if r.product_id is not None})
    if not ids:
        return {}
    return dict(session.execute(select(Product.id, Product.name).where(Product.id.in_(ids))).all())


def _where(row: EvidenceRow, names: dict[int, str]) -> str:
    product = names.get(row.product_id, "") if row.product_id is not None else "organisation-wide"
    return f"{product} · {label(row.kind)}"


def _section(key: str, title: str, items: list[Item], empty: str, more: Link | None = None) -> Section:
    return Section(key, title, items[:MAX_ITEMS], len(items), empty, more if len(items) > MAX_ITEMS else None)


def _days_since(today: date, moment: datetime | None) -> int | None:
    return None if moment is None else (today - moment.date()).days


def awaiting_my_review(session: Session, actor: Principal, today: date) -> Section | None:
    """Evidence submitted for review that the actor may review (never their own), the longest waiting first
    (by submission: a draft written long ago and submitted today has waited for nobody)."""
    products = _officer_products(actor)
    if actor.user_id is None or (products == [] and not _reviews_organisation(actor)):
        return None
    clauses = [EvidenceRevision.state == ReviewState.SUBMITTED]
    if products is not None:  # an administrator (None) reviews every product's and the organisation's
        scope: ColumnElement[bool] = Evidence.product_id.in_(products)
        if _reviews_organisation(actor):
            scope = scope | Evidence.product_id.is_(None)
        clauses.append(scope)
    rows = [
        r
        for r in current_revisions(session, *clauses, with_releases=False)
        if r.submitted_by_user_id != actor.user_id  # nobody reviews their own submission
    ]
    names = _names(session, rows)
    items = [
        Item(
            title=r.title,
            link=Link("evidence.detail", {"evidence_id": r.evidence_id}),
            meta=f"{_where(r, names)} · submitted by {r.submitted_by}",
            age_days=_days_since(today, r.submitted_at),
        )
        for r in rows  # current_revisions reads them in the order they were submitted
    ]
    return _section("review", "Awaiting my review", items, "Nothing awaits your review.")


def my_returned_submissions(session: Session, actor: Principal, today: date) -> Section | None:
    """The actor's submissions that a reviewer rejected (they need changes), newest decision first, each aged
    from its decision (since when it waits for them)."""
    if actor.user_id is None:
        return None
    rows = current_revisions(
        session,
        EvidenceRevision.state == ReviewState.REJECTED,
        EvidenceRevision.submitted_by_user_id == actor.user_id,
        visible_products_clause(actor, Evidence.product_id) | Evidence.product_id.is_(None),  # type: ignore[arg-type]
        with_releases=False,
    )
    # A rejected revision always has its decision's time; the item id breaks ties (and keeps the order total).
    rows.sort(key=lambda r: (r.reviewed_at or datetime.min.replace(tzinfo=UTC), r.evidence_id), reverse=True)
    names = _names(session, rows)
    items = [
        Item(
            title=r.title,
            link=Link("evidence.edit", {"evidence_id": r.evidence_id}),
            meta=_where(r, names),
            age_days=_days_since(today, r.reviewed_at),
            note=f"Rejected: {r.rejection_reason}",
        )
        for r in rows
    ]
    return _section("returned", "My submissions returned", items, "None of your submissions was rejected.")


def expiring_evidence(session: Session, actor: Principal, today: date) -> Section | None:
    """Accepted evidence of the actor's products (and organisation-wide, for reviewers) that has expired or
    expires within 30 days, soonest first."""
    member = sorted(actor.role_by_product)
    if not member and not actor.is_admin:
        return None
    scope: ColumnElement[bool] = Evidence.product_id.in_(member)
    if _reviews_organisation(actor):
        scope = scope | Evidence.product_id.is_(None)
    rows = [
        r
        for r in current_revisions(session, EvidenceRevision.state == ReviewState.ACCEPTED, scope, with_releases=False)
        if r.expires is not None and r.expires <= today + SOON
    ]
    rows.sort(key=lambda r: (r.expires or today, r.evidence_id))
    names = _names(session, rows)
    items = [
        Item(
            title=r.title,
            link=Link("evidence.detail", {"evidence_id": r.evidence_id}),
            meta=_where(r, names),
            note=f"expired on {r.expires}" if r.expires and r.expires < today else f"expires on {r.expires}",
        )
        for r in rows
    ]
    return _section("expiring", "Expired or expiring within 30 days", items, "Nothing expires in the next 30 days.")


def decisions_awaiting_acceptance(session: Session, actor: Principal, today: date) -> Section | None:
    """The "not applicable" and "compensated" claims, and scoping-outs, that the actor may accept (not their own)."""
    products = _officer_products(actor)
    if actor.user_id is None or products == []:
        return None
    claims = (
        select(Claim, Release, Product.name)
        .join(Release, Release.id == Claim.release_id)
        .join(Product, Product.id == Release.product_id)
        .where(Claim.status.in_(ACCEPTED_STATUSES), Claim.accepted_at.is_(None))
        .where((Claim.set_by_user_id != actor.user_id) | Claim.set_by_user_id.is_(None))
        .order_by(Claim.updated_at, Claim.id)
    )
    scopings = (
        select(RequirementScoping, Product.name)
        .join(Product, Product.id == RequirementScoping.product_id)
        .where(RequirementScoping.state == ScopingState.PROPOSED)
        .where((RequirementScoping.set_by_user_id != actor.user_id) | RequirementScoping.set_by_user_id.is_(None))
        .order_by(RequirementScoping.set_at, RequirementScoping.id)
    )
    if products is not None:
        claims = claims.where(Release.product_id.in_(products))
        scopings = scopings.where(RequirementScoping.product_id.in_(products))
    items = [
        Item(
            title=f"{claim.requirement.ref} “{label(claim.status)}”",
            link=Link("claims.edit", {"release_id": release.id, "ref": claim.requirement.ref}),
            meta=f"{name} {release.version} · set by {claim.set_by}",
            age_days=(today - claim.updated_at.date()).days,
        )
        for claim, release, name in session.execute(claims)
    ]
    items += [
        Item(
            title=f"{row.requirement_ref} scoped out",
            link=Link("evidence.coverage_view", {"product_id": row.product_id}),
            meta=f"{name} · proposed by {row.set_by}",
            age_days=(today - row.set_at.date()).days,
            note=row.justification[:200],
        )
        for row, name in session.execute(scopings)
    ]
    return _section("decisions", "Decisions awaiting acceptance", items, "No decision awaits your acceptance.")


def releases_in_flight(session: Session, actor: Principal, today: date) -> Section | None:
    """The releases not yet released of the actor's products, with their readiness figures."""
    releases = in_flight(session, actor)
    figures = release_figures(session, releases, today=today)
    items = []
    for release in releases:
        f = figures[release.id]
        items.append(
            Item(
                title=f"{f.product.name} {release.version}",
                link=Link("dashboard.readiness", {"release_id": release.id}),
                meta=label(release.status) + (f" · planned {release.release_date}" if release.release_date else ""),
                facts=readiness_facts(f),
            )
        )
    return _section(
        "releases", "Releases in flight", items, "No release is in flight.", more=Link("dashboard.portfolio")
    )


def readiness_facts(f: ReleaseFigures) -> tuple[Fact, ...]:
    """The figures a list shows of one release's readiness, each linking to where it is fixed."""
    here = Link("dashboard.readiness", {"release_id": f.release.id})
    claims = Link("claims.index", {"release_id": f.release.id})
    sboms = Link("sboms.release_sboms", {"release_id": f.release.id})
    return (
        Fact("awaiting review", str(f.awaiting_review), f.awaiting_review > 0, here),
        Fact("expiring before the date", str(f.expiring), f.expiring > 0, here),
        Fact("decisions to accept", str(f.decisions_awaiting), f.decisions_awaiting > 0, claims),
        Fact("SBOMs", str(f.sboms), f.sboms == 0, sboms),
        Fact("SBOM warnings", str(f.sbom_warnings), f.sbom_warnings > 0, sboms),
    )


def reporting_clocks(session: Session, actor: Principal, today: date) -> Section | None:
    """The Article 14 clocks of the cases the actor sees that run, are overdue or were breached, the next deadline
    first, each linking to its case (for members of a product: whoever sees PSIRT cases)."""
    if not actor.role_by_product and not actor.is_admin:
        return None
    due = due_clocks(session, actor)
    shown = {d.case.product_id for d in due}
    names = {pid: name for pid, name in session.execute(select(Product.id, Product.name).where(Product.id.in_(shown)))}
    items = []
    for entry in due:
        clock, case = entry.clock, entry.case
        missed = clock.state in (ClockState.OVERDUE, ClockState.BREACHED)
        items.append(
            Item(
                title=f"{case.reference} {clock.label}" + (" (Exercise)" if case.exercise else ""),
                link=Link("psirt.case", {"case_id": case.id}),
                meta=f"{names.get(case.product_id, '')} · {case.title}",
                facts=(
                    Fact(
                        clock.state.value,
                        "due" if clock.due_at else "due not yet defined",
                        missed,
                        Link("psirt.case", {"case_id": case.id}),
                        moment=clock.due_at,
                    ),
                ),
            )
        )
    return _section("clocks", "Reporting clocks", items, "No reporting clock is running.", more=Link("psirt.dashboard"))


# Sections whose content moves with the clock, not only with audited changes: read on every view, never kept.
LIVE_SECTIONS: tuple[Provider, ...] = (reporting_clocks,)

# The home page's sections, in the order shown. Add a feature's provider here.
SECTIONS: tuple[Provider, ...] = (
    awaiting_my_review,
    decisions_awaiting_acceptance,
    my_returned_submissions,
    expiring_evidence,
    releases_in_flight,
)


def my_work(session: Session, actor: Principal, *, today: date | None = None) -> list[Section]:
    """The actor's home page: every registered section that has something to say to them. Kept per actor
    (who, with which roles), day and audit chain head: each section reads recorded, audited facts, and every
    signed-in page view opens it. A provider whose content moves without an audited change (a clock by the
    hour) is in LIVE_SECTIONS instead, read afresh and shown first."""
    today = today or utcnow().date()
    who = (
        actor.user_id,
        actor.label,
        actor.is_admin,
        tuple(sorted((p, role.value) for p, role in actor.role_by_product.items())),
        actor.scopes,
        actor.token_products,
    )

    def read() -> list[Section]:
        sections = (provider(session, actor, today) for provider in SECTIONS)
        return [s for s in sections if s is not None]

    live = (provider(session, actor, today) for provider in LIVE_SECTIONS)
    return [s for s in live if s is not None] + list(kept(session, ("my work", *who, today), read))
