"""Reading the audit log: events matching a filter, a page of them as people read it, and their export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Result, Row, func, select
from sqlalchemy.orm import Session

from ..auth import Permission, Principal, authorize, permits
from .models import AuditEvent
from .rules import DetailRow, detail_rows


@dataclass(frozen=True)
class EventFilter:
    """What an audit search asks for; every field optional."""

    actor: str = ""
    action: str = ""
    target: str = ""  # "type" or "type:id"
    since: datetime | None = None
    until: datetime | None = None
    product_id: int | None = None


def _conditions(wanted: EventFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.actor:
        conditions.append(AuditEvent.actor.contains(wanted.actor, autoescape=True))
    if wanted.action:
        conditions.append(AuditEvent.action.startswith(wanted.action, autoescape=True))
    if wanted.target:
        target_type, _, target_id = wanted.target.partition(":")
        conditions.append(AuditEvent.target_type == target_type)
        if target_id:
            conditions.append(AuditEvent.target_id == target_id)
    if wanted.since:
        conditions.append(AuditEvent.at >= wanted.since)
    if wanted.until:
        conditions.append(AuditEvent.at < wanted.until)
    if wanted.product_id is not None:
        conditions.append(AuditEvent.product_id == wanted.product_id)
    return conditions


def _authorize_reading(actor: Principal, wanted: EventFilter) -> None:
    # One product's events: its officers and auditors. Everything: administrators.
    if wanted.product_id is None:
        authorize(actor, Permission.USERS_MANAGE)
    else:
        authorize(actor, Permission.AUDIT_READ, wanted.product_id)


def authorize_read_audit(actor: Principal, product_id: int | None) -> None:
    """Refuse an actor who may not read the product's audit events (None: every event)."""
    _authorize_reading(actor, EventFilter(product_id=product_id))


def may_read_audit(actor: Principal, product_id: int | None) -> bool:
    """Whether the actor may read the product's audit events (None: every event)."""
    return permits(_authorize_reading, actor, EventFilter(product_id=product_id))


def _newest(
    session: Session, actor: Principal, wanted: EventFilter, columns: Sequence[Any], *, limit: int, offset: int
) -> tuple[Result[Any], int]:
    """`columns` of the events matching the filter, newest first, and how many match."""
    _authorize_reading(actor, wanted)
    conditions = _conditions(wanted)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    query = select(*columns).where(*conditions).order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    return session.execute(query), total


def search_events(
    session: Session, actor: Principal, wanted: EventFilter, *, limit: int = 200, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    """Events matching the filter, newest first, and how many match."""
    found, total = _newest(session, actor, wanted, [AuditEvent], limit=limit, offset=offset)
    return list(found.scalars()), total


@dataclass(frozen=True)
class EventLine:
    """An event as the log page shows it: the columns it shows (not the chain's), and its details as rows for
    people."""

    event: Row[*tuple[Any, ...]]  # seq, at, actor, origin, action, target_type, target_id
    rows: list[DetailRow]

    @property
    def changes(self) -> bool:
        """Whether a row says what a value was before (the rows then have an old and a new column)."""
        return any(row.changed for row in self.rows)


_SHOWN = (
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.origin,
    AuditEvent.action,
    AuditEvent.target_type,
    AuditEvent.target_id,
    AuditEvent.details,
)


def event_lines(
    session: Session, actor: Principal, wanted: EventFilter, *, limit: int, offset: int = 0
) -> tuple[list[EventLine], int]:
    """A page of the log as people read it: the events matching the filter, newest first, read as the columns
    the page shows, and how many match."""
    found, total = _newest(session, actor, wanted, _SHOWN, limit=limit, offset=offset)
    return [EventLine(row, detail_rows(row.details)) for row in found], total


def iter_events(session: Session, actor: Principal, wanted: EventFilter) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, in batches (for CSV export): memory stays flat."""
    _authorize_reading(actor, wanted)
    conditions = _conditions(wanted)
    after = 0
    while True:
        # Keyset paging rather than a server-side cursor: it survives the response being streamed
        # after the view returned, on every database.
        query = select(AuditEvent).where(*conditions, AuditEvent.seq > after).order_by(AuditEvent.seq).limit(500)
        batch = list(session.scalars(query))
        yield from batch
        if len(batch) < 500:
            return
        after = batch[-1].seq


def event_json(event: AuditEvent) -> dict[str, Any]:
    """An event as `--json`, the API and CSV export give it."""
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "origin": event.origin,
        "action": event.action,
        "target": f"{event.target_type}:{event.target_id}",
        "product_id": event.product_id,
        "details": event.details,
        "digest": event.digest,
        "hash": event.hash,
    }
