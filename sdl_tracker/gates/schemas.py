"""Release gates as the API, `--json`, the pages and the OpenAPI document give them: a release's gate status with
its evaluation rule by rule, waivers, sign-offs, and a product's policy document."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from ..db import utcnow
from .evaluations import GateStatus
from .models import GateEvaluation, GateSignoff, GateWaiver
from .policy import POLICY_FORMAT, POLICY_VERSION, RULE_TITLES, Policy, RuleId, policy_document
from .rules import FixArea, Outcome


class WaiverState(enum.StrEnum):
    """Where a waiver stands now."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class FixOut(BaseModel):
    """Where a reason is fixed: an area of the tracker and a key in it (docs/gates.md)."""

    area: FixArea
    key: str = ""


class ReasonOut(BaseModel):
    """Why a rule fails (or, on a passing rule, a note on how it passes), and where it is fixed."""

    message: str
    fix: FixOut


class RuleResultOut(BaseModel):
    """One rule's outcome in an evaluation."""

    rule: RuleId
    title: str
    outcome: Outcome
    reasons: list[ReasonOut]
    submitters: list[str] = Field(description="who submitted the evidence it rests on: they cannot sign it off")
    valid_until: datetime | None = Field(description="when time alone may change this rule's outcome")

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> RuleResultOut:
        """A rule's result as the evaluation stored it (a mapping per rule)."""
        rule = RuleId(stored["rule"])
        reasons = []
        for reason in stored.get("reasons") or ():
            fix = reason.get("fix") or {}
            reasons.append(
                ReasonOut(
                    message=str(reason.get("message", "")),
                    fix=FixOut(area=FixArea(fix.get("area", FixArea.EVIDENCE)), key=str(fix.get("key", ""))),
                )
            )
        until = stored.get("valid_until")
        return cls(
            rule=rule,
            title=RULE_TITLES[rule],
            outcome=Outcome(stored["outcome"]),
            reasons=reasons,
            submitters=[str(s) for s in stored.get("submitters") or ()],
            valid_until=datetime.fromisoformat(until) if isinstance(until, str) else until,
        )


class EvaluationOut(BaseModel):
    """One evaluation of a release: the snapshot it judged (by digest), the policy's digest, each rule."""

    id: int
    release_id: int
    outcome: Outcome = Field(description="pass or fail")
    facts_digest: str = Field(description="sha256 of the canonical facts snapshot judged")
    policy_digest: str
    valid_until: datetime | None = Field(description="after this instant the result is outdated whatever happens")
    evaluated_at: datetime
    evaluated_by: str
    results: list[RuleResultOut]

    @classmethod
    def of(cls, evaluation: GateEvaluation) -> EvaluationOut:
        """One stored evaluation."""
        return cls(
            id=evaluation.id,
            release_id=evaluation.release_id,
            outcome=evaluation.outcome,
            facts_digest=evaluation.facts_digest,
            policy_digest=evaluation.policy_digest,
            valid_until=evaluation.valid_until,
            evaluated_at=evaluation.evaluated_at,
            evaluated_by=evaluation.evaluated_by,
            results=[RuleResultOut.of(result) for result in evaluation.results],
        )


def waiver_state(waiver: GateWaiver, now: datetime) -> WaiverState:
    """Whether a waiver is revoked, expired at `now`, or active."""
    if waiver.revoked_at is not None:
        return WaiverState.REVOKED
    expires = waiver.expires_at if waiver.expires_at.tzinfo else waiver.expires_at.replace(tzinfo=UTC)
    return WaiverState.EXPIRED if expires <= now else WaiverState.ACTIVE


class WaiverOut(BaseModel):
    """An officer's waiver of a failing rule of a release, until it expires (or is revoked)."""

    id: int
    release_id: int
    rule: RuleId
    justification: str
    expires_at: datetime
    state: WaiverState
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str

    @classmethod
    def of(cls, waiver: GateWaiver, now: datetime | None = None) -> WaiverOut:
        """One waiver, its state read at `now`."""
        return cls(
            id=waiver.id,
            release_id=waiver.release_id,
            rule=waiver.rule,
            justification=waiver.justification,
            expires_at=waiver.expires_at,
            state=waiver_state(waiver, now or utcnow()),
            created_by=waiver.created_by,
            created_at=waiver.created_at,
            revoked_at=waiver.revoked_at,
            revoked_by=waiver.revoked_by,
        )


class SignoffOut(BaseModel):
    """An officer's sign-off of a passing evaluation with its signed verdict, or a legacy import's record."""

    id: int
    release_id: int
    evaluation_id: int | None
    legacy: bool = Field(description="a release shipped before gates existed, recorded as such")
    note: str
    key_id: str = Field(description="the installation key that signed the verdict ('' for a legacy record)")
    signed_by: str
    signed_at: datetime
    waivers: int = Field(description="how many waivers the signed evaluation used")
    has_verdict: bool = Field(description="whether a signed verdict can be downloaded")

    @classmethod
    def of(cls, signoff: GateSignoff) -> SignoffOut:
        """One sign-off."""
        return cls(
            id=signoff.id,
            release_id=signoff.release_id,
            evaluation_id=signoff.evaluation_id,
            legacy=signoff.legacy,
            note=signoff.note,
            key_id=signoff.key_id,
            signed_by=signoff.signed_by,
            signed_at=signoff.signed_at,
            waivers=signoff.waivers,
            has_verdict=bool(signoff.envelope),
        )


class GateStatusOut(BaseModel):
    """A release's gate: the newest evaluation and whether it is still current, the sign-off, the waivers."""

    release_id: int
    outcome: Outcome | None = Field(description="the newest evaluation's outcome (null: never evaluated)")
    current: bool = Field(description="false: the facts, the policy or time changed since; never a pass then")
    outdated_because: str = Field(description="why the newest result is not current ('' when it is)")
    passed: bool = Field(description="the newest evaluation passes and is current")
    evaluation: EvaluationOut | None
    signoff: SignoffOut | None
    signoff_current: bool = Field(description="the sign-off rests on the current evaluation")
    waivers: list[WaiverOut]
    policy_is_default: bool

    @classmethod
    def of(cls, status: GateStatus, now: datetime | None = None) -> GateStatusOut:
        """A release's gate status."""
        evaluation = status.evaluation
        outcome = evaluation.outcome if evaluation is not None else None
        return cls(
            release_id=status.release_id,
            outcome=outcome,
            current=status.current,
            outdated_because=status.outdated_because,
            passed=bool(status.current and outcome is Outcome.PASS),
            evaluation=EvaluationOut.of(evaluation) if evaluation is not None else None,
            signoff=SignoffOut.of(status.signoff) if status.signoff is not None else None,
            signoff_current=status.signoff_current,
            waivers=[WaiverOut.of(waiver, now) for waiver in status.waivers],
            policy_is_default=status.policy_is_default,
        )


class PolicyDocumentOut(BaseModel):
    """A product's gate policy as its document (the YAML's mapping): every rule with every parameter.
    PUT takes the same document back (or its YAML with Content-Type: application/yaml)."""

    format: str = Field(default=POLICY_FORMAT, description=f"always {POLICY_FORMAT}")
    version: int = Field(default=POLICY_VERSION)
    rules: dict[str, dict[str, Any]] = Field(description="per rule (its YAML key): enabled, waivable, parameters")

    @classmethod
    def of(cls, policy: Policy) -> PolicyDocumentOut:
        """A policy's document."""
        document = policy_document(policy)
        return cls(format=document["format"], version=document["version"], rules=document["rules"])
