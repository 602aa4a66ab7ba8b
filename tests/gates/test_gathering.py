"""Gathering a release's gate facts from the database: what each feature shows, deterministic, changed by every
kind of change, in a bounded number of statements, and only for those who see the product."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker.audit import services as audit_services
from sdl_tracker.catalog.rules import FOUNDATIONAL_REQUIREMENTS
from sdl_tracker.errors import NotFound
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import Upload
from sdl_tracker.evidence.vocabulary import ReviewState
from sdl_tracker.evidence.vocabulary import TesterIndependence as Independence
from sdl_tracker.gates.facts import IssueKind, IssueState, snapshot_digest
from sdl_tracker.gates.gathering import _is_patch, current_digest, gather_facts
from sdl_tracker.gates.policy import default_policy
from sdl_tracker.gates.rules import RuleId, evaluate
from sdl_tracker.psirt.services import update_case
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.rules import Status
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, make_product, member, statements
from tests.gates.fixtures_gather import build, sbom_document

NOW = datetime.now(UTC)


def test_a_release_gathers_what_each_feature_shows(session: Session) -> None:
    scene = build(session)
    facts = gather_facts(session, scene.officer, scene.release.id, now=NOW)

    assert (facts.product_id, facts.release_id, facts.version) == (scene.product.id, scene.release.id, "2.1.1")
    # 4-1 coverage, with its practices and the evidence deciding each half.
    refs = {r.ref: r for r in facts.requirements}
    assert {"SM", "SR", "SI", "SVV", "SUM"} <= {r.practice for r in facts.requirements}
    assert scene.threat_model in {e.evidence_id for e in refs["SR-2"].evidence}
    # The threat model: accepted, submitted by the developer, reviewed on its effective date.
    assert facts.threat_model is not None
    assert facts.threat_model.evidence.evidence_id == scene.threat_model
    assert facts.threat_model.evidence.state is ReviewState.ACCEPTED
    assert facts.threat_model.evidence.submitted_by == scene.developer.label
    assert facts.threat_model.evidence.stands_until is not None  # reviewed yearly
    # No repository: no commits known.
    assert (facts.commits.total, facts.commits.reviewed) == (0, 0)
    # Interfaces: the network one with its campaign, the USB one without.
    interfaces = {i.name: i for i in facts.interfaces}
    assert interfaces["eth0"].network and not interfaces["usb"].network
    assert [(c.evidence.evidence_id, c.duration_hours) for c in interfaces["eth0"].campaigns] == [(scene.fuzz, 48.0)]
    assert interfaces["usb"].campaigns == ()
    # The penetration test, still in review, by an outside organisation.
    [pen] = facts.pen_tests
    assert pen.evidence.evidence_id == scene.pen_test and pen.evidence.state is ReviewState.SUBMITTED
    assert pen.tester_independence is Independence.ORGANISATION
    # Levels: every FR, the product's target, nothing claimed.
    assert [(level.fr, level.target, level.achieved) for level in facts.levels] == [
        (fr, 2, 0) for fr in FOUNDATIONAL_REQUIREMENTS
    ]
    assert all(level.risk_acceptance is None for level in facts.levels)
    # The primary SBOM as its evidence.
    assert facts.primary_sbom is not None and facts.primary_sbom.evidence_id == scene.sbom_evidence
    # VEX: the officer's "not affected" with its justification; the match awaiting confirmation is no decision.
    vulns = {v.vulnerability: v for v in facts.vulnerabilities}
    assert vulns["CVE-2026-2000"].status is Status.NOT_AFFECTED
    assert vulns["CVE-2026-2000"].justification == "vulnerable_code_not_present"
    assert vulns["CVE-2026-2000"].decided_by == scene.officer.label
    assert vulns["CVE-2026-3000"].status is None and vulns["CVE-2026-3000"].decided_by == ""
    assert vulns["CVE-2026-3000"].since.tzinfo is not None
    assert vulns["CVE-2026-3000"].component == "pkg:npm/lib0"
    # Issues: the exploited case (open, scored 9.8) and the review's open finding.
    issues = {(i.kind, i.key): i for i in facts.issues}
    case = issues[(IssueKind.CASE, scene.case.reference)]
    assert case.state is IssueState.OPEN and case.exploited and case.cvss == pytest.approx(9.8)
    finding = issues[(IssueKind.FINDING, str(scene.review))]
    assert finding.state is IssueState.OPEN and finding.cvss is None
    # A patch of 2.1.0, with its qualification record.
    assert facts.patch.patch
    assert [(r.aspect, r.evidence.evidence_id) for r in facts.patch.records] == [("qualification", scene.update)]
    assert facts.patch.security_fixes_separate is None
    # CRA: contact, policy, support end, the file's missing parts, the case's running clocks.
    assert facts.cra.security_contact and facts.cra.cvd_policy
    assert facts.cra.support_ends is not None and facts.cra.support_ends.year == 2031
    assert facts.cra.missing  # nothing of the CRA file was recorded
    assert {c.case for c in facts.cra.clocks} == {scene.case.reference}
    assert all(c.due_at.tzinfo is not None for c in facts.cra.clocks)

    # The rules read them: the exploited open case fails CRA I(2)(a), the pending test fails SVV-4.
    evaluation = evaluate(default_policy("EDR", scene.product.target_sl), facts, [], NOW)
    assert RuleId.NO_KNOWN_EXPLOITABLE in evaluation.failed
    assert RuleId.PENETRATION_TEST in evaluation.failed
    assert evaluation.result(RuleId.FUZZING).outcome.value == "pass"


def test_the_same_data_gives_the_same_digest(session: Session) -> None:
    scene = build(session)
    first = snapshot_digest(gather_facts(session, scene.officer, scene.release.id, now=NOW))
    audit_services._KEPT.clear()  # judged afresh, nothing kept: the same facts
    second = snapshot_digest(gather_facts(session, scene.reviewer, scene.release.id, now=NOW))
    assert first == second
    assert current_digest(session, scene.officer, scene.release.id, now=NOW) == first
    assert current_digest(session, scene.officer, scene.release.id, now=NOW) == first  # kept


def test_every_kind_of_change_changes_the_digest(session: Session) -> None:
    scene = build(session)
    seen = [current_digest(session, scene.officer, scene.release.id, now=NOW)]

    def changed() -> None:
        digest = current_digest(session, scene.officer, scene.release.id, now=NOW)
        assert digest == snapshot_digest(gather_facts(session, scene.officer, scene.release.id, now=NOW))
        assert digest not in seen
        seen.append(digest)

    review_evidence(session, scene.reviewer, scene.pen_test, accept=True)  # evidence accepted
    changed()
    record_decision(  # a VEX decision changed
        session,
        scene.officer,
        scene.release.id,
        "CVE-2026-3000",
        DecisionInput("affected", action="Update lib0."),
        component="pkg:npm/lib0@1.0",
    )
    changed()
    import_sbom(  # another SBOM made primary
        session,
        OPERATOR,
        scene.release.id,
        Upload("other.cdx.json", "application/json", io.BytesIO(sbom_document(3, serial="2"))),
        primary=True,
    )
    changed()
    update_case(session, scene.officer, scene.case.id, {"status": "closed"})  # the case closed
    changed()
    facts = gather_facts(session, scene.officer, scene.release.id, now=NOW)
    cases = {i.key: i.state for i in facts.issues if i.kind is IssueKind.CASE}
    assert cases == {scene.case.reference: IssueState.FIXED}  # handled, with its fix in 2.2.0
    decision = next(v for v in facts.vulnerabilities if v.vulnerability == "CVE-2026-3000")
    assert decision.status is Status.AFFECTED
    assert any(i.kind is IssueKind.DECISION for i in facts.issues)


def test_the_statements_do_not_grow_with_the_records(app: Flask, session: Session) -> None:
    small, large = build(session, 1, "Small"), build(session, 4, "Large")

    def count(scene) -> int:  # type: ignore[no-untyped-def]
        gather_facts(session, scene.officer, scene.release.id, now=NOW)  # warm: what the features keep
        with statements(app) as seen:
            facts = gather_facts(session, scene.officer, scene.release.id, now=NOW)
        assert facts.version == "2.1.1"
        return len(seen)

    few, many = count(small), count(large)
    assert many == few
    big = gather_facts(session, large.officer, large.release.id, now=NOW)
    assert len(big.vulnerabilities) == 8 and len([i for i in big.issues if i.kind is IssueKind.CASE]) == 4


def test_a_non_member_gets_not_found(session: Session) -> None:
    scene = build(session)
    other = make_product(session, "Elsewhere")
    stranger = member(session, other, "security_officer")
    with pytest.raises(NotFound):
        gather_facts(session, stranger, scene.release.id, now=NOW)
    with pytest.raises(NotFound):
        current_digest(session, stranger, scene.release.id, now=NOW)


def test_now_must_be_aware(session: Session) -> None:
    scene = build(session)
    with pytest.raises(ValueError, match="timezone-aware"):
        gather_facts(session, scene.officer, scene.release.id, now=datetime(2027, 1, 1))


@pytest.mark.parametrize(
    ("previous", "version", "patch"),
    [
        ("2.1.0", "2.1.1", True),
        ("2.1", "2.1.1", True),
        ("v2.1.1", "v2.1.2", True),
        ("2.1.1", "2.2.0", False),
        ("2.1.0rc1", "2.1.0", False),
        (None, "1.0.1", False),
        ("alpha", "beta", False),
        ("1!2.1.0", "2.1.1", False),
    ],
)
def test_patch_releases_by_version_semantics(previous: str | None, version: str, patch: bool) -> None:
    assert _is_patch(previous, version) is patch
