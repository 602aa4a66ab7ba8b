"""Scans asked for at the same instant: one job per repository, which every caller is given."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.gitlink.services import queue_scan
from sdl_tracker.jobs.models import Job
from sdl_tracker.products.repositories import add_repository
from tests.concurrency import at_once
from tests.factories import OPERATOR, make_product
from tests.gitlink.repo import GitRepo

pytestmark = pytest.mark.db

CALLERS = 8


def test_scans_queued_at_once_share_one_job(shared_app: Flask, tmp_path: Path) -> None:
    # On PostgreSQL the callers really overlap; on SQLite they take turns, with the same outcome.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        repository_id = add_repository(
            session, OPERATOR, product.id, name="plc", location=str(GitRepo(tmp_path / "plc").path)
        ).id

    def ask() -> int:
        with database.unit_of_work() as session:
            return queue_scan(session, OPERATOR, repository_id).id

    answers = at_once([ask] * CALLERS)
    with database.unit_of_work(read_only=True) as session:
        jobs = session.scalars(select(Job.id)).all()
        queued = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "gitlink:repository:queue-scan")
        )
    assert len(jobs) == 1 and answers == [jobs[0]] * CALLERS, answers
    assert queued == 1
