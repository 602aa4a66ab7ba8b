"""Gate policies per product, evaluations stored with their snapshot, and whether the newest one is current."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.gates.evaluations import (
    EVALUATE_KIND,
    evaluate_release,
    gate_status,
    gate_status_for,
    product_policy,
    record_evaluation,
    request_evaluation,
    reset_policy,
    set_policy,
)
from sdl_tracker.gates.models import GateEvaluation, GatePolicy
from sdl_tracker.gates.policy import CommitsReviewed, default_policy, policy_digest
from sdl_tracker.gates.rules import CommitFacts, Outcome, RuleId, canonical_facts, snapshot_digest
from sdl_tracker.gates.signoff import add_waiver
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.registry import handler_for
from sdl_tracker.products.models import Product, Release
from tests.factories import OPERATOR, make_product, make_release, member
from tests.gates.builders import NOW, RECORDS_STAND_UNTIL
from tests.gates.fakes import Clock, Gathered, events


@pytest.fixture
def release(session: Session, product: Product) -> Release:
    return make_release(session, product, "2.1.0")


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(GateEvaluation)) or 0


# --- policy ---------------------------------------------------------------------------------------------


def test_a_product_starts_on_the_default_policy_and_an_officer_sets_and_resets_its_own(
    session: Session, product: Product
) -> None:
    officer = member(session, product, "security_officer")
    default = default_policy("EDR", product.target_sl)
    assert product_policy(session, officer, product.id) == (default, True)

    stricter = dataclasses.replace(default, commits_reviewed=CommitsReviewed(minimum_percent=100))
    row = set_policy(session, officer, product.id, stricter)
    assert (row.digest, row.updated_by) == (policy_digest(stricter), officer.label)
    assert product_policy(session, officer, product.id) == (stricter, False)
    (event,) = events(session, "gates:policy:set")
    assert event.details["from_default"] is True
    assert event.details["changes"] == {"rules.commits_reviewed.minimum_percent": {"old": 90, "new": 100}}

    assert set_policy(session, officer, product.id, stricter) is row  # unchanged: nothing written
    assert len(events(session, "gates:policy:set")) == 1

    assert reset_policy(session, officer, product.id) == default
    assert session.get(GatePolicy, product.id) is None
    assert product_policy(session, officer, product.id) == (default, True)
    (reset,) = events(session, "gates:policy:reset")
    assert reset.details["changes"] == {"rules.commits_reviewed.minimum_percent": {"old": 100, "new": 90}}
    reset_policy(session, officer, product.id)  # already the default: nothing
    assert len(events(session, "gates:policy:reset")) == 1


def test_only_officers_set_a_policy_and_other_products_do_not_exist(session: Session, product: Product) -> None:
    developer = member(session, product, "developer")
    outsider = member(session, make_product(session), "security_officer")
    policy, _ = product_policy(session, developer, product.id)  # reading is for every member
    with pytest.raises(Forbidden):
        set_policy(session, developer, product.id, policy)
    with pytest.raises(Forbidden):
        reset_policy(session, developer, product.id)
    with pytest.raises(NotFound):
        product_policy(session, outsider, product.id)
    with pytest.raises(NotFound):
        set_policy(session, outsider, product.id, policy)


def test_a_policy_built_in_code_meets_the_limits_of_the_yaml_form(session: Session, product: Product) -> None:
    policy, _ = product_policy(session, OPERATOR, product.id)
    with pytest.raises(Invalid) as caught:
        set_policy(
            session,
            OPERATOR,
            product.id,
            dataclasses.replace(policy, commits_reviewed=CommitsReviewed(minimum_percent=0)),
        )
    assert caught.value.errors[0].field == "rules.commits_reviewed.minimum_percent"
    assert session.get(GatePolicy, product.id) is None


# --- evaluations ----------------------------------------------------------------------------------------


def test_an_evaluation_is_stored_with_its_snapshot_digests_and_results_once(
    session: Session, release: Release, gathered: Gathered, clock: Clock
) -> None:
    facts = gathered.passing(release)
    stored = record_evaluation(session, OPERATOR, release.id, facts, now=NOW)
    assert stored.outcome is Outcome.PASS and stored.evaluated_at == NOW
    assert stored.facts_digest == snapshot_digest(facts) and stored.facts["facts"]["version"] == "2.1.0"
    assert stored.policy_digest == policy_digest(default_policy("EDR", release.product.target_sl))
    assert stored.valid_until is not None and stored.valid_until.date() == RECORDS_STAND_UNTIL + timedelta(days=1)
    threat_model = next(r for r in stored.results if r["rule"] == "threat_model")
    assert threat_model == {
        "rule": "threat_model",
        "outcome": "pass",
        "reasons": [],
        "rests_on_evidence": [100],
        "submitters": ["alice"],
        "valid_until": "2028-01-16T00:00:00+00:00",
        "waiver": None,
        "waivers": [],
        "ignored_waivers": [],
    }
    (event,) = events(session, "gates:release:evaluate")
    assert event.details["evaluation"] == stored.id and event.details["facts_digest"] == stored.facts_digest

    # Judged again, later, on the same facts: the same result, not stored twice.
    assert record_evaluation(session, OPERATOR, release.id, facts, now=NOW + timedelta(hours=3)) is stored
    assert _count(session) == 1 and len(events(session, "gates:release:evaluate")) == 1

    failing = gathered.passing(release, commits=CommitFacts(10, 5))
    second = evaluate_release(session, OPERATOR, release.id, now=NOW)  # through gathering
    assert second.id != stored.id and second.outcome is Outcome.FAIL
    assert second.facts_digest == snapshot_digest(failing)
    commits = next(r for r in second.results if r["rule"] == "commits_reviewed")
    assert commits["reasons"] == [
        {"message": "5 of 10 commits security-reviewed (50 %), below 90 %", "fix": {"area": "commits", "key": ""}}
    ]
    assert canonical_facts(failing) == canonical_facts(gathered[release.id])


def test_facts_of_another_release_are_refused(session: Session, release: Release, gathered: Gathered) -> None:
    other = make_release(session, release.product, "2.2.0")
    with pytest.raises(ValueError, match="facts are of release"):
        record_evaluation(session, OPERATOR, release.id, gathered.passing(other), now=NOW)


def test_every_member_may_have_a_release_evaluated_and_outsiders_may_not(
    session: Session, release: Release, gathered: Gathered
) -> None:
    auditor = member(session, release.product, "auditor")
    outsider = member(session, make_product(session), "security_officer")
    facts = gathered.passing(release)
    assert record_evaluation(session, auditor, release.id, facts, now=NOW).evaluated_by == auditor.label
    with pytest.raises(NotFound):
        record_evaluation(session, outsider, release.id, facts, now=NOW)
    with pytest.raises(NotFound):
        gate_status_for(session, outsider, release.id, digest=snapshot_digest(facts), now=NOW)


# --- currency -------------------------------------------------------------------------------------------


def test_the_newest_evaluation_is_current_until_facts_policy_waivers_or_time_change(
    session: Session, release: Release, gathered: Gathered, clock: Clock
) -> None:
    officer = member(session, release.product, "security_officer")
    facts = gathered.passing(release)
    digest = snapshot_digest(facts)
    status = gate_status_for(session, officer, release.id, digest=digest, now=NOW)
    assert (status.evaluation, status.current, status.outdated_because) == (
        None,
        False,
        "the release has not been evaluated yet",
    )
    assert status.policy_is_default and status.signoff is None and not status.signoff_current

    evaluation = record_evaluation(session, officer, release.id, facts, now=NOW)
    status = gate_status_for(session, officer, release.id, digest=digest, now=NOW)
    assert (status.evaluation, status.current, status.outdated_because) == (evaluation, True, "")
    assert gate_status(session, officer, release.id, now=NOW).current  # through gathering

    # One fact changes: outdated at once, whatever the clock says.
    changed = snapshot_digest(dataclasses.replace(facts, commits=CommitFacts(10, 9)))
    status = gate_status_for(session, officer, release.id, digest=changed, now=NOW)
    assert not status.current and status.outdated_because == "the facts changed since it was evaluated"

    # Time alone: from valid_until on.
    assert evaluation.valid_until is not None
    before = gate_status_for(session, officer, release.id, digest=digest, now=evaluation.valid_until - timedelta(0, 1))
    assert before.current
    at = gate_status_for(session, officer, release.id, digest=digest, now=evaluation.valid_until)
    assert not at.current and at.outdated_because.startswith("it stood until 2027-07-01T00:00:00+00:00")

    # The policy changes.
    policy, _ = product_policy(session, officer, release.product_id)
    set_policy(
        session,
        officer,
        release.product_id,
        dataclasses.replace(policy, commits_reviewed=CommitsReviewed(minimum_percent=95)),
    )
    status = gate_status_for(session, officer, release.id, digest=digest, now=NOW)
    assert not status.current and status.outdated_because == "the product's gate policy changed since it was evaluated"
    assert not status.policy_is_default
    reset_policy(session, officer, release.product_id)
    assert gate_status_for(session, officer, release.id, digest=digest, now=NOW).current  # judged under this one

    # The waivers in force change.
    failing = gathered.passing(release, commits=CommitFacts(10, 5))
    record_evaluation(session, officer, release.id, failing, now=NOW)
    add_waiver(session, officer, release.id, "commits_reviewed", "Reviewed by the vendor", NOW + timedelta(days=30))
    status = gate_status_for(session, officer, release.id, digest=snapshot_digest(failing), now=NOW)
    assert not status.current and status.outdated_because == "the release's waivers changed since it was evaluated"
    assert [w.rule for w in status.waivers] == [RuleId.COMMITS_REVIEWED]
    waived = record_evaluation(session, officer, release.id, failing, now=NOW)
    assert waived.outcome is Outcome.PASS
    assert gate_status_for(session, officer, release.id, digest=snapshot_digest(failing), now=NOW).current


# --- evaluation as a job --------------------------------------------------------------------------------


@dataclasses.dataclass
class _InlineJob:
    """A job context whose units of work are the test's session."""

    session: Session
    arguments: dict[str, Any]
    result: dict[str, Any] | None = None

    @contextmanager
    def read(self) -> Iterator[Session]:
        yield self.session

    write = read

    def actor(self, session: Session) -> Any:
        return OPERATOR

    def finish(self, session: Session, result: dict[str, Any]) -> None:
        self.result = result


def test_an_evaluation_is_queued_once_per_release_and_the_job_records_it(
    session: Session, release: Release, gathered: Gathered, clock: Clock
) -> None:
    developer = member(session, release.product, "developer")
    job = request_evaluation(session, developer, release.id)
    assert (job.kind, job.state, job.arguments, job.product_id) == (
        EVALUATE_KIND,
        JobState.QUEUED,
        {"release_id": release.id},
        release.product_id,
    )
    assert request_evaluation(session, OPERATOR, release.id) is job  # queued already: that one
    assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == EVALUATE_KIND)) == 1
    assert len(events(session, "gates:release:queue-evaluation")) == 1
    with pytest.raises(NotFound):
        request_evaluation(session, member(session, make_product(session), "security_officer"), release.id)

    kind = handler_for(EVALUATE_KIND)
    assert kind is not None
    gathered.passing(release)
    context = _InlineJob(session, {"release_id": release.id})
    kind.run(context)  # type: ignore[arg-type]
    evaluation = session.scalars(select(GateEvaluation).where(GateEvaluation.release_id == release.id)).one()
    assert context.result == {"evaluation": evaluation.id, "outcome": "pass"}
