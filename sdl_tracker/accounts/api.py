"""A user's notifications over /api/v1 (list them, mark one or all read: a token that grants product:read), and
the digests of the users' addresses that git hooks check reviewers against."""

from __future__ import annotations

from flask import Blueprint, Response, g

from ..api.openapi import PAGE_QUERY, Page, json_response, operation, page_args
from ..web.context import db_session
from .notifications import count_notifications, list_notifications, mark_read, read_notification
from .schemas import MarkedReadOut, NotificationOut, ReviewerDigestsOut
from .services import reviewer_digests

bp = Blueprint("accounts_api", __name__)


@bp.get("/notifications")
@operation(
    "The token owner's notifications (review requests and decisions), unread first, then newest first",
    response=Page[NotificationOut],
    tag="notifications",
    query=PAGE_QUERY,
)
def notifications_list() -> Response:
    """List notifications."""
    session = db_session()
    page, per_page = page_args()
    items = list_notifications(session, g.principal, offset=(page - 1) * per_page, limit=per_page)
    total = count_notifications(session, g.principal)
    return json_response(Page(items=[NotificationOut.of(n) for n in items], total=total, page=page, per_page=per_page))


@bp.post("/notifications/<int:notification_id>/read")
@operation(
    "Mark one of the token owner's notifications read (one already read stays as it was)",
    response=NotificationOut,
    tag="notifications",
)
def notification_read(notification_id: int) -> Response:
    """Mark a notification read."""
    return json_response(NotificationOut.of(read_notification(db_session(), g.principal, notification_id)))


@bp.post("/notifications/read")
@operation("Mark every notification of the token owner read", response=MarkedReadOut, tag="notifications")
def notifications_read_all() -> Response:
    """Mark every notification read."""
    return json_response(MarkedReadOut(count=mark_read(db_session(), g.principal)))


@bp.get("/reviewers")
@operation(
    "Every user's e-mail address as a salted SHA-256 digest (a fresh salt each answer): what a commit-msg hook "
    "checks a Security-Review: address against offline, without a list of the users' addresses",
    response=ReviewerDigestsOut,
    tag="git",
)
def reviewers() -> Response:
    """The reviewers' digests."""
    return json_response(ReviewerDigestsOut.of(reviewer_digests(db_session(), g.principal)))
