"""`sdl-tracker worker`, `sdl-tracker job show`, and the queue-then-wait helper other commands use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..app_access import app_db, app_settings
from ..auth import Principal
from ..commands import acting_principal, echo_lines, emit, fail, json_option, say, say_progress, server_command
from ..errors import DomainError
from .models import Job, JobState
from .schemas import job_json
from .services import get_job, retry_job
from .worker import run_or_follow, run_worker

Describe = Callable[[dict[str, Any]], list[str]]


def lease_seconds() -> int:
    """The installation's job lease."""
    return app_settings(current_app).JOB_LEASE_SECONDS


@click.command("worker")
@click.option("--once", is_flag=True, help="Run until the queue is empty, then exit (tests, cron).")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at an empty queue.")
@with_appcontext
def worker(once: bool, poll: float) -> None:
    """Run queued jobs (repository scans, big SBOM imports, notification deliveries) one at a time, until stopped."""
    ran = run_worker(app_db(current_app), once=once, lease_seconds=lease_seconds(), poll_seconds=poll)
    if once:
        say(f"{ran} job(s) run", err=True)


job = AppGroup("job", help="Follow queued work.")


@job.command("show")
@click.argument("job_id", metavar="JOB", type=int)
@json_option
@server_command(read_only=True)
def job_show(session: Session, actor: Principal, job_id: int, as_json: bool) -> None:
    """Print JOB's state, progress, result or error."""
    data = job_json(get_job(session, actor, job_id))
    emit(data, as_json, lambda: say(_status_line(data)))


@job.command("retry")
@click.argument("job_id", metavar="JOB", type=int)
@json_option
@server_command()
def job_retry(session: Session, actor: Principal, job_id: int, as_json: bool) -> None:
    """Queue the failed JOB again (after fixing its cause); a worker or `--wait` elsewhere runs it."""
    data = job_json(retry_job(session, actor, job_id))
    emit(data, as_json, lambda: say(f"queued job {data['id']} again"))


def _status_line(data: dict[str, Any]) -> str:
    progress = data["progress"]
    total = f"/{progress['total']:,}" if progress["total"] is not None else ""
    line = f"job {data['id']} ({data['kind']}): {data['state']}, {progress['done']:,}{total} {progress['message']}"
    return line + (f": {data['error']}" if data["error"] else "")


class _Bar:
    """A one-line progress bar on standard error."""

    def __init__(self) -> None:
        self.last = ""

    def __call__(self, done: int, total: int | None, message: str) -> None:
        if total:
            filled = min(30, int(30 * done / total)) if total else 0
            text = f"[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} {message}"
        else:
            text = f"{done:,} {message}"
        if text != self.last:
            say_progress(text, 100)
            self.last = text

    def close(self) -> None:
        if self.last:
            say("", err=True)


def queue_command(
    queue: Callable[[Session, Principal], Job],
    *,
    as_email: str | None,
    wait: bool,
    as_json: bool,
    describe: Describe,
) -> None:
    """Queue a job in one transaction; print its id, or with `wait` run or follow it to the end.

    --wait claims the job itself when no worker has taken it yet, so a single user on SQLite needs
    no worker running; a job a worker already holds is followed instead.
    """
    database = app_db(current_app)
    try:
        with database.unit_of_work() as session:
            actor = acting_principal(session, as_email)
            job_id = queue(session, actor).id
    except DomainError as exc:
        fail(exc.one_line())
        return
    except SQLAlchemyError as exc:
        fail(f"database: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
        return
    report_job(job_id, wait=wait, as_json=as_json, describe=describe)


def report_job(job_id: int, *, wait: bool, as_json: bool, describe: Describe) -> None:
    """Print a queued job's id, or with `wait` run it here (if no worker has taken it) or follow it to its end."""
    database = app_db(current_app)
    if not wait:
        emit({"job": job_id, "location": f"/api/v1/jobs/{job_id}"}, as_json, lambda: say(f"queued job {job_id}"))
        return
    bar = _Bar() if not as_json else None  # scripts that read --json get one JSON document
    finished = run_or_follow(database, job_id, lease_seconds=lease_seconds(), on_progress=bar)
    if bar:
        bar.close()
    data = job_json(finished)
    if finished.state is JobState.FAILED:
        if as_json:
            emit(data, True, lambda: None)
        fail(f"job {job_id} failed: {finished.error}")
    emit(data, as_json, echo_lines(describe(data.get("result") or {}), f"job {job_id} succeeded"))


def wait_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add --wait: run or follow the queued job to its end, with progress on standard error."""
    return click.option("--wait", is_flag=True, help="Wait for the job (runs it here if no worker has).")(f)


def as_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add --as EMAIL for commands that queue (server_command adds it for the others)."""
    return click.option("--as", "as_email", metavar="EMAIL", help="Act as this user, with their permissions.")(f)
