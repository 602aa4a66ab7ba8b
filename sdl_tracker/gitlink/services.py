"""Queueing repository scans (they run as jobs, see scan.py) and review coverage of a release."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..errors import NotFound
from ..evidence.models import Evidence, EvidenceKind, ReviewState
from ..jobs.models import Job
from ..jobs.services import active_job, enqueue
from ..products.models import Release, Repository
from ..products.rules import previous_release
from ..products.services import get_product, get_release_by_version
from .models import Commit, CommitEvidence
from .rules import commits_between, resolve_ref

BATCH = 2000
SCAN_KIND = "gitlink.scan"


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


def queue_scan(session: Session, actor: Principal, repository_id: int) -> Job:
    """Queue a scan of the repository (a scan already queued or running is returned instead)."""
    repository = get_repository(session, actor, repository_id)
    authorize(actor, Permission.REPOSITORY_MANAGE, repository.product_id)
    running = active_job(session, SCAN_KIND, repository.product_id, repository_id=repository.id)
    if running is not None:
        return running
    job, _ = enqueue(
        session, actor, kind=SCAN_KIND, arguments={"repository_id": repository.id}, product_id=repository.product_id
    )
    record(
        session,
        actor,
        "gitlink:repository:queue-scan",
        target_type="repository",
        target_id=repository.id,
        product_id=repository.product_id,
        details={"job": job.id, "repository": repository.name},
    )
    return job


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
