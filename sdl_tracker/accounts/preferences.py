"""What a user chooses for themselves beyond their password: the time zone their pages show times in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal
from ..db import locked
from ..errors import Forbidden, Invalid, NotFound
from ..zones import zone_problem
from .models import User
from .services import authorize_manage_users


def authorize_set_time_zone(actor: Principal, user_id: int) -> None:
    """Raise unless the actor may choose the user's time zone: their own (through a token, one that reads
    products, as for notifications: the zone changes how times read, no product's records), anyone's for those
    who manage users."""
    if actor.user_id is not None and actor.user_id == user_id:
        if actor.scopes is not None and Permission.PRODUCT_READ not in actor.scopes:
            raise Forbidden(f"this token does not grant {Permission.PRODUCT_READ.value}")
        return
    authorize_manage_users(actor)


def set_time_zone(session: Session, actor: Principal, user_id: int, time_zone: str | None) -> User:
    """Choose the IANA zone the user's pages show times in (None: UTC again); audited when it changes."""
    authorize_set_time_zone(actor, user_id)
    if time_zone is not None:
        problem = zone_problem(time_zone)
        if problem:
            raise Invalid.field("time_zone", problem)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    user = locked(session, user)  # the audited old zone is the one the change before left
    old = user.time_zone
    if old == time_zone:
        return user
    user.time_zone = time_zone
    record(
        session,
        actor,
        "accounts:time-zone:update",
        target_type="user",
        target_id=user.id,
        details={"email": user.email, "time_zone": time_zone, "old_time_zone": old},
    )
    return user
