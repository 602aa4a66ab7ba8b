"""Decisions on the same evidence or scoping-out at the same instant: one stands, the other is refused or follows it."""

from __future__ import annotations

import io
from functools import partial

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.db import Database
from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.models import Evidence, ProductReviewInterval, RequirementScoping, ScopingState
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.scoping import accept_scoping, propose_scoping, set_review_interval, withdraw_scoping
from sdl_tracker.evidence.services import EvidenceInput, Upload, attach_evidence, create_evidence, revise_evidence
from tests.concurrency import at_once
from tests.factories import OPERATOR, make_product, member

pytestmark = pytest.mark.db

ROUNDS = 6
DECISIONS = ["evidence:item:accept", "evidence:item:reject"]


def _review(database: Database, actor: Principal, evidence_id: int, accept: bool) -> str:
    with database.unit_of_work() as session:
        reason = "" if accept else "the signature is missing"
        return review_evidence(session, actor, evidence_id, accept=accept, reason=reason).state.value


def test_an_acceptance_and_a_rejection_at_once_leave_one_decision(shared_app: Flask) -> None:
    # On PostgreSQL the two transactions really overlap; on SQLite they take turns, with the same outcome.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        developer = member(session, product, "developer")
        first, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    for n in range(ROUNDS):
        with database.unit_of_work() as session:
            files = [Upload("p.txt", "text/plain", io.BytesIO(b"x"))]
            data = EvidenceInput(title=f"Patch policy {n}", requirements=["SM-2"], files=files)
            evidence_id = create_evidence(session, developer, product_id=product.id, kind="other", data=data).id
        answers = at_once(
            [
                partial(_review, database, first, evidence_id, True),
                partial(_review, database, second, evidence_id, False),
            ]
        )
        with database.unit_of_work(read_only=True) as session:
            stored = session.get(Evidence, evidence_id)
            assert stored is not None
            state = stored.current.state.value
            decided = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action.in_(DECISIONS), AuditEvent.target_id == str(evidence_id))
            )
        assert decided == 1, f"round {n}: {decided} decisions audited, answers {answers}, stored {state}"
        assert [a for a in answers if isinstance(a, str)] == [state]
        refused = [a for a in answers if isinstance(a, Invalid)]
        assert len(refused) == 1 and "only submitted evidence is reviewed" in refused[0].message


def _propose(database: Database, actor: Principal, product_id: int, ref: str) -> int:
    with database.unit_of_work() as session:
        return propose_scoping(session, actor, product_id, requirement=ref, justification="No suppliers").id


def _accept_scoping(database: Database, actor: Principal, scoping_id: int) -> str:
    with database.unit_of_work() as session:
        return accept_scoping(session, actor, scoping_id).state.value


def _withdraw_scoping(database: Database, actor: Principal, scoping_id: int) -> str:
    with database.unit_of_work() as session:
        return withdraw_scoping(session, actor, scoping_id, reason="we have suppliers now").state.value


def test_scoping_outs_proposed_accepted_and_withdrawn_at_once_stay_one_and_consistent(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        first, second = member(session, product, "security_officer"), member(session, product, "security_officer")
    for n, ref in enumerate(["SM-10", "SM-11", "SM-12", "SM-13"]):
        proposals = at_once([partial(_propose, database, first, product.id, ref)] * 2)  # a double click
        scoping_ids = [a for a in proposals if isinstance(a, int)]
        assert len(scoping_ids) == 1, f"round {n}: {proposals}"  # one active scoping-out per requirement
        refused = [a for a in proposals if isinstance(a, Invalid)]
        assert len(refused) == 1 and "is already scoped out" in refused[0].message
        # The second officer accepts while the first withdraws: a withdrawn scoping-out never ends up accepted.
        answers = at_once(
            [
                partial(_accept_scoping, database, second, scoping_ids[0]),
                partial(_withdraw_scoping, database, first, scoping_ids[0]),
            ]
        )
        with database.unit_of_work(read_only=True) as session:
            row = session.get(RequirementScoping, scoping_ids[0])
            assert row is not None
            assert row.state is ScopingState.WITHDRAWN, f"round {n}: {row.state}; answers {answers}"
            # Either it was accepted first and then withdrawn, or the withdrawal came first and refused the acceptance.
            assert answers[1] == "withdrawn"
            assert answers[0] == "accepted" or (
                isinstance(answers[0], Invalid) and "only a proposed" in answers[0].message
            )
            assert (row.accepted_at is not None) == (answers[0] == "accepted")


def test_a_review_interval_set_from_several_places_at_once_is_stored_once(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product_id = make_product(session, "PLC").id

    def set_months(months: int) -> int | None:
        with database.unit_of_work() as session:
            return set_review_interval(session, OPERATOR, product_id, kind="penetration-test", months=months).months

    assert sorted(at_once([partial(set_months, m) for m in (6, 9, 12, 18)]), key=str) == [12, 18, 6, 9]  # no 500
    with database.unit_of_work(read_only=True) as session:
        rows = session.scalars(select(ProductReviewInterval)).all()
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "evidence:interval:set").order_by(AuditEvent.seq)
        ).all()
    assert len(rows) == 1 and rows[0].months == events[-1].details["months"]
    # Each change names the interval the one before it left.
    assert [e.details["before"] for e in events[1:]] == [e.details["months"] for e in events[:-1]]


def _revise(database: Database, actor: Principal, evidence_id: int, title: str) -> int:
    with database.unit_of_work() as session:
        return revise_evidence(session, actor, evidence_id, data=EvidenceInput(title=title)).number


def test_edits_at_once_each_make_a_revision_of_their_own(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        developers = [member(session, product, "developer") for _ in range(4)]
    for n in range(ROUNDS):
        with database.unit_of_work() as session:
            files = [Upload("p.txt", "text/plain", io.BytesIO(b"x"))]
            data = EvidenceInput(title=f"Patch policy {n}", requirements=["SM-2"], files=files)
            evidence_id = create_evidence(session, developers[0], product_id=product.id, kind="other", data=data).id
        answers = at_once([partial(_revise, database, d, evidence_id, f"by {i}") for i, d in enumerate(developers)])
        assert sorted(a for a in answers if isinstance(a, int)) == [2, 3, 4, 5], f"round {n}: {answers}"


def _attach(database: Database, actor: Principal, product_id: int, data: bytes) -> tuple[int, bool]:
    with database.unit_of_work() as session:
        files = [Upload("junit.xml", "application/xml", io.BytesIO(data))]
        given = EvidenceInput(title="CI test report", requirements=["SVV-1"], files=files)
        attached = attach_evidence(session, actor, product_id=product_id, kind="requirements-test", data=given)
        return attached.evidence.id, attached.created


def test_the_same_files_uploaded_at_once_are_attached_once(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "CI")
        developers = [member(session, product, "developer") for _ in range(4)]
    for n in range(ROUNDS):
        report = f"<testsuite name='run {n}'/>".encode()
        answers = at_once([partial(_attach, database, d, product.id, report) for d in developers])
        assert all(isinstance(a, tuple) for a in answers), f"round {n}: {answers}"
        assert len({a[0] for a in answers if isinstance(a, tuple)}) == 1, f"round {n}: {answers}"
        assert sorted(a[1] for a in answers if isinstance(a, tuple)) == [False, False, False, True]
