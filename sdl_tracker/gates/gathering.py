"""Gathering a release's gate facts from the database (replaced by the services branch)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..auth import Principal
from .facts import GateFacts


def gather_facts(session: Session, actor: Principal, release_id: int, *, now: datetime) -> GateFacts:
    """replaced by the services branch"""
    raise NotImplementedError


def current_digest(session: Session, actor: Principal, release_id: int, *, now: datetime) -> str:
    """replaced by the services branch"""
    raise NotImplementedError
