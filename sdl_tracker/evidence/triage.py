"""Evidence triage: a filtered, searched, sorted page of evidence, and review of several items at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Generic, Literal, TypeAlias, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Row,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    inspect,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Bundle, Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..audit.services import kept
from ..auth import Permission, Principal
from ..catalog.models import CatalogEdition, Requirement
from ..db import Database, lock_row
from ..errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from ..installation import installation
from ..products.models import Release
from ..products.services import get_product
from .models import Artifact, Evidence, EvidenceRevision, RevisionRelease, RevisionRequirement
from .queries import get_evidence
from .review import may_review_current, review_evidence
from .scoping import product_intervals
from .standing import expires_on, latest_effective_expiring_by, review_months
from .vocabulary import EvidenceKind, EvidenceScope, ReviewState

SORTS = ("created", "updated", "title", "state", "expiry")
Expiry = Literal["", "expired", "due"]
MAX_WORDS = 10
T = TypeVar("T")


@dataclass(frozen=True)
class EvidenceFilter:
    """What a triage list shows: every criterion is optional; words of `text` must all appear (title or
    description, case-insensitive, taken literally)."""

    state: ReviewState | None = None
    kind: EvidenceKind | None = None
    requirement: str = ""  # a requirement id such as SR-2
    release_id: int | None = None  # what covers the release (organisation-wide evidence included)
    submitter: str = ""  # who submitted the current revision, as recorded
    expiry: Expiry = ""  # expired, or due within `days` (not yet expired)
    days: int = 30
    text: str = ""
    sort: str = "created"
    descending: bool = True


@dataclass(frozen=True)
class EvidencePage(Generic[T]):
    """One page of a triage list."""

    items: list[T]
    total: int
    page: int
    per_page: int
    as_of: date  # the day it was read: which items have expired moves with it

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one)."""
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class EvidenceLine:
    """One line of an evidence list: the item and its current revision, as the list shows them."""

    # The columns read (_LINE below).
    id: int
    product_id: int | None
    scope: EvidenceScope
    kind: EvidenceKind
    revision_id: int  # the current revision's
    number: int  # the current revision's, which a bulk review names
    title: str
    effective_date: date
    review_due: date | None
    submitted_by: str
    submitted_by_user_id: int | None
    state: ReviewState
    # What is worked out from them, and read beside them.
    expires: date | None  # the last standing day; None: does not expire
    reviewable: bool  # whether the reader may accept or reject it now
    requirements: list[str]  # ids, in catalog order
    releases: list[str]  # versions, oldest release first
    artifacts: list[tuple[int, str]]  # (id, file name), in the order attached


def words(text: str) -> list[str]:
    """The search words of a query (at most MAX_WORDS; more is refused)."""
    found = text.split()
    if len(found) > MAX_WORDS:
        raise Invalid.field("q", f"at most {MAX_WORDS} words")
    return found


# The current revision of each evidence row (the one with the highest number), and the condition that joins
# it. Built once: an alias adapts each column on first use, which costs more than running the statement.
_CURRENT = aliased(EvidenceRevision, name="current_revision")
_IS_CURRENT = and_(
    _CURRENT.evidence_id == Evidence.id,
    _CURRENT.number
    == select(func.max(EvidenceRevision.number))
    .where(EvidenceRevision.evidence_id == Evidence.id)
    .correlate(Evidence)
    .scalar_subquery(),
)
# A list of ids as one parameter: the statements that take it are built once, not once per id.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
# A row of columns, read by their names (plain data, not a row of the session).
Columns: TypeAlias = Row[*tuple[Any, ...]]


def _expiring_kinds(intervals: dict[str, int | None] | None) -> tuple[tuple[ColumnElement[bool], int], ...]:
    """Which current revisions expire by an interval, and its months: the kinds with an interval, the product's
    for its own evidence and the default for the organisation's, one condition per owner and interval."""
    return _expiring_kinds_of(None if intervals is None else tuple(sorted(intervals.items())))


# Built once per set of intervals (a product's own, or none): building the conditions took longer than running them.
@lru_cache(maxsize=64)
def _expiring_kinds_of(
    intervals: tuple[tuple[str, int | None], ...] | None,
) -> tuple[tuple[ColumnElement[bool], int], ...]:
    own = dict(intervals) if intervals is not None else None
    kinds: dict[tuple[bool, int], list[EvidenceKind]] = defaultdict(list)
    for kind in EvidenceKind:
        for owned, months in ((True, review_months(kind, own)), (False, review_months(kind))):
            if months:
                kinds[owned, months].append(kind)
    owner = {True: Evidence.product_id.is_not(None), False: Evidence.product_id.is_(None)}
    return tuple((and_(owner[owned], Evidence.kind.in_(of)), months) for (owned, months), of in kinds.items())


def _expiring_by(revision: Any, day: date, intervals: dict[str, int | None] | None) -> ColumnElement[bool]:
    """Current revisions whose last standing day is on or before `day`: their own review date, else their
    effective date plus the kind's interval, written as a bound on the effective date."""
    per_kind = [
        and_(which, revision.effective_date <= latest_effective_expiring_by(day, months))
        for which, months in _expiring_kinds(intervals)
    ]
    by_interval = and_(revision.review_due.is_(None), or_(*per_kind)) if per_kind else false()
    return or_(revision.review_due <= day, by_interval)


class _PlusMonths(FunctionElement[date]):
    """`day` plus `months` (an int) as standing.add_months counts: the month's last day where the day does not
    exist in it (2024-01-31 plus a month is 2024-02-29), in each engine's own date arithmetic."""

    type = Date()
    inherit_cache = True

    def __init__(self, day: ColumnElement[date], months: int) -> None:
        super().__init__(day, literal_column(str(int(months))))


@compiles(_PlusMonths, "sqlite")
def _plus_months_sqlite(element: _PlusMonths, compiler: SQLCompiler, **kw: Any) -> str:
    # date() carries a day the month lacks into the next month (2024-03-02): the month's last day bounds it.
    day, months = (compiler.process(clause, **kw) for clause in element.clauses)
    later = f"date({day}, '+' || {months} || ' months')"
    month_end = f"date({day}, 'start of month', '+' || ({months} + 1) || ' months', '-1 day')"
    return f"min({later}, {month_end})"


@compiles(_PlusMonths, "postgresql")
def _plus_months_postgresql(element: _PlusMonths, compiler: SQLCompiler, **kw: Any) -> str:
    # Interval arithmetic stops at the month's last day already.
    day, months = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST({day} + make_interval(months => {months}) AS DATE)"


def _last_day_sql(intervals: dict[str, int | None] | None) -> ColumnElement[date]:
    """The last standing day of a current revision as _last_day works it out, in SQL (NULL: does not expire)."""
    return _last_day_sql_of(None if intervals is None else tuple(sorted(intervals.items())))


@lru_cache(maxsize=64)
def _last_day_sql_of(intervals: tuple[tuple[str, int | None], ...] | None) -> ColumnElement[date]:
    revision: Any = _CURRENT
    by_kind = [(which, _PlusMonths(revision.effective_date, months)) for which, months in _expiring_kinds_of(intervals)]
    return case((revision.review_due.is_not(None), revision.review_due), *by_kind, else_=null())


def _intervals(session: Session, product_id: int) -> dict[str, int | None]:
    # Changing a product's review intervals is audited: kept until the chain moves, not read for each list.
    return dict(kept(session, ("review intervals", product_id), lambda: product_intervals(session, product_id)))


def _filtered(
    session: Session, product_id: int | None, wanted: EvidenceFilter, today: date
) -> tuple[Select[Any], Any, dict[str, int | None] | None]:
    revision = _CURRENT
    statement = select(Evidence).join(revision, _IS_CURRENT)
    intervals = _intervals(session, product_id) if product_id is not None else None
    if product_id is None:
        statement = statement.where(Evidence.product_id.is_(None))
    elif wanted.release_id is not None:
        statement = statement.where(or_(Evidence.product_id == product_id, Evidence.product_id.is_(None)))
        # Release-scoped evidence counts only for its releases; product and organisation scope always.
        names_release = exists().where(
            RevisionRelease.revision_id == revision.id, RevisionRelease.release_id == wanted.release_id
        )
        statement = statement.where(or_(Evidence.scope != EvidenceScope.RELEASES, names_release))
    else:
        statement = statement.where(Evidence.product_id == product_id)
    if wanted.state is not None:
        statement = statement.where(revision.state == wanted.state)
    if wanted.kind is not None:
        statement = statement.where(Evidence.kind == wanted.kind)
    if wanted.requirement:
        statement = statement.where(
            exists()
            .where(RevisionRequirement.revision_id == revision.id)
            .where(RevisionRequirement.requirement_id == Requirement.id)
            .where(func.lower(Requirement.ref) == wanted.requirement.strip().lower())
        )
    if wanted.submitter:
        # As recorded (user:EMAIL, cli:NAME), or a user's e-mail address alone.
        statement = statement.where(revision.submitted_by.in_({wanted.submitter, f"user:{wanted.submitter}"}))
    if wanted.expiry == "expired":
        statement = statement.where(_expiring_by(revision, today - timedelta(days=1), intervals))
    elif wanted.expiry == "due":
        statement = statement.where(
            _expiring_by(revision, today + timedelta(days=wanted.days), intervals),
            ~_expiring_by(revision, today - timedelta(days=1), intervals),
        )
    for word in words(wanted.text):
        # contains(autoescape=True) escapes % and _ (and the escape character): a user's wildcard is literal.
        needle = word.lower()
        statement = statement.where(
            or_(
                func.lower(revision.title).contains(needle, autoescape=True),
                func.lower(revision.description).contains(needle, autoescape=True),
            )
        )
    return statement, revision, intervals


def _last_day(row: Any, intervals: dict[str, int | None] | None) -> date | None:
    """The last standing day of a row of the item's kind, product and current revision's dates."""
    own = intervals if row.product_id is not None else None
    return expires_on(row.effective_date, row.review_due, review_months(row.kind, own))


def _page(
    session: Session,
    actor: Principal,
    product_id: int | None,
    wanted: EvidenceFilter,
    *,
    page: int,
    per_page: int,
    columns: Sequence[Any],
) -> tuple[list[Columns], int, dict[str, int | None] | None]:
    """One page of the matching items as `columns` (of Evidence and _CURRENT, the first Evidence.id) read them,
    in the order asked, with how many match and the product's review intervals."""
    if product_id is not None:
        get_product(session, actor, product_id)
    today = installation(session).now().date()
    statement, revision, intervals = _filtered(session, product_id, wanted, today)
    # How many match, counted with the page's rows (a window over every match) rather than by a statement of its
    # own: building and running a second statement of the same filters cost as much as the first.
    shown = statement.with_only_columns(*columns, func.count().over().label("matched"))
    keys: list[Any]
    if wanted.sort == "expiry":
        last = _last_day_sql(intervals)
        keys = [last.is_(None), last]  # those that never expire after those that do, as the list shows them
    else:
        by = {"updated": revision.created_at, "title": func.lower(revision.title), "state": revision.state}
        keys = [by[wanted.sort]] if wanted.sort in by else []
    ordering = [key.desc() if wanted.descending else key.asc() for key in (*keys, Evidence.id)]
    # One current revision per item: the join's rows are the items.
    rows = list(session.execute(shown.order_by(*ordering).offset((page - 1) * per_page).limit(per_page)))
    if rows:
        total = rows[0].matched
    else:  # past the last page (or nothing matches): counted on its own
        total = session.scalar(statement.with_only_columns(func.count())) or 0 if page > 1 else 0
    return rows, total, intervals


# What a line of a list reads of an item and its current revision (EvidenceLine's first fields).
_LINE = (
    Evidence.id,
    Evidence.product_id,
    Evidence.scope,
    Evidence.kind,
    _CURRENT.id.label("revision_id"),
    _CURRENT.number,
    _CURRENT.title,
    _CURRENT.effective_date,
    _CURRENT.review_due,
    _CURRENT.submitted_by,
    _CURRENT.submitted_by_user_id,
    _CURRENT.state,
)
_REQUIREMENTS = (
    select(RevisionRequirement.revision_id, CatalogEdition.standard, CatalogEdition.edition, Requirement.ref)
    .join(Requirement, Requirement.id == RevisionRequirement.requirement_id)
    .join(CatalogEdition, CatalogEdition.id == Requirement.edition_id)
    .where(RevisionRequirement.revision_id.in_(_IDS))
    .order_by(Requirement.position, Requirement.id)
)
_RELEASES = (
    select(RevisionRelease.revision_id, Release.version)
    .join(Release, Release.id == RevisionRelease.release_id)
    .where(RevisionRelease.revision_id.in_(_IDS))
    .order_by(Release.id)
)
_ARTIFACTS = (
    select(
        Artifact.revision_id, Artifact.id, Artifact.filename, Artifact.media_type, Artifact.size, Artifact.blob_sha256
    )
    .where(Artifact.revision_id.in_(_IDS))
    .order_by(Artifact.id)
)


@dataclass(frozen=True)
class Links:
    """What the current revisions of a page link, by revision id, in the order a revision shows them."""

    requirements: dict[int, list[tuple[str, str, str]]]  # standard, edition, id
    releases: dict[int, list[str]]  # versions
    artifacts: dict[int, list[Columns]]  # id, filename, media_type, size, blob_sha256


def _links(session: Session, revision_ids: list[int]) -> Links:
    links = Links(defaultdict(list), defaultdict(list), defaultdict(list))
    if revision_ids:
        ids = {"ids": revision_ids}
        for revision_id, standard, edition, ref in session.execute(_REQUIREMENTS, ids):
            links.requirements[revision_id].append((standard, edition, ref))
        for revision_id, version in session.execute(_RELEASES, ids):
            links.releases[revision_id].append(version)
        for artifact in session.execute(_ARTIFACTS, ids):
            links.artifacts[artifact.revision_id].append(artifact)
    return links


def _line_columns(row: Columns) -> dict[str, Any]:
    columns = row._asdict()
    del columns["matched"]  # how many match, which the page gives
    return columns


def _kept_page(
    session: Session, actor: Principal, question: tuple[Any, ...], read: Callable[[], tuple[tuple[T, ...], int]]
) -> tuple[tuple[T, ...], int, date]:
    """`read()`'s page of the list `question` names (what, product id, filter, page, per page), kept when the
    filter is kept_filter's, with the day it was read; access to the product is checked first. Every change that
    moves a line (evidence attached, revised, submitted or reviewed, a release, a product's review intervals) is
    audited; which items have expired moves with the day."""
    _, product_id, wanted, *_ = question
    if product_id is not None:
        get_product(session, actor, product_id)
    today = installation(session).now().date()
    lines, total = kept(session, (*question, today), read) if kept_filter(wanted) else read()
    return lines, total, today


def kept_filter(wanted: EvidenceFilter) -> bool:
    """Whether a list so filtered is kept until the audit chain moves: one that names only what the list offers a
    bounded choice of (a release, a state, the order), as a list opens and as the review queue is read; free text
    would make keys without bound."""
    return replace(wanted, release_id=None, state=None, sort="created", descending=True, days=30) == EvidenceFilter()


def search_evidence(
    session: Session, actor: Principal, product_id: int | None, wanted: EvidenceFilter, *, page: int, per_page: int
) -> EvidencePage[EvidenceLine]:
    """One page of a product's evidence (or the organisation's, for product_id None) as `wanted` filters
    and sorts it, each item as a list shows it: the columns of its current revision, never its history.
    A fixed number of statements, however many rows match or are shown."""

    def read() -> tuple[tuple[EvidenceLine, ...], int]:
        rows, total, intervals = _page(session, actor, product_id, wanted, page=page, per_page=per_page, columns=_LINE)
        links = _links(session, [row.revision_id for row in rows])
        lines = tuple(
            EvidenceLine(
                **_line_columns(row),
                expires=_last_day(row, intervals),
                reviewable=False,  # the reader's, below: the lines may be kept for every reader
                requirements=[ref for _, _, ref in links.requirements.get(row.revision_id, [])],
                releases=links.releases.get(row.revision_id, []),
                artifacts=[(a.id, a.filename) for a in links.artifacts.get(row.revision_id, [])],
            )
            for row in rows
        )
        return lines, total

    lines, total, today = _kept_page(session, actor, ("evidence page", product_id, wanted, page, per_page), read)
    items = [
        replace(line, reviewable=True)
        if may_review_current(actor, line.product_id, line.submitted_by_user_id, line.state)
        else line
        for line in lines
    ]
    return EvidencePage(items, total, page, per_page, today)


# What the API reads of an item and its current revision: every column, under the models' attribute names.
_ITEM: Bundle[Any] = Bundle("item", *(getattr(Evidence, a.key) for a in inspect(Evidence).column_attrs))
_REVISION: Bundle[Any] = Bundle("current", *(getattr(_CURRENT, a.key) for a in inspect(EvidenceRevision).column_attrs))


@dataclass(frozen=True)
class CurrentEvidence:
    """An item and its current revision as read for a list (columns under the models' attribute names, not rows
    of the session), with the revision's links."""

    item: Columns  # every column of Evidence
    current: Columns  # every column of EvidenceRevision
    requirements: list[tuple[str, str, str]]  # standard, edition, id
    releases: list[str]
    artifacts: list[Columns]  # id, filename, media_type, size, blob_sha256


def search_current_evidence(
    session: Session, actor: Principal, product_id: int | None, wanted: EvidenceFilter, *, page: int, per_page: int
) -> EvidencePage[CurrentEvidence]:
    """The page `search_evidence` gives, each item with all of its current revision and its links (the other
    revisions are not read): what the API lists."""

    def read() -> tuple[tuple[CurrentEvidence, ...], int]:
        columns = (Evidence.id, _ITEM, _REVISION)
        rows, total, _ = _page(session, actor, product_id, wanted, page=page, per_page=per_page, columns=columns)
        links = _links(session, [row.current.id for row in rows])
        items = tuple(
            CurrentEvidence(
                row.item,
                row.current,
                links.requirements.get(row.current.id, []),
                links.releases.get(row.current.id, []),
                links.artifacts.get(row.current.id, []),
            )
            for row in rows
        )
        return items, total

    question = ("current evidence page", product_id, wanted, page, per_page)
    items, total, today = _kept_page(session, actor, question, read)
    return EvidencePage(list(items), total, page, per_page, today)


def submitters(session: Session, actor: Principal, product_id: int | None) -> list[str]:
    """Who submitted the current revisions of a product's (or the organisation's) evidence, for a filter. Read
    from every item, so kept until the audit chain moves (every submission is audited)."""
    if product_id is not None:
        get_product(session, actor, product_id)
    owner = Evidence.product_id == product_id if product_id is not None else Evidence.product_id.is_(None)
    statement = select(_CURRENT.submitted_by).join_from(Evidence, _CURRENT, _IS_CURRENT).where(owner).distinct()

    def read() -> tuple[str, ...]:
        return tuple(sorted(session.scalars(statement), key=str.lower))

    return list(kept(session, ("evidence submitters", product_id), read))


MAX_BULK = 1000  # items of one bulk review, from any door
# Decisions committed together: about 12 ms each on SQLite, so a batch holds the write lock a fraction of a second.
BULK_BATCH = 25
# What each refusal of one item of a bulk review is called on the page.
Outcome = Literal["accepted", "rejected", "self-review", "wrong state", "not permitted", "stale", "refused"]


@dataclass(frozen=True)
class BulkResult:
    """What became of one item of a bulk review."""

    evidence_id: int
    title: str
    outcome: Outcome
    message: str = ""

    @property
    def done(self) -> bool:
        """Whether the decision was recorded."""
        return self.outcome in ("accepted", "rejected")


def _refusal(error: DomainError) -> Outcome:
    if isinstance(error, Conflict):
        return "stale"
    if isinstance(error, NotFound):
        return "not permitted"
    if isinstance(error, Forbidden):
        return "self-review" if "own submission" in error.message else "not permitted"
    if isinstance(error, Invalid) and any(e.field == "state" for e in error.errors):
        return "wrong state"
    return "refused"


def _review_one(
    session: Session, actor: Principal, evidence_id: int, revision_number: int, *, accept: bool, reason: str
) -> EvidenceRevision:
    """Review one item as the single review does, refused as stale when its current revision is no longer
    the one the reviewer saw. Edits lock the item: locking it first means a new revision made meanwhile is seen.
    Access is checked first: an item the actor may not see reads as an unknown id, never as stale (which would
    tell that it exists and its current revision's number)."""
    get_evidence(session, actor, evidence_id)
    lock_row(session, Evidence.id, evidence_id)
    evidence = get_evidence(session, actor, evidence_id)
    session.refresh(evidence, ["revisions"])
    if evidence.current.number != revision_number:
        raise Conflict(f"revision {evidence.current.number} was made after the list was shown; review it anew")
    return review_evidence(session, actor, evidence_id, accept=accept, reason=reason)


def review_many(
    database: Database,
    actor: Principal,
    chosen: Sequence[tuple[int, int]],
    *,
    accept: bool,
    reason: str = "",
) -> list[BulkResult]:
    """Accept or reject each chosen (evidence id, revision number) by the single review, each in a unit of
    its own (a savepoint): one item's refusal undoes nothing of another's decision, and a refused item
    keeps nothing it wrote. Committed in batches of BULK_BATCH, each its own short write transaction, so a
    thousand decisions never hold SQLite's write lock for seconds (the caller must hold no transaction).
    At most MAX_BULK items; a token that does not grant evidence:review is refused as a whole (it could
    review none of them)."""
    if actor.scopes is not None and Permission.EVIDENCE_REVIEW not in actor.scopes:
        raise Forbidden(f"this token does not grant {Permission.EVIDENCE_REVIEW.value}")
    if len(chosen) > MAX_BULK:
        raise Invalid.field("items", f"at most {MAX_BULK:,} items at once")
    if not accept and not reason.strip():
        raise Invalid.field("reason", "a rejection needs a reason")
    results: list[BulkResult] = []
    unique = list(dict.fromkeys(chosen))
    for start in range(0, len(unique), BULK_BATCH):
        with database.unit_of_work() as session:
            results += [
                _review_in_savepoint(session, actor, evidence_id, number, accept=accept, reason=reason)
                for evidence_id, number in unique[start : start + BULK_BATCH]
            ]
    return results


def _review_in_savepoint(
    session: Session, actor: Principal, evidence_id: int, number: int, *, accept: bool, reason: str
) -> BulkResult:
    try:
        with session.begin_nested():
            revision = _review_one(session, actor, evidence_id, number, accept=accept, reason=reason)
    except DomainError as exc:
        message = "; ".join([exc.message, *(e.message for e in exc.errors)]) if exc.errors else exc.message
        # No title: a refused item may be one the reviewer cannot see.
        return BulkResult(evidence_id, "", _refusal(exc), message)
    return BulkResult(evidence_id, revision.title, "accepted" if accept else "rejected")
