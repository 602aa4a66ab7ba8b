"""The worker: claim a job under a lease, keep the lease alive from a heartbeat thread, run the handler."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from ..auth import Principal
from ..db import Database, utcnow
from ..errors import DomainError
from . import services
from .models import Job, JobState
from .registry import JobContext, LeaseLost, handler_for, swept_kinds

log = logging.getLogger("sdl_tracker.jobs")

DEFAULT_LEASE_SECONDS = 60.0
# How often a worker asks whether work that comes due by itself (retries) has: a read, no write lock.
DEFAULT_SWEEP_SECONDS = 15.0
# Who the jobs a sweep queues act as: the installation itself, as the host operator would.
SWEEPER = Principal(label="system:worker", is_admin=True, origin="job")
Progress = Callable[[int, int | None, str], None]


def worker_name() -> str:
    """A name unique to this process: host, pid and a random suffix (a restarted pid is another worker)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Heartbeat(threading.Thread):
    """Extends the lease every third of its length; sets `lost` when another worker has the job."""

    def __init__(self, database: Database, job_id: int, worker: str, lease_seconds: float, lost: threading.Event):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.database, self.job_id, self.worker, self.lease_seconds, self.lost = (
            database,
            job_id,
            worker,
            lease_seconds,
            lost,
        )
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.lease_seconds / 3):
            try:
                with self.database.unit_of_work() as session:
                    held = services.heartbeat(session, self.job_id, self.worker, lease_seconds=self.lease_seconds)
            except Exception:  # a busy database: try again at the next beat, the lease has slack
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)
                continue
            if not held:
                self.lost.set()
                return


def claim_one(
    database: Database, worker: str, *, lease_seconds: float, job_id: int | None = None
) -> tuple[JobContext, int] | None:
    """Claim a job in one short transaction: its context and allowed attempts, or None when nothing is claimable."""
    with database.unit_of_work() as session:
        job = services.claim(session, worker, lease_seconds=lease_seconds, job_id=job_id)
        if job is None:
            return None
        return JobContext(database, job.id, worker, job.kind, dict(job.arguments), job.attempts), job.max_attempts


def run_claimed(
    context: JobContext, max_attempts: int, *, lease_seconds: float, on_progress: Progress | None = None
) -> JobState | None:
    """Run a claimed job's handler; retry, fail or stop (lease lost) as its outcome says."""
    context.on_progress = on_progress
    kind = handler_for(context.kind)
    if kind is None:
        return _fail(context, f"no handler for job kind {context.kind!r} in this worker", retry=False)
    if context.attempt > max_attempts:
        # The earlier attempts died with their worker (killed, or lost the lease): give up now.
        _cleanup(context)
        return _fail(context, f"gave up after {max_attempts} attempts (the worker stopped each time)", retry=False)
    beat: _Heartbeat | None = None
    if not context.database.bound:  # tests share one connection: no second thread on it
        beat = _Heartbeat(context.database, context.job_id, context.worker, lease_seconds, context.lease_lost)
        beat.start()
    try:
        if context.attempt > 1:
            _cleanup(context)  # an earlier attempt may have staged rows before it died
        result = kind.run(context)
        if not context.finished:
            with context.write() as session:
                context.finish(session, result or {})
        return JobState.SUCCEEDED
    except LeaseLost:
        log.warning("job %s: lease lost; another worker runs it now", context.job_id)
        return None
    except DomainError as exc:  # the input is wrong: trying again cannot help
        _cleanup(context)
        return _fail(context, exc.one_line(), retry=False)
    except Exception as exc:
        log.exception("job %s failed (attempt %s of %s)", context.job_id, context.attempt, max_attempts)
        _cleanup(context)
        return _fail(context, f"{type(exc).__name__}: {exc}", retry=context.attempt < max_attempts)
    finally:
        if beat is not None:
            beat.stopped.set()


def _cleanup(context: JobContext) -> None:
    kind = handler_for(context.kind)
    if kind is None or kind.cleanup is None or context.lease_lost.is_set():
        return
    try:
        kind.cleanup(context)
    except Exception:  # the next attempt (or the next failure) cleans up again
        log.exception("job %s: cleanup failed", context.job_id)


def _fail(context: JobContext, error: str, *, retry: bool) -> JobState | None:
    with context.database.unit_of_work() as session:
        return services.mark_failed(session, context.job_id, context.worker, error, retry=retry)


def run_one(
    database: Database,
    worker: str,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    job_id: int | None = None,
    on_progress: Progress | None = None,
) -> tuple[int, JobState | None] | None:
    """Claim and run one job (or the named one); None when there was nothing to claim."""
    claimed = claim_one(database, worker, lease_seconds=lease_seconds, job_id=job_id)
    if claimed is None:
        return None
    context, max_attempts = claimed
    return context.job_id, run_claimed(context, max_attempts, lease_seconds=lease_seconds, on_progress=on_progress)


def sweep(database: Database, *, now: datetime | None = None) -> list[int]:
    """Queue a job of each kind whose work has come due by itself (a retry whose time came) while no job of
    the kind is queued or running; the ids queued. The question is asked in a read-only unit, so an idle
    worker takes no write lock; two workers sweeping at once may queue one job each, which is harmless."""
    kinds = swept_kinds()
    now = now or utcnow()
    with database.unit_of_work(read_only=True) as session:
        wanted = [k for k, due in kinds.items() if services.active_job(session, k, None) is None and due(session, now)]
    if not wanted:
        return []
    with database.unit_of_work() as session:
        return [
            services.enqueue(session, SWEEPER, kind=kind, arguments={}, product_id=None)[0].id
            for kind in wanted
            if services.active_job(session, kind, None) is None
        ]


def run_worker(
    database: Database,
    *,
    once: bool = False,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    poll_seconds: float = 1.0,
    sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
    stop: threading.Event | None = None,
) -> int:
    """Run jobs one at a time until stopped (or, with `once`, until the queue is empty); returns how many ran.

    Every `sweep_seconds` (with `once`: at the start) it first queues the work that came due by itself."""
    worker = worker_name()
    stop = stop or threading.Event()
    ran = 0
    next_sweep = time.monotonic()
    log.info("worker %s started", worker)
    while not stop.is_set():
        if time.monotonic() >= next_sweep:
            try:
                sweep(database)
            except Exception:  # the database is away or busy: the next sweep asks again
                log.exception("worker %s: sweep failed", worker)
            next_sweep = float("inf") if once else time.monotonic() + sweep_seconds
        try:
            outcome = run_one(database, worker, lease_seconds=lease_seconds)
        except Exception:  # the database is away or busy: wait and try again
            log.exception("worker %s: claim failed", worker)
            outcome = None
            if once:
                raise
        if outcome is None:
            if once:
                break
            stop.wait(poll_seconds)
            continue
        ran += 1
    return ran


def job_state(database: Database, job_id: int) -> Job | None:
    """The job as stored now (read-only), for callers that follow a job."""
    with database.unit_of_work(read_only=True) as session:
        return session.get(Job, job_id)


def run_or_follow(
    database: Database, job_id: int, *, lease_seconds: float, on_progress: Progress | None = None, poll: float = 0.5
) -> Job:
    """Run the job here whenever it is claimable (queued, or back in the queue for a retry), else follow
    the worker that holds it, until it finishes."""
    worker = worker_name()
    while True:
        run_one(database, worker, lease_seconds=lease_seconds, job_id=job_id, on_progress=on_progress)
        job = job_state(database, job_id)
        if job is None:
            raise LookupError(f"job {job_id} vanished")
        if on_progress:
            on_progress(job.progress_done, job.progress_total, job.progress_message)
        if job.finished:
            return job
        time.sleep(poll)
