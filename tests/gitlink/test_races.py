"""Scans asked for at the same instant: one job per repository, which every caller is given; a commit
delivered by many hooks at once, while a scan runs: stored once."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.gitlink.intake import Delivery, deliver_commits
from sdl_tracker.gitlink.models import Commit
from sdl_tracker.gitlink.services import queue_scan
from sdl_tracker.jobs.models import Job
from sdl_tracker.jobs.worker import run_one
from sdl_tracker.products.repositories import add_repository
from tests.concurrency import at_once
from tests.factories import OPERATOR, make_product, member
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


def test_one_commit_delivered_at_once_by_many_hooks_is_stored_once(shared_app: Flask, tmp_path: Path) -> None:
    # Clones of one repository each push the same commit through their hooks, and a scan runs meanwhile: one
    # commit, one evidence item, one delivery recorded; every other caller is told the commit is known.
    database = app_db(shared_app)
    repo = GitRepo(tmp_path / "plc")
    sha = repo.commit("Fuzz Modbus\n\nFuzzed-by: nightly-modbus\n")
    raw = repo.cat_file(sha)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        developer = member(session, product, "developer")
        repository_id = add_repository(session, OPERATOR, product.id, name="plc", location=str(repo.path)).id

    def deliver() -> str:
        with database.unit_of_work() as session:
            [outcome] = deliver_commits(session, developer, product.id, "plc", [Delivery(raw, sha)], {})
            return outcome.result.value

    def scan_now() -> str:
        with database.unit_of_work() as session:
            job_id = queue_scan(session, OPERATOR, repository_id).id
        run_one(database, "tests", job_id=job_id)
        return "scanned"

    answers = at_once([deliver] * CALLERS + [scan_now])
    assert answers[-1] == "scanned" and sorted(answers[:-1]).count("known") >= CALLERS - 1, answers
    with database.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Commit)) == 1
        assert session.scalar(select(func.count()).select_from(Evidence)) == 1
        delivered = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "gitlink:commit:deliver")
        )
        assert delivered == answers.count("stored") <= 1
