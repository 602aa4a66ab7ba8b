"""Substantial-modification signals and decisions as the API and `--json` give them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from .models import ModificationDecision
from .rules import RULES, CommitFact, ComponentFact, InterfaceFact, InterfaceFacts
from .services import ModificationReport, SignalView


class ComponentFactOut(BaseModel):
    """A component a signal rests on; a version is empty on the side it is absent from."""

    identity: str
    name: str
    type: str
    old_version: str
    new_version: str
    purl: str
    parents: list[str]

    @classmethod
    def of(cls, fact: ComponentFact) -> ComponentFactOut:
        """One component."""
        return cls(**{**fact.__dict__, "parents": list(fact.parents)})


class CommitFactOut(BaseModel):
    """A commit a signal rests on, with the paths that matched (none when its subject did)."""

    repository: str
    sha: str
    subject: str
    paths: list[str]

    @classmethod
    def of(cls, fact: CommitFact) -> CommitFactOut:
        """One commit."""
        return cls(repository=fact.repository, sha=fact.sha, subject=fact.subject, paths=list(fact.paths))


class InterfaceOut(BaseModel):
    """An interface of the product at one moment."""

    name: str
    kind: str
    protocol: str
    port: int | None

    @classmethod
    def of(cls, interface: InterfaceFacts) -> InterfaceOut:
        """One interface."""
        return cls(name=interface.name, kind=interface.kind, protocol=interface.protocol, port=interface.port)


class InterfaceFactOut(BaseModel):
    """An interface a signal rests on, and how it stood at the previous release (null: it did not exist)."""

    interface: InterfaceOut
    before: InterfaceOut | None

    @classmethod
    def of(cls, fact: InterfaceFact) -> InterfaceFactOut:
        """One interface change."""
        return cls(
            interface=InterfaceOut.of(fact.interface), before=InterfaceOut.of(fact.before) if fact.before else None
        )


class DecisionOut(BaseModel):
    """A security officer's decision on a signal, with the signal as it read when decided."""

    key: str
    rule: str
    summary: str
    verdict: str  # confirmed (a substantial modification) or dismissed
    reason: str
    decided_by: str
    decided_at: datetime

    @classmethod
    def of(cls, decision: ModificationDecision) -> DecisionOut:
        """One decision."""
        return cls(
            key=decision.key,
            rule=decision.rule,
            summary=decision.summary,
            verdict=decision.verdict.value,
            reason=decision.reason,
            decided_by=decision.decided_by,
            decided_at=decision.decided_at,
        )


class SignalOut(BaseModel):
    """A change that may be a substantial modification, its evidence and its decision (null: undecided)."""

    key: str
    ref: str  # the first 12 hex digits of the key's SHA-256: a short name the doors accept too
    rule: str
    rule_title: str
    summary: str
    components: list[ComponentFactOut]
    commits: list[CommitFactOut]
    interfaces: list[InterfaceFactOut]
    decision: DecisionOut | None
    changed_since_decision: bool

    @classmethod
    def of(cls, view: SignalView) -> SignalOut:
        """One signal with its decision."""
        s = view.signal
        return cls(
            key=s.key,
            ref=view.ref,
            rule=s.rule,
            rule_title=RULES[s.rule],
            summary=s.summary,
            components=[ComponentFactOut.of(c) for c in s.components],
            commits=[CommitFactOut.of(c) for c in s.commits],
            interfaces=[InterfaceFactOut.of(i) for i in s.interfaces],
            decision=DecisionOut.of(view.decision) if view.decision else None,
            changed_since_decision=view.changed_since_decision,
        )


class ModificationsOut(BaseModel):
    """A release's substantial-modification signals against the previous release, what was read, and the
    decisions whose signal no longer appears (stale: the SBOM or the commits changed since)."""

    product_id: int
    release_id: int
    release: str
    previous: str | None
    signals: list[SignalOut]
    undecided: int
    stale: list[DecisionOut]
    unread: list[str]  # inputs that could not be read: a release without an SBOM, commits without paths...
    from_sbom: int | None
    to_sbom: int | None
    commits_read: int
    interfaces_from: datetime | None
    interfaces_to: datetime | None  # null: the product's interfaces as they are now

    @classmethod
    def of(cls, report: ModificationReport) -> ModificationsOut:
        """A release's report."""
        reading = report.reading
        return cls(
            product_id=report.release.product_id,
            release_id=report.release.id,
            release=report.release.version,
            previous=reading.previous,
            signals=[SignalOut.of(v) for v in report.signals],
            undecided=report.undecided,
            stale=[DecisionOut.of(d) for d in report.stale],
            unread=list(reading.unread),
            from_sbom=reading.sbom_ids[0] if reading.sbom_ids else None,
            to_sbom=reading.sbom_ids[1] if reading.sbom_ids else None,
            commits_read=reading.commits_read,
            interfaces_from=reading.interfaces_from,
            interfaces_to=reading.interfaces_to,
        )
