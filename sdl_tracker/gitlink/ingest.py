"""Storing commits and the evidence their trailers create or name: the one way in for the scanner's
batches and for commits a client (a git hook, CI) delivers.

Idempotent per (repository, SHA): the repository's row is locked while the stored SHAs are read and
the new ones inserted, so a scan and a hook that bring the same commit at the same moment store it
once, and its trailers make evidence once.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..auth import Permission, Principal
from ..boundary import one_line
from ..db import lock_row, utcnow
from ..errors import Invalid
from ..evidence.models import Evidence
from ..evidence.services import EvidenceInput, Upload, create_evidence
from ..products.models import Repository
from .log import LogRecord
from .models import Commit, CommitEvidence
from .rules import (
    MAX_EVIDENCE_PER_COMMIT,
    TRACEABILITY,
    beyond_bound_problem,
    evidence_reference,
    evidence_trailers,
    rule_for,
)
from .services import ScanSummary
from .signals import psirt_case_named
from .signatures import Verdict
from .signing import verdict_values

# One write transaction creates or links at most this many evidence items (each created one writes a blob and
# an audit event), whichever door the commits came through.
EVIDENCE_BATCH = 20
assert MAX_EVIDENCE_PER_COMMIT <= EVIDENCE_BATCH  # one commit's evidence always fits one transaction


@dataclass(frozen=True)
class Delivered:
    """How a client delivered one commit: who, its raw object, its signature header and the verdict on it."""

    by: str
    raw_object: bytes
    signature: str | None
    verdict: Verdict | None = None  # None: not checked yet (the repository's next scan checks it)


def _row(repository_id: int, rec: LogRecord, delivered: Delivered | None) -> dict[str, Any]:
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
        # A delivered commit is not known to be unreachable: it is `delivered` until a scan finds it.
        "reachable": True,
        "seen_by_scan": delivered is None,
        "delivered_by": delivered.by[:400] if delivered else None,
        "raw_object": delivered.raw_object if delivered else None,
        "signature": delivered.signature if delivered else None,
        # Scanned commits get their verdict in the scan's own phase (scan._check_signatures), after this insert.
        **(verdict_values(delivered.verdict) if delivered and delivered.verdict else {}),
    }


def evidence_items(rec: LogRecord) -> int:
    """How many evidence items the commit's trailers create or link (what a transaction's bound counts)."""
    return len(evidence_trailers(rec.trailers)[0])


def store_commits(
    session: Session,
    actor: Principal,
    repository: Repository,
    records: Sequence[LogRecord],
    summary: ScanSummary,
    *,
    permission: Permission = Permission.EVIDENCE_ATTACH,
    delivered: Mapping[str, Delivered] | None = None,
) -> list[LogRecord]:
    """Store the commits the repository does not hold yet, with the evidence their trailers create (submitted
    by `actor`, needing `permission`) or name; returns those stored. `delivered` describes the commits a
    client sent, by SHA; the others were found by a scan."""
    lock_row(session, Repository.id, repository.id)
    known = set(
        session.scalars(
            select(Commit.sha).where(Commit.repository_id == repository.id, Commit.sha.in_({r.sha for r in records}))
        )
    )
    fresh: list[LogRecord] = []
    for rec in records:
        if rec.sha not in known:
            known.add(rec.sha)
            fresh.append(rec)
    if not fresh:
        return []
    # One multi-row INSERT per batch: no ORM object per commit.
    session.execute(insert(Commit), [_row(repository.id, rec, (delivered or {}).get(rec.sha)) for rec in fresh])
    summary.new_commits += len(fresh)
    with_trailers = [rec for rec in fresh if rec.trailers]
    if with_trailers:
        ids = dict(
            session.execute(
                select(Commit.sha, Commit.id).where(
                    Commit.repository_id == repository.id, Commit.sha.in_([r.sha for r in with_trailers])
                )
            ).all()
        )
        for rec in with_trailers:
            _link_trailers(session, actor, repository, ids[rec.sha], rec, summary, permission)
    return fresh


def _link_trailers(
    session: Session,
    actor: Principal,
    repository: Repository,
    commit_id: int,
    rec: LogRecord,
    summary: ScanSummary,
    permission: Permission,
) -> None:
    summary.trailers += sum(1 for key, _ in rec.trailers if rule_for(key) or key.lower() == TRACEABILITY)
    recorded, beyond = evidence_trailers(rec.trailers)
    if beyond:
        summary.problems.append(beyond_bound_problem(rec.sha, beyond))
    cases: set[str] = set()  # the PSIRT cases this commit's trailers named so far
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
        meaning = value
        if rule.names_psirt_case:
            try:
                meaning = _confirmed_case(session, repository, value, cases)
            except Invalid as exc:
                # The trailer stays on the commit as git has it; the reason is reported like any other trailer's.
                summary.problems.append(f"{rec.sha[:10]}: {key}: {exc.one_line()}")
                continue
        _create_from_trailer(session, actor, repository, commit_id, rec, (key, value), meaning, summary, permission)


def _confirmed_case(session: Session, repository: Repository, value: str, named_before: set[str]) -> str:
    """The reference of the PSIRT case a trailer's value names, as the case register confirms it for the
    repository's product; Invalid saying why not (no register is connected, the register refuses the value, or
    this commit named the case already: one fix is one record)."""
    answers = [
        answer for _receiver, answer in psirt_case_named.send(session, product_id=repository.product_id, value=value)
    ]
    if not answers:
        raise Invalid.field("case", "no PSIRT case register is connected to confirm that the case exists")
    reference = str(answers[0])
    if reference in named_before:
        raise Invalid.field("case", f"{reference} is named twice by this commit: its fix is recorded once")
    named_before.add(reference)
    return reference


def _create_from_trailer(
    session: Session,
    actor: Principal,
    repository: Repository,
    commit_id: int,
    rec: LogRecord,
    trailer: tuple[str, str],
    value: str,
    summary: ScanSummary,
    permission: Permission,
) -> None:
    """Evidence of the trailer's kind, recording `value` (the trailer's, or the case reference it was confirmed as),
    submitted by whoever delivered the commit (the scan's principal, or a hook's token owner; never a name from the
    commit); the commit's author is kept as the unverified author."""
    key = trailer[0]
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
            "trailer": list(trailer),  # as git has it
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
                # Single-line fields get foreign text with its control characters made spaces.
                title=one_line(rule.title.format(value=value[:120], short=rec.sha[:10]))[:200],
                description=(
                    f"From the `{key}:` trailer of commit {rec.sha} in {repository.name}, delivered by "
                    f"{actor.label}. The author, {unverified_author}, is as git recorded it: not authenticated."
                ),
                requirements=[rule.requirement],
                effective_date=min(rec.authored_at.date(), utcnow().date()),
                author=one_line(unverified_author)[:200],
                details=rule.details(rec.sha, value),
                files=[Upload(f"commit-{rec.sha[:12]}.json", "application/json", io.BytesIO(statement))],
            ),
            permission=permission,
        )
    except Invalid as exc:
        summary.problems.append(f"{rec.sha[:10]}: {key}: {exc.one_line()}")
        return
    session.add(CommitEvidence(commit_id=commit_id, evidence_id=evidence.id, trailer=key[:80]))
    summary.evidence_created += 1
