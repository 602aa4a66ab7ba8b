"""A repository scan in phases: read, fetch and parse outside any write transaction, store in short ones.

Each batch of new commits (with the evidence their trailers create) commits on its own, so a
retried scan skips what an earlier attempt stored; the new refs, the audit event and the job's
completion are published together at the end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Principal
from ..db import utcnow
from ..errors import Invalid
from ..installation import installation
from ..jobs.registry import JobContext, LeaseLost, Phases, collector_paused, register
from ..products.models import Repository
from ..products.repositories import authorize_manage_repositories, get_repository
from . import git
from .ingest import EVIDENCE_BATCH, evidence_items, store_commits
from .log import LogFormat, LogRecord
from .models import Commit
from .services import SCAN_KIND, ScanSummary
from .signatures import SignatureStatus, header_for
from .signing import Signed, judge_signatures, keep_registered, signing_accounts, verdict_values

# A write transaction stores at most this many commits, and creates or links at most EVIDENCE_BATCH
# evidence items (each created one writes a blob and an audit event): both keep it well under 100 ms.
WRITE_BATCH = 500
UPDATE_BATCH = 2000
SIGNATURE_BATCH = 500  # commits whose objects one `git cat-file` reads and whose verdicts one transaction writes
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
        if repository.removed_at is not None:
            raise Invalid.field("repository", "the repository was removed: its history is no longer scanned")
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
        # Commits a client delivered that no scan has found yet: this scan looks for them even with no new refs.
        awaiting = session.scalar(
            select(Commit.id).where(Commit.repository_id == repository.id, Commit.seen_by_scan.is_(False)).limit(1)
        )
        # Commits stored before signatures were checked get their verdict now, new refs or not.
        unchecked = session.scalar(
            select(Commit.id).where(Commit.repository_id == repository.id, Commit.signature_status.is_(None)).limit(1)
        )
    path = _working_path(plan)  # git clone/fetch: slow, and outside every transaction
    current = git.refs(path, plan.patterns)
    summary = ScanSummary(plan.name)
    tips = sorted(set(current.values()))
    if current != plan.refs:
        try:
            _store_history(phases, actor, plan, path, current, summary)
        except LeaseLost:
            raise  # another worker holds the scan now: it stores the rest and publishes
        except Exception as exc:
            _record_stop(phases, plan, summary, exc)
            raise
    elif awaiting is not None:
        _mark_reachability(phases, plan, git.reachable(path, tips))
    if current != plan.refs or unchecked is not None:
        _check_signatures(phases, plan, path, summary)
    with phases.write() as session:
        # The publish: new refs, the audit event and the job's completion commit together.
        published = session.get(Repository, plan.repository_id)
        if published is None or published.removed_at is not None:
            raise Invalid.field("repository", "the repository was removed during the scan")
        published.last_scanned_at = utcnow()
        summary.unreachable = _unreachable(session, plan.repository_id)
        summary.seconds = round(time.monotonic() - started, 3)
        # Delivered commits found in history change what the commits pages show: audited like new refs, so the
        # kept commit review moves with them.
        if current != plan.refs or awaiting is not None or summary.signatures_checked:
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
        # Delivered objects name a tree, not the paths a commit changed: the scan fills those in.
        delivered = set(
            session.scalars(
                select(Commit.sha).where(Commit.repository_id == plan.repository_id, Commit.seen_by_scan.is_(False))
            )
        )
    paths: dict[str, list[str]] = {}
    pending: list[LogRecord] = []
    with_evidence = 0
    log = LogFormat.fresh()
    for rec in log.parse_stream(git.stream_log(path, tips, seen, log.args)):
        if rec.sha in known:
            if rec.sha in delivered and rec.paths:
                paths[rec.sha] = list(rec.paths)
            continue  # stored by an earlier attempt or scan
        known.add(rec.sha)
        # Evidence items (created or linked), not commits, count towards a batch's bound; a commit
        # brings at most MAX_EVIDENCE_PER_COMMIT <= EVIDENCE_BATCH, so no batch exceeds the bound.
        items = evidence_items(rec)
        if pending and (len(pending) >= WRITE_BATCH or with_evidence + items > EVIDENCE_BATCH):
            _write_batch(phases, actor, plan, pending, summary, total)
            pending, with_evidence = [], 0
        pending.append(rec)
        with_evidence += items
    _write_batch(phases, actor, plan, pending, summary, total)
    _fill_paths(phases, plan, paths)
    _mark_reachability(phases, plan, git.reachable(path, tips))


def _fill_paths(phases: Phases, plan: _Plan, paths: dict[str, list[str]]) -> None:
    """The changed paths of commits a client delivered before this scan read them (their objects carry none)."""
    items = sorted(paths.items())
    for start in range(0, len(items), UPDATE_BATCH):
        with phases.write() as session:
            for sha, changed in items[start : start + UPDATE_BATCH]:
                session.execute(
                    update(Commit)
                    .where(Commit.repository_id == plan.repository_id, Commit.sha == sha)
                    .values(paths=changed)
                )


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
        if repository is None or repository.removed_at is not None:
            raise Invalid.field("repository", "the repository was removed during the scan")
        store_commits(session, actor, repository, records, summary)
        phases.progress(session, summary.new_commits, total, "commits stored")


def _mark_reachability(phases: Phases, plan: _Plan, reachable: set[str]) -> None:
    """Flag commits that rewritten history no longer reaches (and unflag any that came back); delivered commits
    found in history become history like the scanned ones, those not found stay delivered."""
    with phases.read() as session:
        rows = session.execute(
            select(Commit.id, Commit.sha, Commit.reachable, Commit.seen_by_scan).where(
                Commit.repository_id == plan.repository_id
            )
        ).all()
    lost: list[int] = []
    back: list[int] = []
    for commit_id, sha, was, seen in rows:
        now = sha in reachable
        if not seen:
            if now:
                back.append(commit_id)
            continue  # not pushed yet, or to refs that are not history: still only delivered
        if now != was:
            (back if now else lost).append(commit_id)
    for ids, value in ((lost, False), (back, True)):
        for start in range(0, len(ids), UPDATE_BATCH):
            with phases.write() as session:
                session.execute(
                    update(Commit)
                    .where(Commit.id.in_(ids[start : start + UPDATE_BATCH]))
                    .values(reachable=value, seen_by_scan=True)
                )


def _check_signatures(phases: Phases, plan: _Plan, path: Path, summary: ScanSummary) -> None:
    """Reach a verdict on the signature of every commit of the repository that has none yet, a batch at a time:
    the objects are read from git and the signatures checked outside any transaction. A signed commit's object
    is kept, so a key registered later can verify it without the repository."""
    after = 0
    while True:
        with phases.read() as session:
            rows = session.execute(
                select(Commit.id, Commit.sha, Commit.author_email, Commit.raw_object)
                .where(Commit.repository_id == plan.repository_id, Commit.id > after)
                .where(Commit.signature_status.is_(None))
                .order_by(Commit.id)
                .limit(SIGNATURE_BATCH)
            ).all()
        if not rows:
            return
        after = rows[-1].id
        objects = git.commit_objects(path, [r.sha for r in rows if r.raw_object is None])
        commits = [
            Signed(r.sha, r.raw_object or objects[r.sha], r.author_email)
            for r in rows
            if r.raw_object or r.sha in objects
        ]
        with phases.read() as session:
            accounts = signing_accounts(session, commits)
        verdicts = judge_signatures(commits, accounts)
        with phases.write() as session:
            verdicts = keep_registered(session, verdicts)
            for row in rows:
                verdict = verdicts.get(row.sha)
                if verdict is None:
                    continue  # no longer in the repository (rewritten history): it keeps no verdict
                values = verdict_values(verdict)
                if verdict.status is not SignatureStatus.UNSIGNED and row.raw_object is None:
                    values |= {"raw_object": objects[row.sha], "signature": header_for(row.sha)}
                session.execute(update(Commit).where(Commit.id == row.id).values(**values))
                summary.signatures_verified += verdict.status is SignatureStatus.VERIFIED
            summary.signatures_checked += sum(1 for v in verdicts.values() if v.status is not None)
            phases.progress(session, summary.signatures_checked, None, "signatures checked")


def _scan_job(context: JobContext) -> dict[str, Any]:
    return run_scan(context, int(context.arguments["repository_id"]))


def register_jobs() -> None:
    """Let workers run repository scans."""
    register(SCAN_KIND, _scan_job)
