"""A claim accepted while its officer changes it, at the same instant: no acceptance of a decision that changed."""

from __future__ import annotations

from functools import partial

import pytest
from flask import Flask
from sqlalchemy import select

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.claims.models import Claim
from sdl_tracker.claims.review import accept_claim
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.db import Database
from tests.claims.test_services import LEVEL_1
from tests.concurrency import at_once
from tests.factories import make_product, make_release, member

pytestmark = pytest.mark.db

ROUNDS = 6
CHANGED = "Wireless module removed in hardware rev B"


def _accept(database: Database, actor: Principal, release_id: int) -> str:
    with database.unit_of_work() as session:
        return accept_claim(session, actor, release_id, "CR 2.2").accepted_by


def _change(database: Database, actor: Principal, release_id: int) -> str:
    with database.unit_of_work() as session:
        data = ClaimInput("not_applicable", justification=CHANGED)
        return set_claim(session, actor, release_id, "CR 2.2", data).justification


def test_an_acceptance_and_a_changed_decision_at_once_never_leave_the_change_accepted(shared_app: Flask) -> None:
    # On PostgreSQL the two transactions really overlap; on SQLite they take turns, with the same outcome.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC", target_sl=LEVEL_1)
        setter = member(session, product, "security_officer", email="setter@example.com")
        second = member(session, product, "security_officer", email="second@example.com")
    for n in range(ROUNDS):
        with database.unit_of_work() as session:
            release_id = make_release(session, product, f"1.{n}").id
            claim_id = set_claim(
                session, setter, release_id, "CR 2.2", ClaimInput("not_applicable", justification="No wireless")
            ).id
        answers = at_once(
            [partial(_accept, database, second, release_id), partial(_change, database, setter, release_id)]
        )
        with database.unit_of_work(read_only=True) as session:
            claim = session.get(Claim, claim_id)
            assert claim is not None
            events = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.target_type == "claim", AuditEvent.target_id == str(claim_id))
                .order_by(AuditEvent.seq)
            ).all()
            last = events[-1]
            assert claim.justification == CHANGED, answers
            # Accepted only when the acceptance came after the change; else the change dropped it and says so.
            if claim.accepted_at is not None:
                assert last.action == "claims:claim:accept", f"round {n}: the change stands accepted; {answers}"
            else:
                assert last.action == "claims:claim:update" and last.details.get("acceptance_dropped"), answers
