"""A repository scan in phases: read, fetch and parse outside any write transaction, store in short ones.

Each batch of new commits (with the evidence their trailers create) commits on its own, so a
retried scan skips what an earlier attempt stored; the new refs, the audit event and the job's
completion are published together at the end.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Principal
from ..db import utcnow
from ..errors import Invalid
from ..evidence.models import Evidence
from ..evidence.services import EvidenceInput, Upload, create_evidence
from ..installation import installation
from ..jobs.registry import JobContext, LeaseLost, Phases, collector_paused, register
from ..products.models import Repository
from ..products.repositories import authorize_manage_repositories
from . import git
from .log import LogRecord, parse_stream
from .models import Commit, CommitEvidence
from .rules import (
    MAX_EVIDENCE_PER_COMMIT,
    TRACEABILITY,
    beyond_bound_problem,
    evidence_reference,
    evidence_trailers,
    rule_for,
)
from .services import SCAN_KIND, ScanSummary, get_repository

# A write transaction stores at most this many commits, and creates or links at most this many
# evidence items (each created one writes a blob and an audit event): both keep it well under 100 ms.
WRITE_BATCH = 500
EVIDENCE_BATCH = 20
assert MAX_EVIDENCE_PER_COMMIT <= EVIDENCE_BATCH  # one commit's evidence always fits one transaction
UPDATE_BATCH = 2000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Plan:
    """What the read phase learned: enough to fetch and parse without a session."""

    repository_id: int
    product_id: int
    name: str
    location: str
    patterns: list[str]
    refs: dict[str, str]
    mirror: Path
    schemes: frozenset[str]


def _working_path(plan: _Plan) -> Path:
    """The repository to read: the local path, or the mirror in the data directory (fetched now)."""
    if git.is_remote(plan.location):
        return git.sync_mirror(
            plan.location, plan.mirror, allow_file=plan.location.startswith("file://"), schemes=plan.schemes
        )
    path = Path(plan.location)
    if not path.exists():
        raise Invalid.field("location", f"{plan.location} does not exist on this server")
    return path


def run_scan(phases: Phases, repository_id: int) -> dict[str, Any]:
    """Scan one repository: new commits (incremental), trailers to evidence, rewritten history flagged."""
    with collector_paused():
        return _run_scan(phases, repository_id)


def _run_scan(phases: Phases, repository_id: int) -> dict[str, Any]:
    started = time.monotonic()
    with phases.read() as session:
        actor = phases.actor(session)
        repository = get_repository(session, actor, repository_id)
        authorize_manage_repositories(actor, repository.product)
        plan = _Plan(
            repository.id,
            repository.product_id,
            repository.name,
            repository.location,
            list(repository.ref_patterns),
            dict(repository.refs),
            installation(session).mirrors_dir / f"{repository.id}.git",
            installation(session).git.schemes,
        )
    path = _working_path(plan)  # git clone/fetch: slow, and outside every transaction
    current = git.refs(path, plan.patterns)
    summary = ScanSummary(plan.name)
    if current != plan.refs:
        try:
            _store_history(phases, actor, plan, path, current, summary)
        except LeaseLost:
            raise  # another worker holds the scan now: it stores the rest and publishes
        except Exception as exc:
            _record_stop(phases, plan, summary, exc)
            raise
    with phases.write() as session:
        # The publish: new refs, the audit event and the job's completion commit together.
        published = session.get(Repository, plan.repository_id)
        if published is None:
            raise Invalid.field("repository", "the repository was removed during the scan")
        published.last_scanned_at = utcnow()
        summary.unreachable = _unreachable(session, plan.repository_id)
        summary.seconds = round(time.monotonic() - started, 3)
        if current != plan.refs:
            published.refs = current
            _audit(
                session,
                phases,
                plan,
                "scan",
                {k: v for k, v in summary.__dict__.items() if k not in ("seconds", "problems")},
            )
        # The job's result: the summary's fields, exactly what `ScanSummaryOut` publishes (a test holds them equal).
        result = asdict(summary)
        phases.finish(session, result)
    return result


def _store_history(
    phases: Phases, actor: Principal, plan: _Plan, path: Path, current: dict[str, str], summary: ScanSummary
) -> None:
    """Store the commits the new refs bring (batch by batch) and flag those history no longer reaches."""
    tips, seen = sorted(set(current.values())), sorted(set(plan.refs.values()))
    total = git.count(path, tips, seen)
    with phases.write() as session:
        phases.progress(session, 0, total, "reading history")
    with phases.read() as session:
        known = set(session.scalars(select(Commit.sha).where(Commit.repository_id == plan.repository_id)))
    pending: list[LogRecord] = []
    with_evidence = 0
    for rec in parse_stream(git.stream_log(path, tips, seen)):
        if rec.sha in known:
            continue  # stored by an earlier attempt or scan
        known.add(rec.sha)
        # Evidence items (created or linked), not commits, count towards a batch's bound; a commit
        # brings at most MAX_EVIDENCE_PER_COMMIT <= EVIDENCE_BATCH, so no batch exceeds the bound.
        items = len(evidence_trailers(rec.trailers)[0])
        if pending and (len(pending) >= WRITE_BATCH or with_evidence + items > EVIDENCE_BATCH):
            _write_batch(phases, actor, plan, pending, summary, total)
            pending, with_evidence = [], 0
        pending.append(rec)
        with_evidence += items
    _write_batch(phases, actor, plan, pending, summary, total)
    _mark_reachability(phases, plan, git.reachable(path, tips))


def _record_stop(phases: Phases, plan: _Plan, summary: ScanSummary, exc: Exception) -> None:
    """Audit a scan that stopped after it may have stored commits, links or reachability without publishing.

    Kept figures (a release's commit review) move only with the audit chain's head; the stored batches are
    visible at once, so a stopped scan moves the head once, as a published one does."""
    try:
        with phases.write() as session:
            stored = {
                k: getattr(summary, k) for k in ("repository", "new_commits", "evidence_created", "evidence_linked")
            }
            # The error's type only: git's messages can carry a remote's URL, credentials and all.
            _audit(session, phases, plan, "scan-stopped", {**stored, "error": type(exc).__name__})
    except Exception:  # the database refused again: the job's retry publishes or records the stop
        log.exception("scan of repository %s: its stop could not be audited", plan.repository_id)


def _audit(session: Session, phases: Phases, plan: _Plan, verb: str, details: dict[str, Any]) -> None:
    """One `gitlink:repository:<verb>` event of the scanned repository."""
    record(
        session,
        phases.actor(session),
        f"gitlink:repository:{verb}",
        target_type="repository",
        target_id=plan.repository_id,
        product_id=plan.product_id,
        details=details,
    )


def _unreachable(session: Session, repository_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Commit)
            .where(Commit.repository_id == repository_id, Commit.reachable.is_(False))
        )
        or 0
    )


def _write_batch(
    phases: Phases, actor: Principal, plan: _Plan, records: list[LogRecord], summary: ScanSummary, total: int
) -> None:
    if not records:
        return
    with phases.write() as session:
        repository = session.get(Repository, plan.repository_id)
        if repository is None:
            raise Invalid.field("repository", "the repository was removed during the scan")
        _store(session, actor, repository, records, summary)
        phases.progress(session, summary.new_commits, total, "commits stored")


def _row(repository_id: int, rec: LogRecord) -> dict[str, Any]:
    return {
        "repository_id": repository_id,
        "sha": rec.sha,
        "parents": list(rec.parents),
        "author_name": rec.author_name[:300],
        "author_email": rec.author_email[:320],
        "authored_at": rec.authored_at,
        "committer_name": rec.committer_name[:300],
        "committer_email": rec.committer_email[:320],
        "committed_at": rec.committed_at,
        "subject": rec.subject[:1000],
        "trailers": [list(t) for t in rec.trailers],
        "paths": list(rec.paths),
        "reachable": True,
    }


def _store(
    session: Session, actor: Principal, repository: Repository, records: list[LogRecord], summary: ScanSummary
) -> None:
    # One multi-row INSERT per batch: no ORM object per commit.
    session.execute(insert(Commit), [_row(repository.id, rec) for rec in records])
    summary.new_commits += len(records)
    with_trailers = [rec for rec in records if rec.trailers]
    if with_trailers:
        ids = dict(
            session.execute(
                select(Commit.sha, Commit.id).where(
                    Commit.repository_id == repository.id, Commit.sha.in_([r.sha for r in with_trailers])
                )
            ).all()
        )
        for rec in with_trailers:
            _link_trailers(session, actor, repository, ids[rec.sha], rec, summary)


def _link_trailers(
    session: Session, actor: Principal, repository: Repository, commit_id: int, rec: LogRecord, summary: ScanSummary
) -> None:
    summary.trailers += sum(1 for key, _ in rec.trailers if rule_for(key) or key.lower() == TRACEABILITY)
    recorded, beyond = evidence_trailers(rec.trailers)
    if beyond:
        summary.problems.append(beyond_bound_problem(rec.sha, beyond))
    for key, value in recorded:
        rule = rule_for(key)
        assert rule is not None  # evidence_trailers keeps vocabulary trailers only
        named = evidence_reference(value)
        if named is not None:
            evidence = session.get(Evidence, named)
            if evidence is None or evidence.product_id not in (None, repository.product_id):
                summary.problems.append(f"{rec.sha[:10]}: {key} names unknown evidence #{named}")
                continue
            if session.get(CommitEvidence, (commit_id, evidence.id)) is None:
                session.add(CommitEvidence(commit_id=commit_id, evidence_id=evidence.id, trailer=key[:80]))
                session.flush()
            summary.evidence_linked += 1
            continue
        _create_from_trailer(session, actor, repository, commit_id, rec, key, value, summary)


def _create_from_trailer(
    session: Session,
    actor: Principal,
    repository: Repository,
    commit_id: int,
    rec: LogRecord,
    key: str,
    value: str,
    summary: ScanSummary,
) -> None:
    """Evidence of the trailer's kind, submitted by the scan's own principal (never a name from the commit);
    the commit's author is kept as the unverified author identity."""
    rule = rule_for(key)
    assert rule is not None
    unverified_author = f"{rec.author_name} <{rec.author_email}>"
    # The artifact is the commit's own record: what the trailer states, where and by whom.
    statement = json.dumps(
        {
            "repository": repository.name,
            "commit": rec.sha,
            "author": {"name": rec.author_name, "email": rec.author_email, "verified": False},
            "authored_at": rec.authored_at.isoformat(),
            "subject": rec.subject,
            "trailer": [key, value],
            "delivered_by": actor.label,
        },
        indent=2,
    ).encode()
    try:
        evidence = create_evidence(
            session,
            actor,
            product_id=repository.product_id,
            kind=rule.kind,
            data=EvidenceInput(
                title=rule.title.format(value=value[:120], short=rec.sha[:10])[:200],
                description=(
                    f"From the `{key}:` trailer of commit {rec.sha} in {repository.name}, delivered by "
                    f"{actor.label}. The author, {unverified_author}, is as git recorded it: not authenticated."
                ),
                requirements=[rule.requirement],
                effective_date=min(rec.authored_at.date(), utcnow().date()),
                author=unverified_author[:200],
                details=rule.details(rec.sha, value),
                files=[Upload(f"commit-{rec.sha[:12]}.json", "application/json", io.BytesIO(statement))],
            ),
        )
    except Invalid as exc:
        summary.problems.append(f"{rec.sha[:10]}: {key}: {exc.one_line()}")
        return
    session.add(CommitEvidence(commit_id=commit_id, evidence_id=evidence.id, trailer=key[:80]))
    summary.evidence_created += 1


def _mark_reachability(phases: Phases, plan: _Plan, reachable: set[str]) -> None:
    """Flag commits that rewritten history no longer reaches (and unflag any that came back)."""
    with phases.read() as session:
        rows = session.execute(
            select(Commit.id, Commit.sha, Commit.reachable).where(Commit.repository_id == plan.repository_id)
        ).all()
    lost: list[int] = []
    back: list[int] = []
    for commit_id, sha, was in rows:
        now = sha in reachable
        if now != was:
            (back if now else lost).append(commit_id)
    for ids, value in ((lost, False), (back, True)):
        for start in range(0, len(ids), UPDATE_BATCH):
            with phases.write() as session:
                session.execute(
                    update(Commit).where(Commit.id.in_(ids[start : start + UPDATE_BATCH])).values(reachable=value)
                )


def _scan_job(context: JobContext) -> dict[str, Any]:
    return run_scan(context, int(context.arguments["repository_id"]))


def register_jobs() -> None:
    """Let workers run repository scans."""
    register(SCAN_KIND, _scan_job)
