"""Waivers, sign-offs with signed verdicts, and legacy imports (replaced by the services branch)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from ..auth import Principal
from ..products.models import Release
from .models import GateSignoff, GateWaiver


def add_waiver(
    session: Session, actor: Principal, release_id: int, rule: str, justification: str, expires_at: datetime
) -> GateWaiver:
    """replaced by the services branch"""
    raise NotImplementedError


def revoke_waiver(session: Session, actor: Principal, waiver_id: int) -> GateWaiver:
    """replaced by the services branch"""
    raise NotImplementedError


def sign_off_release(session: Session, actor: Principal, release_id: int, note: str = "") -> GateSignoff:
    """replaced by the services branch"""
    raise NotImplementedError


def import_legacy_release(
    session: Session,
    actor: Principal,
    product_id: int,
    version: str,
    *,
    release_date: date | None,
    reason: str,
    git_ref: str = "",
) -> Release:
    """replaced by the services branch"""
    raise NotImplementedError


def verdict_envelope(session: Session, actor: Principal, signoff_id: int) -> bytes:
    """replaced by the services branch"""
    raise NotImplementedError
