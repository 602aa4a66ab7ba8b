"""Reading across SBOMs: where a component is, a release's licences, dependency paths, a release's SBOM history.

Each reads what its page shows in a fixed number of statements; the decisions are `rules`' pure functions.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, and_, func, select
from sqlalchemy.orm import Session

from ..audit.models import AuditEvent
from ..audit.services import kept
from ..auth import Principal, visible_products_clause
from ..errors import Invalid, NotFound
from ..jobs.registry import collector_paused
from ..products.models import Product, Release
from ..products.rules import release_sort_key
from ..products.services import get_release
from . import rules
from .diff import VersionOrder
from .models import ComponentName, Sbom, SbomComponent, SbomDependency, SbomState
from .services import get_sbom

# A search reads at most this many candidate components (those whose folded name holds the text, or whose
# purl identity is the one asked for: both looked up by index); more means the words are too common to
# answer from, and the answer says so.
MAX_CANDIDATES = 20_000
MAX_PATHS = 1_000
MAX_DEPTH = 100


def folded(column: Any) -> ColumnElement[str]:
    """A column as `rules.fold` folds text, in SQL on both engines: lower() (on SQLite Python's, from db.py;
    on PostgreSQL by the database's LC_CTYPE), then the same replacements."""
    expression: Any = func.lower(column)
    for letter, read_as in rules.FOLDS:
        expression = func.replace(expression, letter, read_as)
    return expression


def _like_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Hit:
    """A component of a release's primary SBOM that the search found."""

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


@dataclass(frozen=True)
class WhereFound:
    """A page of what a component search found, and how far it reaches."""

    wanted: rules.Wanted
    items: list[Hit]
    total: int
    releases: int
    products: int
    truncated: bool  # more candidates than MAX_CANDIDATES: narrow the search


class _Key(NamedTuple):
    """What a candidate is sorted and filtered by, read for every candidate; the rest only for the page."""

    product_id: int
    release_id: int
    component_id: int
    name_folded: str
    version: str
    position: int
    purl_key: str


def _candidate_keys(actor: Principal, wanted: rules.Wanted) -> Any:
    where: list[ColumnElement[bool]] = [
        Sbom.is_primary.is_(True),
        Sbom.state == SbomState.PUBLISHED,
        visible_products_clause(actor, Sbom.product_id),
    ]
    if wanted.purl is not None:
        where.append(SbomComponent.purl_key == wanted.purl[1][: rules.MAX_KEY])
    else:
        # The names that hold the text (each stored once), then the components with one of them, by the index.
        names = select(ComponentName.name_folded).where(
            ComponentName.name_folded.like(f"%{_like_text(wanted.name)}%", escape="\\")
        )
        where.append(SbomComponent.name_folded.in_(names))
        if wanted.group:
            where.append(folded(SbomComponent.group_name).like(f"%{_like_text(wanted.group)}%", escape="\\"))
    return (
        select(
            Sbom.product_id,
            Sbom.release_id,
            SbomComponent.id,
            SbomComponent.name_folded,  # sorted by, as folded for the search
            SbomComponent.version,
            SbomComponent.position,
            SbomComponent.purl_key,  # not shown: its type names the version rules
        )
        .select_from(SbomComponent)
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .where(and_(*where))
        .limit(MAX_CANDIDATES + 1)
    )


def _taken(wanted: rules.Wanted, keys: list[_Key]) -> list[_Key]:
    """The candidates at a version the search wants, each (purl type, version) decided once: a portfolio's
    products share most of their components' versions."""
    if wanted.versions is None:
        return keys
    order = VersionOrder()
    decided: dict[tuple[str, str], bool] = {}
    taken = []
    for key in keys:
        rule = (key.purl_key.partition("/")[0], key.version)
        verdict = decided.get(rule)
        if verdict is None:
            verdict = decided[rule] = rules.version_taken(
                wanted.versions, rules.key_scheme(key.purl_key), key.version, order
            )
        if verdict:
            taken.append(key)
    return taken


def _hits(session: Session, component_ids: list[int]) -> list[Hit]:
    """The page's hits in full, in the order of `component_ids`."""
    if not component_ids:
        return []
    rows = session.execute(
        select(
            SbomComponent.id,
            Product.id,
            Product.name,
            Release.id,
            Release.version,
            Sbom.id,
            Sbom.title,
            SbomComponent.position,
            SbomComponent.parent_position,
            SbomComponent.type,
            SbomComponent.group_name,
            SbomComponent.name,
            SbomComponent.version,
            SbomComponent.purl,
            SbomComponent.cpe,
        )
        .select_from(SbomComponent)
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .join(Release, Release.id == Sbom.release_id)
        .join(Product, Product.id == Sbom.product_id)
        .where(SbomComponent.id.in_(component_ids))
    )
    by_id = {row[0]: Hit(*tuple(row)[1:]) for row in rows}
    return [by_id[component_id] for component_id in component_ids]


@dataclass(frozen=True)
class _Ranked:
    """A search's answer before its page is read: every hit's component id in order, and how far they reach."""

    component_ids: array[int]  # 8 bytes a hit: kept answers stay small
    releases: int
    products: int
    truncated: bool


def _ranked(session: Session, actor: Principal, wanted: rules.Wanted) -> _Ranked:
    """Every hit of the search in the order pages show them. Each candidate's sort and filter keys are read narrow
    (no joins beyond its SBOM): a broad search over a portfolio reads thousands of candidates to show fifty."""
    with collector_paused(collect=False):  # many short-lived rows, no cycles among them
        # Through the connection: plain rows, without the ORM's per-row loading (a third of the read).
        keys = [_Key(*row) for row in session.connection().execute(_candidate_keys(actor, wanted)).all()]
    truncated = len(keys) > MAX_CANDIDATES
    taken = _taken(wanted, keys[:MAX_CANDIDATES])
    product_ids = {key.product_id for key in taken}
    release_ids = {key.release_id for key in taken}
    product_rank: dict[int, int] = {}
    release_rank: dict[int, int] = {}
    if taken:
        named = session.execute(select(Product.name, Product.id).where(Product.id.in_(product_ids))).all()
        product_rank = {row.id: rank for rank, row in enumerate(sorted(named, key=lambda r: (r.name.casefold(), r.id)))}
        versions = session.execute(select(Release.version, Release.id).where(Release.id.in_(release_ids))).all()
        release_rank = {row.id: rank for rank, row in enumerate(sorted(versions, key=release_sort_key))}
    taken.sort(key=lambda k: (product_rank[k.product_id], release_rank[k.release_id], k.name_folded, k.position))
    return _Ranked(array("q", (key.component_id for key in taken)), len(release_ids), len(product_ids), truncated)


def where_is(session: Session, actor: Principal, text: str, *, page: int = 1, per_page: int = 50) -> WhereFound:
    """Which releases' primary SBOMs (of the products the actor sees) hold the component `text` names: a purl
    (with or without version), a name (folded), either with a version range after it.

    The ordered hits are kept until the audit chain moves (every SBOM published, made primary or withdrawn, and
    every change of who sees which product, moves it), per query and per set of products the actor sees: paging
    through a broad search, or many readers asking the same, then reads only the page's rows."""
    wanted = rules.parse_query(text)
    sees = (actor.is_admin, tuple(sorted(actor.role_by_product)), actor.token_products)
    ranked = kept(session, ("component search", repr(wanted), sees), lambda: _ranked(session, actor, wanted))
    start = (page - 1) * per_page
    return WhereFound(
        wanted,
        _hits(session, list(ranked.component_ids[start : start + per_page])),
        len(ranked.component_ids),
        ranked.releases,
        ranked.products,
        ranked.truncated,
    )


def primary_sbom(session: Session, actor: Principal, release_id: int) -> Sbom:
    """The release's primary SBOM; Invalid when it has none."""
    release = get_release(session, actor, release_id)
    sbom = session.scalar(
        select(Sbom).where(Sbom.release_id == release.id, Sbom.is_primary, Sbom.state == SbomState.PUBLISHED)
    )
    if sbom is None:
        raise Invalid.field("release", f"{release.product.name} {release.version} has no SBOM")
    return get_sbom(session, actor, sbom.id)


@dataclass(frozen=True)
class LicenceSummary:
    """The licences of a release's primary SBOM's components, counted."""

    sbom: Sbom
    licences: list[rules.LicenceCount]
    without: int  # components that give no licence
    components: int


def licence_summary(session: Session, actor: Principal, release_id: int) -> LicenceSummary:
    """The licences the components of the release's primary SBOM give, each with how many give it."""
    sbom = primary_sbom(session, actor, release_id)

    def count() -> tuple[list[rules.LicenceCount], int]:
        given = session.scalars(select(SbomComponent.licenses).where(SbomComponent.sbom_id == sbom.id))
        return rules.count_licences(given)

    # A published SBOM's components never change: counted once per document (reading 50,000 components'
    # licences took 0.6 s on SQLite), as its component count and types are.
    counted, without = kept(session, ("sbom licences", sbom.id), count, version=sbom.sha256)
    return LicenceSummary(sbom, counted, without, sbom.component_count)


@dataclass(frozen=True)
class Node:
    """A ref of the dependency graph as pages name it: a component (its position), or the SBOM's subject or a
    service (position None)."""

    ref: str
    label: str
    position: int | None


@dataclass(frozen=True)
class ComponentPaths:
    """What depends on a component (paths to the roots) and what it pulls in."""

    sbom: Sbom
    component: Row[Any]
    nodes: dict[str, Node]
    dependents: rules.Dependents
    pulled: list[rules.Pulled]
    pulled_cut: bool  # more lay beyond the depth limit
    max_paths: int
    max_depth: int


def _label(group: str, name: str, version: str) -> str:
    named = f"{group}/{name}" if group else name
    return f"{named}@{version}" if version else named


def _limits(max_paths: int, max_depth: int) -> None:
    if not 1 <= max_paths <= MAX_PATHS:
        raise Invalid.field("max_paths", f"max_paths is from 1 to {MAX_PATHS}")
    if not 1 <= max_depth <= MAX_DEPTH:
        raise Invalid.field("max_depth", f"max_depth is from 1 to {MAX_DEPTH}")


def component_paths(
    session: Session, actor: Principal, sbom_id: int, position: int, *, max_paths: int = 100, max_depth: int = 30
) -> ComponentPaths:
    """A component's dependents, as at most `max_paths` paths up to the roots of at most `max_depth` steps,
    and its transitive dependencies up to `max_depth` steps."""
    _limits(max_paths, max_depth)
    sbom = get_sbom(session, actor, sbom_id)
    columns = [c for c in SbomComponent.__table__.columns if c.name not in ("id", "sbom_id")]
    component = session.execute(
        select(*columns).where(SbomComponent.sbom_id == sbom.id, SbomComponent.position == position)
    ).first()
    if component is None:
        raise NotFound(f"SBOM #{sbom.id} has no component {position}")
    with collector_paused(collect=False):
        edges = [
            (ref, target)
            for ref, target in session.execute(
                select(SbomDependency.ref, SbomDependency.depends_on)
                .where(SbomDependency.sbom_id == sbom.id)
                .order_by(SbomDependency.id)
            )
        ]
        if component.bom_ref:
            dependents = rules.paths_to_roots(edges, component.bom_ref, limit=max_paths, depth=max_depth)
            pulled, cut = rules.pulled_in(edges, component.bom_ref, depth=max_depth)
        else:  # no bom-ref: no dependency can name it
            dependents, pulled, cut = rules.Dependents((), cut=False), [], False
        wanted = {ref for path in dependents.paths for ref in path.refs} | {p.ref for p in pulled}
        wanted |= {component.bom_ref} if component.bom_ref else set()
        nodes = _nodes(session, sbom, wanted)
    return ComponentPaths(sbom, component, nodes, dependents, pulled, cut, max_paths, max_depth)


def _nodes(session: Session, sbom: Sbom, refs: set[str]) -> dict[str, Node]:
    """Names for the refs: components by their labels; the subject by its own; a service by its ref."""
    nodes = {ref: Node(ref, ref, None) for ref in refs}
    subject = sbom.subject or {}
    ref = subject.get("bom_ref")
    if ref in nodes:
        nodes[ref] = Node(
            ref, _label(subject.get("group") or "", subject.get("name") or ref, subject.get("version") or ""), None
        )
    if not refs:
        return nodes
    query = select(
        SbomComponent.bom_ref,
        SbomComponent.position,
        SbomComponent.group_name,
        SbomComponent.name,
        SbomComponent.version,
    ).where(SbomComponent.sbom_id == sbom.id)
    # A few refs by name; many (a big tree pulled in) by reading the SBOM's labels once, not a huge IN list.
    if len(refs) <= 500:
        query = query.where(SbomComponent.bom_ref.in_(sorted(refs)))
    for ref, position, group, name, version in session.execute(query):
        if ref in nodes:
            nodes[ref] = Node(ref, _label(group, name, version), position)
    return nodes


@dataclass(frozen=True)
class HistoryEntry:
    """One SBOM the release had, with its counts and when it was the primary one."""

    sbom: Sbom
    periods: list[rules.Period]
    previous: Sbom | None  # the one imported before it, for the diff between them


def sbom_history(session: Session, actor: Principal, release_id: int) -> list[HistoryEntry]:
    """The SBOMs a release had, oldest import first, each with its primary periods (from the audit log's
    imports and primary choices) and the one imported before it."""
    release = get_release(session, actor, release_id)
    sboms = list(
        session.scalars(
            select(Sbom)
            .where(
                Sbom.release_id == release.id,
                Sbom.state == SbomState.PUBLISHED,
                visible_products_clause(actor, Sbom.product_id),
            )
            .order_by(Sbom.imported_at, Sbom.id)
        )
    )
    ids = tuple(sorted(s.id for s in sboms))
    # Plain periods, kept until the audit chain moves: they are read from it (its imports and primary choices).
    periods = kept(session, ("sbom-primary-periods", release.id, ids), lambda: _primary_periods(session, release, ids))
    return [
        HistoryEntry(sbom, periods.get(sbom.id, []), sboms[index - 1] if index else None)
        for index, sbom in enumerate(sboms)
    ]


def _primary_periods(session: Session, release: Release, ids: tuple[int, ...]) -> dict[int, list[rules.Period]]:
    """When each of these SBOMs of the release was its primary one, from the audit log."""
    events = session.execute(
        select(AuditEvent.target_id, AuditEvent.at, AuditEvent.action, AuditEvent.details)
        .where(
            AuditEvent.product_id == release.product_id,
            AuditEvent.target_type == "sbom",
            AuditEvent.action.in_(("sbom:document:import", "sbom:document:primary")),
            AuditEvent.target_id.in_([str(sbom_id) for sbom_id in ids]),
        )
        .order_by(AuditEvent.seq)
    )
    changes = [
        rules.PrimaryChange(int(target), at, True if action == "sbom:document:primary" else _became(details))
        for target, at, action, details in events
    ]
    return rules.primary_periods(changes)


def _became(details: dict[str, Any] | None) -> bool | None:
    value = (details or {}).get("primary")
    return value if isinstance(value, bool) else None
