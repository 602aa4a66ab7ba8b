"""Decisions recorded at the same instant: a new CVE named by two products' officers is one vulnerability recorded
once, and two officers deciding on the same component of a release leave one decision, the second's change."""

from __future__ import annotations

from functools import partial

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.db import Database
from sdl_tracker.vex.models import VexDecision, Vulnerability
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.concurrency import at_once
from tests.factories import make_product, make_release, member

pytestmark = pytest.mark.db

ROUNDS = 4


def _decide(database: Database, actor: Principal, release_id: int, name: str, data: DecisionInput) -> str:
    with database.unit_of_work() as session:
        return record_decision(session, actor, release_id, name, data, component="pkg:generic/zlib").status.value


def test_a_new_cve_named_at_once_is_recorded_once_and_both_decisions_stand(shared_app: Flask) -> None:
    # On PostgreSQL the two transactions really overlap; on SQLite they take turns, with the same outcome.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        plc, gateway = make_product(session, "PLC"), make_product(session, "Gateway")
        actors = [member(session, plc, "security_officer"), member(session, gateway, "security_officer")]
        releases = [make_release(session, plc, "1.0").id, make_release(session, gateway, "1.0").id]
    for n in range(ROUNDS):
        name = f"CVE-2026-{1000 + n}"
        data = DecisionInput("affected", action="Update.")
        answers = at_once([partial(_decide, database, a, r, name, data) for a, r in zip(actors, releases, strict=True)])
        assert answers == ["affected", "affected"], answers
        with database.unit_of_work(read_only=True) as session:
            vulnerability = session.scalars(select(Vulnerability).where(Vulnerability.name == name)).one()
            created = select(func.count()).where(
                AuditEvent.action == "vex:vulnerability:create", AuditEvent.target_id == str(vulnerability.id)
            )
            assert session.scalar(created) == 1
            decided = select(func.count()).where(VexDecision.vulnerability_id == vulnerability.id)
            assert session.scalar(decided) == 2


def test_two_officers_deciding_on_one_component_at_once_leave_one_decision(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        plc = make_product(session, "PLC")
        officers = [member(session, plc, "security_officer") for _ in range(2)]
        release_id = make_release(session, plc, "1.0").id
    for n in range(ROUNDS):
        name = f"CVE-2026-{2000 + n}"
        calls = [
            partial(_decide, database, officers[0], release_id, name, DecisionInput("affected", action="Update.")),
            partial(_decide, database, officers[1], release_id, name, DecisionInput("fixed")),
        ]
        answers = at_once(calls)
        assert sorted(answers) == ["affected", "fixed"], answers  # type: ignore[type-var]
        with database.unit_of_work(read_only=True) as session:
            decisions = session.scalars(select(VexDecision).join(Vulnerability).where(Vulnerability.name == name)).all()
            assert len(decisions) == 1
            actions = session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target_type == "vex_decision", AuditEvent.target_id == str(decisions[0].id))
                .order_by(AuditEvent.seq)
            ).all()
            # The second to take the release's lock saw the first's decision and changed it.
            assert list(actions) == ["vex:decision:create", "vex:decision:update"], answers
