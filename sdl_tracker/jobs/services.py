"""Job operations: queue, read, and the worker's claim, heartbeat, progress and completion."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..accounts.services import principal_for
from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..db import utcnow
from ..errors import Forbidden, Invalid, NotFound
from .models import Job, JobState

MAX_ERROR = 500
MAX_MESSAGE = 200


def _narrowing(actor: Principal) -> dict[str, Any] | None:
    if actor.scopes is None and actor.token_products is None:
        return None
    return {
        "scopes": None if actor.scopes is None else sorted(p.value for p in actor.scopes),
        "products": None if actor.token_products is None else sorted(actor.token_products),
        "token_id": actor.token_id,
    }


def enqueue(
    session: Session,
    actor: Principal,
    *,
    kind: str,
    arguments: dict[str, Any],
    product_id: int | None,
    idempotency_key: str | None = None,
    max_attempts: int = 3,
) -> tuple[Job, bool]:
    """Queue a job for `actor` (the feature that queues authorises and audits); (job, created).

    With an idempotency key, a job already holding the key is returned instead of a second one.
    """
    if idempotency_key is not None:
        existing = _holding(session, idempotency_key)
        if existing is not None:
            return existing, False
    job = Job(
        kind=kind,
        arguments=arguments,
        state=JobState.QUEUED,
        max_attempts=max_attempts,
        idempotency_key=idempotency_key,
        created_by=actor.label[:400],
        created_by_user_id=actor.user_id,
        narrowing=_narrowing(actor),
        product_id=product_id,
        progress_done=0,
        attempts=0,
        error="",
        progress_message="",
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # The same work was queued by another request a moment ago (its key is unique): that job it is.
        existing = _holding(session, idempotency_key) if idempotency_key is not None else None
        if existing is None:
            raise
        return existing, False
    return job, True


def _holding(session: Session, idempotency_key: str) -> Job | None:
    return session.scalar(select(Job).where(Job.idempotency_key == idempotency_key))


def active_job(session: Session, kind: str, product_id: int | None, **arguments: Any) -> Job | None:
    """A queued or running job of `kind` with these arguments (so a second request joins the first)."""
    candidates = session.scalars(
        select(Job).where(
            Job.kind == kind, Job.product_id == product_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING])
        )
    )
    return next((j for j in candidates if all(j.arguments.get(k) == v for k, v in arguments.items())), None)


def get_job(session: Session, actor: Principal, job_id: int) -> Job:
    """A job the actor may see (whoever may see its product; product-less jobs: admins and their creator)."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("job not found")
    if job.product_id is None:
        if not (actor.is_admin or (actor.user_id is not None and actor.user_id == job.created_by_user_id)):
            raise NotFound("job not found")
        return job
    if not actor.can_see(job.product_id):
        raise NotFound("job not found")
    authorize(actor, Permission.PRODUCT_READ, job.product_id)
    return job


def authorize_retry(actor: Principal, job: Job) -> None:
    """Refuse unless the actor may queue this job again: its creator or a manager of its product, and
    only once it failed."""
    creator = actor.user_id is not None and actor.user_id == job.created_by_user_id
    manager = job.product_id is not None and actor.has(Permission.PRODUCT_MANAGE, job.product_id)
    if not (actor.is_admin or creator or manager) or (actor.scopes is not None and job.product_id is None):
        raise Forbidden("only the job's creator or a manager of its product may retry it")
    if job.state is not JobState.FAILED:
        raise Invalid.field("state", f"job {job.id} is {job.state.value}; only a failed job can be retried")


def may_retry(actor: Principal, job: Job) -> bool:
    """Whether the actor may queue this failed job again (the page's button): the service's own check."""
    return permits(authorize_retry, actor, job)


def retry_job(session: Session, actor: Principal, job_id: int) -> Job:
    """Queue a failed job again with fresh attempts (after its cause was fixed); audited."""
    job = get_job(session, actor, job_id)
    authorize_retry(actor, job)
    previous = job.error
    job.state = JobState.QUEUED
    job.attempts = 0
    job.error = ""
    job.finished_at = None
    job.progress_done = 0
    session.flush()
    record(
        session,
        actor,
        "jobs:job:retry",
        target_type="job",
        target_id=job.id,
        product_id=job.product_id,
        details={"kind": job.kind, "previous_error": previous},
    )
    return job


def job_actor(session: Session, job_id: int) -> Principal:
    """Who the job acts as: the queuing user with today's roles and the token's narrowing, or the operator."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("job not found")
    if job.created_by_user_id is None:
        # Queued by the host operator (cli:<os user>): all rights, as the command had.
        return Principal(label=job.created_by, is_admin=True, origin="job")
    user = session.get(User, job.created_by_user_id)
    if user is None or user.disabled:
        raise NotFound("the user who queued this job no longer exists or is disabled")
    principal = principal_for(session, user, origin="job")
    narrow = job.narrowing
    if not narrow:
        return principal
    return Principal(
        label=job.created_by,  # token:<prefix>:<email>, as the queuing request was audited
        user_id=principal.user_id,
        is_admin=principal.is_admin,
        role_by_product=principal.role_by_product,
        scopes=None if narrow["scopes"] is None else frozenset(Permission(s) for s in narrow["scopes"]),
        token_products=None if narrow["products"] is None else frozenset(narrow["products"]),
        token_id=narrow.get("token_id"),
        origin="job",
    )


def _claimable(now: datetime) -> Any:
    return or_(
        Job.state == JobState.QUEUED,
        (Job.state == JobState.RUNNING) & (Job.lease_expires_at < now),
    )


def claim(
    session: Session, worker: str, *, lease_seconds: float, job_id: int | None = None, now: datetime | None = None
) -> Job | None:
    """Take the oldest queued job (or one whose worker died: its lease ran out) under a lease.

    PostgreSQL: several workers skip each other's rows (FOR UPDATE SKIP LOCKED). SQLite: the
    transaction is BEGIN IMMEDIATE, so claims are serialised by the write lock.
    """
    now = now or utcnow()
    query = select(Job).where(_claimable(now)).order_by(Job.id).limit(1).with_for_update(skip_locked=True)
    if job_id is not None:
        query = query.where(Job.id == job_id)
    job = session.scalar(query)
    if job is None:
        return None
    job.state = JobState.RUNNING
    job.attempts += 1
    job.lease_holder = worker[:200]
    job.lease_expires_at = now + timedelta(seconds=lease_seconds)
    job.started_at = job.started_at or now
    session.flush()
    return job


def _held(job_id: int, worker: str) -> Any:
    return (Job.id == job_id) & (Job.lease_holder == worker) & (Job.state == JobState.RUNNING)


def _update(session: Session, job_id: int, worker: str, **values: Any) -> bool:
    result = session.execute(update(Job).where(_held(job_id, worker)).values(**values))
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def heartbeat(session: Session, job_id: int, worker: str, *, lease_seconds: float) -> bool:
    """Extend the lease; False when this worker no longer holds the job."""
    return _update(session, job_id, worker, lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))


def set_progress(
    session: Session, job_id: int, worker: str, *, done: int, total: int | None = None, message: str = ""
) -> None:
    """Record how far the job got (in the caller's transaction)."""
    _update(
        session,
        job_id,
        worker,
        progress_done=max(done, 0),
        progress_total=total,
        progress_message=message[:MAX_MESSAGE],
    )


def mark_succeeded(session: Session, job_id: int, worker: str, result: dict[str, Any]) -> bool:
    """Complete the job in the caller's transaction; False (and nothing written) when the lease was lost."""
    done = session.scalar(select(Job.progress_total).where(Job.id == job_id))
    values: dict[str, Any] = {
        "state": JobState.SUCCEEDED,
        "result": result,
        "finished_at": utcnow(),
        "lease_holder": None,
        "lease_expires_at": None,
        "error": "",
    }
    if done is not None:
        values["progress_done"] = done
    return _update(session, job_id, worker, **values)


def mark_failed(session: Session, job_id: int, worker: str, error: str, *, retry: bool) -> JobState | None:
    """Put the job back in the queue (retry) or fail it for good; a failed job gives up its idempotency key."""
    line = " ".join(error.split())[:MAX_ERROR] or "failed"
    if retry:
        ok = _update(
            session, job_id, worker, state=JobState.QUEUED, error=line, lease_holder=None, lease_expires_at=None
        )
        return JobState.QUEUED if ok else None
    ok = _update(
        session,
        job_id,
        worker,
        state=JobState.FAILED,
        error=line,
        finished_at=utcnow(),
        lease_holder=None,
        lease_expires_at=None,
        idempotency_key=None,
    )
    return JobState.FAILED if ok else None
