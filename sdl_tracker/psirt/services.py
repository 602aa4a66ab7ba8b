"""PSIRT cases: recording them, their Article 14 facts and submissions, and keeping their clocks.

Every change is one audited write; the clocks are recomputed from the facts (psirt/rules.py) in the same
transaction and kept as ReportClock rows, where a breach is recorded the first time it is seen and is never
cleared. Anchor times (awareness, the measure) are facts the clocks hang on: setting one before the case was
received, or changing one once set, needs a justification, which the audit event keeps.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..audit.models import AuditEvent
from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits, visible_products_clause
from ..boundary import int_problem, parse_whole
from ..db import insert_missing, locked, utcnow
from ..errors import Invalid, NotFound
from ..products.models import Product, Release
from ..products.services import get_product
from ..sboms.diff import purl_identity
from ..sboms.models import Sbom, SbomComponent, SbomState
from ..zones import zone_problem
from .alerts import OVERDUE, announce, clock_events
from .models import (
    CaseKind,
    CaseSource,
    CaseStatus,
    PsirtCase,
    PsirtComponent,
    PsirtIntermediateRequest,
    PsirtRelease,
    PsirtSequence,
    PsirtSettings,
    PsirtSubmission,
    ReportClock,
)
from .records import record_steps
from .rules import (
    EARLY_WARNING,
    FINAL_REPORT,
    NOTIFICATION,
    OPEN_STATES,
    Clock,
    ClockError,
    ClockState,
    IntermediateRequest,
    RecordKind,
    Submission,
    intermediate_stage,
    next_deadline,
    reporting_clocks,
    restate,
)

MAX_TITLE = 300
MAX_TEXT = 20_000
MAX_SHORT = 200
MAX_ITEMS = 200  # CVE ids, CWE ids, components, releases per case
FUTURE_SLACK = timedelta(minutes=5)  # a clock a little ahead of the server's is not "the future"
CLOSING = frozenset({CaseStatus.REJECTED, CaseStatus.DUPLICATE})
# Where a product's main establishment is not recorded, its calendar periods are read in each of the zones the
# Member States keep (the Azores, Western, Central and Eastern European time; the outermost regions keep no
# daylight saving, so UTC's reading, always among those read, stands for them) and the earliest is taken.
UNION_ZONES = ("Atlantic/Azores", "Europe/Lisbon", "Europe/Berlin", "Europe/Helsinki")
# Art. 14(5): an incident is severe where it affects (or can affect) the product's ability to protect the
# availability, authenticity, integrity or confidentiality of sensitive or important data or functions, or where
# it led (or can lead) to malicious code in the product or in its users' systems.
INCIDENT_CRITERIA = {
    "protection-affected": "affects the protection of the availability, authenticity, integrity or "
    "confidentiality of sensitive or important data or functions (Art. 14(5)(a))",
    "malicious-code": "led or can lead to malicious code in the product or in users' systems (Art. 14(5)(b))",
}
ANCHORS = ("aware_at", "measure_available_at")
# Text shown on one line (lists, packets, e-mail subjects): a line break in it could start a line of its own there.
SINGLE_LINE = frozenset({"title", "maintainer_reference", "upstream_component", "reference", "csirt"})
# Recorded times are refused outside the days the tracker records (the input boundary, docs/architecture.md).
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
RELEASE_ROLES = {"affected": "affected", "fixed_in": "fixed"}
TEXT_FIELDS = {
    "title": MAX_TITLE,
    "description": MAX_TEXT,
    "reporter_contact": MAX_TEXT,
    "status_reason": MAX_TEXT,
    "remediation": MAX_TEXT,
    "mitigation": MAX_TEXT,
    "impact": MAX_TEXT,
    "sensitivity": MAX_TEXT,
    "malicious_actor": MAX_TEXT,
    "root_cause": MAX_TEXT,
    "upstream_component": MAX_SHORT * 5,
    "maintainer_reference": MAX_SHORT,
    "users_information": MAX_TEXT,
}
TIME_FIELDS = ("received_at", "aware_at", "measure_available_at", "maintainer_reported_at", "users_informed_at")
FIELDS = frozenset(
    {*TEXT_FIELDS, *TIME_FIELDS, *RELEASE_ROLES}
    | {"source", "status", "duplicate_of", "cve_ids", "cwe_ids", "cvss_v31", "cvss_v40", "embargo_until"}
    | {"incident_criteria", "malicious_suspected", "components", "exercise"}
)


def authorize_manage_cases(actor: Principal, product_id: int) -> None:
    """Raise unless the actor may record and change the product's cases (its security officers)."""
    authorize(actor, Permission.PSIRT_MANAGE, product_id)


def may_manage_cases(actor: Principal, product_id: int) -> bool:
    """Whether the actor may record and change the product's cases (and read reporters' contacts)."""
    return permits(authorize_manage_cases, actor, product_id)


# --- reading -------------------------------------------------------------------------------------------------


def parse_reference(text: str) -> tuple[int, int]:
    """(year, number) of `PSIRT-YYYY-NNNN`, in any letter case; Invalid otherwise, numbers no case can have too."""
    parts = text.strip().upper().split("-")
    if len(parts) == 3 and parts[0] == "PSIRT":
        year, number = parse_whole(parts[1]), parse_whole(parts[2])
        if year is not None and number is not None and not (int_problem(year) or int_problem(number)):
            return year, number
    raise Invalid.field("case", f"not a case reference: {text[:40]!r} (PSIRT-YYYY-NNNN)")


def get_case(session: Session, actor: Principal, case_id: int) -> PsirtCase:
    """A case of a product the actor sees, else NotFound."""
    case = session.get(PsirtCase, case_id)
    if case is None or not actor.can_see(case.product_id):
        raise NotFound("no such case")
    authorize(actor, Permission.PRODUCT_READ, case.product_id)
    return case


def fixed_case_reference(session: Session, *, product_id: int, value: str) -> str:
    """The reference of the case a commit of the product says it fixes (`Fixes-PSIRT: VALUE`), when that fix may
    record DM-4: a case of this product that is no exercise. Invalid saying why not otherwise; a case of another
    product reads as one that does not exist, so a commit's trailer tells nothing of other products' cases."""
    year, number = parse_reference(value)
    case = session.scalar(
        select(PsirtCase).where(PsirtCase.year == year, PsirtCase.number == number, PsirtCase.product_id == product_id)
    )
    if case is None:
        raise Invalid.field("case", f"no case PSIRT-{year:04d}-{number:04d} of this product")
    if case.exercise:
        raise Invalid.field("case", f"{case.reference} is an exercise, which counts for nothing")
    return case.reference


def get_case_by_reference(session: Session, actor: Principal, reference: str) -> PsirtCase:
    """A case by its PSIRT-YYYY-NNNN, else NotFound."""
    year, number = parse_reference(reference)
    case_id = session.scalar(select(PsirtCase.id).where(PsirtCase.year == year, PsirtCase.number == number))
    case = session.get(PsirtCase, case_id) if case_id is not None else None
    if case is None or not actor.can_see(case.product_id):  # another product's case reads as a free number
        raise NotFound(f"no case {reference.strip().upper()}")
    return get_case(session, actor, case.id)


@dataclass(frozen=True)
class CaseFilter:
    """What a case list shows: a product, statuses, a kind, exercises or not."""

    product_id: int | None = None
    statuses: tuple[CaseStatus, ...] = ()
    kind: CaseKind | None = None
    exercise: bool | None = None


def list_cases(session: Session, actor: Principal, where: CaseFilter = CaseFilter()) -> list[PsirtCase]:
    """The cases of the products the actor sees, newest first."""
    query = select(PsirtCase).where(visible_products_clause(actor, PsirtCase.product_id))
    if where.product_id is not None:
        get_product(session, actor, where.product_id)
        query = query.where(PsirtCase.product_id == where.product_id)
    if where.statuses:
        query = query.where(PsirtCase.status.in_(where.statuses))
    if where.kind is not None:
        query = query.where(PsirtCase.kind == where.kind)
    if where.exercise is not None:
        query = query.where(PsirtCase.exercise.is_(where.exercise))
    return list(session.scalars(query.order_by(PsirtCase.received_at.desc(), PsirtCase.id.desc())))


def case_releases(session: Session, case: PsirtCase) -> dict[str, list[Release]]:
    """The case's affected and fixed-in releases, by role ("affected", "fixed")."""
    found: dict[str, list[Release]] = {"affected": [], "fixed": []}
    rows = session.execute(
        select(PsirtRelease.role, Release)
        .join(Release, Release.id == PsirtRelease.release_id)
        .where(PsirtRelease.case_id == case.id)
        .order_by(Release.created_at, Release.id)
    )
    for role, release in rows:
        found[role].append(release)
    return found


def case_components(session: Session, case: PsirtCase) -> list[str]:
    """The purls the case is about."""
    query = select(PsirtComponent.purl).where(PsirtComponent.case_id == case.id).order_by(PsirtComponent.id)
    return list(session.scalars(query))


def case_submissions(session: Session, case: PsirtCase) -> list[PsirtSubmission]:
    """The case's recorded submissions, oldest first."""
    query = select(PsirtSubmission).where(PsirtSubmission.case_id == case.id)
    return list(session.scalars(query.order_by(PsirtSubmission.submitted_at, PsirtSubmission.id)))


def case_intermediate_requests(session: Session, case: PsirtCase) -> list[PsirtIntermediateRequest]:
    """The intermediate reports the CSIRT asked for, in the order recorded (their stages are numbered so)."""
    query = select(PsirtIntermediateRequest).where(PsirtIntermediateRequest.case_id == case.id)
    return list(session.scalars(query.order_by(PsirtIntermediateRequest.id)))


def case_timeline(session: Session, case: PsirtCase) -> list[AuditEvent]:
    """Every recorded change of the case, oldest first: its audit events."""
    query = select(AuditEvent).where(AuditEvent.target_type == "psirt_case", AuditEvent.target_id == str(case.id))
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def settings_of(session: Session, product_id: int) -> PsirtSettings | None:
    """A product's Article 14 settings, if recorded."""
    return session.get(PsirtSettings, product_id)


def case_clocks(session: Session, case: PsirtCase, now: datetime | None = None) -> tuple[Clock, ...]:
    """The case's Article 14 clocks at `now` (default: now); none for a vulnerability not known to be exploited."""
    return _clocks(session, case, now or utcnow())


def _record_kind(case: PsirtCase) -> RecordKind:
    if case.kind is CaseKind.INCIDENT:
        return RecordKind.INCIDENT
    return RecordKind.VULNERABILITY


def _clocks(session: Session, case: PsirtCase, now: datetime) -> tuple[Clock, ...]:
    """The case's clocks as they stand: read from its facts, with what its kept rows hold (kept())."""
    rows = {row.stage: row for row in session.scalars(select(ReportClock).where(ReportClock.case_id == case.id))}
    return tuple(kept(clock, rows.get(clock.stage), now) for clock in _read_clocks(session, case, now))


def _read_clocks(session: Session, case: PsirtCase, now: datetime) -> tuple[Clock, ...]:
    """The case's clocks read from its facts alone."""
    if case.kind is CaseKind.VULNERABILITY and case.aware_at is None:
        return ()  # not known to be actively exploited: Article 14 does not apply (yet)
    settings = settings_of(session, case.product_id)
    return _clocks_from(
        case,
        settings.zone if settings else None,
        case_submissions(session, case),
        case_intermediate_requests(session, case),
        now,
    )


def kept(clock: Clock, row: ReportClock | None, now: datetime) -> Clock:
    """A clock read from the facts, with what its kept row holds: a due time an earlier reading of the same anchor
    gave earlier stands (a change of the product's zone never moves a deadline later; a justified correction of
    the anchor may), and a recorded breach shows whatever was recorded since (a late or back-dated submission
    leaves the clock breached)."""
    if row is None:
        return clock
    if clock.due_at is not None and row.due_at is not None and row.anchor == clock.anchor and row.due_at < clock.due_at:
        clock = restate(clock, row.due_at, now)
    if row.breached_at is not None and clock.breached_at is None:
        state = ClockState.BREACHED if clock.submitted_at is not None else clock.state
        clock = replace(clock, breached_at=row.breached_at, state=state)
    return clock


def _clocks_from(
    case: PsirtCase,
    zone: str | None,
    submissions: Sequence[PsirtSubmission],
    requests: Sequence[PsirtIntermediateRequest],
    now: datetime,
) -> tuple[Clock, ...]:
    """The case's clocks from its facts read beforehand (its submissions by time, its requests in recorded order);
    `zone` None: the product's main establishment is not recorded, so each calendar period is read in every
    zone the Union's Member States keep and the earliest instant taken."""
    if case.kind is CaseKind.VULNERABILITY and case.aware_at is None:
        return ()
    readings = [_reading(case, place, submissions, requests, now) for place in ([zone] if zone else UNION_ZONES)]
    return tuple(
        min(same_stage, key=lambda clock: clock.due_at or datetime.max.replace(tzinfo=UTC))
        for same_stage in zip(*readings, strict=True)
    )


def _reading(
    case: PsirtCase,
    zone: str,
    submissions: Sequence[PsirtSubmission],
    requests: Sequence[PsirtIntermediateRequest],
    now: datetime,
) -> tuple[Clock, ...]:
    try:
        return reporting_clocks(
            _record_kind(case),
            aware_at=case.aware_at,
            zone=zone,
            now=now,
            submissions=[Submission(s.submitted_at, frozenset(s.stages)) for s in submissions],
            measure_available_at=case.measure_available_at if case.kind is CaseKind.VULNERABILITY else None,
            intermediate_requests=[IntermediateRequest(r.requested_at, r.due_at) for r in requests],
        )
    except ClockError as exc:
        raise Invalid.field("clocks", str(exc)) from None


def clocks_of_cases(
    session: Session, cases: Sequence[PsirtCase], now: datetime | None = None
) -> dict[int, tuple[Clock, ...]]:
    """The clocks of many cases at `now`, by case id, read in a fixed number of statements (lists and dashboards
    show many cases; reading each case's facts apart made a statement per case)."""
    moment = now or utcnow()
    running = [c for c in cases if c.kind is CaseKind.INCIDENT or c.aware_at is not None]
    if not running:
        return {case.id: () for case in cases}
    ids = [case.id for case in running]
    products = sorted({case.product_id for case in running})
    zones = {
        product_id: zone
        for product_id, zone in session.execute(
            select(PsirtSettings.product_id, PsirtSettings.zone).where(PsirtSettings.product_id.in_(products))
        )
    }
    submissions: dict[int, list[PsirtSubmission]] = {case_id: [] for case_id in ids}
    for submission in session.scalars(
        select(PsirtSubmission)
        .where(PsirtSubmission.case_id.in_(ids))
        .order_by(PsirtSubmission.submitted_at, PsirtSubmission.id)
    ):
        submissions[submission.case_id].append(submission)
    requests: dict[int, list[PsirtIntermediateRequest]] = {case_id: [] for case_id in ids}
    for request in session.scalars(
        select(PsirtIntermediateRequest)
        .where(PsirtIntermediateRequest.case_id.in_(ids))
        .order_by(PsirtIntermediateRequest.id)
    ):
        requests[request.case_id].append(request)
    rows = {
        (row.case_id, row.stage): row
        for row in session.scalars(select(ReportClock).where(ReportClock.case_id.in_(ids)))
    }
    found: dict[int, tuple[Clock, ...]] = {case.id: () for case in cases}
    for case in running:
        read = _clocks_from(case, zones.get(case.product_id), submissions[case.id], requests[case.id], moment)
        found[case.id] = tuple(kept(clock, rows.get((case.id, clock.stage)), moment) for clock in read)
    return found


@dataclass(frozen=True)
class DueClock:
    """An open or breached clock of a case, for the clocks list."""

    case: PsirtCase
    clock: Clock


def _clocked_cases(session: Session, actor: Principal) -> list[PsirtCase]:
    """The visible cases whose clocks may run: incidents, and vulnerabilities known to be actively exploited."""
    return list(
        session.scalars(
            select(PsirtCase)
            .where(visible_products_clause(actor, PsirtCase.product_id))
            .where(or_(PsirtCase.aware_at.is_not(None), PsirtCase.kind == CaseKind.INCIDENT))
        )
    )


def due_clocks(session: Session, actor: Principal, now: datetime | None = None) -> list[DueClock]:
    """Every clock of the visible cases that is still open or was breached, the next deadline first."""
    cases = _clocked_cases(session, actor)
    clocks = clocks_of_cases(session, cases, now)
    found = [
        DueClock(case, clock)
        for case in cases
        for clock in clocks[case.id]
        if clock.state in OPEN_STATES or clock.breached_at is not None
    ]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda d: (d.clock.state not in OPEN_STATES, d.clock.due_at or far, d.case.id))


@dataclass(frozen=True)
class RunningCase:
    """A case with a clock still open: all of its clocks, and the one due first."""

    case: PsirtCase
    clocks: tuple[Clock, ...]
    next: Clock


def running_cases(session: Session, actor: Principal, now: datetime | None = None) -> list[RunningCase]:
    """The visible cases with an open clock, the one whose next deadline comes first (an overdue one) first."""
    cases = _clocked_cases(session, actor)
    clocks = clocks_of_cases(session, cases, now)
    found = [
        RunningCase(case, clocks[case.id], upcoming)
        for case in cases
        if (upcoming := next_deadline(clocks[case.id])) is not None
    ]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda r: (r.next.due_at or far, r.case.id))


# --- writing -------------------------------------------------------------------------------------------------


def _clean_text(field: str, value: object, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise Invalid.field(field, "must be text")
    text = value.strip()
    if required and not text:
        raise Invalid.field(field, "must not be empty")
    if len(text) > limit:
        raise Invalid.field(field, f"at most {limit:,} characters")
    single_line = field in SINGLE_LINE
    allowed = "" if single_line else "\n\t"
    refused = ("Cc", "Cf", "Zl", "Zp") if single_line else ("Cc", "Cf")  # U+2028/2029 break lines too
    if any(unicodedata.category(ch) in refused and ch not in allowed for ch in text):
        raise Invalid.field(field, "holds control characters" + (" or line breaks" if single_line else ""))
    return text


def _clean_time(field: str, value: object, now: datetime) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Invalid.field(field, f"not a time: {str(value)[:40]!r} (ISO 8601 with a zone)") from None
    if not isinstance(value, datetime):
        raise Invalid.field(field, "must be a time")
    if value.tzinfo is None:
        raise Invalid.field(field, "give the time with its zone (2026-12-05T09:30+01:00 or ...Z)")
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        moment = EARLIEST_TIME - timedelta(days=1)  # no UTC instant in range: refused just below
    if moment < EARLIEST_TIME:
        raise Invalid.field(field, "is before 1970: not a time the tracker records")
    # The clocks run from an anchor: one a little ahead of the server would move every deadline later.
    if moment > now + (timedelta(0) if field in ANCHORS else FUTURE_SLACK):
        raise Invalid.field(field, "is in the future: record what has happened")
    return moment


def _clean_date(field: str, value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise Invalid.field(field, f"not a date: {value[:40]!r} (YYYY-MM-DD)") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise Invalid.field(field, "must be a date")


def _items(field: str, value: object) -> list[Any]:
    if isinstance(value, str):
        value = [part for part in value.replace(",", " ").split() if part]
    if not isinstance(value, list | tuple):
        raise Invalid.field(field, "must be a list")
    if len(value) > MAX_ITEMS:
        raise Invalid.field(field, f"at most {MAX_ITEMS} items")
    return list(value)


def _cves(value: object) -> list[str]:
    from .vocabulary import parse_cve

    found: list[str] = []
    for item in _items("cve_ids", value):
        try:
            cve = parse_cve(str(item))
        except ValueError as exc:
            raise Invalid.field("cve_ids", str(exc)) from None
        if cve not in found:
            found.append(cve)
    return found


def _cwes(value: object) -> list[int]:
    from .vocabulary import parse_cwe

    found: list[int] = []
    for item in _items("cwe_ids", value):
        try:
            cwe = parse_cwe(str(item))
        except ValueError as exc:
            raise Invalid.field("cwe_ids", str(exc)) from None
        if cwe not in found:
            found.append(cwe)
    return found


def _vector(field: str, value: object, version: str) -> tuple[str, float | None]:
    text = _clean_text(field, value, MAX_SHORT * 2)
    if not text:
        return "", None
    from .scoring import parse_vector  # the scoring library loads only for a vector

    try:
        score = parse_vector(text)
    except ValueError as exc:
        raise Invalid.field(field, str(exc)) from None
    if score.version != version:
        raise Invalid.field(field, f"a CVSS v{score.version} vector; this field takes v{version}")
    return score.vector, score.base_score


def _purls(value: object) -> list[str]:
    found: list[str] = []
    for item in _items("components", value):
        text = _clean_text("components", item, 500)
        if purl_identity(text) is None:
            raise Invalid.field("components", f"not a purl: {text[:80]!r} (pkg:type/namespace/name@version)")
        if text not in found:
            found.append(text)
    return found


def _releases(session: Session, case: PsirtCase, field: str, value: object) -> list[int]:
    """Release ids of the case's own product (given as ids or versions)."""
    ids: list[int] = []
    for item in _items(field, value):
        if isinstance(item, int) and not isinstance(item, bool):
            release = session.get(Release, item)
            found = release.id if release is not None and release.product_id == case.product_id else None
        else:
            found = session.scalar(
                select(Release.id).where(Release.product_id == case.product_id, Release.version == str(item).strip())
            )
        if found is None:
            raise Invalid.field(field, f"no release {str(item)[:64]!r} of this case's product")
        if found not in ids:
            ids.append(found)
    return ids


def _enum(field: str, kind: type[Any], value: object) -> Any:
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in kind)
        raise Invalid.field(field, f"unknown {field} {str(value)[:40]!r}: one of {names}") from None


def _next_number(session: Session, year: int) -> int:
    """The next case number of `year`, the sequence row locked to the end of the transaction."""
    insert_missing(session, PsirtSequence, [{"year": year, "last": 0}])
    sequence = session.execute(select(PsirtSequence).where(PsirtSequence.year == year).with_for_update()).scalar_one()
    sequence.last += 1
    return sequence.last


def _justified(justification: str) -> str:
    """A justification as the audit log keeps it: text of at most MAX_TEXT characters, no control characters."""
    return _clean_text("justification", justification, MAX_TEXT)


def create_case(
    session: Session,
    actor: Principal,
    product_id: int,
    *,
    kind: str,
    title: str,
    source: str,
    received_at: object,
    facts: Mapping[str, Any] | None = None,
    justification: str = "",
) -> PsirtCase:
    """Record a new case of the product (its officers), with any further facts known at once."""
    product = get_product(session, actor, product_id)
    authorize_manage_cases(actor, product.id)
    justification = _justified(justification)
    now = utcnow()
    received = _clean_time("received_at", received_at, now)
    if received is None:
        raise Invalid.field("received_at", "when the report was received is required")
    case = PsirtCase(
        product_id=product.id,
        year=received.year,
        number=0,
        kind=_enum("kind", CaseKind, kind),
        title=_clean_text("title", title, MAX_TITLE, required=True),
        source=_enum("source", CaseSource, source),
        received_at=received,
        status=CaseStatus.RECEIVED,
        cve_ids=[],
        cwe_ids=[],
        records={},
        cvss_v31="",  # the severity reads both vectors before the insert would give them their defaults
        cvss_v40="",
        incident_criteria=[],
        created_by=actor.label,
    )
    changes = dict(facts or {})
    if case.kind is CaseKind.INCIDENT:
        changes.setdefault("aware_at", min(received, now))  # an incident's clocks run from the start
    applied = _apply(session, case, changes, justification, now, creating=True)
    _check_fields(case, justification)
    case.number = _next_number(session, case.year)
    session.add(case)
    session.flush()
    _write_links(session, case, applied)
    _check_case(session, case, justification, now)
    record(
        session,
        actor,
        "psirt:case:create",
        target_type="psirt_case",
        target_id=case.id,
        product_id=case.product_id,
        details={
            "case": case.reference,
            "kind": case.kind.value,
            **_audited(_given(_snapshot(session, case))),  # every fact given at once: the timeline starts whole
            **({"justification": justification} if justification else {}),
        },
    )
    record_steps(session, actor, case)
    refresh_clocks(session, actor, case, now)
    return case


def update_case(
    session: Session, actor: Principal, case_id: int, changes: Mapping[str, Any], justification: str = ""
) -> PsirtCase:
    """Change what is recorded about a case (its officers); every change audited, old and new."""
    case = get_case(session, actor, case_id)
    authorize_manage_cases(actor, case.product_id)
    if not changes:
        raise Invalid.field("changes", "nothing to change")
    justification = _justified(justification)
    case = locked(session, case)  # two officers at once: each decides on what the other committed (DM records)
    now = utcnow()
    before = _snapshot(session, case)
    applied = _apply(session, case, dict(changes), justification, now, creating=False)
    _check_fields(case, justification)
    _write_links(session, case, applied)
    session.flush()
    _check_case(session, case, justification, now)
    after = _snapshot(session, case)
    changed = {key: {"old": before[key], "new": after[key]} for key in after if before[key] != after[key]}
    if "reporter_contact" in changed:  # the audit log is read by auditors too: that it changed, not to what
        changed["reporter_contact"] = {side: _hidden(value) for side, value in changed["reporter_contact"].items()}
    if not changed:
        return case
    record(
        session,
        actor,
        "psirt:case:update",
        target_type="psirt_case",
        target_id=case.id,
        product_id=case.product_id,
        details={
            "case": case.reference,
            "changes": changed,
            **({"justification": justification} if justification else {}),
        },
    )
    record_steps(session, actor, case)
    refresh_clocks(session, actor, case, now)
    return case


def _apply(
    session: Session, case: PsirtCase, changes: dict[str, Any], justification: str, now: datetime, *, creating: bool
) -> dict[str, Any]:
    """Check and set the given fields on the case; the release and component lists are returned for writing."""
    unknown = sorted(set(changes) - FIELDS)
    if unknown:
        raise Invalid.field(unknown[0], "not a field of a case")
    with session.no_autoflush:  # the case may be half changed until every field is checked
        return _apply_fields(session, case, changes, justification, now, creating=creating)


def _apply_fields(
    session: Session, case: PsirtCase, changes: dict[str, Any], justification: str, now: datetime, *, creating: bool
) -> dict[str, Any]:
    links: dict[str, Any] = {}
    for field, value in changes.items():
        if field in TEXT_FIELDS:
            setattr(case, field, _clean_text(field, value, TEXT_FIELDS[field], required=field == "title"))
        elif field in TIME_FIELDS:
            moment = _clean_time(field, value, now)
            if field == "received_at" and moment is None:
                raise Invalid.field(field, "when the report was received is required")
            anchor_moved = field in ANCHORS and not creating and getattr(case, field) not in (None, moment)
            if anchor_moved and not justification.strip():
                raise Invalid.field(field, "changing a time the clocks run from needs a justification")
            setattr(case, field, moment)
        elif field == "source":
            case.source = _enum(field, CaseSource, value)
        elif field == "status":
            case.status = _enum(field, CaseStatus, value)
        elif field == "duplicate_of":
            case.duplicate_of_id = _duplicate_of(session, case, value)
        elif field == "cve_ids":
            case.cve_ids = _cves(value)
        elif field == "cwe_ids":
            case.cwe_ids = _cwes(value)
        elif field == "cvss_v31":
            case.cvss_v31, _ = _vector(field, value, "3.1")
        elif field == "cvss_v40":
            case.cvss_v40, _ = _vector(field, value, "4.0")
        elif field == "embargo_until":
            case.embargo_until = _clean_date(field, value)
        elif field == "incident_criteria":
            criteria = [str(item).strip().lower() for item in _items(field, value)]
            wrong = [item for item in criteria if item not in INCIDENT_CRITERIA]
            if wrong:
                raise Invalid.field(
                    field, f"unknown criterion {wrong[0][:40]!r}: one of {', '.join(INCIDENT_CRITERIA)}"
                )
            case.incident_criteria = sorted(set(criteria))
        elif field in ("malicious_suspected", "exercise"):
            if value is not None and not isinstance(value, bool):
                raise Invalid.field(field, "must be true or false")
            if field == "exercise" and not creating and bool(value) != case.exercise:
                raise Invalid.field(field, "a case is an exercise or not from its start")
            setattr(case, field, value if field == "malicious_suspected" else bool(value))
        elif field in RELEASE_ROLES:
            links[field] = value
        elif field == "components":
            links[field] = _purls(value)
    case.severity_score = _severity(case)
    return links


def _severity(case: PsirtCase) -> float | None:
    """The highest base score of the case's vectors, for sorting."""
    scores = [_vector(f, getattr(case, f) or "", v)[1] for f, v in (("cvss_v31", "3.1"), ("cvss_v40", "4.0"))]
    given = [score for score in scores if score is not None]
    return max(given) if given else None


def _duplicate_of(session: Session, case: PsirtCase, value: object) -> int | None:
    if value is None or value == "":
        return None
    year, number = parse_reference(str(value))
    other = session.scalar(
        select(PsirtCase).where(
            PsirtCase.year == year, PsirtCase.number == number, PsirtCase.product_id == case.product_id
        )
    )
    if other is None or other.id == case.id:
        raise Invalid.field("duplicate_of", f"no other case {str(value)[:20]} of this product")
    return other.id


def _write_links(session: Session, case: PsirtCase, links: Mapping[str, Any]) -> None:
    """Replace the case's releases of a role, or its components, where given."""
    for field, role in RELEASE_ROLES.items():
        if field not in links:
            continue
        wanted = _releases(session, case, field, links[field])
        for row in session.scalars(
            select(PsirtRelease).where(PsirtRelease.case_id == case.id, PsirtRelease.role == role)
        ):
            session.delete(row)
        session.flush()
        session.add_all(PsirtRelease(case_id=case.id, release_id=rid, role=role) for rid in wanted)
    if "components" in links:
        for component in session.scalars(select(PsirtComponent).where(PsirtComponent.case_id == case.id)):
            session.delete(component)
        session.flush()
        session.add_all(PsirtComponent(case_id=case.id, purl=purl) for purl in links["components"])
    session.flush()


def _check_fields(case: PsirtCase, justification: str) -> None:
    """The rules that span the case's own fields, checked before anything is written."""
    if case.kind is CaseKind.VULNERABILITY and case.incident_criteria:
        raise Invalid.field("incident_criteria", "only an incident states the Art. 14(5) criteria")
    if case.kind is CaseKind.INCIDENT and not case.incident_criteria:
        raise Invalid.field("incident_criteria", "say why the incident is severe: " + ", ".join(INCIDENT_CRITERIA))
    if case.kind is CaseKind.INCIDENT and case.measure_available_at is not None:
        raise Invalid.field("measure_available_at", "an incident's final report runs from the notification")
    if case.aware_at is not None and case.aware_at < case.received_at and not justification.strip():
        raise Invalid.field("aware_at", "awareness before the report was received needs a justification")
    if case.status in CLOSING and not case.status_reason:
        raise Invalid.field("status_reason", f"say why the case is {case.status.value}")
    if case.status is CaseStatus.DUPLICATE and case.duplicate_of_id is None:
        raise Invalid.field("duplicate_of", "name the case this one duplicates")
    if case.status is not CaseStatus.DUPLICATE and case.duplicate_of_id is not None:
        case.duplicate_of_id = None


def _check_case(session: Session, case: PsirtCase, justification: str, now: datetime) -> None:
    """The rules that span fields and rows, checked on the case as it would be stored."""
    _check_fields(case, justification)
    if case.aware_at is None and (case_submissions(session, case) or case_intermediate_requests(session, case)):
        raise Invalid.field("aware_at", "reports were recorded against its clocks: awareness cannot be withdrawn")
    if case.status is CaseStatus.DISCLOSED and not justification.strip():
        fixed = session.scalar(
            select(PsirtRelease.id).where(PsirtRelease.case_id == case.id, PsirtRelease.role == "fixed").limit(1)
        )
        if fixed is None and case.measure_available_at is None:
            raise Invalid.field("status", "disclosing before a fix or a mitigation needs a justification")
    if case.maintainer_reported_at is not None and not case.upstream_component:
        raise Invalid.field("upstream_component", "name the third-party component reported to its maintainer")
    _clocks(session, case, now)  # the clock rules refuse what cannot be (a final report before the measure)


def _snapshot(session: Session, case: PsirtCase) -> dict[str, Any]:
    """What the audit event compares: every recorded field, as text where it is a time."""
    data: dict[str, Any] = {}
    for field in sorted(FIELDS - set(RELEASE_ROLES) - {"components", "duplicate_of"}):
        value = getattr(case, field)
        data[field] = value.isoformat() if isinstance(value, datetime | date) else value
        if isinstance(value, CaseStatus | CaseSource):
            data[field] = value.value
    data["duplicate_of_id"] = case.duplicate_of_id
    releases = case_releases(session, case)
    data["affected"] = [r.version for r in releases["affected"]]
    data["fixed_in"] = [r.version for r in releases["fixed"]]
    data["components"] = case_components(session, case)
    return data


def _given(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts that hold something (a new case's empty fields say nothing)."""
    return {key: value for key, value in facts.items() if value not in (None, "", []) or key == "exercise"}


def _audited(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as an audit event keeps them: the reporter's contact only as whether there is one (auditors read it)."""
    if "reporter_contact" not in facts:
        return facts
    return {**facts, "reporter_contact": _hidden(facts["reporter_contact"])}


def _hidden(value: object) -> str:
    return "(hidden: security officers only)" if value else "(none)"


def record_submission(
    session: Session,
    actor: Principal,
    case_id: int,
    *,
    submitted_at: object,
    stages: Sequence[str],
    reference: str = "",
    note: str = "",
) -> PsirtSubmission:
    """Record a report the actor made to the Single Reporting Platform: when, the stages it covers, its reference."""
    case = get_case(session, actor, case_id)
    authorize_manage_cases(actor, case.product_id)
    case = locked(session, case)  # one change of its clocks at a time (a breach is recorded once)
    now = utcnow()
    moment = _clean_time("submitted_at", submitted_at, now)
    if moment is None:
        raise Invalid.field("submitted_at", "when it was submitted is required")
    requested = len(case_intermediate_requests(session, case))
    known = {EARLY_WARNING, NOTIFICATION, FINAL_REPORT} | {intermediate_stage(n + 1) for n in range(requested)}
    wanted = sorted({str(stage).strip().lower() for stage in stages})
    if not wanted:
        raise Invalid.field("stages", "name the stages the submission covers: " + ", ".join(sorted(known)))
    wrong = [stage for stage in wanted if stage not in known]
    if wrong:
        raise Invalid.field("stages", f"unknown stage {wrong[0][:40]!r}: one of {', '.join(sorted(known))}")
    if case.kind is CaseKind.VULNERABILITY and case.aware_at is None:
        raise Invalid.field("stages", "no clocks run: record when active exploitation became known first")
    submission = PsirtSubmission(
        case_id=case.id,
        submitted_at=moment,
        stages=wanted,
        reference=_clean_text("reference", reference, MAX_SHORT),
        note=_clean_text("note", note, MAX_TEXT),
        recorded_by=actor.label,
    )
    session.add(submission)
    session.flush()
    _clocks(session, case, now)  # refuses a submission the clocks cannot take (before awareness, a final too early)
    record(
        session,
        actor,
        "psirt:submission:record",
        target_type="psirt_case",
        target_id=case.id,
        product_id=case.product_id,
        details={
            "case": case.reference,
            "submitted_at": moment.isoformat(),
            "stages": wanted,
            "reference": submission.reference,
        },
    )
    refresh_clocks(session, actor, case, now)
    return submission


def request_intermediate(
    session: Session, actor: Principal, case_id: int, *, requested_at: object, due_at: object, reference: str = ""
) -> PsirtIntermediateRequest:
    """Record that the CSIRT asked for an intermediate report, due when it said: a clock of its own."""
    case = get_case(session, actor, case_id)
    authorize_manage_cases(actor, case.product_id)
    case = locked(session, case)  # one change of its clocks at a time (a breach is recorded once)
    now = utcnow()
    if case.kind is CaseKind.VULNERABILITY and case.aware_at is None:
        raise Invalid.field("requested_at", "no clocks run: record when active exploitation became known first")
    requested = _clean_time("requested_at", requested_at, now)
    due = _clean_time("due_at", due_at, datetime.max.replace(tzinfo=UTC) - FUTURE_SLACK)
    if requested is None or due is None:
        raise Invalid.field("due_at" if requested else "requested_at", "both when it was asked and when it is due")
    request = PsirtIntermediateRequest(
        case_id=case.id,
        requested_at=requested,
        due_at=due,
        reference=_clean_text("reference", reference, MAX_SHORT),
        recorded_by=actor.label,
    )
    session.add(request)
    session.flush()
    _clocks(session, case, now)
    record(
        session,
        actor,
        "psirt:intermediate:request",
        target_type="psirt_case",
        target_id=case.id,
        product_id=case.product_id,
        details={"case": case.reference, "requested_at": requested.isoformat(), "due_at": due.isoformat()},
    )
    refresh_clocks(session, actor, case, now)
    return request


def refresh_clocks(session: Session, actor: Principal, case: PsirtCase, now: datetime | None = None) -> list[str]:
    """Write the case's clocks as they stand at `now` (kept()); a due time seen missed for the first time is a
    breach, recorded (and audited) and told, and the first breach of a stage stays recorded whatever is recorded
    later; a corrected deadline missed again is a breach again. The stages breached now."""
    moment = now or utcnow()
    rows = {row.stage: row for row in session.scalars(select(ReportClock).where(ReportClock.case_id == case.id))}
    breached: list[Clock] = []
    announcements: list[tuple[Clock, str]] = []
    for read in _read_clocks(session, case, moment):
        row = rows.pop(read.stage, None)
        clock = kept(read, row, moment)
        if row is None:
            row = ReportClock(case_id=case.id, product_id=case.product_id, stage=clock.stage)
            session.add(row)
        announcements += [(clock, event) for event in clock_events((row.state, row.due_at), clock)]
        missed = _missed(clock, moment)
        if missed is not None and missed != row.breached_due_at:
            row.breached_at = row.breached_at or missed
            row.breached_due_at = missed
            breached.append(clock)
        row.due_at, row.anchor, row.state = clock.due_at, clock.anchor, clock.state
        row.open = clock.state in OPEN_STATES
        row.computed_at = moment
        row.details = {"label": clock.label, "reading": clock.reading}
    for row in rows.values():  # a stage that no longer runs: its breach, if any, stays
        row.open = False
    session.flush()
    for clock in breached:
        record(
            session,
            actor,
            "psirt:clock:breach",
            target_type="psirt_case",
            target_id=case.id,
            product_id=case.product_id,
            details={
                "case": case.reference,
                "stage": clock.stage,
                "due_at": clock.due_at.isoformat() if clock.due_at else None,
                "exercise": case.exercise,
            },
        )
        if clock.submitted_at is None:
            announcements.append((clock, OVERDUE))
    for clock, event in announcements:
        announce(session, case, clock, event)
    return [clock.stage for clock in breached]


def _missed(clock: Clock, now: datetime) -> datetime | None:
    """The due time the clock has missed by `now` (not submitted by then, or submitted after it), if any."""
    if clock.due_at is None:
        return None
    late = clock.submitted_at > clock.due_at if clock.submitted_at is not None else now > clock.due_at
    return clock.due_at if late else None


def update_settings(
    session: Session,
    actor: Principal,
    product_id: int,
    *,
    zone: str,
    csirt: str = "",
    member_states: Iterable[str] = (),
) -> PsirtSettings:
    """Record the product's main establishment zone, its CSIRT and where the product is available (officers)."""
    product = get_product(session, actor, product_id)
    authorize_manage_cases(actor, product.id)
    zone = zone.strip()
    problem = zone_problem(zone[:200])  # the same zones the account page offers ("Europe", "localtime": none)
    if problem:
        raise Invalid.field("zone", problem)
    states = sorted({s.strip().upper() for s in member_states if s.strip()})
    wrong = [s for s in states if not (len(s) == 2 and s.isascii() and s.isalpha())]
    if wrong:
        raise Invalid.field("member_states", f"not a two-letter country code: {wrong[0][:10]!r}")
    settings = session.get(PsirtSettings, product.id)
    old = (
        None
        if settings is None
        else {"zone": settings.zone, "csirt": settings.csirt, "member_states": settings.member_states}
    )
    if settings is None:
        settings = PsirtSettings(product_id=product.id, updated_by=actor.label)
        session.add(settings)
    settings.zone, settings.csirt, settings.member_states = zone, _clean_text("csirt", csirt, MAX_SHORT), states
    settings.updated_by = actor.label
    session.flush()
    record(
        session,
        actor,
        "psirt:settings:update",
        target_type="product",
        target_id=product.id,
        product_id=product.id,
        details={"old": old, "new": {"zone": zone, "csirt": settings.csirt, "member_states": states}},
    )
    for case in session.scalars(select(PsirtCase).where(PsirtCase.product_id == product.id)):
        refresh_clocks(session, actor, case)  # a month read on another calendar may end earlier
    return settings


def releases_with_components(session: Session, case: PsirtCase) -> dict[str, list[Release]]:
    """For each of the case's purls, the releases of its product whose primary SBOM holds that component (any
    version: by the purl's identity), read in one statement."""
    identities = {purl: found[1] for purl in case_components(session, case) if (found := purl_identity(purl))}
    holding: dict[str, list[Release]] = {}
    rows = session.execute(
        select(SbomComponent.purl_key, Release)
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .join(Release, Release.id == Sbom.release_id)
        .where(
            Sbom.product_id == case.product_id,
            Sbom.is_primary.is_(True),
            Sbom.state == SbomState.PUBLISHED,
            SbomComponent.purl_key.in_(sorted(set(identities.values()))),
        )
        .distinct()
        .order_by(Release.id)
    )
    for key, release in rows:
        holding.setdefault(key, []).append(release)
    return {purl: holding.get(key, []) for purl, key in identities.items()}


def product_of(session: Session, case: PsirtCase) -> Product:
    """The case's product."""
    product = session.get(Product, case.product_id)
    assert product is not None  # the foreign key holds it
    return product
