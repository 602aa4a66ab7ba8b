"""Gathering replaced by facts the test builds by hand, and a clock the test moves, for the gate services."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.gates import evaluations, signoff
from sdl_tracker.gates.rules import GateFacts, snapshot_digest
from sdl_tracker.installation import SESSION_KEY, installation
from sdl_tracker.products.models import Release
from sdl_tracker.products.services import get_release
from tests.gates.builders import NOW, passing_facts


class Gathered(dict[int, GateFacts]):
    """The facts each release is gathered as: set `gathered[release.id] = facts`."""

    def passing(self, release: Release, **changes: Any) -> GateFacts:
        """Facts of `release` on which every rule passes, with `changes`; they become its gathered facts."""
        facts = dataclasses.replace(
            passing_facts(), product_id=release.product_id, release_id=release.id, version=release.version, **changes
        )
        self[release.id] = facts
        return facts


def fake_gathering(monkeypatch: pytest.MonkeyPatch) -> Gathered:
    """Replace gathering (in the modules that call it) by the returned mapping of release id to facts."""
    gathered = Gathered()

    def gather_facts(session: Session, actor: Principal, release_id: int, *, now: datetime) -> GateFacts:
        get_release(session, actor, release_id)  # as the real one: unseen releases are not found
        return gathered[release_id]

    def current_digest(session: Session, actor: Principal, release_id: int, *, now: datetime) -> str:
        return snapshot_digest(gather_facts(session, actor, release_id, now=now))

    monkeypatch.setattr(evaluations, "gather_facts", gather_facts)
    monkeypatch.setattr(evaluations, "current_digest", current_digest)
    monkeypatch.setattr(signoff, "current_digest", current_digest)
    return gathered


class Clock:
    """The installation's clock, set by the test (starts at the builders' NOW)."""

    def __init__(self, session: Session) -> None:
        self.now = NOW
        session.info[SESSION_KEY] = dataclasses.replace(installation(session), clock=lambda: self.now)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        """The clock at `moment` meanwhile."""
        before, self.now = self.now, moment
        try:
            yield
        finally:
            self.now = before


def events(session: Session, action: str) -> list[AuditEvent]:
    """The audit events of one action, in chain order."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
