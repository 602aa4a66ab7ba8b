"""Each gate rule on plain data: pass, fail with its reason and fix, edge values, waivers, valid_until."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from sdl_tracker.evidence.coverage import CoverageState
from sdl_tracker.evidence.vocabulary import ReviewState
from sdl_tracker.evidence.vocabulary import TesterIndependence as Independence
from sdl_tracker.gates.policy import (
    CRA_2A_REFUSAL,
    CommitsReviewed,
    CraDuties,
    Fuzzing,
    FuzzScope,
    OpenIssues,
    PatchRelease,
    PenetrationTest,
    Policy,
    RecordsInScope,
    RuleId,
    SecurityLevel,
    ThreatModel,
    policy_digest,
)
from sdl_tracker.gates.rules import (
    Acceptance,
    CommitFacts,
    CraGap,
    Evaluation,
    EvidenceRef,
    Fix,
    FixArea,
    FuzzCampaign,
    GateFacts,
    InterfaceFacts,
    IssueFacts,
    IssueKind,
    IssueState,
    LevelFacts,
    OpenClock,
    Outcome,
    PatchFacts,
    PenTestFacts,
    RuleResult,
    SumRecord,
    ThreatModelFacts,
    VulnerabilityFacts,
    Waiver,
    evaluate,
    snapshot_digest,
    waiver_problems,
)
from sdl_tracker.vex.rules import Status

from .builders import NOW, RECORDS_STAND_UNTIL, passing_facts, ref, requirement

POLICY = Policy()


def _judge(
    facts: GateFacts, policy: Policy = POLICY, waivers: tuple[Waiver, ...] = (), now: datetime = NOW
) -> Evaluation:
    return evaluate(policy, facts, waivers, now)


def _result(rule: RuleId, facts: GateFacts, policy: Policy = POLICY, now: datetime = NOW) -> RuleResult:
    return _judge(facts, policy, now=now).result(rule)


def _fails(rule: RuleId, facts: GateFacts, words: str, fix: Fix, policy: Policy = POLICY, now: datetime = NOW) -> None:
    result = _result(rule, facts, policy, now)
    assert result.outcome is Outcome.FAIL, result
    assert any(words in r.message and r.fix == fix for r in result.reasons), result.reasons


def _passes(rule: RuleId, facts: GateFacts, policy: Policy = POLICY, now: datetime = NOW) -> RuleResult:
    result = _result(rule, facts, policy, now)
    assert result.outcome is Outcome.PASS, result.reasons
    return result


def _vuln(status: Status | None, **changes: object) -> VulnerabilityFacts:
    values: dict[str, object] = {
        "vulnerability": "CVE-2026-1234",
        "component": "pkg:npm/left-pad@1.0.0",
        "status": status,
        "since": datetime(2027, 2, 20, tzinfo=UTC),
    }
    values.update(changes)
    return VulnerabilityFacts(**values)  # type: ignore[arg-type]


VULN_FIX = Fix(FixArea.VEX, "CVE-2026-1234@pkg:npm/left-pad@1.0.0")


# --- the whole gate ------------------------------------------------------------------------------------------


def test_the_passing_release_passes_every_rule() -> None:
    evaluation = _judge(passing_facts())
    assert evaluation.outcome is Outcome.PASS
    assert [r.rule for r in evaluation.results] == list(RuleId)
    assert all(r.outcome is Outcome.PASS for r in evaluation.results)
    assert evaluation.waived == () and evaluation.failed == ()
    assert evaluation.facts_digest == snapshot_digest(passing_facts())
    assert evaluation.policy_digest == policy_digest(POLICY)


def test_an_empty_snapshot_fails_without_a_silent_pass() -> None:
    evaluation = _judge(GateFacts(1, 2, "1.0"))
    assert evaluation.outcome is Outcome.FAIL
    assert set(evaluation.failed) == {
        RuleId.RECORDS_IN_SCOPE,
        RuleId.THREAT_MODEL,
        RuleId.COMMITS_REVIEWED,
        RuleId.PENETRATION_TEST,
        RuleId.SECURITY_LEVEL,
        RuleId.SBOM_TRIAGE,
        RuleId.CRA_DUTIES,
    }


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(POLICY, passing_facts(), (), datetime(2027, 3, 1))


def test_a_rule_switched_off_is_off_and_never_fails() -> None:
    policy = replace(POLICY, commits_reviewed=CommitsReviewed(enabled=False))
    facts = replace(passing_facts(), commits=CommitFacts(10, 0))
    evaluation = _judge(facts, policy)
    assert evaluation.result(RuleId.COMMITS_REVIEWED) == RuleResult(RuleId.COMMITS_REVIEWED, Outcome.OFF)
    assert evaluation.outcome is Outcome.PASS


def test_rests_on_evidence_and_submitters_name_what_a_rule_rests_on() -> None:
    result = _passes(RuleId.THREAT_MODEL, passing_facts())
    assert result.rests_on_evidence == (100,) and result.submitters == ("alice",)
    records = _passes(RuleId.RECORDS_IN_SCOPE, passing_facts())
    assert records.rests_on_evidence == tuple(range(10, 18)) and records.submitters == ("writer",)


# --- SM-12: records in scope ---------------------------------------------------------------------------------


def _with_requirement(**changes: object) -> GateFacts:
    facts = passing_facts()
    return replace(facts, requirements=(requirement("SVV-1", "SVV", 50, **changes), *facts.requirements))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"process": CoverageState.DRAFT}, "SVV-1: process draft"),
        ({"records": CoverageState.NONE}, "SVV-1: records none"),
        ({"records": CoverageState.EXPIRED}, "records expired"),
        ({"records": CoverageState.INSUFFICIENT}, "records insufficient"),
        ({"records": CoverageState.SUBMITTED}, "records submitted"),
        ({"evidence": (EvidenceRef(50, "x", ReviewState.SUBMITTED),)}, "#50 still in review"),
        ({"evidence": (ref(50, "x", date(2027, 2, 28)),)}, "#50 expired after 2027-02-28"),
    ],
)
def test_records_fail_on_a_half_not_met(changes: dict[str, object], words: str) -> None:
    _fails(RuleId.RECORDS_IN_SCOPE, _with_requirement(**changes), words, Fix(FixArea.EVIDENCE, "SVV-1"))


def test_records_pass_scoped_out_not_exercised_and_practices_the_policy_leaves_out() -> None:
    _passes(RuleId.RECORDS_IN_SCOPE, _with_requirement(scoped_out=True, process=CoverageState.NONE))
    _passes(RuleId.RECORDS_IN_SCOPE, _with_requirement(records=CoverageState.NOT_EXERCISED))
    only_sm = replace(POLICY, records_in_scope=RecordsInScope(practices=("SM",)))
    _passes(RuleId.RECORDS_IN_SCOPE, _with_requirement(records=CoverageState.NONE), only_sm)


def test_records_fail_when_a_practice_of_the_policy_is_missing_from_the_facts() -> None:
    facts = replace(passing_facts(), requirements=passing_facts().requirements[1:])
    _fails(RuleId.RECORDS_IN_SCOPE, facts, "no requirement of practice SM", Fix(FixArea.EVIDENCE, "SM"))


def test_records_fail_the_day_after_their_evidence_stands_and_valid_until_says_so() -> None:
    last_day = datetime.combine(RECORDS_STAND_UNTIL, datetime.max.time(), UTC)
    _passes(RuleId.RECORDS_IN_SCOPE, passing_facts(), now=last_day)
    next_day = datetime(2027, 7, 1, tzinfo=UTC)
    assert _result(RuleId.RECORDS_IN_SCOPE, passing_facts()).valid_until == next_day
    _fails(
        RuleId.RECORDS_IN_SCOPE,
        passing_facts(),
        "expired after 2027-06-30",
        Fix(FixArea.EVIDENCE, "SM-1"),
        now=next_day,
    )


# --- SR-2: threat model --------------------------------------------------------------------------------------


def test_threat_model_reviewed_within_the_months_passes_through_its_last_day() -> None:
    facts = replace(passing_facts(), threat_model=ThreatModelFacts(ref(100), date(2026, 3, 1)))
    result = _passes(RuleId.THREAT_MODEL, facts, now=datetime(2027, 3, 1, 23, 59, tzinfo=UTC))
    assert result.valid_until == datetime(2027, 3, 2, tzinfo=UTC)
    _fails(
        RuleId.THREAT_MODEL,
        facts,
        "more than 12 months ago",
        Fix(FixArea.EVIDENCE, "SR-2"),
        now=datetime(2027, 3, 2, tzinfo=UTC),
    )


def test_threat_model_horizon_follows_the_policy() -> None:
    facts = replace(passing_facts(), threat_model=ThreatModelFacts(ref(100), date(2026, 8, 31)))
    _passes(RuleId.THREAT_MODEL, facts)
    six = replace(POLICY, threat_model=ThreatModel(max_age_months=6))
    _fails(RuleId.THREAT_MODEL, facts, "due by 2027-02-28", Fix(FixArea.EVIDENCE, "SR-2"), six)


def test_threat_model_missing_or_in_review_fails_scoped_out_passes_with_a_note() -> None:
    _fails(
        RuleId.THREAT_MODEL,
        replace(passing_facts(), threat_model=None),
        "no threat model",
        Fix(FixArea.EVIDENCE, "SR-2"),
    )
    in_review = ThreatModelFacts(EvidenceRef(100, "a", ReviewState.SUBMITTED), date(2027, 2, 1))
    _fails(
        RuleId.THREAT_MODEL,
        replace(passing_facts(), threat_model=in_review),
        "still in review",
        Fix(FixArea.REVIEW, "100"),
    )
    scoped = replace(passing_facts(), threat_model=None, requirements=(requirement("SR-2", "SR", 9, scoped_out=True),))
    result = _passes(RuleId.THREAT_MODEL, scoped)
    assert result.reasons[0].fix == Fix(FixArea.SCOPING, "SR-2")


# --- SI-1: commits reviewed ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "reviewed", "minimum", "passes"),
    [
        (10, 9, 90, True),
        (10, 8, 90, False),
        (1000, 899, 90, False),
        (1000, 900, 90, True),
        (3, 3, 100, True),
        (3, 2, 100, False),
        (1, 0, 1, False),
    ],
)
def test_commits_reviewed_against_the_minimum(total: int, reviewed: int, minimum: int, passes: bool) -> None:
    facts = replace(passing_facts(), commits=CommitFacts(total, reviewed))
    policy = replace(POLICY, commits_reviewed=CommitsReviewed(minimum_percent=minimum))
    if passes:
        _passes(RuleId.COMMITS_REVIEWED, facts, policy)
    else:
        _fails(RuleId.COMMITS_REVIEWED, facts, f"{reviewed} of {total} commits", Fix(FixArea.COMMITS), policy)


def test_no_commits_known_fails() -> None:
    _fails(
        RuleId.COMMITS_REVIEWED,
        replace(passing_facts(), commits=CommitFacts(0, 0)),
        "no commits known",
        Fix(FixArea.COMMITS),
    )


# --- SVV-3: fuzzing ------------------------------------------------------------------------------------------


def _interfaces(*interfaces: InterfaceFacts) -> GateFacts:
    return replace(passing_facts(), interfaces=interfaces)


def test_a_network_interface_without_a_campaign_fails_on_its_interface() -> None:
    facts = _interfaces(InterfaceFacts("eth0", True, (FuzzCampaign(ref(1), 1.0),)), InterfaceFacts("eth1", True))
    _fails(RuleId.FUZZING, facts, "'eth1': no fuzz campaign", Fix(FixArea.INTERFACES, "eth1"))


def test_other_interfaces_need_a_campaign_only_when_the_policy_says_all() -> None:
    facts = _interfaces(InterfaceFacts("usb", False))
    _passes(RuleId.FUZZING, facts)
    every = replace(POLICY, fuzzing=Fuzzing(interfaces=FuzzScope.ALL))
    _fails(RuleId.FUZZING, facts, "'usb'", Fix(FixArea.INTERFACES, "usb"), every)


def test_a_campaign_counts_when_accepted_and_long_enough() -> None:
    long_enough = replace(POLICY, fuzzing=Fuzzing(minimum_hours=24))
    _passes(RuleId.FUZZING, _interfaces(InterfaceFacts("eth0", True, (FuzzCampaign(ref(1), 24.0),))), long_enough)
    short = _interfaces(InterfaceFacts("eth0", True, (FuzzCampaign(ref(1), 23.5),)))
    _fails(RuleId.FUZZING, short, "at least 24 h (#1 23.5 h)", Fix(FixArea.INTERFACES, "eth0"), long_enough)
    draft = _interfaces(InterfaceFacts("eth0", True, (FuzzCampaign(EvidenceRef(1, "x", ReviewState.DRAFT), 99.0),)))
    _fails(RuleId.FUZZING, draft, "#1 draft", Fix(FixArea.INTERFACES, "eth0"))


# --- SVV-4: penetration test ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("independence", "minimum", "passes"),
    [
        (Independence.DEPARTMENT, Independence.DEPARTMENT, True),
        (Independence.ORGANISATION, Independence.DEPARTMENT, True),
        (Independence.PERSON, Independence.DEPARTMENT, False),
        (None, Independence.DEPARTMENT, False),
        (Independence.DEPARTMENT, Independence.ORGANISATION, False),
    ],
)
def test_penetration_test_needs_its_tester_independence(
    independence: Independence | None, minimum: Independence, passes: bool
) -> None:
    facts = replace(passing_facts(), pen_tests=(PenTestFacts(ref(5), independence),))
    policy = replace(POLICY, penetration_test=PenetrationTest(minimum_independence=minimum))
    if passes:
        _passes(RuleId.PENETRATION_TEST, facts, policy)
    else:
        _fails(
            RuleId.PENETRATION_TEST,
            facts,
            f"at least an {minimum.value} tester",
            Fix(FixArea.EVIDENCE, "SVV-4"),
            policy,
        )


def test_penetration_test_is_required_unless_scoped_out() -> None:
    none = replace(passing_facts(), pen_tests=())
    _fails(RuleId.PENETRATION_TEST, none, "no penetration test", Fix(FixArea.EVIDENCE, "SVV-4"))
    scoped = replace(none, requirements=(*none.requirements, requirement("SVV-4", "SVV", 9, scoped_out=True)))
    assert _passes(RuleId.PENETRATION_TEST, scoped).reasons[0].fix == Fix(FixArea.SCOPING, "SVV-4")


# --- 4-2: security level -------------------------------------------------------------------------------------


def _levels(fr3: LevelFacts) -> GateFacts:
    facts = passing_facts()
    return replace(facts, levels=tuple(fr3 if level.fr == "FR3" else level for level in facts.levels))


def test_achieved_below_target_fails_on_its_fr_at_or_above_passes() -> None:
    _fails(
        RuleId.SECURITY_LEVEL,
        _levels(LevelFacts("FR3", 3, 2)),
        "FR3: achieved SL-C 2 below the target 3",
        Fix(FixArea.CLAIMS, "FR3"),
    )
    _passes(RuleId.SECURITY_LEVEL, _levels(LevelFacts("FR3", 2, 4)))


def test_a_risk_acceptance_covers_a_gap_until_it_expires() -> None:
    acceptance = Acceptance("officer", "compensated at zone level", NOW - timedelta(days=1), NOW + timedelta(days=30))
    facts = _levels(LevelFacts("FR3", 3, 2, acceptance))
    result = _passes(RuleId.SECURITY_LEVEL, facts)
    assert "risk accepted by officer" in result.reasons[0].message and "officer" in result.submitters
    assert result.valid_until == NOW + timedelta(days=30)
    _fails(RuleId.SECURITY_LEVEL, facts, "FR3", Fix(FixArea.CLAIMS, "FR3"), now=NOW + timedelta(days=30))
    strict = replace(POLICY, security_level=SecurityLevel(allow_risk_acceptance=False))
    _fails(RuleId.SECURITY_LEVEL, facts, "FR3", Fix(FixArea.CLAIMS, "FR3"), strict)
    unjustified = _levels(LevelFacts("FR3", 3, 2, replace(acceptance, justification=" ")))
    _fails(RuleId.SECURITY_LEVEL, unjustified, "FR3", Fix(FixArea.CLAIMS, "FR3"))


def test_a_missing_fr_fails() -> None:
    facts = replace(passing_facts(), levels=passing_facts().levels[:-1])
    _fails(RuleId.SECURITY_LEVEL, facts, "FR7: no target or achieved level", Fix(FixArea.CLAIMS, "FR7"))


# --- SBOM and triage -----------------------------------------------------------------------------------------


def test_a_primary_sbom_is_required_and_must_be_accepted() -> None:
    _fails(
        RuleId.SBOM_TRIAGE,
        replace(passing_facts(), primary_sbom=None),
        "no primary SBOM",
        Fix(FixArea.SBOMS, "primary"),
    )
    draft = replace(passing_facts(), primary_sbom=EvidenceRef(104, "erin", ReviewState.DRAFT))
    _fails(RuleId.SBOM_TRIAGE, draft, "primary SBOM #104: draft", Fix(FixArea.REVIEW, "104"))


@pytest.mark.parametrize(
    ("vuln", "words"),
    [
        (_vuln(None), "no decision"),
        (_vuln(Status.NOT_AFFECTED, justification=""), "not affected without a justification"),
    ],
)
def test_untriaged_vulnerabilities_fail(vuln: VulnerabilityFacts, words: str) -> None:
    _fails(RuleId.SBOM_TRIAGE, replace(passing_facts(), vulnerabilities=(vuln,)), words, VULN_FIX)


def test_under_investigation_passes_until_its_age_limit() -> None:
    facts = replace(passing_facts(), vulnerabilities=(_vuln(Status.UNDER_INVESTIGATION),))
    limit = datetime(2027, 2, 20, tzinfo=UTC) + timedelta(days=30)
    result = _passes(RuleId.SBOM_TRIAGE, facts, now=limit - timedelta(seconds=1))
    assert result.valid_until == limit
    _fails(RuleId.SBOM_TRIAGE, facts, "under investigation since 2027-02-20, 30 days or more", VULN_FIX, now=limit)


def test_affected_and_fixed_decisions_are_triaged() -> None:
    facts = replace(passing_facts(), vulnerabilities=(_vuln(Status.AFFECTED), _vuln(Status.FIXED, component="b")))
    _passes(RuleId.SBOM_TRIAGE, facts)


# --- CRA Annex I Part I (2)(a) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vuln", "words"),
    [
        (_vuln(Status.AFFECTED, cvss=0.1), "affected, no fix or mitigation"),
        (_vuln(Status.UNDER_INVESTIGATION, exploited=True), "known exploited, not cleared"),
        (_vuln(None, exploited=True), "known exploited"),
        (_vuln(Status.NOT_AFFECTED, exploited=True), "known exploited"),  # no justification: not a way through
    ],
)
def test_known_exploitable_vulnerabilities_fail_at_any_severity(vuln: VulnerabilityFacts, words: str) -> None:
    _fails(RuleId.NO_KNOWN_EXPLOITABLE, replace(passing_facts(), vulnerabilities=(vuln,)), words, VULN_FIX)


@pytest.mark.parametrize(
    "vuln",
    [
        _vuln(Status.FIXED, exploited=True),
        _vuln(Status.AFFECTED, mitigated=True, exploited=True),
        _vuln(Status.NOT_AFFECTED, justification="component_not_present", exploited=True),
        _vuln(Status.UNDER_INVESTIGATION),  # not known exploitable: the triage rule limits its age
    ],
)
def test_a_fix_a_mitigation_or_justified_not_affected_is_the_way_through(vuln: VulnerabilityFacts) -> None:
    _passes(RuleId.NO_KNOWN_EXPLOITABLE, replace(passing_facts(), vulnerabilities=(vuln,)))


def test_an_open_exploited_issue_fails_2a_whatever_its_residual_risk_acceptance() -> None:
    accepted = Acceptance("officer", "low impact", NOW - timedelta(days=1))
    issue = IssueFacts("PSIRT-2027-0001", IssueKind.CASE, IssueState.OPEN, 3.1, True, accepted)
    facts = replace(passing_facts(), issues=(issue,))
    _fails(RuleId.NO_KNOWN_EXPLOITABLE, facts, "exploitable and open", Fix(FixArea.PSIRT, "PSIRT-2027-0001"))
    _passes(RuleId.OPEN_ISSUES, facts)  # SM-11 accepts the residual risk; CRA (2)(a) does not
    _passes(RuleId.NO_KNOWN_EXPLOITABLE, replace(facts, issues=(replace(issue, state=IssueState.MITIGATED),)))


# --- SM-11: open issues --------------------------------------------------------------------------------------


def _issue(cvss: float | None, **changes: object) -> GateFacts:
    issue = IssueFacts("PSIRT-2027-0002", IssueKind.CASE, IssueState.OPEN, cvss)
    return replace(passing_facts(), issues=(replace(issue, **changes),))  # type: ignore[arg-type]


@pytest.mark.parametrize(("cvss", "passes"), [(6.9, True), (7.0, False), (9.8, False), (None, False), (0.0, True)])
def test_open_issues_at_or_above_the_threshold_fail(cvss: float | None, passes: bool) -> None:
    if passes:
        _passes(RuleId.OPEN_ISSUES, _issue(cvss))
    else:
        _fails(RuleId.OPEN_ISSUES, _issue(cvss), "open", Fix(FixArea.PSIRT, "PSIRT-2027-0002"))


def test_a_zero_threshold_catches_every_open_issue() -> None:
    policy = replace(POLICY, open_issues=OpenIssues(cvss_threshold=0.0))
    _fails(RuleId.OPEN_ISSUES, _issue(0.0), "CVSS 0 (threshold 0)", Fix(FixArea.PSIRT, "PSIRT-2027-0002"), policy)


def test_fixed_mitigated_or_accepted_issues_pass_until_the_acceptance_expires() -> None:
    _passes(RuleId.OPEN_ISSUES, _issue(9.0, state=IssueState.FIXED))
    _passes(RuleId.OPEN_ISSUES, _issue(9.0, state=IssueState.MITIGATED))
    until = NOW + timedelta(days=10)
    accepted = _issue(9.0, residual_risk=Acceptance("officer", "isolated network only", NOW, until))
    result = _passes(RuleId.OPEN_ISSUES, accepted)
    assert result.valid_until == until and result.submitters == ("officer",)
    _fails(
        RuleId.OPEN_ISSUES, accepted, "not accepted as residual risk", Fix(FixArea.PSIRT, "PSIRT-2027-0002"), now=until
    )


@pytest.mark.parametrize(("kind", "area"), [(IssueKind.FINDING, FixArea.FINDINGS), (IssueKind.DECISION, FixArea.VEX)])
def test_findings_and_affected_decisions_link_to_their_own_fix(kind: IssueKind, area: FixArea) -> None:
    _fails(RuleId.OPEN_ISSUES, _issue(8.0, kind=kind, key="k"), "open", Fix(area, "k"))


# --- SUM and CRA Annex I Part II (2): patch releases ---------------------------------------------------------

ALL_SUM = (SumRecord("qualification", ref(60)), SumRecord("documentation", ref(61)), SumRecord("delivery", ref(62)))


def _patch(**changes: object) -> GateFacts:
    patch = PatchFacts(True, ALL_SUM, True)
    return replace(passing_facts(), patch=replace(patch, **changes))  # type: ignore[arg-type]


def test_a_release_that_is_no_patch_passes_with_a_note_a_complete_patch_passes() -> None:
    assert _passes(RuleId.PATCH_RELEASE, passing_facts()).reasons[0].message == "not a patch release"
    assert _passes(RuleId.PATCH_RELEASE, _patch()).rests_on_evidence == (60, 61, 62)


def test_a_patch_release_needs_each_accepted_sum_record() -> None:
    _fails(
        RuleId.PATCH_RELEASE,
        _patch(records=ALL_SUM[:2]),
        "no accepted update delivery record (SUM-4)",
        Fix(FixArea.UPDATES, "delivery"),
    )
    submitted = (ALL_SUM[0], ALL_SUM[1], SumRecord("delivery", EvidenceRef(62, "x", ReviewState.SUBMITTED)))
    _fails(RuleId.PATCH_RELEASE, _patch(records=submitted), "delivery", Fix(FixArea.UPDATES, "delivery"))
    lenient = replace(POLICY, patch_release=PatchRelease(required_records=("qualification", "documentation")))
    _passes(RuleId.PATCH_RELEASE, _patch(records=ALL_SUM[:2]), lenient)


@pytest.mark.parametrize(
    ("separate", "reason", "passes"), [(False, "", False), (None, "", False), (False, "one image", True)]
)
def test_security_fixes_apart_from_features_or_a_reason(separate: bool | None, reason: str, passes: bool) -> None:
    facts = _patch(security_fixes_separate=separate, not_separate_reason=reason)
    if passes:
        _passes(RuleId.PATCH_RELEASE, facts)
    else:
        _fails(RuleId.PATCH_RELEASE, facts, "CRA Annex I Part II (2)", Fix(FixArea.UPDATES, "separation"))
    _passes(RuleId.PATCH_RELEASE, facts, replace(POLICY, patch_release=PatchRelease(security_fixes_separate=False)))


# --- CRA duties ----------------------------------------------------------------------------------------------


def _cra(**changes: object) -> GateFacts:
    facts = passing_facts()
    return replace(facts, cra=replace(facts.cra, **changes))  # type: ignore[arg-type]


def test_cra_items_must_be_present() -> None:
    _fails(RuleId.CRA_DUTIES, _cra(security_contact=False), "no security contact", Fix(FixArea.CRA, "security_contact"))
    _fails(RuleId.CRA_DUTIES, _cra(cvd_policy=False), "disclosure policy", Fix(FixArea.CRA, "cvd_policy"))
    _fails(RuleId.CRA_DUTIES, _cra(support_ends=None), "no support period", Fix(FixArea.CRA, "support"))


def test_the_file_must_be_complete_unless_the_policy_says_otherwise() -> None:
    facts = _cra(missing=(CraGap("point", "I.2a", "Annex I Part I (2)(a): applicability not assessed"),))
    _fails(RuleId.CRA_DUTIES, facts, "applicability not assessed", Fix(FixArea.CRA, "point:I.2a"))
    _passes(RuleId.CRA_DUTIES, facts, replace(POLICY, cra_duties=CraDuties(require_complete_file=False)))


def test_a_clock_fails_the_gate_from_its_due_instant() -> None:
    due = NOW + timedelta(hours=5)
    facts = _cra(clocks=(OpenClock("PSIRT-2027-0003", "early-warning", due),))
    assert _passes(RuleId.CRA_DUTIES, facts).valid_until == due
    _fails(RuleId.CRA_DUTIES, facts, "early-warning overdue", Fix(FixArea.CLOCKS, "PSIRT-2027-0003"), now=due)
    _passes(RuleId.CRA_DUTIES, facts, replace(POLICY, cra_duties=CraDuties(no_overdue_clocks=False)), now=due)


def test_a_support_period_that_ended_fails_from_the_next_day() -> None:
    facts = _cra(support_ends=date(2027, 3, 1))
    assert _passes(RuleId.CRA_DUTIES, facts).valid_until == datetime(2027, 3, 2, tzinfo=UTC)
    _fails(
        RuleId.CRA_DUTIES,
        facts,
        "ended on 2027-03-01",
        Fix(FixArea.CRA, "support"),
        now=datetime(2027, 3, 2, tzinfo=UTC),
    )


# --- waivers -------------------------------------------------------------------------------------------------

FAILING_COMMITS = replace(passing_facts(), commits=CommitFacts(10, 5))


def _waiver(rule: RuleId = RuleId.COMMITS_REVIEWED, **changes: object) -> Waiver:
    waiver = Waiver(rule, "reviewed in pairing sessions, records follow", NOW + timedelta(days=7), "officer")
    return replace(waiver, **changes)  # type: ignore[arg-type]


def test_a_waiver_turns_a_failing_rule_waived_and_the_gate_passes_until_it_expires() -> None:
    waiver = _waiver()
    evaluation = _judge(FAILING_COMMITS, waivers=(waiver,))
    result = evaluation.result(RuleId.COMMITS_REVIEWED)
    assert result.outcome is Outcome.WAIVED and result.waiver == waiver
    assert "5 of 10 commits" in result.reasons[0].message  # what was waived stays visible
    assert evaluation.outcome is Outcome.PASS and evaluation.waived == (RuleId.COMMITS_REVIEWED,)
    assert evaluation.valid_until == waiver.expires_at
    expired = _judge(FAILING_COMMITS, waivers=(waiver,), now=waiver.expires_at)
    assert expired.outcome is Outcome.FAIL and expired.ignored_waivers[0].reason.startswith("expired at")


def test_the_longest_usable_waiver_applies() -> None:
    short, long = _waiver(), _waiver(expires_at=NOW + timedelta(days=30))
    evaluation = _judge(FAILING_COMMITS, waivers=(short, long))
    assert evaluation.result(RuleId.COMMITS_REVIEWED).waiver == long
    assert [i.waiver for i in evaluation.ignored_waivers] == [short]


def test_a_waiver_of_a_passing_or_switched_off_rule_does_not_apply() -> None:
    evaluation = _judge(passing_facts(), waivers=(_waiver(),))
    assert evaluation.result(RuleId.COMMITS_REVIEWED).outcome is Outcome.PASS
    assert evaluation.ignored_waivers[0].reason == "the rule passes"
    off = replace(POLICY, commits_reviewed=CommitsReviewed(enabled=False))
    assert _judge(FAILING_COMMITS, off, (_waiver(),)).ignored_waivers[0].reason == "the rule is off"


def test_the_2a_rule_ignores_waivers() -> None:
    facts = replace(passing_facts(), vulnerabilities=(_vuln(Status.AFFECTED),))
    evaluation = _judge(facts, waivers=(_waiver(RuleId.NO_KNOWN_EXPLOITABLE),))
    assert evaluation.result(RuleId.NO_KNOWN_EXPLOITABLE).outcome is Outcome.FAIL
    assert evaluation.outcome is Outcome.FAIL
    assert evaluation.ignored_waivers[0].reason == CRA_2A_REFUSAL


def test_a_rule_the_policy_makes_unwaivable_ignores_waivers() -> None:
    policy = replace(POLICY, commits_reviewed=CommitsReviewed(waivable=False))
    evaluation = _judge(FAILING_COMMITS, policy, (_waiver(),))
    assert evaluation.outcome is Outcome.FAIL
    assert "not waivable" in evaluation.ignored_waivers[0].reason


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"justification": "  "}, "justification"),
        ({"by": ""}, "by"),
        ({"expires_at": NOW}, "expires_at"),
        ({"expires_at": datetime(2027, 4, 1)}, "expires_at"),
    ],
)
def test_waiver_problems_name_the_field(changes: dict[str, object], field: str) -> None:
    assert [p.field for p in waiver_problems(POLICY, _waiver(**changes), NOW)] == [field]
    assert _judge(FAILING_COMMITS, waivers=(_waiver(**changes),)).outcome is Outcome.FAIL


def test_waiver_problems_refuse_2a_with_the_law_s_reason() -> None:
    problems = waiver_problems(POLICY, _waiver(RuleId.NO_KNOWN_EXPLOITABLE), NOW)
    assert [(p.field, p.message) for p in problems] == [("rule", CRA_2A_REFUSAL)]
    assert waiver_problems(POLICY, _waiver(), NOW) == []


# --- valid_until ---------------------------------------------------------------------------------------------


def test_valid_until_is_the_earliest_instant_of_any_rule() -> None:
    assert _judge(passing_facts()).valid_until == datetime(2027, 7, 1, tzinfo=UTC)
    due = NOW + timedelta(hours=1)
    with_clock = _cra(clocks=(OpenClock("C", "notification", due),))
    assert _judge(with_clock).valid_until == due


def test_nothing_time_dependent_means_no_valid_until_and_past_instants_do_not_count() -> None:
    facts = GateFacts(1, 2, "1.0", commits=CommitFacts(1, 1))
    assert _judge(facts).valid_until is None
    later = _judge(passing_facts(), now=datetime(2027, 12, 1, tzinfo=UTC))  # the records expired in July
    assert later.valid_until == datetime(2028, 1, 16, tzinfo=UTC)  # the threat model's horizon
