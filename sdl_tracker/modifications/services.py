"""A release's substantial-modification signals (SBOM diff, commits, interfaces) and the decisions on them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.models import AuditEvent
from ..audit.services import kept, record
from ..auth import Permission, Principal, authorize, permits
from ..db import Database, lock_row
from ..errors import Invalid, NotFound
from ..gitlink.models import Commit
from ..gitlink.services import release_commits_by_id
from ..installation import installation
from ..products.models import Release, Repository
from ..products.rules import previous_release
from ..products.services import get_release
from ..sboms.services import DiffSide, compare_sboms
from .models import ModificationDecision, Verdict
from .rules import CommitFacts, InterfaceFacts, Signal, modification_signals

MAX_REASON = 10_000
BATCH = 2000
REF_LENGTH = 12
INTERFACE_EVENTS = ("products:product:create", "products:product:update")


@dataclass(frozen=True)
class Reading:
    """What the signals were read from, and what could not be read (kept between requests, so frozen)."""

    previous: str | None
    signals: tuple[Signal, ...]
    unread: tuple[str, ...] = ()
    sbom_ids: tuple[int, int] | None = None
    commits_read: int = 0
    interfaces_from: datetime | None = None
    interfaces_to: datetime | None = None  # None: the product's interfaces as they are now


@dataclass(frozen=True)
class SignalView:
    """A signal with its short reference and the decision stored under its key, if any."""

    signal: Signal
    ref: str
    decision: ModificationDecision | None

    @property
    def changed_since_decision(self) -> bool:
        """Whether the signal reads otherwise than when it was decided (its evidence moved, its key did not)."""
        return self.decision is not None and self.decision.summary != self.signal.summary


@dataclass(frozen=True)
class ModificationReport:
    """A release's signals with their decisions, and decisions whose signal no longer appears (stale)."""

    release: Release
    reading: Reading
    signals: list[SignalView]
    stale: list[ModificationDecision]

    @property
    def undecided(self) -> int:
        """How many signals await a decision."""
        return sum(1 for s in self.signals if s.decision is None)


def key_digest(key: str) -> str:
    """The SHA-256 of a signal's key: what a decision is stored under."""
    return hashlib.sha256(key.encode()).hexdigest()


def authorize_decide_modifications(actor: Principal, release: Release) -> None:
    """Raise unless the actor may confirm or dismiss the release's signals (the product's security officers)."""
    authorize(actor, Permission.PRODUCT_MANAGE, release.product_id)


def may_decide_modifications(actor: Principal, release: Release) -> bool:
    """Whether the actor may confirm or dismiss the release's signals."""
    return permits(authorize_decide_modifications, actor, release)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _interface_rows(items: Any) -> tuple[InterfaceFacts, ...]:
    """Interfaces as an audit event recorded them (a list of {name, kind, protocol, port})."""
    if not isinstance(items, list):
        return ()
    return tuple(
        InterfaceFacts(str(i.get("name", "")), str(i.get("kind", "")), str(i.get("protocol") or ""), i.get("port"))
        for i in items
        if isinstance(i, dict)
    )


def _interfaces(
    session: Session, release: Release, before: Release, unread: list[str]
) -> tuple[tuple[InterfaceFacts, ...], tuple[InterfaceFacts, ...], datetime, datetime | None]:
    """The product's interfaces at the previous release and at this one, from the audit log (docs/sboms.md):
    from the start of the previous release's day (its creation without a date) to the end of this release's
    day when it shipped with a date, else to now (the current interfaces)."""
    start = _day_start(before.release_date) if before.release_date else before.created_at
    end = _day_start(release.release_date + timedelta(days=1)) if release.shipped and release.release_date else None
    states: list[tuple[datetime, tuple[InterfaceFacts, ...]]] = []
    events = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.product_id == release.product_id, AuditEvent.action.in_(INTERFACE_EVENTS))
        .order_by(AuditEvent.seq)
    )
    for at, action, details in events:
        if action == "products:product:create":
            states.append((at, _interface_rows(details.get("interfaces"))))
        elif isinstance(details.get("interfaces"), dict):
            states.append((at, _interface_rows(details["interfaces"].get("new"))))
    current = tuple(InterfaceFacts(i.name, i.kind.value, i.protocol, i.port) for i in release.product.interfaces)
    if not states:
        unread.append("interfaces not compared: the audit log holds no record of the product's interfaces")
        return current, current, start, end
    earlier = [rows for at, rows in states if at < start]
    if earlier:
        first = earlier[-1]
    else:
        first = states[0][1]
        unread.append(
            f"interfaces are recorded from {states[0][0]:%Y-%m-%d} on: those at {before.version} are read as those "
            "the product was created with"
        )
    last = current if end is None else next((rows for at, rows in reversed(states) if at < end), first)
    return first, last, start, end


def _commits(session: Session, actor: Principal, release: Release, unread: list[str]) -> list[CommitFacts]:
    """The release's commits since the previous release (review coverage's range), with their paths."""
    coverage = release_commits_by_id(session, actor, release.id)
    unread.extend(f"commits not read: {problem}" for problem in coverage.problems)
    shas = sorted({c.sha for c in (*coverage.reviewed, *coverage.unreviewed)})
    found: list[CommitFacts] = []
    without_paths = 0
    for index in range(0, len(shas), BATCH):
        rows = session.execute(
            select(Repository.name, Commit.sha, Commit.subject, Commit.paths, Commit.parents)
            .join(Repository, Commit.repository_id == Repository.id)
            .where(Repository.product_id == release.product_id, Commit.sha.in_(shas[index : index + BATCH]))
            .order_by(Repository.name, Commit.sha)
        )
        for repository, sha, subject, paths, parents in rows:
            if not paths and len(parents or ()) <= 1:  # a merge's changes are its parents'
                without_paths += 1
            found.append(CommitFacts(repository, sha, subject, tuple(paths or ())))
    if without_paths:
        unread.append(
            f"{without_paths} commit{'s' if without_paths != 1 else ''} with no recorded paths (delivered by a git "
            "hook and not yet found by a scan, which fills them in, or empty): only their subjects were read"
        )
    return found


def _read(session: Session, actor: Principal, release: Release) -> Reading:
    """The signals of a release against the previous one, computed afresh."""
    releases = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    before = previous_release(releases, release.version)
    if before is None:
        return Reading(
            None,
            (),
            (f"{release.version} is the product's first release: a modification is judged against an earlier one",),
        )
    unread: list[str] = []
    diff, sbom_ids = None, None
    try:
        comparison = compare_sboms(
            session, actor, release.product_id, DiffSide(before.version), DiffSide(release.version)
        )
    except Invalid as exc:
        unread.append(f"components not compared: {exc.errors[0].message if exc.errors else exc.message}")
    else:
        diff, sbom_ids = comparison.diff, (comparison.before.id, comparison.after.id)
    commits = _commits(session, actor, release, unread)
    first, last, start, end = _interfaces(session, release, before, unread)
    signals = modification_signals(diff, commits, first, last)
    return Reading(before.version, signals, tuple(unread), sbom_ids, len(commits), start, end)


def _reading(session: Session, actor: Principal, release: Release) -> Reading:
    # Kept until an audited change (an SBOM, a scan, an interface, a release's date are all audited).
    return kept(session, ("modification signals", release.id), lambda: _read(session, actor, release))


def read_signals(database: Database, actor: Principal, release_id: int) -> None:
    """Compute the release's signals in a short read-only unit, where they are kept: a decision that follows
    finds them kept instead of computing them (a diff of two large SBOMs takes seconds) inside its write
    transaction. Doors call it, holding no transaction, right before `decide_modification`."""
    with database.unit_of_work(read_only=True) as session:
        _reading(session, actor, get_release(session, actor, release_id))


def _decisions(session: Session, release_id: int) -> dict[str, ModificationDecision]:
    rows = session.scalars(select(ModificationDecision).where(ModificationDecision.release_id == release_id))
    return {d.key_sha256: d for d in rows}


def release_modifications(session: Session, actor: Principal, release_id: int) -> ModificationReport:
    """The release's substantial-modification signals with their decisions; stale decisions apart."""
    release = get_release(session, actor, release_id)
    reading = _reading(session, actor, release)
    decisions = _decisions(session, release.id)
    views = []
    for signal in reading.signals:
        digest = key_digest(signal.key)
        views.append(SignalView(signal, digest[:REF_LENGTH], decisions.pop(digest, None)))
    stale = sorted(decisions.values(), key=lambda d: (d.rule, d.key))
    return ModificationReport(release, reading, views, stale)


def _find(signals: Sequence[Signal], key: str) -> Signal | None:
    """The signal a key names: the whole key, or the short reference the doors show."""
    wanted = key.strip()
    for signal in signals:
        if signal.key == wanted:
            return signal
    if len(wanted) == REF_LENGTH:
        matches = [s for s in signals if key_digest(s.key)[:REF_LENGTH] == wanted.lower()]
        if len(matches) == 1:
            return matches[0]
    return None


def decide_modification(
    session: Session, actor: Principal, release_id: int, *, key: str, verdict: str, reason: str = ""
) -> ModificationDecision:
    """Confirm a signal as a substantial modification or dismiss it (a reason is required to dismiss); deciding
    again replaces the decision, the same decision again changes nothing."""
    release = get_release(session, actor, release_id)
    authorize_decide_modifications(actor, release)
    reason = reason.strip()
    if verdict not in {v.value for v in Verdict}:
        raise Invalid.field("verdict", "confirmed or dismissed")
    if verdict == Verdict.DISMISSED and not reason:
        raise Invalid.field("reason", "say why this change is not a substantial modification")
    if len(reason) > MAX_REASON:
        raise Invalid.field("reason", f"at most {MAX_REASON:,} characters")
    signal = _find(_reading(session, actor, release).signals, key)
    if signal is None:
        raise NotFound(f"{release.version} has no signal {key.strip()[:200]!r}")
    lock_row(session, Release.id, release.id)  # two officers at once: the second decides on the first's
    digest = key_digest(signal.key)
    decision = session.scalar(
        select(ModificationDecision)
        .where(ModificationDecision.release_id == release.id, ModificationDecision.key_sha256 == digest)
        .execution_options(populate_existing=True)
    )
    previous = {"verdict": decision.verdict.value, "reason": decision.reason} if decision else None
    if decision is not None and (decision.verdict.value, decision.reason, decision.summary) == (
        verdict,
        reason,
        signal.summary,
    ):
        return decision
    if decision is None:
        decision = ModificationDecision(release_id=release.id, key=signal.key, key_sha256=digest)
        session.add(decision)
    decision.rule = signal.rule
    decision.summary = signal.summary
    decision.verdict = Verdict(verdict)
    decision.reason = reason
    decision.decided_by = actor.label[:400]
    decision.decided_at = installation(session).now()
    session.flush()
    record(
        session,
        actor,
        f"sboms:modification:{'confirm' if verdict == Verdict.CONFIRMED else 'dismiss'}",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={
            "version": release.version,
            "key": signal.key,
            "rule": signal.rule,
            "summary": signal.summary,
            "reason": reason,
            "previous": previous,
        },
    )
    return decision
