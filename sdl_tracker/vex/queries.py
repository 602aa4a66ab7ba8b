"""Which releases a vulnerability affects, and the vulnerabilities the tracker knows with how many of the reader's
releases stand where on each: read from the VEX decisions of the releases the reader sees.

A release's standing on a vulnerability is the worst of its decisions on it (one per component): affected, then
under investigation, then fixed, then not affected. A vulnerability is found by its name or by an alias: an OSV
record is named by its CVE where it has exactly one (vex/importer.py), and its GHSA id stays an alias.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, Text, and_, cast, func, or_, select, true
from sqlalchemy.orm import Session

from ..auth import Principal, visible_products_clause
from ..errors import NotFound
from ..products.models import Release
from ..products.rules import release_sort_key
from ..psirt.models import PsirtCase
from .models import VexDecision, Vulnerability
from .rules import Status
from .services import CASE_PREFIX, _named, _visible, may_see_vulnerability, vulnerability_name

# Worst first: what a release's decisions on one vulnerability add up to.
STANDINGS = (Status.AFFECTED, Status.UNDER_INVESTIGATION, Status.FIXED, Status.NOT_AFFECTED)
EXPOSED = frozenset({Status.AFFECTED, Status.UNDER_INVESTIGATION})
MAX_SEARCH_WORDS = 10


def standing(statuses: Iterable[Status]) -> Status:
    """A release's standing on a vulnerability: the worst of its decisions' statuses."""
    found = set(statuses)
    return next(s for s in STANDINGS if s in found)


@dataclass(frozen=True)
class ReleaseStanding:
    """One release's decisions on a vulnerability (per component), its standing, and whether each is confirmed."""

    release: Release
    status: Status
    confirmed: bool
    decisions: list[VexDecision]


@dataclass(frozen=True)
class Affected:
    """The answer to "which releases does it affect?": the vulnerability, the others that are the same one by an
    alias, and the reader's releases with a decision on it, grouped by standing (worst first)."""

    vulnerability: Vulnerability
    related: list[Vulnerability]
    groups: dict[Status, list[ReleaseStanding]]

    @property
    def known_exploited(self) -> bool:
        """Whether any of its names is known to be exploited (KEV, or a case)."""
        return any(v.known_exploited for v in self.names)

    @property
    def kev_date_added(self) -> date | None:
        """When CISA's catalog first listed it, under any of its names."""
        return min((v.kev_date_added for v in self.names if v.kev_date_added), default=None)

    @property
    def names(self) -> list[Vulnerability]:
        """The vulnerability and the related ones."""
        return [self.vulnerability, *self.related]

    @property
    def exposed(self) -> bool:
        """Whether some release is affected or still under investigation (the command line's exit 1)."""
        return any(self.groups[s] for s in EXPOSED)


def _like(text: str) -> str:
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _holding_alias(name: str) -> ColumnElement[bool]:
    """Rows whose aliases list `name` (the JSON list's text holds it quoted, alike on both engines)."""
    return cast(Vulnerability.aliases, Text).like(_like(f'"{name}"'), escape="/")


def same_vulnerabilities(session: Session, actor: Principal, name: str) -> list[Vulnerability]:
    """The vulnerabilities a name means, for the actor: the one so named (a case's reference names its case's), the
    ones its aliases name, and those listing the name as an alias; NotFound when none."""
    canonical = vulnerability_name(name)
    own = _named(session, actor, canonical)
    others = [_holding_alias(canonical)]
    if own is not None and own.aliases:
        others.append(Vulnerability.name.in_(list(own.aliases)))
    found = [own] if own is not None else []
    for row in session.scalars(select(Vulnerability).where(or_(*others)).order_by(Vulnerability.name)):
        if row not in found and may_see_vulnerability(session, actor, row):
            found.append(row)
    if not found:
        raise NotFound(f"no vulnerability {canonical}")
    return found


def affected_releases(session: Session, actor: Principal, name: str) -> Affected:
    """Which of the actor's releases a vulnerability (by name or alias) affects: each release with a decision on
    it, grouped by its standing, by product name and release order."""
    found = same_vulnerabilities(session, actor, name)
    query = select(VexDecision).where(VexDecision.vulnerability_id.in_([v.id for v in found]))
    by_release: dict[int, list[VexDecision]] = defaultdict(list)
    for decision in session.scalars(_visible(actor, query)):
        by_release[decision.release_id].append(decision)
    groups: dict[Status, list[ReleaseStanding]] = {s: [] for s in STANDINGS}
    for decisions in by_release.values():
        decisions.sort(key=lambda d: (d.vulnerability.name, d.component_purl))
        release = decisions[0].release
        status = standing(d.status for d in decisions)
        groups[status].append(ReleaseStanding(release, status, all(d.confirmed for d in decisions), decisions))
    for standings in groups.values():
        standings.sort(key=lambda s: (s.release.product.name.lower(), release_sort_key(s.release)))
    return Affected(found[0], found[1:], groups)


# --- the vulnerabilities the tracker knows ----------------------------------------------------------------------


@dataclass(frozen=True)
class VulnerabilityFilter:
    """Which known vulnerabilities a list shows: words of the name, an alias or the title; only those with a
    decision in the reader's releases unless `everything`; only known exploited ones."""

    search: str = ""
    everything: bool = False
    exploited: bool = False


@dataclass(frozen=True)
class KnownVulnerability:
    """A vulnerability and how many of the reader's releases stand where on it."""

    vulnerability: Vulnerability
    releases: dict[Status, int]


def _seen(actor: Principal) -> ColumnElement[bool]:
    """A case's reference only for those who see the case's product (services.may_see_vulnerability)."""
    if actor.is_admin and actor.token_products is None:
        return true()
    return or_(~Vulnerability.name.startswith(CASE_PREFIX), visible_products_clause(actor, PsirtCase.product_id))


def _filtered(actor: Principal, where: VulnerabilityFilter) -> Select[Vulnerability]:
    query = select(Vulnerability).outerjoin(PsirtCase, PsirtCase.id == Vulnerability.case_id).where(_seen(actor))
    if not where.everything:
        decided = (
            select(VexDecision.vulnerability_id)
            .join(Release, Release.id == VexDecision.release_id)
            .where(visible_products_clause(actor, Release.product_id))
        )
        query = query.where(Vulnerability.id.in_(decided))
    if where.exploited:
        query = query.where(Vulnerability.known_exploited.is_(True))
    for word in where.search.lower().split()[:MAX_SEARCH_WORDS]:
        pattern = _like(word)
        query = query.where(
            or_(
                func.lower(Vulnerability.name).like(pattern, escape="/"),
                func.lower(Vulnerability.title).like(pattern, escape="/"),
                func.lower(cast(Vulnerability.aliases, Text)).like(pattern, escape="/"),
            )
        )
    return query


def list_vulnerabilities(
    session: Session, actor: Principal, where: VulnerabilityFilter, *, page: int, per_page: int
) -> tuple[list[KnownVulnerability], int]:
    """A page of the known vulnerabilities (known exploited first, then by name) with, for each, how many of the
    actor's releases stand where on it; and how many match in all. A fixed number of statements per page."""
    query = _filtered(actor, where)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(Vulnerability.known_exploited.desc(), Vulnerability.name)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    statuses: dict[tuple[int, int], list[Status]] = defaultdict(list)
    if rows:
        decisions = session.execute(
            select(VexDecision.vulnerability_id, VexDecision.release_id, VexDecision.status)
            .join(Release, Release.id == VexDecision.release_id)
            .where(
                and_(
                    VexDecision.vulnerability_id.in_([row.id for row in rows]),
                    visible_products_clause(actor, Release.product_id),
                )
            )
        )
        for vulnerability_id, release_id, status in decisions:
            statuses[(vulnerability_id, release_id)].append(status)
    counts: dict[int, dict[Status, int]] = {row.id: dict.fromkeys(STANDINGS, 0) for row in rows}
    for (vulnerability_id, _), found in statuses.items():
        counts[vulnerability_id][standing(found)] += 1
    return [KnownVulnerability(row, counts[row.id]) for row in rows], total
