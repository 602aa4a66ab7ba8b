"""Scanning repositories into commit rows, evidence from trailers, review coverage of a release."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..db import utcnow
from ..errors import Invalid, NotFound
from ..evidence.models import Evidence, EvidenceKind, ReviewState
from ..evidence.services import EvidenceInput, Upload, create_evidence
from ..installation import installation
from ..products.models import Release, Repository
from ..products.rules import previous_release
from ..products.services import get_product, get_release_by_version
from . import git
from .log import LogRecord, parse_stream
from .models import Commit, CommitEvidence
from .rules import TRACEABILITY, commits_between, evidence_reference, resolve_ref, rule_for

BATCH = 2000


@dataclass
class ScanSummary:
    """What a scan did."""

    repository: str
    new_commits: int = 0
    trailers: int = 0
    evidence_created: int = 0
    evidence_linked: int = 0
    unreachable: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def get_repository(session: Session, actor: Principal, repository_id: int) -> Repository:
    """A repository of a product the actor may see, else NotFound."""
    repository = session.get(Repository, repository_id)
    if repository is None or not actor.can_see(repository.product_id):
        raise NotFound("repository not found")
    return repository


def working_path(session: Session, repository: Repository) -> Path:
    """The repository to read: the local path, or the mirror kept in the data directory (fetched now)."""
    if git.is_remote(repository.location):
        mirror = installation(session).mirrors_dir / f"{repository.id}.git"
        return git.sync_mirror(
            repository.location,
            mirror,
            allow_file=repository.location.startswith("file://"),
            schemes=installation(session).git.schemes,
        )
    path = Path(repository.location)
    if not path.exists():
        raise Invalid.field("location", f"{repository.location} does not exist on this server")
    return path


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


def scan_repository(
    session: Session, actor: Principal, repository_id: int, *, progress: Callable[[int], None] | None = None
) -> ScanSummary:
    """Read the commits not seen before (incremental), link trailers to evidence, flag rewritten history."""
    started = time.monotonic()
    repository = get_repository(session, actor, repository_id)
    authorize(actor, Permission.REPOSITORY_MANAGE, repository.product_id)
    path = working_path(session, repository)
    current = git.refs(path, repository.ref_patterns)
    summary = ScanSummary(repository.name)
    if current == repository.refs:
        # No branch or tag moved: nothing new, nothing rewritten (a rescan costs one for-each-ref).
        repository.last_scanned_at = utcnow()
        summary.unreachable = (
            session.scalar(
                select(func.count())
                .select_from(Commit)
                .where(Commit.repository_id == repository.id, Commit.reachable.is_(False))
            )
            or 0
        )
        summary.seconds = round(time.monotonic() - started, 3)
        return summary
    known = set(session.scalars(select(Commit.sha).where(Commit.repository_id == repository.id)))
    records = parse_stream(git.stream_log(path, sorted(set(current.values())), sorted(set(repository.refs.values()))))
    pending: list[LogRecord] = []
    for rec in records:
        if rec.sha in known:
            continue
        known.add(rec.sha)
        pending.append(rec)
        if len(pending) >= BATCH:
            _store(session, actor, repository, pending, summary, progress)
            pending = []
    _store(session, actor, repository, pending, summary, progress)
    summary.unreachable = _mark_reachability(session, repository, git.reachable(path, sorted(set(current.values()))))
    repository.refs = current
    repository.last_scanned_at = utcnow()
    summary.seconds = round(time.monotonic() - started, 3)
    record(
        session,
        actor,
        "gitlink:repository:scan",
        target_type="repository",
        target_id=repository.id,
        product_id=repository.product_id,
        details={k: v for k, v in summary.__dict__.items() if k not in ("seconds", "problems")},
    )
    return summary


def _store(
    session: Session,
    actor: Principal,
    repository: Repository,
    records: list[LogRecord],
    summary: ScanSummary,
    progress: Callable[[int], None] | None,
) -> None:
    if not records:
        return
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
    if progress:
        progress(len(records))


def _link_trailers(
    session: Session, actor: Principal, repository: Repository, commit_id: int, rec: LogRecord, summary: ScanSummary
) -> None:
    for key, value in rec.trailers:
        rule = rule_for(key)
        if rule is None and key.lower() != TRACEABILITY:
            continue
        summary.trailers += 1
        if rule is None:
            continue  # Security-Requirement: kept on the commit for traceability, no evidence of its own
        named = evidence_reference(value)
        if named is not None:
            evidence = session.get(Evidence, named)
            if evidence is None or evidence.product_id not in (None, repository.product_id):
                summary.problems.append(f"{rec.sha[:10]}: {key} names unknown evidence #{named}")
                continue
            session.add(CommitEvidence(commit_id=commit_id, evidence_id=evidence.id, trailer=key[:80]))
            summary.evidence_linked += 1
            continue
        # The artifact is the commit's own record: what the trailer states, where and by whom.
        statement = json.dumps(
            {
                "repository": repository.name,
                "commit": rec.sha,
                "author": rec.author_email,
                "subject": rec.subject,
                "trailer": [key, value],
            },
            indent=2,
        ).encode()
        details = {"change": rec.sha, "reviewer": value[:200]} if rule.kind == EvidenceKind.CODE_REVIEW.value else None
        try:
            evidence = create_evidence(
                session,
                actor,
                product_id=repository.product_id,
                kind=rule.kind,
                data=EvidenceInput(
                    title=rule.title.format(value=value[:120], short=rec.sha[:10])[:200],
                    requirements=[rule.requirement],
                    effective_date=min(rec.authored_at.date(), utcnow().date()),
                    author=rec.author_name[:200],
                    details=details,
                    files=[Upload(f"commit-{rec.sha[:12]}.json", "application/json", io.BytesIO(statement))],
                ),
            )
        except Invalid as exc:
            summary.problems.append(f"{rec.sha[:10]}: {key}: {exc.one_line()}")
            continue
        session.add(CommitEvidence(commit_id=commit_id, evidence_id=evidence.id, trailer=key[:80]))
        summary.evidence_created += 1


def _mark_reachability(session: Session, repository: Repository, reachable: set[str]) -> int:
    """Flag commits that rewritten history no longer reaches (and unflag any that came back)."""
    rows = session.execute(select(Commit.id, Commit.sha, Commit.reachable).where(Commit.repository_id == repository.id))
    lost: list[int] = []
    back: list[int] = []
    for commit_id, sha, was in rows:
        now = sha in reachable
        if now != was:
            (back if now else lost).append(commit_id)
    for ids, value in ((lost, False), (back, True)):
        for start in range(0, len(ids), BATCH):
            session.execute(update(Commit).where(Commit.id.in_(ids[start : start + BATCH])).values(reachable=value))
    return (
        session.scalar(
            select(func.count())
            .select_from(Commit)
            .where(Commit.repository_id == repository.id, Commit.reachable.is_(False))
        )
        or 0
    )


@dataclass
class ReleaseCommits:
    """Review coverage of one release: its commits since the previous release."""

    product: str
    release: str
    previous: str | None
    total: int = 0
    reviewed: list[str] = field(default_factory=list)
    unreviewed: list[dict[str, str]] = field(default_factory=list)
    evidence_linked: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def release_commits(session: Session, actor: Principal, product_id: int, version: str) -> ReleaseCommits:
    """Which of a release's commits carry review evidence that counts, from the scanned history (no git run)."""
    product = get_product(session, actor, product_id)
    release = get_release_by_version(session, actor, product.id, version)
    releases = session.scalars(select(Release).where(Release.product_id == product.id)).all()
    before = previous_release(releases, release.version)
    result = ReleaseCommits(product.name, release.version, before.version if before else None)
    if not release.git_ref:
        result.problems.append("the release names no git tag or commit")
        return result
    users = {u.email: u.id for u in session.scalars(select(User))}
    for repository in session.scalars(select(Repository).where(Repository.product_id == product.id)):
        commits = {c.sha: c for c in session.scalars(select(Commit).where(Commit.repository_id == repository.id))}
        tip = resolve_ref(repository.refs, set(commits), release.git_ref)
        if tip is None:
            continue
        base = resolve_ref(repository.refs, set(commits), before.git_ref) if before and before.git_ref else None
        shas = commits_between({sha: c.parents for sha, c in commits.items()}, tip, base)
        links = _links(session, [commits[s].id for s in shas])
        for sha in sorted(shas, key=lambda s: commits[s].committed_at, reverse=True):
            commit = commits[sha]
            result.total += 1
            mine = links.get(commit.id, [])
            if any(_review_counts(evidence, commit, users) for _trailer, evidence in mine):
                result.reviewed.append(sha)
            else:
                result.unreviewed.append({"sha": sha, "subject": commit.subject, "author": commit.author_email})
            if mine:
                result.evidence_linked.append(
                    {"sha": sha, "evidence": [e.id for _t, e in mine], "reachable": commit.reachable}
                )
    if result.total == 0:
        result.problems.append(f"no scanned repository contains {release.git_ref!r}")
    return result


def _links(session: Session, commit_ids: Iterable[int]) -> dict[int, list[tuple[str, Evidence]]]:
    found: dict[int, list[tuple[str, Evidence]]] = {}
    ids = list(commit_ids)
    for start in range(0, len(ids), BATCH):
        rows = session.execute(
            select(CommitEvidence.commit_id, CommitEvidence.trailer, Evidence)
            .join(Evidence, Evidence.id == CommitEvidence.evidence_id)
            .where(CommitEvidence.commit_id.in_(ids[start : start + BATCH]))
        )
        for commit_id, trailer, evidence in rows:
            found.setdefault(commit_id, []).append((trailer, evidence))
    return found


def _review_counts(evidence: Evidence, commit: Commit, users: dict[str, int]) -> bool:
    """A trailer is the committer's statement: a review counts only when the named reviewer is a known
    user other than the commit's author, and the evidence was accepted or submitted by that reviewer."""
    if evidence.kind is not EvidenceKind.CODE_REVIEW:
        return False
    reviewer = str(evidence.current.details.get("reviewer", "")).strip().lower()
    if reviewer not in users or reviewer == commit.author_email.strip().lower():
        return False
    current = evidence.current
    return current.state is ReviewState.ACCEPTED or current.submitted_by_user_id == users[reviewer]
