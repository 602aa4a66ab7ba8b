"""Gathering a release's gate facts from the database: replaced by the gathering branch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..auth import Principal
from .facts import GateFacts


def gather_facts(session: Session, actor: Principal, release_id: int, *, now: datetime) -> GateFacts:
    """The snapshot of facts the gate judges for the release at `now` (replaced by the gathering branch)."""
    raise NotImplementedError("replaced by the gathering branch")


def current_digest(session: Session, actor: Principal, release_id: int, *, now: datetime) -> str:
    """The digest of the release's facts at `now` (replaced by the gathering branch)."""
    raise NotImplementedError("replaced by the gathering branch")
