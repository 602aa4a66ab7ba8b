"""Appending to the audit log; every service that mutates calls record()."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from ..auth import Principal
from ..db import utcnow
from .models import AuditEvent


def change_digest(details: dict[str, Any]) -> str:
    """SHA-256 of the change in canonical JSON, so an exported event can be checked later."""
    canonical = json.dumps(details, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: Session,
    actor: Principal,
    action: str,
    *,
    target_type: str,
    target_id: object,
    product_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (`feature:subject:verb`) in the caller's transaction; never pass secrets."""
    if action.count(":") != 2:
        raise ValueError(f"audit action {action!r} is not feature:subject:verb")
    details = details or {}
    event = AuditEvent(
        at=utcnow(),
        actor=actor.label,
        origin=actor.origin,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        product_id=product_id,
        details=json.loads(json.dumps(details, default=str)),
        digest=change_digest(details),
    )
    session.add(event)
    return event
