"""A worker killed with SIGKILL mid-job: the next worker finishes the job, exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.app_access import app_db, app_settings
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.services import claim, enqueue
from sdl_tracker.products.models import Product
from tests.jobs.kinds import PUBLISH

ROOT = Path(__file__).resolve().parents[2]
LEASE = 3


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.worker_main", "worker", "--once", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_worker_leaves_the_job_to_the_next_one(shared_app: Flask, tmp_path: Path) -> None:
    database = app_db(shared_app)
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {
        **os.environ,
        "SDL_TRACKER_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "SDL_TRACKER_DATA_DIR": str(app_settings(shared_app).DATA_DIR),
        "SDL_TRACKER_JOB_LEASE_SECONDS": str(LEASE),
        "PYTHONPATH": str(ROOT),
    }
    with database.unit_of_work() as session:
        job_id = enqueue(
            session,
            Principal.operator("tests"),
            kind=PUBLISH,
            arguments={"name": "Survivor", "markers": str(markers), "pause_first": 60},
            product_id=None,
        )[0].id

    first = _worker(env)
    _wait_for(markers / "staged-1", 60)  # staged, now pausing before the publish
    first.kill()  # SIGKILL: no cleanup, no lease release
    first.wait()
    assert first.stdout is not None
    first.stdout.close()
    with database.unit_of_work(read_only=True) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.state is JobState.RUNNING and job.attempts == 1
        assert session.scalar(select(func.count()).select_from(Product)) == 0  # nothing published

    time.sleep(LEASE + 0.5)  # the dead worker's lease runs out
    second = _worker(env)
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output
    with database.unit_of_work(read_only=True) as session:
        job = session.get(Job, job_id)
        assert job is not None and (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
        products = session.scalars(select(Product).where(Product.name == "Survivor")).all()
        assert len(products) == 1 and job.result == {"product_id": products[0].id}
        created = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "products:product:create")
        )
        assert created == 1
    # A third worker finds nothing to do: the job is never completed twice.
    third = _worker(env)
    assert third.communicate(timeout=60)[0].decode().strip().endswith("0 job(s) run")
    database.dispose()


def test_the_heartbeat_keeps_a_long_phase_s_lease(shared_app: Flask) -> None:
    from sdl_tracker.jobs.worker import run_one
    from tests.jobs.kinds import register_test_kinds

    register_test_kinds()
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        job_id = enqueue(
            session,
            Principal.operator("t"),
            kind=PUBLISH,
            arguments={"name": "Patient", "pause_first": 2},
            product_id=None,
        )[0].id
    # A 0.9 s lease and a 2 s pause: only the heartbeat (every 0.3 s) keeps another worker off it.
    rival: list[object] = []

    def try_to_take_over() -> None:
        time.sleep(1.5)
        with database.unit_of_work() as session:
            rival.append(claim(session, "rival", lease_seconds=60))

    thread = threading.Thread(target=try_to_take_over)
    thread.start()
    assert run_one(database, "steady", lease_seconds=0.9) == (job_id, JobState.SUCCEEDED)
    thread.join()
    assert rival == [None]
    with database.unit_of_work(read_only=True) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.attempts == 1
    database.dispose()
