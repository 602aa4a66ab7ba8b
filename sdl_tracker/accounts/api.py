"""The caller's own account over /api/v1 (read it, choose the time zone of their pages), a user's notifications
(list them, mark one or all read: a token that grants product:read), and the digests of the users' addresses
that git hooks check reviewers against."""

from __future__ import annotations

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input
from ..api.openapi import PAGE_QUERY, Page, json_response, operation, page_args, parse_body
from ..web.context import db_session
from ..zones import MAX_ZONE_NAME
from .notifications import count_notifications, list_notifications, mark_read, read_notification
from .preferences import set_time_zone
from .schemas import AccountOut, MarkedReadOut, NotificationOut, ReviewerDigestsOut
from .services import own_account, reviewer_digests

bp = Blueprint("accounts_api", __name__)


class AccountPatch(Input):
    """What one changes of one's own account: the zone one's pages show times in."""

    time_zone: str | None = Field(
        max_length=MAX_ZONE_NAME,
        description="an IANA time zone name such as Europe/Berlin; null: UTC (the default)",
    )


@bp.get("/account")
@operation(
    "The token owner's account, with the time zone their pages show times in", response=AccountOut, tag="account"
)
def account_show() -> Response:
    """Show one's account."""
    return json_response(AccountOut.of(own_account(db_session(), g.principal)))


@bp.patch("/account")
@operation(
    "Choose the time zone the token owner's pages show times in (a token that grants product:read; null: UTC)",
    body=AccountPatch,
    response=AccountOut,
    tag="account",
)
def account_update() -> Response:
    """Choose one's time zone."""
    data = parse_body(AccountPatch)
    session = db_session()
    user = set_time_zone(session, g.principal, own_account(session, g.principal).id, data.time_zone)
    return json_response(AccountOut.of(user))


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
