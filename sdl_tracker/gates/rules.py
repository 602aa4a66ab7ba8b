"""Pure: the gate rules and their evaluation (no database, Flask or clock).

`evaluate(policy, facts, waivers, now)` judges a snapshot of facts (gates/facts.py) rule by rule. A result
stays current until the facts change or until its `valid_until`, the first instant at which time alone
(evidence expiring, a review horizon, a decision's age, a waiver or acceptance expiring, a clock falling due,
the support period ending) may change it. Days are UTC days: a date-bound fact holds through its day and
changes at the next midnight. The readings of each rule are in docs/gates.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ..catalog.rules import FOUNDATIONAL_REQUIREMENTS
from ..errors import FieldError
from ..evidence.coverage import MET
from ..evidence.standing import add_months
from ..evidence.vocabulary import ReviewState
from ..vex.rules import Status
from .facts import (
    Acceptance,
    CommitFacts,
    CraFacts,
    CraGap,
    EvidenceRef,
    FuzzCampaign,
    GateFacts,
    InterfaceFacts,
    IssueFacts,
    IssueKind,
    IssueState,
    LevelFacts,
    OpenClock,
    PatchFacts,
    PenTestFacts,
    RequirementFacts,
    SumRecord,
    ThreatModelFacts,
    VulnerabilityFacts,
    canonical_facts,
    facts_from_json,
    facts_to_json,
    snapshot_digest,
)
from .policy import CRA_2A_REFUSAL, SUM_RECORDS, FuzzScope, Policy, RuleId, policy_digest

# The snapshot's types are part of this module's vocabulary: the services build facts and evaluate here.
__all__ = [
    "Acceptance",
    "CommitFacts",
    "CraFacts",
    "CraGap",
    "Evaluation",
    "EvidenceRef",
    "Fix",
    "FixArea",
    "FuzzCampaign",
    "GateFacts",
    "IgnoredWaiver",
    "InterfaceFacts",
    "IssueFacts",
    "IssueKind",
    "IssueState",
    "LevelFacts",
    "OpenClock",
    "Outcome",
    "PatchFacts",
    "PenTestFacts",
    "Reason",
    "RequirementFacts",
    "RuleResult",
    "SumRecord",
    "ThreatModelFacts",
    "VulnerabilityFacts",
    "Waiver",
    "canonical_facts",
    "evaluate",
    "facts_from_json",
    "facts_to_json",
    "snapshot_digest",
    "waiver_problems",
]


# --- results ---------------------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    """A rule's outcome; the gate's overall outcome is pass or fail."""

    PASS = "pass"  # noqa: S105 - an outcome, not a secret
    FAIL = "fail"
    WAIVED = "waived"  # failed, with an unexpired waiver: counts as passing, listed apart
    OFF = "off"  # switched off by the policy


class FixArea(enum.StrEnum):
    """Where the fix of a reason is made; the doors turn (area, key) into a link."""

    EVIDENCE = "evidence"  # key: the 4-1 requirement (attach, submit or review evidence)
    SCOPING = "scoping"  # key: the 4-1 requirement scoped out
    REVIEW = "review"  # key: the evidence id to review
    COMMITS = "commits"  # key: "" (the release's commit review)
    INTERFACES = "interfaces"  # key: the interface's name
    CLAIMS = "claims"  # key: the FR
    SBOMS = "sboms"  # key: "primary"
    VEX = "vex"  # key: vulnerability@component
    PSIRT = "psirt"  # key: the case id
    FINDINGS = "findings"  # key: the evidence id carrying the finding
    UPDATES = "updates"  # key: the SUM aspect, or "separation"
    CRA = "cra"  # key: area:key of the CRA file, or "support", "security_contact", "cvd_policy"
    CLOCKS = "clocks"  # key: the case id


@dataclass(frozen=True)
class Fix:
    """Where a reason is fixed."""

    area: FixArea
    key: str = ""


@dataclass(frozen=True)
class Reason:
    """Why a rule fails (or, for a passing rule, a note on how it passes), and where it is fixed."""

    message: str
    fix: Fix


@dataclass(frozen=True)
class Waiver:
    """An officer's waiver of one failing rule, with a justification, until it expires."""

    rule: RuleId
    justification: str
    expires_at: datetime
    by: str


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome, its reasons, and the evidence and people it rests on (separation of duties)."""

    rule: RuleId
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    rests_on_evidence: tuple[int, ...] = ()
    submitters: tuple[str, ...] = ()  # who submitted that evidence or recorded an acceptance it rests on
    waiver: Waiver | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class IgnoredWaiver:
    """A waiver that did not apply, and why."""

    waiver: Waiver
    reason: str


@dataclass(frozen=True)
class Evaluation:
    """The gate's outcome for one snapshot of facts under one policy."""

    outcome: Outcome  # PASS or FAIL
    results: tuple[RuleResult, ...]
    valid_until: datetime | None  # the first instant time alone may change the result; None: never
    facts_digest: str
    policy_digest: str
    ignored_waivers: tuple[IgnoredWaiver, ...] = ()

    @property
    def waived(self) -> tuple[RuleId, ...]:
        """The rules that pass only by a waiver."""
        return tuple(r.rule for r in self.results if r.outcome is Outcome.WAIVED)

    @property
    def failed(self) -> tuple[RuleId, ...]:
        """The rules that fail."""
        return tuple(r.rule for r in self.results if r.outcome is Outcome.FAIL)

    def result(self, rule: RuleId) -> RuleResult:
        """The result of one rule."""
        return next(r for r in self.results if r.rule is rule)


# --- judging each rule -----------------------------------------------------------------------------------


@dataclass
class _Judged:
    """What a rule found: failures, notes on a pass, what it rests on, the instants time changes it."""

    failures: list[Reason] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)
    evidence: list[EvidenceRef] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    moments: list[datetime] = field(default_factory=list)

    def rest_on(self, refs: Iterable[EvidenceRef]) -> None:
        for ref in refs:
            self.evidence.append(ref)
            if ref.stands_until is not None:
                self.moments.append(_day_after(ref.stands_until))

    def accepted_by(self, acceptance: Acceptance) -> None:
        self.people.append(acceptance.by)
        if acceptance.expires_at is not None:
            self.moments.append(acceptance.expires_at)


def _day_after(day: date) -> datetime:
    """The instant a fact holding through `day` (UTC) stops holding."""
    if day >= date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _stands(ref: EvidenceRef, now: datetime) -> str | None:
    """Why a piece of evidence does not count at `now` (None: it does)."""
    if ref.state is not ReviewState.ACCEPTED:
        return "still in review" if ref.state is ReviewState.SUBMITTED else ref.state.value
    if ref.stands_until is not None and now >= _day_after(ref.stands_until):
        return f"expired after {ref.stands_until.isoformat()}"
    return None


def _acceptance_stands(acceptance: Acceptance | None, now: datetime) -> bool:
    return (
        acceptance is not None
        and bool(acceptance.justification.strip())
        and (acceptance.expires_at is None or now < acceptance.expires_at)
    )


def _scoped_out(facts: GateFacts) -> frozenset[str]:
    return frozenset(r.ref for r in facts.requirements if r.scoped_out)


def _scoped_note(ref: str) -> Reason:
    return Reason(f"{ref} is scoped out of the product (SM-5)", Fix(FixArea.SCOPING, ref))


def _records_in_scope(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    gathered = {req.practice for req in facts.requirements}
    for practice in policy.records_in_scope.practices:
        if practice not in gathered:  # facts gathered without the catalog: never a silent pass
            judged.failures.append(
                Reason(f"no requirement of practice {practice} in the facts", Fix(FixArea.EVIDENCE, practice))
            )
    for req in facts.requirements:
        if req.practice not in policy.records_in_scope.practices or req.scoped_out:
            continue
        judged.rest_on(req.evidence)
        problems = []
        if req.process not in MET:
            problems.append(f"process {req.process.value}")
        if req.records not in MET:
            problems.append(f"records {req.records.value}")
        problems += [f"#{ref.evidence_id} {why}" for ref in req.evidence if (why := _stands(ref, now))]
        if problems:
            judged.failures.append(Reason(f"{req.ref}: {', '.join(problems)}", Fix(FixArea.EVIDENCE, req.ref)))
    return judged


def _threat_model(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    if "SR-2" in _scoped_out(facts):
        judged.notes.append(_scoped_note("SR-2"))
        return judged
    model = facts.threat_model
    if model is None:
        judged.failures.append(Reason("no threat model recorded (SR-2)", Fix(FixArea.EVIDENCE, "SR-2")))
        return judged
    judged.rest_on([model.evidence])
    months = policy.threat_model.max_age_months
    horizon = add_months(model.last_reviewed, months)
    judged.moments.append(_day_after(horizon))
    if why := _stands(model.evidence, now):
        judged.failures.append(Reason(f"threat model #{model.evidence.evidence_id}: {why}", _review(model.evidence)))
    if now >= _day_after(horizon):
        judged.failures.append(
            Reason(
                f"threat model last reviewed {model.last_reviewed.isoformat()}, more than {months} months ago "
                f"(due by {horizon.isoformat()})",
                Fix(FixArea.EVIDENCE, "SR-2"),
            )
        )
    return judged


def _review(ref: EvidenceRef) -> Fix:
    return Fix(FixArea.REVIEW, str(ref.evidence_id))


def _commits_reviewed(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    if "SI-1" in _scoped_out(facts):
        judged.notes.append(_scoped_note("SI-1"))
        return judged
    commits = facts.commits
    judged.rest_on(commits.reviews)
    minimum = policy.commits_reviewed.minimum_percent
    if commits.total <= 0:
        judged.failures.append(
            Reason("no commits known for the release: link its repository and scan it", Fix(FixArea.COMMITS))
        )
    elif commits.reviewed * 100 < minimum * commits.total:  # integers: 89.99 % is not 90 %
        percent = commits.reviewed * 100 // commits.total
        judged.failures.append(
            Reason(
                f"{commits.reviewed} of {commits.total} commits security-reviewed ({percent} %), below {minimum} %",
                Fix(FixArea.COMMITS),
            )
        )
    return judged


def _fuzzing(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    if "SVV-3" in _scoped_out(facts):
        judged.notes.append(_scoped_note("SVV-3"))
        return judged
    rule = policy.fuzzing
    wanted = [i for i in facts.interfaces if i.network or rule.interfaces is FuzzScope.ALL]
    for interface in wanted:
        judged.rest_on(c.evidence for c in interface.campaigns)
        counting = [
            c
            for c in interface.campaigns
            if _stands(c.evidence, now) is None and c.duration_hours >= rule.minimum_hours
        ]
        if counting:
            continue
        if not interface.campaigns:
            message = f"interface {interface.name!r}: no fuzz campaign"
        else:
            seen = "; ".join(
                f"#{c.evidence.evidence_id} {_stands(c.evidence, now) or f'{c.duration_hours:g} h'}"
                for c in interface.campaigns
            )
            message = (
                f"interface {interface.name!r}: no accepted campaign of at least {rule.minimum_hours:g} h ({seen})"
            )
        judged.failures.append(Reason(message, Fix(FixArea.INTERFACES, interface.name)))
    return judged


def _penetration_test(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    if "SVV-4" in _scoped_out(facts):
        judged.notes.append(_scoped_note("SVV-4"))
        return judged
    minimum = policy.penetration_test.minimum_independence
    judged.rest_on(t.evidence for t in facts.pen_tests)
    if any(
        _stands(t.evidence, now) is None and t.tester_independence is not None and t.tester_independence.meets(minimum)
        for t in facts.pen_tests
    ):
        return judged
    if not facts.pen_tests:
        message = "no penetration test of the release (SVV-4)"
    else:
        seen = "; ".join(
            f"#{t.evidence.evidence_id} "
            + (_stands(t.evidence, now) or f"tester {t.tester_independence or 'independence not stated'}")
            for t in facts.pen_tests
        )
        message = f"no accepted penetration test by at least an {minimum.value} tester ({seen})"
    judged.failures.append(Reason(message, Fix(FixArea.EVIDENCE, "SVV-4")))
    return judged


def _security_level(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    gathered = {level.fr for level in facts.levels}
    for fr in FOUNDATIONAL_REQUIREMENTS:
        if fr not in gathered:
            judged.failures.append(Reason(f"{fr}: no target or achieved level in the facts", Fix(FixArea.CLAIMS, fr)))
    for level in facts.levels:
        judged.rest_on(level.evidence)
        if level.achieved >= level.target:
            continue
        acceptance = level.risk_acceptance
        if policy.security_level.allow_risk_acceptance and acceptance is not None:
            judged.accepted_by(acceptance)
            if _acceptance_stands(acceptance, now):
                judged.notes.append(
                    Reason(
                        f"{level.fr}: SL-C {level.achieved} below target {level.target}, risk accepted by "
                        f"{acceptance.by}",
                        Fix(FixArea.CLAIMS, level.fr),
                    )
                )
                continue
        judged.failures.append(
            Reason(
                f"{level.fr}: achieved SL-C {level.achieved} below the target {level.target}",
                Fix(FixArea.CLAIMS, level.fr),
            )
        )
    return judged


def _vex_key(vuln: VulnerabilityFacts) -> str:
    return f"{vuln.vulnerability}@{vuln.component}"


def _sbom_triage(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    if facts.primary_sbom is None:
        judged.failures.append(Reason("no primary SBOM for the release", Fix(FixArea.SBOMS, "primary")))
    else:
        judged.rest_on([facts.primary_sbom])
        if why := _stands(facts.primary_sbom, now):
            judged.failures.append(
                Reason(f"primary SBOM #{facts.primary_sbom.evidence_id}: {why}", _review(facts.primary_sbom))
            )
    limit = timedelta(days=policy.sbom_triage.max_under_investigation_days)
    for vuln in facts.vulnerabilities:
        if vuln.decided_by:
            judged.people.append(vuln.decided_by)
        fix = Fix(FixArea.VEX, _vex_key(vuln))
        if vuln.status is None:
            judged.failures.append(Reason(f"{_vex_key(vuln)}: no decision", fix))
        elif vuln.status is Status.NOT_AFFECTED and not vuln.justification.strip():
            judged.failures.append(Reason(f"{_vex_key(vuln)}: not affected without a justification", fix))
        elif vuln.status is Status.UNDER_INVESTIGATION:
            judged.moments.append(vuln.since + limit)
            if now >= vuln.since + limit:
                judged.failures.append(
                    Reason(
                        f"{_vex_key(vuln)}: under investigation since {vuln.since.date().isoformat()}, "
                        f"{policy.sbom_triage.max_under_investigation_days} days or more",
                        fix,
                    )
                )
    return judged


def _cleared(vuln: VulnerabilityFacts) -> bool:
    """A fix, a mitigation, or "not affected" with its justification: the ways through CRA I(2)(a)."""
    if vuln.status is Status.FIXED:
        return True
    if vuln.status is Status.NOT_AFFECTED:
        return bool(vuln.justification.strip())
    return vuln.status is Status.AFFECTED and vuln.mitigated


def _no_known_exploitable(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    for vuln in facts.vulnerabilities:
        if vuln.decided_by:
            judged.people.append(vuln.decided_by)
        if _cleared(vuln) or not (vuln.status is Status.AFFECTED or vuln.exploited):
            continue
        why = "affected, no fix or mitigation" if vuln.status is Status.AFFECTED else "known exploited, not cleared"
        judged.failures.append(Reason(f"{_vex_key(vuln)}: {why}", Fix(FixArea.VEX, _vex_key(vuln))))
    for issue in facts.issues:
        if issue.exploited and issue.state is IssueState.OPEN:
            judged.rest_on(issue.evidence)
            judged.failures.append(
                Reason(
                    f"{issue.kind.value} {issue.key}: exploitable and open (residual risk does not count)",
                    _issue_fix(issue),
                )
            )
    return judged


def _issue_fix(issue: IssueFacts) -> Fix:
    area = {IssueKind.CASE: FixArea.PSIRT, IssueKind.FINDING: FixArea.FINDINGS, IssueKind.DECISION: FixArea.VEX}
    return Fix(area[issue.kind], issue.key)


def _open_issues(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    threshold = policy.open_issues.cvss_threshold
    for issue in facts.issues:
        if issue.state is not IssueState.OPEN:
            continue
        if issue.cvss is not None and issue.cvss < threshold:
            continue
        judged.rest_on(issue.evidence)
        if issue.residual_risk is not None:
            judged.accepted_by(issue.residual_risk)
            if _acceptance_stands(issue.residual_risk, now):
                continue
        score = f"CVSS {issue.cvss:g}" if issue.cvss is not None else "not scored"
        judged.failures.append(
            Reason(
                f"{issue.kind.value} {issue.key}: open, {score} (threshold {threshold:g}), "
                "not accepted as residual risk",
                _issue_fix(issue),
            )
        )
    return judged


def _patch_release(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    patch = facts.patch
    if not patch.patch:
        judged.notes.append(Reason("not a patch release", Fix(FixArea.UPDATES)))
        return judged
    rule = policy.patch_release
    scoped = _scoped_out(facts)
    for aspect, ref in SUM_RECORDS.items():
        if aspect not in rule.required_records:
            continue
        if ref in scoped:
            judged.notes.append(_scoped_note(ref))
            continue
        records = [r.evidence for r in patch.records if r.aspect == aspect]
        judged.rest_on(records)
        if not any(_stands(r, now) is None for r in records):
            judged.failures.append(Reason(f"no accepted update {aspect} record ({ref})", Fix(FixArea.UPDATES, aspect)))
    if rule.security_fixes_separate and not patch.security_fixes_separate and not patch.not_separate_reason.strip():
        said = "not recorded" if patch.security_fixes_separate is None else "shipped with features"
        judged.failures.append(
            Reason(
                f"security fixes {said}, and no reason why shipping them apart was not feasible "
                "(CRA Annex I Part II (2))",
                Fix(FixArea.UPDATES, "separation"),
            )
        )
    return judged


def _cra_duties(policy: Policy, facts: GateFacts, now: datetime) -> _Judged:
    judged = _Judged()
    cra = facts.cra
    if not cra.security_contact:
        judged.failures.append(
            Reason("no security contact (Annex I Part II (6), Annex II point 2)", Fix(FixArea.CRA, "security_contact"))
        )
    if not cra.cvd_policy:
        judged.failures.append(
            Reason(
                "no coordinated vulnerability disclosure policy (Annex I Part II (5))", Fix(FixArea.CRA, "cvd_policy")
            )
        )
    if cra.support_ends is None:
        judged.failures.append(Reason("no support period (Art. 13(8))", Fix(FixArea.CRA, "support")))
    else:
        judged.moments.append(_day_after(cra.support_ends))
        if now >= _day_after(cra.support_ends):
            judged.failures.append(
                Reason(f"the support period ended on {cra.support_ends.isoformat()}", Fix(FixArea.CRA, "support"))
            )
    if policy.cra_duties.require_complete_file:
        for gap in cra.missing:
            judged.failures.append(Reason(gap.message, Fix(FixArea.CRA, f"{gap.area}:{gap.key}")))
    if policy.cra_duties.no_overdue_clocks:
        for clock in cra.clocks:
            judged.moments.append(clock.due_at)
            if now >= clock.due_at:
                judged.failures.append(
                    Reason(
                        f"case {clock.case}: {clock.stage} overdue since {clock.due_at.astimezone(UTC).isoformat()}",
                        Fix(FixArea.CLOCKS, clock.case),
                    )
                )
    return judged


_JUDGES = {
    RuleId.RECORDS_IN_SCOPE: _records_in_scope,
    RuleId.THREAT_MODEL: _threat_model,
    RuleId.COMMITS_REVIEWED: _commits_reviewed,
    RuleId.FUZZING: _fuzzing,
    RuleId.PENETRATION_TEST: _penetration_test,
    RuleId.SECURITY_LEVEL: _security_level,
    RuleId.SBOM_TRIAGE: _sbom_triage,
    RuleId.NO_KNOWN_EXPLOITABLE: _no_known_exploitable,
    RuleId.OPEN_ISSUES: _open_issues,
    RuleId.PATCH_RELEASE: _patch_release,
    RuleId.CRA_DUTIES: _cra_duties,
}


# --- waivers and evaluation ------------------------------------------------------------------------------


def waiver_problems(policy: Policy, waiver: Waiver, now: datetime) -> list[FieldError]:
    """Why a waiver cannot be granted or applied at `now` (empty: it can); sign-off refuses with these."""
    if waiver.rule is RuleId.NO_KNOWN_EXPLOITABLE:
        return [FieldError("rule", CRA_2A_REFUSAL)]
    problems = []
    if not policy.waivable(waiver.rule):
        problems.append(FieldError("rule", f"the policy makes {waiver.rule.value} not waivable"))
    if not waiver.justification.strip():
        problems.append(FieldError("justification", "a waiver needs a justification"))
    if not waiver.by.strip():
        problems.append(FieldError("by", "a waiver names the officer who grants it"))
    if waiver.expires_at.tzinfo is None:
        problems.append(FieldError("expires_at", "a waiver's expiry needs a time zone"))
    elif waiver.expires_at <= now:
        problems.append(FieldError("expires_at", f"expired at {waiver.expires_at.astimezone(UTC).isoformat()}"))
    return problems


def _sorted_unique(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(set(values)))


def evaluate(policy: Policy, facts: GateFacts, waivers: Sequence[Waiver], now: datetime) -> Evaluation:
    """Judge the facts under the policy at `now` (timezone-aware): each rule pass, fail, waived or off."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    results: list[RuleResult] = []
    ignored: list[IgnoredWaiver] = []
    for rule in RuleId:
        mine = [w for w in waivers if w.rule is rule]
        if not policy.rule(rule).enabled:
            results.append(RuleResult(rule, Outcome.OFF))
            ignored += [IgnoredWaiver(w, "the rule is off") for w in mine]
            continue
        judged = _JUDGES[rule](policy, facts, now)
        evidence = _sorted_unique(ref.evidence_id for ref in judged.evidence)
        people = _sorted_unique([ref.submitted_by for ref in judged.evidence if ref.submitted_by] + judged.people)
        outcome, waiver = Outcome.PASS, None
        if judged.failures:
            outcome = Outcome.FAIL
            usable = []
            for w in mine:
                problems = waiver_problems(policy, w, now)
                if problems:
                    ignored.append(IgnoredWaiver(w, "; ".join(p.message for p in problems)))
                else:
                    usable.append(w)
            if usable:
                waiver = max(usable, key=lambda w: w.expires_at)
                outcome = Outcome.WAIVED
                judged.moments.append(waiver.expires_at)
                ignored += [
                    IgnoredWaiver(w, "another waiver of the rule lasts longer") for w in usable if w is not waiver
                ]
        else:
            ignored += [IgnoredWaiver(w, "the rule passes") for w in mine]
        future = [moment for moment in judged.moments if moment > now]
        results.append(
            RuleResult(
                rule,
                outcome,
                tuple(judged.failures or judged.notes),
                evidence,
                people,
                waiver,
                min(future) if future else None,
            )
        )
    horizons = [r.valid_until for r in results if r.valid_until is not None]
    return Evaluation(
        Outcome.FAIL if any(r.outcome is Outcome.FAIL for r in results) else Outcome.PASS,
        tuple(results),
        min(horizons) if horizons else None,
        snapshot_digest(facts),
        policy_digest(policy),
        tuple(ignored),
    )
