"""Waivers, sign-off with separation of duties and a signed verdict, "released" only through a current sign-off,
and the legacy import of releases shipped before gates existed."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.auth import Principal
from sdl_tracker.errors import Conflict, Forbidden, Invalid, NotFound
from sdl_tracker.gates.evaluations import gate_status_for, record_evaluation
from sdl_tracker.gates.models import GateSignoff
from sdl_tracker.gates.policy import CRA_2A_REFUSAL
from sdl_tracker.gates.rules import (
    CommitFacts,
    EvidenceRef,
    Outcome,
    RuleId,
    ThreatModelFacts,
    VulnerabilityFacts,
    snapshot_digest,
)
from sdl_tracker.gates.signoff import (
    MAX_WAIVER_DAYS,
    add_waiver,
    current_signoff,
    import_legacy_release,
    revoke_waiver,
    sign_off,
    sign_off_release,
    verdict_envelope,
)
from sdl_tracker.gates.verdict import verify_verdict
from sdl_tracker.installation import installation
from sdl_tracker.products.models import Product, Release, ReleaseStatus
from sdl_tracker.products.services import create_release, update_release
from sdl_tracker.vex.rules import Status
from tests.factories import OPERATOR, make_product, make_release, member
from tests.gates.builders import NOW
from tests.gates.fakes import Clock, Gathered, events

LATER = NOW + timedelta(days=30)


@pytest.fixture
def release(session: Session, product: Product) -> Release:
    return make_release(session, product, "2.1.0", git_ref="v2.1.0")


@pytest.fixture
def officer(session: Session, product: Product) -> Principal:
    return member(session, product, "security_officer", "officer@example.com")


def _failing(gathered: Gathered, release: Release) -> None:
    """Facts on which only commits_reviewed (waivable) fails."""
    gathered.passing(release, commits=CommitFacts(10, 5))


def _evaluate(session: Session, actor: Principal, gathered: Gathered, release: Release) -> Outcome:
    return record_evaluation(session, actor, release.id, gathered[release.id], now=installation(session).now()).outcome


# --- waivers --------------------------------------------------------------------------------------------


def test_a_waiver_turns_a_failing_rule_waived_until_it_expires_or_is_revoked(
    session: Session, release: Release, officer: Principal, gathered: Gathered, clock: Clock
) -> None:
    _failing(gathered, release)
    assert _evaluate(session, officer, gathered, release) is Outcome.FAIL
    waiver = add_waiver(session, officer, release.id, "commits_reviewed", "  Reviewed by the vendor  ", LATER)
    assert (waiver.rule, waiver.justification, waiver.created_by) == (
        RuleId.COMMITS_REVIEWED,
        "Reviewed by the vendor",
        "user:officer@example.com",
    )
    (event,) = events(session, "gates:waiver:add")
    assert event.details["rule"] == "commits_reviewed" and event.details["waiver"] == waiver.id

    waived = record_evaluation(session, officer, release.id, gathered[release.id], now=NOW)
    assert waived.outcome is Outcome.PASS and waived.valid_until == LATER
    result = next(r for r in waived.results if r["rule"] == "commits_reviewed")
    assert (result["outcome"], result["waiver"]["id"], result["waivers"]) == ("waived", waiver.id, [waiver.id])

    # Expired: the evaluation is outdated by time, and judged again the rule fails.
    digest = snapshot_digest(gathered[release.id])
    with clock.at(LATER):
        assert not gate_status_for(session, officer, release.id, digest=digest, now=LATER).current
        assert _evaluate(session, officer, gathered, release) is Outcome.FAIL

    # Revoked: outdated at once (the waivers in force changed), and the rule fails again.
    assert _evaluate(session, officer, gathered, release) is Outcome.PASS  # back before the expiry
    revoke_waiver(session, officer, waiver.id)
    status = gate_status_for(session, officer, release.id, digest=digest, now=NOW)
    assert status.outdated_because == "the release's waivers changed since it was evaluated"
    assert [(w.id, w.revoked_at is not None) for w in status.waivers] == [(waiver.id, True)]  # kept, as revoked
    assert _evaluate(session, officer, gathered, release) is Outcome.FAIL
    again = revoke_waiver(session, officer, waiver.id)  # a no-op: the first revocation stands
    assert again.revoked_at == waiver.revoked_at
    (revoked,) = events(session, "gates:waiver:revoke")
    assert revoked.details == {"waiver": waiver.id, "rule": "commits_reviewed", "expired": False}


def test_cra_2a_is_never_waived(session: Session, release: Release, officer: Principal, gathered: Gathered) -> None:
    exploitable = VulnerabilityFacts("CVE-2026-9", "pkg:pypi/b@2", Status.AFFECTED, NOW, decided_by="someone")
    gathered.passing(release, vulnerabilities=(exploitable,))
    assert _evaluate(session, officer, gathered, release) is Outcome.FAIL
    with pytest.raises(Invalid) as caught:
        add_waiver(session, officer, release.id, "no_known_exploitable", "We ship anyway", LATER)
    assert [(e.field, e.message) for e in caught.value.errors] == [("rule", CRA_2A_REFUSAL)]


@pytest.mark.parametrize(
    ("rule", "justification", "expires", "field", "message"),
    [
        ("commits_reviewed", "\u200b \u2060", timedelta(days=3), "justification", "needs a justification"),
        ("commits_reviewed", "Because", timedelta(days=-1), "expires_at", "expired at"),
        ("commits_reviewed", "Because", timedelta(days=MAX_WAIVER_DAYS + 1), "expires_at", "at most 365 days"),
        ("threat_model", "Because", timedelta(days=3), "rule", "only a failing rule can be waived"),
        ("no_such_rule", "Because", timedelta(days=3), "rule", "one of records_in_scope"),
    ],
)
def test_a_waiver_needs_a_failing_rule_words_and_an_expiry_within_a_year(
    session: Session,
    release: Release,
    officer: Principal,
    gathered: Gathered,
    clock: Clock,
    rule: str,
    justification: str,
    expires: timedelta,
    field: str,
    message: str,
) -> None:
    _failing(gathered, release)
    _evaluate(session, officer, gathered, release)
    with pytest.raises(Invalid) as caught:
        add_waiver(session, officer, release.id, rule, justification, NOW + expires)
    assert [e.field for e in caught.value.errors] == [field] and message in caught.value.errors[0].message
    assert not events(session, "gates:waiver:add")


def test_only_officers_waive(session: Session, release: Release, gathered: Gathered) -> None:
    _failing(gathered, release)
    _evaluate(session, OPERATOR, gathered, release)
    with pytest.raises(Forbidden):
        add_waiver(session, member(session, release.product, "developer"), release.id, "commits_reviewed", "x", LATER)
    with pytest.raises(NotFound):
        add_waiver(
            session, member(session, make_product(session), "security_officer"), release.id, "fuzzing", "x", LATER
        )


# --- sign-off -------------------------------------------------------------------------------------------


def test_a_passing_current_evaluation_is_signed_off_with_a_verdict_that_verifies(
    session: Session, release: Release, officer: Principal, gathered: Gathered, clock: Clock
) -> None:
    gathered.passing(release)
    evaluation = record_evaluation(session, officer, release.id, gathered[release.id], now=NOW)
    signoff = sign_off_release(session, officer, release.id, "All rules pass.")
    assert (signoff.evaluation_id, signoff.legacy, signoff.signed_by, signoff.waivers) == (
        evaluation.id,
        False,
        "user:officer@example.com",
        0,
    )
    keys = installation(session).keys
    assert signoff.key_id == keys.active().key_id
    public = keys.public_key(signoff.key_id)
    assert public is not None
    verified = verify_verdict(verdict_envelope(session, officer, signoff.id), [public])
    assert (verified.product, verified.release, verified.outcome, verified.key_id) == (
        "PLC",
        "2.1.0",
        "pass",
        signoff.key_id,
    )
    assert verified.snapshot_digest == evaluation.facts_digest
    predicate = verified.predicate
    assert (predicate["evaluation_id"], predicate["policy_digest"], predicate["signed_by"], predicate["note"]) == (
        evaluation.id,
        evaluation.policy_digest,
        "user:officer@example.com",
        "All rules pass.",
    )
    assert predicate["signed_at"] == NOW.isoformat() and predicate["waivers"] == []
    assert {r["rule"]: r["outcome"] for r in predicate["rules"]}["commits_reviewed"] == "pass"
    (event,) = events(session, "gates:release:signoff")
    assert event.details["signoff"] == signoff.id and event.details["key_id"] == signoff.key_id
    with pytest.raises(Conflict, match="already signed off"):
        sign_off_release(session, officer, release.id)
    auditor = member(session, release.product, "auditor")
    assert verdict_envelope(session, auditor, signoff.id) == signoff.envelope.encode()  # downloads: every member
    with pytest.raises(NotFound):
        verdict_envelope(session, member(session, make_product(session), "auditor"), signoff.id)


def test_the_officer_who_waived_may_sign_off_and_the_verdict_lists_the_waiver(
    session: Session, release: Release, officer: Principal, gathered: Gathered, clock: Clock
) -> None:
    _failing(gathered, release)
    _evaluate(session, officer, gathered, release)
    add_waiver(session, officer, release.id, "commits_reviewed", "Reviewed by the vendor", LATER)
    assert _evaluate(session, officer, gathered, release) is Outcome.PASS
    signoff = sign_off_release(session, officer, release.id)
    assert signoff.waivers == 1
    public = installation(session).keys.public_key(signoff.key_id)
    assert public is not None
    predicate = verify_verdict(signoff.envelope.encode(), [public]).predicate
    assert predicate["waivers"] == [
        {
            "rule": "commits_reviewed",
            "justification": "Reviewed by the vendor",
            "expires_at": LATER.isoformat(),
            "by": "user:officer@example.com",
        }
    ]


def test_sign_off_is_refused_without_a_current_passing_evaluation(
    session: Session, release: Release, officer: Principal, gathered: Gathered, clock: Clock
) -> None:
    _failing(gathered, release)
    digest = snapshot_digest(gathered[release.id])
    with pytest.raises(Invalid, match="has not been evaluated"):
        sign_off(session, officer, release.id, "", digest=digest, now=NOW)
    _evaluate(session, officer, gathered, release)
    with pytest.raises(Invalid, match=r"the gate fails \(commits_reviewed\): fix or waive"):
        sign_off(session, officer, release.id, "", digest=digest, now=NOW)
    passing = gathered.passing(release)
    with pytest.raises(Invalid, match="outdated \\(the facts changed since it was evaluated\\)"):
        sign_off(session, officer, release.id, "", digest=snapshot_digest(passing), now=NOW)
    evaluation = record_evaluation(session, officer, release.id, passing, now=NOW)
    assert evaluation.valid_until is not None
    with pytest.raises(Invalid, match="outdated \\(it stood until"):
        sign_off(session, officer, release.id, "", digest=snapshot_digest(passing), now=evaluation.valid_until)
    with pytest.raises(Forbidden):
        sign_off(session, member(session, release.product, "developer"), release.id, "", digest=digest, now=NOW)
    with pytest.raises(Forbidden, match="act as a user"):
        sign_off(session, OPERATOR, release.id, "", digest=snapshot_digest(passing), now=NOW)
    assert session.scalars(select(GateSignoff)).all() == []


def test_whoever_submitted_what_a_rule_rests_on_cannot_sign_it_off(
    session: Session, release: Release, officer: Principal, gathered: Gathered, clock: Clock
) -> None:
    # The officer's own threat model (by their label), and a VEX decision made with their token.
    own = ThreatModelFacts(EvidenceRef(100, "user:Officer@example.com"), date(2027, 1, 15))
    facts = gathered.passing(release, threat_model=own)
    record_evaluation(session, officer, release.id, facts, now=NOW)
    with pytest.raises(Forbidden) as caught:
        sign_off_release(session, officer, release.id)
    assert caught.value.message.startswith("separation of duties: you submitted evidence or recorded a decision that ")
    assert "threat_model (Threat model reviewed recently (SR-2)) rests on" in caught.value.message

    decision = dataclasses.replace(facts.vulnerabilities[0], decided_by="token:sdl_ab12:officer@example.com")
    facts = gathered.passing(release, vulnerabilities=(decision,))
    record_evaluation(session, officer, release.id, facts, now=NOW)
    with pytest.raises(Forbidden, match=r"sbom_triage .* no_known_exploitable"):
        sign_off_release(session, officer, release.id)

    other = member(session, release.product, "security_officer", "second@example.com")
    assert sign_off_release(session, other, release.id).signed_by == "user:second@example.com"


# --- "released" only through a current sign-off ---------------------------------------------------------


def test_released_needs_a_current_sign_off_and_a_change_after_it_blocks_again(
    session: Session, product: Product, officer: Principal, gathered: Gathered, clock: Clock
) -> None:
    first = make_release(session, product, "3.0")
    with pytest.raises(Invalid, match="cannot be marked released without a signed-off release gate") as caught:
        update_release(session, officer, first.id, status="released")
    assert caught.value.errors[0].field == "status"

    gathered.passing(first)
    _evaluate(session, officer, gathered, first)
    signoff = sign_off_release(session, officer, first.id)
    digest = snapshot_digest(gathered[first.id])
    assert current_signoff(session, first, digest=digest, now=NOW) is signoff
    assert gate_status_for(session, officer, first.id, digest=digest, now=NOW).signoff_current
    update_release(session, officer, first.id, status="released", release_date=NOW.date())
    assert first.status is ReleaseStatus.RELEASED

    # Signed off, then a fact changes: the sign-off no longer stands, "released" is refused again.
    second = make_release(session, product, "3.1")
    gathered.passing(second)
    _evaluate(session, officer, gathered, second)
    sign_off_release(session, officer, second.id)
    gathered.passing(second, commits=CommitFacts(10, 9))
    with pytest.raises(Invalid) as caught:
        update_release(session, officer, second.id, status="released")
    assert caught.value.errors[0].message == (
        "3.1 cannot be marked released: its gate sign-off is outdated (the facts changed since it was evaluated); "
        "evaluate it again and have a security officer sign it off"
    )
    status = gate_status_for(session, officer, second.id, digest=snapshot_digest(gathered[second.id]), now=NOW)
    assert status.signoff is not None and not status.signoff_current and not status.current
    # Time alone outdates it too: past the signed evaluation's valid_until.
    gathered.passing(second)
    with clock.at(NOW + timedelta(days=400)), pytest.raises(Invalid, match="it stood until"):
        update_release(session, officer, second.id, status="released")
    # A release made released at once goes through the same check.
    with pytest.raises(Invalid, match="without a signed-off release gate"):
        create_release(session, officer, product.id, version="3.2", status="released")


# --- releases shipped before gates existed --------------------------------------------------------------


def test_a_legacy_import_records_a_release_shipped_before_gates_and_says_so(
    session: Session, product: Product, officer: Principal
) -> None:
    shipped = import_legacy_release(
        session, officer, product.id, "1.0", release_date=date(2025, 5, 1), reason="Shipped in 2025", git_ref="v1.0"
    )
    assert (shipped.status, shipped.release_date, shipped.git_ref) == (
        ReleaseStatus.RELEASED,
        date(2025, 5, 1),
        "v1.0",
    )
    legacy = session.scalars(select(GateSignoff).where(GateSignoff.release_id == shipped.id)).one()
    assert (legacy.legacy, legacy.evaluation_id, legacy.note, legacy.envelope) == (True, None, "Shipped in 2025", "")
    assert current_signoff(session, shipped, digest="0" * 64, now=NOW) is legacy  # whatever the facts
    (event,) = events(session, "gates:release:legacy-import")
    assert event.details["reason"] == "Shipped in 2025"
    assert "shipped before release gates existed" in event.details["legacy"]
    with pytest.raises(NotFound, match="no signed verdict"):
        verdict_envelope(session, officer, legacy.id)

    planned = make_release(session, product, "1.1")  # an existing release that has not shipped is taken
    assert import_legacy_release(session, officer, product.id, "1.1", release_date=None, reason="Old") is planned
    assert planned.status is ReleaseStatus.RELEASED
    with pytest.raises(Conflict, match="already released"):
        import_legacy_release(session, officer, product.id, "1.1", release_date=None, reason="Again")
    with pytest.raises(Invalid) as caught:
        import_legacy_release(session, officer, product.id, "1.2", release_date=None, reason=" \u200b ")
    assert caught.value.errors[0].field == "reason"
    with pytest.raises(Forbidden):
        import_legacy_release(
            session, member(session, product, "developer"), product.id, "1.3", release_date=None, reason="x"
        )
