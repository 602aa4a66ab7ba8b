"""Gate policies per product, evaluations of releases and their status (replaced by the services branch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..auth import Principal
from ..jobs.models import Job
from .facts import GateFacts
from .models import GateEvaluation, GatePolicy, GateSignoff, GateWaiver
from .policy import Policy


def product_policy(session: Session, actor: Principal, product_id: int) -> tuple[Policy, bool]:
    """replaced by the services branch"""
    raise NotImplementedError


def set_policy(session: Session, actor: Principal, product_id: int, policy: Policy) -> GatePolicy:
    """replaced by the services branch"""
    raise NotImplementedError


def reset_policy(session: Session, actor: Principal, product_id: int) -> None:
    """replaced by the services branch"""
    raise NotImplementedError


def record_evaluation(
    session: Session, actor: Principal, release_id: int, facts: GateFacts, *, now: datetime
) -> GateEvaluation:
    """replaced by the services branch"""
    raise NotImplementedError


def evaluate_release(
    session: Session, actor: Principal, release_id: int, *, now: datetime | None = None
) -> GateEvaluation:
    """replaced by the services branch"""
    raise NotImplementedError


@dataclass(frozen=True)
class GateStatus:
    """replaced by the services branch"""

    release_id: int
    evaluation: GateEvaluation | None
    current: bool
    outdated_because: str
    signoff: GateSignoff | None
    signoff_current: bool
    waivers: tuple[GateWaiver, ...]
    policy_is_default: bool


def gate_status(session: Session, actor: Principal, release_id: int, *, now: datetime | None = None) -> GateStatus:
    """replaced by the services branch"""
    raise NotImplementedError


def request_evaluation(session: Session, actor: Principal, release_id: int) -> Job:
    """replaced by the services branch"""
    raise NotImplementedError
