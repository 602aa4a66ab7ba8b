"""Jobs: queue, claim under a lease, retry, fail, progress through the API, the page and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.db import utcnow
from sdl_tracker.errors import NotFound
from sdl_tracker.jobs.cli import report_job
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.services import claim, enqueue, get_job
from sdl_tracker.jobs.worker import run_one, run_worker, sweep
from sdl_tracker.products.models import Product
from tests.factories import OPERATOR, ApiClient, login, make_product, member
from tests.jobs.kinds import BROKEN, CLEANUPS, PUBLISH, REFUSED, register_test_kinds


@pytest.fixture(autouse=True)
def _kinds() -> None:
    register_test_kinds()


def _queue(app: Flask, kind: str, product_id: int | None = None, **arguments: object) -> int:
    with app_db(app).unit_of_work() as session:
        return enqueue(session, OPERATOR, kind=kind, arguments=dict(arguments), product_id=product_id)[0].id


def test_a_job_runs_once_and_publishes_with_its_completion(app: Flask, session: Session) -> None:
    job_id = _queue(app, PUBLISH, name="Published")
    assert run_worker(app_db(app), once=True) == 1
    job = session.get(Job, job_id)
    assert job is not None and job.state is JobState.SUCCEEDED and job.attempts == 1
    assert (job.progress_done, job.progress_total, job.progress_message) == (2, 2, "published")
    assert job.result == {"product_id": session.scalar(select(Product.id).where(Product.name == "Published"))}
    assert job.lease_holder is None and job.finished_at is not None
    assert run_worker(app_db(app), once=True) == 0  # nothing left: --once exits


def test_a_failing_job_is_retried_then_failed_with_its_error(app: Flask, session: Session) -> None:
    CLEANUPS.clear()
    job_id = _queue(app, BROKEN, name="x")
    assert run_worker(app_db(app), once=True) == 3  # three attempts, then it stays failed
    job = session.get(Job, job_id)
    assert job is not None and job.state is JobState.FAILED and job.attempts == 3
    assert job.error == "RuntimeError: broken on attempt 3"
    assert CLEANUPS == [1, 2, 2, 3, 3]  # after each failure, and again before each retry (a dead worker cleans nothing)


def test_bad_input_fails_at_once(app: Flask, session: Session) -> None:
    job_id = _queue(app, REFUSED, name="x")
    run_worker(app_db(app), once=True)
    job = session.get(Job, job_id)
    assert job is not None and (job.state, job.attempts) == (JobState.FAILED, 1)
    assert job.error == "name: not a name this job accepts"


def test_an_expired_lease_makes_the_job_claimable_again(app: Flask, session: Session) -> None:
    job_id = _queue(app, PUBLISH, name="Taken over")
    with app_db(app).unit_of_work() as s:
        first = claim(s, "dead-worker", lease_seconds=60)
        assert first is not None and first.id == job_id
    with app_db(app).unit_of_work() as s:
        assert claim(s, "other", lease_seconds=60) is None  # the lease still holds
    with app_db(app).unit_of_work() as s:
        later = claim(s, "other", lease_seconds=60, now=utcnow() + timedelta(seconds=61))
        assert later is not None and (later.id, later.attempts, later.lease_holder) == (job_id, 2, "other")


def test_a_worker_that_lost_its_lease_publishes_nothing(app: Flask, session: Session) -> None:
    job_id = _queue(app, PUBLISH, name="Lost")
    database = app_db(app)
    with database.unit_of_work() as s:
        claim(s, "slow-worker", lease_seconds=-1)  # expired at once: another worker takes over
    assert run_one(database, "fast-worker", job_id=job_id) == (job_id, JobState.SUCCEEDED)
    from sdl_tracker.jobs.registry import JobContext, LeaseLost, handler_for

    kind = handler_for(PUBLISH)
    assert kind is not None
    stale = JobContext(database, job_id, "slow-worker", PUBLISH, {"name": "Lost again"}, 1)
    with pytest.raises(LeaseLost):
        kind.run(stale)
    assert session.scalar(select(func.count()).select_from(Product).where(Product.name.like("Lost%"))) == 1


def test_idempotency_keys_name_one_job_until_it_fails(app: Flask, session: Session) -> None:
    first, created = enqueue(session, OPERATOR, kind=BROKEN, arguments={}, product_id=None, idempotency_key="k")
    again, created_again = enqueue(session, OPERATOR, kind=BROKEN, arguments={}, product_id=None, idempotency_key="k")
    assert created and not created_again and again.id == first.id
    session.commit()
    run_worker(app_db(app), once=True)
    retried, created = enqueue(session, OPERATOR, kind=BROKEN, arguments={}, product_id=None, idempotency_key="k")
    assert created and retried.id != first.id  # a failed job gave its key up


def test_jobs_are_visible_to_whoever_sees_their_product(session: Session) -> None:
    product = make_product(session, "Seen")
    officer = member(session, product, "security_officer")
    auditor = member(session, product, "auditor")
    outsider = member(session, make_product(session, "Other"), "security_officer")
    job, _ = enqueue(session, officer, kind=PUBLISH, arguments={}, product_id=product.id)
    assert get_job(session, auditor, job.id).id == job.id
    with pytest.raises(NotFound):
        get_job(session, outsider, job.id)
    loose, _ = enqueue(session, officer, kind=PUBLISH, arguments={}, product_id=None)
    assert get_job(session, officer, loose.id).id == loose.id  # its creator
    with pytest.raises(NotFound):
        get_job(session, auditor, loose.id)


def test_progress_through_the_api_the_page_and_the_cli(
    app: Flask, client: FlaskClient, api: ApiClient, session: Session
) -> None:
    product = make_product(session, "Progress")
    member(session, product, "developer", email="dev@example.com")
    member(session, make_product(session, "Elsewhere"), "developer", email="stranger@example.com")
    session.commit()
    job_id = _queue(app, PUBLISH, product_id=product.id, name="Later")
    token = api.as_user("dev@example.com")
    answer = api.call("GET", f"/api/v1/jobs/{job_id}", token)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["state"], body["progress"], body["location"]) == (
        "queued",
        {"done": 0, "total": None, "message": ""},
        f"/api/v1/jobs/{job_id}",
    )
    assert api.call("GET", f"/api/v1/jobs/{job_id}", api.as_user("stranger@example.com")).status_code == 404
    login(client, "dev@example.com")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page and "Queued" in page
    run_worker(app_db(app), once=True)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "http-equiv" not in page and "Succeeded" in page
    shown = app.test_cli_runner().invoke(cli, ["job", "show", str(job_id), "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["state"] == "succeeded"
    assert app.test_cli_runner().invoke(cli, ["job", "show", "999999"]).exit_code == 2


def test_workers_skip_each_others_jobs_on_postgresql(backend: str, shared_app: Flask) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one worker; its claims are serialised by BEGIN IMMEDIATE")
    database = app_db(shared_app)
    with database.unit_of_work() as s:
        ids = [enqueue(s, Principal.operator("t"), kind=PUBLISH, arguments={}, product_id=None)[0].id for _ in "ab"]
    first, second = database.session(), database.session()
    try:
        a = claim(first, "a", lease_seconds=60)
        b = claim(second, "b", lease_seconds=60)  # the first row is locked, not yet committed: skipped
        assert a is not None and b is not None and sorted([a.id, b.id]) == ids
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
        database.dispose()


def test_a_failed_job_can_be_retried_by_its_product_manager(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "Retry")
    member(session, product, "security_officer", email="so@example.com")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    job_id = _queue(app, REFUSED, product_id=product.id, name="x")
    run_worker(app_db(app), once=True)
    assert api.call("POST", f"/api/v1/jobs/{job_id}/retry", api.as_user("dev@example.com")).status_code == 403
    answer = api.call("POST", f"/api/v1/jobs/{job_id}/retry", api.as_user("so@example.com"))
    assert answer.status_code == 202 and answer.get_json()["state"] == "queued"
    assert answer.get_json()["attempts"] == 0 and answer.get_json()["error"] == ""
    again = api.call("POST", f"/api/v1/jobs/{job_id}/retry", api.as_user("so@example.com"))
    assert again.status_code == 422  # only a failed job
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "jobs:job:retry")).all()
    assert len(events) == 1 and events[0].actor.endswith(":so@example.com")
    assert events[0].details["previous_error"] == "name: not a name this job accepts"


def test_wait_runs_each_retry_here_then_reports_the_failure(app: Flask, session: Session) -> None:
    job_id = _queue(app, BROKEN, name="x")

    @click.command()
    def follow() -> None:
        report_job(job_id, wait=True, as_json=False, describe=lambda result: [])

    with app.app_context():
        result = CliRunner().invoke(follow)
    assert result.exit_code == 2
    assert result.output.strip().endswith(f"error: job {job_id} failed: RuntimeError: broken on attempt 3")


def test_a_worker_queues_work_that_came_due_by_itself(app: Flask, session: Session) -> None:
    """A kind registered with `due` (retries at a later time) is queued by the worker's sweep when its work
    has come due and no job of it is queued or running; then it runs like any job."""
    from sdl_tracker.jobs.registry import HANDLERS, register

    waiting: list[str] = []
    ran: list[int] = []
    register("tests.swept", lambda context: ran.append(context.job_id) or {}, due=lambda s, now: bool(waiting))
    try:
        database = app_db(app)
        assert sweep(database) == []  # nothing due: nothing queued, and no write lock taken to learn it
        waiting.append("a retry")
        queued = sweep(database)
        assert len(queued) == 1
        assert sweep(database) == []  # one is queued already
        waiting.clear()
        assert run_worker(database, once=True) == 1 and ran == queued
        waiting.append("another")
        assert run_worker(database, once=True) == 1  # --once sweeps at its start (cron)
        job = session.get(Job, ran[-1])
        assert job is not None and job.created_by == "system:worker" and job.state is JobState.SUCCEEDED
    finally:
        HANDLERS.pop("tests.swept")
