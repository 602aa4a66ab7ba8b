"""Releases added at the same instant: versions equal by version semantics still clash."""

from __future__ import annotations

from functools import partial

import pytest
from flask import Flask
from sqlalchemy import select

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.errors import Conflict
from sdl_tracker.products.models import Release
from sdl_tracker.products.services import create_release, update_product, update_release
from tests.concurrency import at_once
from tests.factories import OPERATOR, make_product

pytestmark = pytest.mark.db

ROUNDS = 10  # without a lock most rounds on PostgreSQL store both twins


def test_twin_versions_added_at_once_store_one_release(shared_app: Flask) -> None:
    # On PostgreSQL the two transactions really overlap; on SQLite they take turns, with the same outcome.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product_id = make_product(session, "PLC").id

    def add(version: str) -> str:
        with database.unit_of_work() as session:
            return create_release(session, OPERATOR, product_id, version=version).version

    for n in range(ROUNDS):
        twins = [f"{n}.0", f"{n}.0.0", f"v{n}.0"]  # distinct strings, one version (the UNIQUE constraint sees none)
        answers = at_once([lambda v=v: add(v) for v in twins])
        with database.unit_of_work(read_only=True) as session:
            stored = session.scalars(select(Release.version).where(Release.version.in_(twins))).all()
        assert len(stored) == 1, f"round {n}: {stored} all stored; answers {answers}"
        assert [a for a in answers if isinstance(a, str)] == list(stored)
        refused = [a for a in answers if isinstance(a, Conflict)]
        assert len(refused) == 2 and all("the same version as" in c.message for c in refused), answers


def test_release_changes_at_once_are_audited_one_after_the_other(shared_app: Flask) -> None:
    # Each change's audited "old" must be what the change before it left, as an assessor reads the history.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
    for n in range(ROUNDS):
        with database.unit_of_work() as session:
            release_id = create_release(session, OPERATOR, product.id, version=f"{n}.0").id

        def change(status: str, release_id: int = release_id) -> None:
            with database.unit_of_work() as session:
                update_release(session, OPERATOR, release_id, status=status)

        # Not "released": that needs a signed-off gate (tests/gates), which is not what this races.
        answers = at_once([lambda s=s: change(s) for s in ("development", "candidate", "withdrawn")])
        assert all(a is None for a in answers), answers
        steps = _audited_changes(shared_app, "products:release:update", release_id, "status")
        with database.unit_of_work(read_only=True) as session:
            final = session.get(Release, release_id)
            assert final is not None
            assert [old for old, _ in steps] == ["planned"] + [new for _, new in steps[:-1]], f"round {n}: {steps}"
            assert steps[-1][1] == final.status.value


def test_product_changes_at_once_are_audited_one_after_the_other(shared_app: Flask) -> None:
    # As for releases: each audited "old" vendor is what the change before it left.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product_id = make_product(session, "PLC").id
    vendors = [f"Vendor {n}" for n in range(4)]
    for n in range(ROUNDS // 2):
        answers = at_once([partial(_change_vendor, shared_app, product_id, f"{v}.{n}") for v in vendors])
        assert all(a is None for a in answers), answers
    steps = _audited_changes(shared_app, "products:product:update", product_id, "vendor")
    assert len(steps) == len(vendors) * (ROUNDS // 2)
    assert [old for old, _ in steps[1:]] == [new for _, new in steps[:-1]], steps


def _audited_changes(app: Flask, action: str, target_id: int, field: str) -> list[tuple[str, str]]:
    """The (old, new) values of `field` that the audit log records for `target_id`, in order."""
    with app_db(app).unit_of_work(read_only=True) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.target_id == str(target_id))
            .order_by(AuditEvent.seq)
        ).all()
        return [(e.details[field]["old"], e.details[field]["new"]) for e in events]


def _change_vendor(app: Flask, product_id: int, vendor: str) -> None:
    with app_db(app).unit_of_work() as session:
        update_product(session, OPERATOR, product_id, changes={"vendor": vendor})
