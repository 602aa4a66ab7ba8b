"""Releases added at the same instant: versions equal by version semantics still clash."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from sdl_tracker.app_access import app_db
from sdl_tracker.errors import Conflict
from sdl_tracker.products.models import Release
from sdl_tracker.products.services import create_release
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
