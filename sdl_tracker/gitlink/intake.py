"""Commits that clients (git hooks, CI) deliver: raw commit objects, read here without git and stored by the
scanner's own ingest, once per repository and SHA, each with its object as delivered.

The bytes are read before the first statement (on SQLite the write lock is not held while they are). The
submitter of any evidence a delivery creates is the token's owner; the git author stays an unverified
identity.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..db import Database, lock_row
from ..errors import Conflict, NotFound
from ..products.models import Repository
from ..products.repositories import get_repository_by_name
from .ingest import EVIDENCE_BATCH, Delivered, evidence_items, store_commits
from .models import Commit, CommitEvidence
from .objects import OBJECT_ID, CommitObject, ObjectProblem, parse_commit_object
from .services import ScanSummary
from .signatures import Verdict
from .signing import Signed, judge_signatures, keep_registered, signing_accounts

MAX_BATCH = 100  # commits in one batch delivery
CHECK_SECONDS = 5.0  # of signature checks in one delivery request


class Result(enum.StrEnum):
    """What became of one delivered commit."""

    STORED = "stored"  # new: stored now, its trailers turned into evidence
    KNOWN = "known"  # the repository held it already (a scan found it, or an earlier delivery brought it)
    REFUSED = "refused"  # not a commit object with that id (the problem says why); nothing stored
    DEFERRED = "deferred"  # not stored in this batch, to keep its transaction short: send it again


@dataclass(frozen=True)
class Delivery:
    """One commit a client sends: its raw object and the id it claims."""

    raw: bytes
    sha: str


@dataclass
class CommitView:
    """A stored commit with the evidence its trailers created or named, and what this delivery reported."""

    commit: Commit
    repository: str
    links: list[tuple[int, str]]  # (evidence id, trailer)
    problems: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """A delivered commit's result, its view when stored or known, and why when refused."""

    sha: str
    result: Result
    view: CommitView | None = None
    problem: str = ""


def authorize_deliver_commits(actor: Principal, repository: Repository) -> None:
    """Raise unless the actor may deliver the repository's commits (`commits:submit`, developers and security
    officers), and the repository still takes them."""
    authorize(actor, Permission.COMMITS_SUBMIT, repository.product_id)
    if repository.removed_at is not None:
        raise Conflict(f"the repository {repository.name!r} was removed: it takes no more commits")


def deliver_commits(
    session: Session,
    actor: Principal,
    product_id: int,
    repository_name: str,
    deliveries: Sequence[Delivery],
    verdicts: Mapping[str, Verdict],
) -> list[Outcome]:
    """Store the delivered commits the repository does not hold yet, in order, and say what became of each.

    Each object's id is computed from its bytes (a mismatch is refused), its header, message and trailers
    read as git reads them; its raw bytes are kept, signature and all, with the verdict on that signature
    (`verdicts`, by SHA: reached by `check_delivered` before this write transaction).
    One call creates or links at most EVIDENCE_BATCH evidence items: the commits after the one that would
    pass the bound are deferred.
    """
    authorize(actor, Permission.COMMITS_SUBMIT, product_id)  # the actor's rights alone: no statement yet
    parsed: list[CommitObject | ObjectProblem] = []
    for delivery in deliveries:
        try:
            parsed.append(parse_commit_object(delivery.raw, delivery.sha))
        except ObjectProblem as problem:
            parsed.append(problem)
    repository = get_repository_by_name(session, actor, product_id, repository_name)
    authorize_deliver_commits(actor, repository)
    lock_row(session, Repository.id, repository.id)  # deliveries and scans of one repository take turns
    known = set(
        session.scalars(
            select(Commit.sha).where(Commit.repository_id == repository.id, Commit.sha.in_({d.sha for d in deliveries}))
        )
    )
    outcomes: list[Outcome] = []
    problems: dict[str, list[str]] = {}
    budget = EVIDENCE_BATCH
    for delivery, found in zip(deliveries, parsed, strict=True):
        if isinstance(found, ObjectProblem):
            outcomes.append(Outcome(delivery.sha, Result.REFUSED, problem=str(found)))
        elif delivery.sha in known:
            outcomes.append(Outcome(delivery.sha, Result.KNOWN))
        elif evidence_items(found.record) > budget:
            budget = -1  # every later commit waits too, so a client's spool keeps its order
            outcomes.append(Outcome(delivery.sha, Result.DEFERRED))
        else:
            budget -= evidence_items(found.record)
            verdict = verdicts.get(delivery.sha)
            problems[delivery.sha] = _store(session, actor, repository, found, delivery.raw, verdict)
            known.add(delivery.sha)
            outcomes.append(Outcome(delivery.sha, Result.STORED))
    views = _views(session, repository, [o.sha for o in outcomes if o.result in (Result.STORED, Result.KNOWN)])
    for outcome in outcomes:
        if outcome.sha in views:  # a commit sent twice in one batch: stored, then known, each its own view
            stored_now = outcome.result is Result.STORED
            outcome.view = replace(views[outcome.sha], problems=problems.get(outcome.sha, []) if stored_now else [])
    return outcomes


def _store(
    session: Session,
    actor: Principal,
    repository: Repository,
    found: CommitObject,
    raw: bytes,
    verdict: Verdict | None,
) -> list[str]:
    """Store one new commit through the scanner's ingest, its object kept as delivered, and audit its delivery;
    what its trailers could not become."""
    summary = ScanSummary(repository.name)
    rec = found.record
    if verdict is not None:
        verdict = keep_registered(session, {rec.sha: verdict})[rec.sha]
    store_commits(
        session,
        actor,
        repository,
        [rec],
        summary,
        permission=Permission.COMMITS_SUBMIT,
        delivered={rec.sha: Delivered(actor.label, raw, found.signature, verdict)},
    )
    commit_id = session.scalar(select(Commit.id).where(Commit.repository_id == repository.id, Commit.sha == rec.sha))
    record(
        session,
        actor,
        "gitlink:commit:deliver",
        target_type="commit",
        target_id=commit_id,
        product_id=repository.product_id,
        details={
            "repository": repository.name,
            "sha": rec.sha,
            "signature": found.signature,
            "signature_status": verdict.status.value if verdict and verdict.status else None,
            "encoding": found.encoding,
            "evidence_created": summary.evidence_created,
            "evidence_linked": summary.evidence_linked,
            "problems": summary.problems,
        },
    )
    return summary.problems


def check_delivered(
    database: Database, actor: Principal, product_id: int, repository_name: str, deliveries: Sequence[Delivery]
) -> dict[str, Verdict]:
    """The verdicts on the signatures of delivered commits the repository does not hold yet, by SHA, reached
    before the delivery's write transaction (the caller holds none): the repository's known commits and the
    authors' keys are read in a short read-only unit, and gpg or ssh-keygen run outside any, for at most
    CHECK_SECONDS a request (the commits past it are stored unchecked, and the next scan checks them).
    Objects that are not commits get none (the delivery refuses them)."""
    authorize(actor, Permission.COMMITS_SUBMIT, product_id)  # no tool runs for a token that may not deliver
    commits: list[Signed] = []
    for delivery in deliveries:
        try:
            found = parse_commit_object(delivery.raw, delivery.sha)
        except ObjectProblem:
            continue
        commits.append(Signed(delivery.sha, delivery.raw, found.record.author_email))
    with database.unit_of_work(read_only=True) as session:
        repository = get_repository_by_name(session, actor, product_id, repository_name)
        known = set(
            session.scalars(
                select(Commit.sha).where(
                    Commit.repository_id == repository.id, Commit.sha.in_({c.sha for c in commits})
                )
            )
        )
        fresh = [c for c in commits if c.sha not in known]  # a commit sent again is not checked again
        accounts = signing_accounts(session, fresh)
    return judge_signatures(fresh, accounts, seconds=CHECK_SECONDS)


def _views(session: Session, repository: Repository, shas: Sequence[str]) -> dict[str, CommitView]:
    """The repository's commits of `shas` with the evidence linked to each."""
    commits = list(
        session.scalars(select(Commit).where(Commit.repository_id == repository.id, Commit.sha.in_(set(shas))))
    )
    links: dict[int, list[tuple[int, str]]] = {}
    rows = session.execute(
        select(CommitEvidence.commit_id, CommitEvidence.evidence_id, CommitEvidence.trailer)
        .where(CommitEvidence.commit_id.in_([c.id for c in commits]))
        .order_by(CommitEvidence.commit_id, CommitEvidence.evidence_id)
    )
    for commit_id, evidence_id, trailer in rows:
        links.setdefault(commit_id, []).append((evidence_id, trailer))
    return {c.sha: CommitView(c, repository.name, links.get(c.id, [])) for c in commits}


def get_commit(session: Session, actor: Principal, product_id: int, repository_name: str, sha: str) -> CommitView:
    """One stored commit of the repository, with its state and the evidence linked to it, else NotFound."""
    repository = get_repository_by_name(session, actor, product_id, repository_name)
    sha = sha.strip().lower()
    view = _views(session, repository, [sha]).get(sha) if OBJECT_ID.match(sha) else None
    if view is None:
        raise NotFound(f"{repository.name} holds no commit {sha[:64]!r}")
    return view
