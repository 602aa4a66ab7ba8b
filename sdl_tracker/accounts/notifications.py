"""Notifications: review requests to those who may review, decisions to who submitted.

The features that review (evidence, claims, scoping) call these functions inside the service that makes
the request or the decision, so a notification is written in the same transaction as what it tells of:
a refused or rolled-back decision leaves none behind. The `notified` signal lets the outbox queue an e-mail
for each in that same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, Role, permits, visible_products_clause
from ..db import utcnow
from ..errors import Forbidden, NotFound
from .models import Membership, Notification, NotificationKind, User
from .signals import notified

MAX_SHOWN = 200  # the newest notifications a page lists
MAX_MESSAGE = 400


@dataclass(frozen=True)
class Subject:
    """What a notification is about: its type and id, the product, and for a claim its release and requirement."""

    subject_type: str
    subject_id: int
    product_id: int | None
    release_id: int | None = None
    ref: str = ""


def _reviewers(session: Session, product_id: int | None) -> list[int]:
    """Who reviews the product's requests: its security officers (organisation-wide: every security officer
    and every administrator), enabled."""
    officers = select(Membership.user_id).where(Membership.role == Role.SECURITY_OFFICER)
    clause: ColumnElement[bool]
    if product_id is not None:
        clause = User.id.in_(officers.where(Membership.product_id == product_id))
    else:
        clause = or_(User.id.in_(officers), User.is_admin.is_(True))
    return list(session.scalars(select(User.id).where(clause, User.disabled.is_(False)).order_by(User.id)))


def _add(
    session: Session, actor: Principal, kind: NotificationKind, users: Iterable[int], subject: Subject, message: str
) -> None:
    # A Subject's fields are the notification's columns of the same names.
    told = {"kind": kind, "message": message[:MAX_MESSAGE], "actor": actor.label[:400], **asdict(subject)}
    added = [Notification(user_id=user_id, **told) for user_id in users]
    session.add_all(added)
    session.flush()
    if added:
        notified.send(session, notifications=added)


def request_review(session: Session, actor: Principal, subject: Subject, message: str) -> None:
    """Tell those who may review the subject that it awaits them (never the one asking: nobody reviews
    their own)."""
    users = [u for u in _reviewers(session, subject.product_id) if u != actor.user_id]
    _add(session, actor, NotificationKind.REVIEW_REQUEST, users, subject, message)


def resolve_requests(session: Session, actor: Principal, subject: Subject) -> int:
    """The subject was decided: every recipient's unread review request about it is read from now on (the
    work is done, so another officer's badge does not show it); how many. Audited as one event, in the
    decision's transaction, so a refused or rolled-back decision leaves them unread."""
    statement = (
        update(Notification)
        .where(
            Notification.kind == NotificationKind.REVIEW_REQUEST,
            Notification.subject_type == subject.subject_type,
            Notification.subject_id == subject.subject_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(session.execute(statement), "rowcount", 0) or 0)
    if count:
        record(
            session,
            actor,
            "accounts:notification:resolve",
            # Not the subject itself: its own trail stays the decisions about it (its last event is the decision).
            target_type="notification",
            target_id=f"{subject.subject_type}:{subject.subject_id}",
            product_id=subject.product_id,
            details={"count": count},
        )
    return count


def tell_decision(session: Session, actor: Principal, user_id: int | None, subject: Subject, message: str) -> None:
    """The subject was decided: its review requests are resolved for everyone, and the submitter (or setter)
    is told what was decided (nobody when no named user submitted it)."""
    resolve_requests(session, actor, subject)
    if user_id is not None and user_id != actor.user_id:
        _add(session, actor, NotificationKind.DECISION, [user_id], subject, message)


def _own(actor: Principal) -> int:
    """The user whose notifications the actor reads: a signed-in user, or their token if it may read products
    (what notifications tell of); marking them read changes no product's records, so that scope suffices."""
    if actor.user_id is None:
        raise Forbidden("notifications belong to a signed-in user")
    if actor.scopes is not None and Permission.PRODUCT_READ not in actor.scopes:
        raise Forbidden(f"this token does not grant {Permission.PRODUCT_READ.value}")
    return actor.user_id


def _listed(actor: Principal, user_id: int) -> ColumnElement[bool]:
    """The user's notifications that the page lists, counts and marks read alike: not those of a product the
    actor has left since, which would only lead to "not found" (and an indicator no page explains)."""
    visible = visible_products_clause(actor, Notification.product_id)  # type: ignore[arg-type]
    return and_(Notification.user_id == user_id, or_(Notification.product_id.is_(None), visible))


def unread_count(session: Session, actor: Principal) -> int:
    """How many of the actor's notifications are unread (0 for an actor that has none to read)."""
    if not permits(_own, actor):
        return 0
    query = select(func.count()).where(_listed(actor, _own(actor)), Notification.read_at.is_(None))
    return session.scalar(query) or 0


def count_notifications(session: Session, actor: Principal) -> int:
    """How many notifications the actor's list holds, read ones included."""
    return session.scalar(select(func.count()).where(_listed(actor, _own(actor)))) or 0


def list_notifications(
    session: Session, actor: Principal, *, offset: int = 0, limit: int = MAX_SHOWN
) -> list[Notification]:
    """The actor's newest notifications, unread first (`limit` of them from `offset`, for pages)."""
    query = (
        select(Notification)
        .where(_listed(actor, _own(actor)))
        .order_by(Notification.read_at.is_not(None), Notification.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def read_notification(session: Session, actor: Principal, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (audited when it was unread) and return it; NotFound
    when it is not one of theirs (another user's reads as unknown)."""
    found = session.scalar(select(Notification).where(_listed(actor, _own(actor)), Notification.id == notification_id))
    if found is None:
        raise NotFound("notification not found")
    if mark_read(session, actor, notification_id):
        session.refresh(found)  # the mark is a bulk update
    return found


def mark_read(session: Session, actor: Principal, notification_id: int | None = None) -> int:
    """Mark one of the actor's notifications (None: all of them) read; how many changed. Audited: it is
    the record that the actor was told, which an assessor may ask about."""
    user_id = _own(actor)
    statement = update(Notification).where(_listed(actor, user_id), Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    changed = session.execute(statement.values(read_at=utcnow()).execution_options(synchronize_session=False))
    count = int(getattr(changed, "rowcount", 0) or 0)
    if count:
        record(
            session,
            actor,
            "accounts:notification:read",
            target_type="user",
            target_id=user_id,
            details={"notification": notification_id, "count": count} if notification_id else {"count": count},
        )
    return count
