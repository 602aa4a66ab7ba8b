"""Queueing repository scans (they run as jobs, see scan.py) and review coverage of a release."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.services import kept, record
from ..auth import Permission, Principal, authorize
from ..db import lock_row, utcnow
from ..errors import Conflict
from ..evidence.models import Evidence, EvidenceKind, EvidenceRevision, ReviewState
from ..evidence.standing import judged_on
from ..jobs.models import Job
from ..jobs.services import active_job, enqueue
from ..products.models import Release, Repository
from ..products.repositories import get_repository
from ..products.rules import previous_release
from ..products.services import get_release, get_release_by_version
from .models import Commit, CommitEvidence
from .rules import (
    CommitIndex,
    NotReviewed,
    ReviewRevision,
    Verdict,
    commits_between,
    first_reason,
    judge_review,
    resolve_ref,
    reviewer_email,
)
from .signatures import SignatureStatus

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
    signatures_checked: int = 0
    signatures_verified: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def queue_scan(session: Session, actor: Principal, repository_id: int) -> Job:
    """Queue a scan of the repository (a scan already queued or running is returned instead)."""
    repository = get_repository(session, actor, repository_id)
    authorize(actor, Permission.REPOSITORY_MANAGE, repository.product_id)
    lock_row(session, Repository.id, repository.id)  # callers take turns, so the second finds the first's job
    session.refresh(repository)
    if repository.removed_at is not None:
        raise Conflict(f"the repository {repository.name!r} was removed: its history is no longer scanned")
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


@dataclass(frozen=True)
class CommitReview:
    """One commit of a release and whether it counts as reviewed (SI-1), on the day the release is judged on
    and today."""

    sha: str
    subject: str
    unverified_author: str  # `Name <email>` as git recorded it: nobody authenticated it
    reviewed: bool
    reason: str  # the code of why it does not count ("" when it does)
    explanation: str
    review: int | None  # the review that decides
    reviewer: str = ""
    accepted_by: str = ""
    accepted_on: date | None = None
    reviews: tuple[dict[str, Any], ...] = ()  # every review considered: evidence, reason, text
    reviewed_today: bool = False
    today: str = ""  # today's explanation
    signature: str = ""  # the verdict on its signature (signatures.SignatureStatus), "" when not checked yet
    state: str = "reachable"  # delivered (a client sent it, no scan found it yet), reachable or unreachable
    signature_reason: str = ""


@dataclass(frozen=True)
class ReleaseCommits:
    """Review coverage of one release: its commits since the previous release (kept between requests, so
    frozen)."""

    product: str
    release: str
    previous: str | None
    released: bool = False
    judged_on: date | None = None
    total: int = 0
    reviewed: tuple[CommitReview, ...] = ()
    unreviewed: tuple[CommitReview, ...] = ()
    reviewed_today: int = 0
    evidence_linked: tuple[dict[str, Any], ...] = ()
    problems: tuple[str, ...] = ()


def release_commits(
    session: Session, actor: Principal, product_id: int, version: str, *, today: date | None = None
) -> ReleaseCommits:
    """Which of a release's commits count as reviewed, from the scanned history (no git run); the release
    named by its product and version (see `release_commits_by_id`)."""
    release = get_release_by_version(session, actor, product_id, version)
    return release_commits_by_id(session, actor, release.id, today=today)


def release_commits_by_id(
    session: Session, actor: Principal, release_id: int, *, today: date | None = None
) -> ReleaseCommits:
    """Which of a release's commits count as reviewed, from the scanned history (no git run).

    A released release is judged as of its release date (reviews accepted later do not count then);
    today's figure is given beside it. Kept until an audited change or the next day: walking the range and
    judging every commit reads the repository's whole graph and every code review of the product, and each
    change that can move the figure is audited (docs/architecture.md, "Pages at portfolio scale").
    """
    today = today or utcnow().date()
    release = get_release(session, actor, release_id)  # access is checked on every request, kept or not
    return kept(session, ("release commits", release.id, today), lambda: _judge_release(session, release, today))


def _judge_release(session: Session, release: Release, today: date) -> ReleaseCommits:
    """The review coverage of one release, computed afresh."""
    product = release.product
    releases = session.scalars(select(Release).where(Release.product_id == product.id)).all()
    before = previous_release(releases, release.version)
    released = release.shipped
    on = judged_on(released, release.release_date, today)
    head = ReleaseCommits(
        product.name, release.version, before.version if before else None, released=released, judged_on=on
    )
    if not release.git_ref:
        return replace(head, problems=("the release names no git tag or commit",))
    emails = {u.id: u.email.strip().lower() for u in session.scalars(select(User))}
    known = frozenset(emails.values())
    reviews = _code_reviews(session, product.id, emails)
    reviewed: list[CommitReview] = []
    unreviewed: list[CommitReview] = []
    linked: list[dict[str, Any]] = []
    for repository in session.scalars(select(Repository).where(Repository.product_id == product.id)):
        # The graph of the whole history, but whole rows only of the release's commits: a repository's
        # history grows with every release, a release's commits do not.
        graph = {
            sha: parents
            for sha, parents in session.execute(
                select(Commit.sha, Commit.parents).where(Commit.repository_id == repository.id)
            )
        }
        tip = resolve_ref(repository.refs, set(graph), release.git_ref)
        if tip is None:
            continue
        base = resolve_ref(repository.refs, set(graph), before.git_ref) if before and before.git_ref else None
        index = CommitIndex(graph)
        shas = commits_between(index.parents, tip, base)
        commits = _commit_rows(session, repository.id, shas)
        in_release = set(shas)
        naming: dict[str, set[int]] = {}
        for evidence_id, revisions in reviews.items():
            for revision in revisions:
                for sha in index.named(revision.change) & in_release:
                    naming.setdefault(sha, set()).add(evidence_id)
        links = _links(session, [commits[s].id for s in shas])
        for sha in sorted(shas, key=lambda s: commits[s].committed_at, reverse=True):
            commit = commits[sha]
            mine = links.get(commit.id, [])
            judged = _judge(commit, mine, naming.get(sha, set()), reviews, index, known, on, today)
            if product.require_verified_authors:
                judged = _require_verified_author(judged)
            (reviewed if judged.reviewed else unreviewed).append(judged)
            if mine:
                linked.append({"sha": sha, "evidence": [e for _t, e, _k in mine], "reachable": commit.reachable})
    total = len(reviewed) + len(unreviewed)
    return replace(
        head,
        total=total,
        reviewed=tuple(reviewed),
        unreviewed=tuple(unreviewed),
        reviewed_today=sum(c.reviewed_today for c in (*reviewed, *unreviewed)),
        evidence_linked=tuple(linked),
        problems=() if total else (f"no scanned repository contains {release.git_ref!r}",),
    )


def _judge(
    commit: Commit,
    links: list[tuple[str, int, EvidenceKind]],
    naming: set[int],
    reviews: dict[int, list[ReviewRevision]],
    index: CommitIndex,
    known: frozenset[str],
    on: date,
    today: date,
) -> CommitReview:
    """The verdicts of every review that names the commit or that its trailers link, on `on` and today."""
    candidates = set(naming)
    wrong_kind: list[Verdict] = []
    for trailer, evidence_id, kind in links:
        if kind is EvidenceKind.CODE_REVIEW:
            candidates.add(evidence_id)
        elif trailer.strip().lower() == "security-review":
            wrong_kind.append(
                Verdict(
                    evidence_id, NotReviewed.NOT_A_CODE_REVIEW, f"#{evidence_id} is {kind.value}, not a code review"
                )
            )

    def verdicts(day: date) -> list[Verdict]:
        found = [
            judge_review(
                reviews[evidence_id],
                sha=commit.sha,
                author_email=commit.author_email,
                named=index.named,
                known_emails=known,
                on=day,
            )
            for evidence_id in sorted(candidates)
            if evidence_id in reviews
        ]
        return found + wrong_kind

    considered = verdicts(on)
    decided = first_reason(considered)
    now = decided if on == today else first_reason(verdicts(today))
    revision = decided.revision
    return CommitReview(
        state=commit.state,
        signature=commit.signature_status or "",
        signature_reason=commit.signature_reason or "",
        sha=commit.sha,
        subject=commit.subject,
        unverified_author=f"{commit.author_name} <{commit.author_email}>",
        reviewed=decided.counts,
        reason=decided.reason.value if decided.reason else "",
        explanation=decided.text,
        review=decided.evidence_id,
        reviewer=reviewer_email(revision.reviewer) if revision else "",
        accepted_by=(revision.acceptor_email or "") if revision else "",
        accepted_on=revision.accepted_at.date() if revision and revision.accepted_at else None,
        reviews=tuple(
            {"evidence": v.evidence_id, "reason": v.reason.value if v.reason else "", "explanation": v.text}
            for v in considered
        ),
        reviewed_today=now.counts,
        today=now.text,
    )


def _require_verified_author(judged: CommitReview) -> CommitReview:
    """Under the product's verified-authors policy, a commit whose author no signature verified counts as
    unreviewed on both days, whatever its reviews say: the reviewer-is-not-the-author check means nothing
    when the author may be anybody."""
    if judged.signature == SignatureStatus.VERIFIED:
        return judged
    why = judged.signature_reason or "its signature was not checked yet"
    text = f"the product requires verified authors, and this author is not verified: {why}"
    return replace(
        judged,
        reviewed=False,
        reviewed_today=False,
        reason=NotReviewed.AUTHOR_NOT_VERIFIED.value,
        explanation=text,
        today=text,
    )


def _code_reviews(session: Session, product_id: int, emails: dict[int, str]) -> dict[int, list[ReviewRevision]]:
    """Every revision of the product's code-review evidence, oldest first, as commit review reads it."""
    found: dict[int, list[ReviewRevision]] = {}
    rows = session.execute(
        select(
            EvidenceRevision.evidence_id,
            EvidenceRevision.created_at,
            EvidenceRevision.details,
            EvidenceRevision.state,
            EvidenceRevision.reviewed_at,
            EvidenceRevision.reviewed_by_user_id,
        )
        .join(Evidence, Evidence.id == EvidenceRevision.evidence_id)
        .where(Evidence.product_id == product_id, Evidence.kind == EvidenceKind.CODE_REVIEW)
        .order_by(EvidenceRevision.evidence_id, EvidenceRevision.number)
    )
    for evidence_id, created_at, details, state, reviewed_at, reviewed_by in rows:
        accepted = state is ReviewState.ACCEPTED
        found.setdefault(evidence_id, []).append(
            ReviewRevision(
                evidence_id=evidence_id,
                recorded_on=created_at.date(),
                change=str((details or {}).get("change", "")),
                reviewer=str((details or {}).get("reviewer", "")),
                state=state.value,
                accepted_at=reviewed_at if accepted else None,
                acceptor_email=emails.get(reviewed_by) if accepted and reviewed_by is not None else None,
            )
        )
    return found


def _commit_rows(session: Session, repository_id: int, shas: Sequence[str]) -> dict[str, Commit]:
    """The repository's commits of `shas`, by SHA."""
    found: dict[str, Commit] = {}
    for start in range(0, len(shas), BATCH):
        chunk = shas[start : start + BATCH]
        found.update(
            (c.sha, c)
            for c in session.scalars(select(Commit).where(Commit.repository_id == repository_id, Commit.sha.in_(chunk)))
        )
    return found


def _links(session: Session, commit_ids: Iterable[int]) -> dict[int, list[tuple[str, int, EvidenceKind]]]:
    """The evidence each commit's trailers created or linked: (trailer, evidence id, kind)."""
    found: dict[int, list[tuple[str, int, EvidenceKind]]] = {}
    ids = list(commit_ids)
    for start in range(0, len(ids), BATCH):
        rows = session.execute(
            select(CommitEvidence.commit_id, CommitEvidence.trailer, Evidence.id, Evidence.kind)
            .join(Evidence, Evidence.id == CommitEvidence.evidence_id)
            .where(CommitEvidence.commit_id.in_(ids[start : start + BATCH]))
            .order_by(CommitEvidence.commit_id, Evidence.id)
        )
        for commit_id, trailer, evidence_id, kind in rows:
            found.setdefault(commit_id, []).append((trailer, evidence_id, kind))
    return found
