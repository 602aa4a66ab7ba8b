"""A product's gate policy, the evaluations of its releases, and whether the newest one is still current.

An evaluation judges one snapshot of facts (gathering.py) under the product's policy and the release's waivers
in force, and is stored with the snapshot, both digests and `valid_until`. It is current while the facts'
digest, the policy's digest and the set of waivers in force are what it judged and `valid_until` has not
passed; anything else makes it outdated, and nothing reports an outdated result as current.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..db import lock_row
from ..installation import installation
from ..jobs.models import Job
from ..jobs.registry import JobContext, register
from ..jobs.services import active_job, enqueue
from ..products.models import Product, Release
from ..products.services import get_product, get_release
from .facts import canonical_facts
from .gathering import current_digest, gather_facts
from .models import GateEvaluation, GatePolicy, GateSignoff, GateWaiver
from .policy import UNWAIVABLE, Policy, RuleId, default_policy, policy_digest, policy_document, policy_from_document
from .rules import Evaluation, GateFacts, Outcome, Waiver, evaluate

EVALUATE_KIND = "gate-evaluate"


# --- policy ---------------------------------------------------------------------------------------------


def policy_in_force(session: Session, product: Product) -> tuple[Policy, bool]:
    """The product's own policy, else its default; and whether it is the default (no permission check)."""
    row = session.get(GatePolicy, product.id)
    if row is not None:
        return policy_from_document(row.document), False
    return default_policy(product.component_type.value, product.target_sl), True


def product_policy(session: Session, actor: Principal, product_id: int) -> tuple[Policy, bool]:
    """The product's gate policy, and whether it is the default for its component type and target SL-C."""
    return policy_in_force(session, get_product(session, actor, product_id))


def _flat(document: Any, prefix: str = "") -> dict[str, Any]:
    """A policy document as {path: value}, so an audited change names each parameter that moved."""
    if isinstance(document, dict):
        flat: dict[str, Any] = {}
        for key, value in document.items():
            flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: document}


def _policy_changes(before: Policy, after: Policy) -> dict[str, Any]:
    old, new = _flat(policy_document(before)), _flat(policy_document(after))
    return {key: {"old": old.get(key), "new": new[key]} for key in new if old.get(key) != new[key]}


def set_policy(session: Session, actor: Principal, product_id: int, policy: Policy) -> GatePolicy:
    """Give the product its own gate policy (officers); audited with each parameter changed, unchanged: nothing."""
    product = get_product(session, actor, product_id)
    authorize(actor, Permission.GATE_SIGNOFF, product.id)
    lock_row(session, Product.id, product.id)
    # Read back through the document's validation: a Policy built in code meets the same limits as YAML.
    policy = policy_from_document(policy_document(policy))
    digest = policy_digest(policy)
    before, was_default = policy_in_force(session, product)
    row = session.get(GatePolicy, product.id)
    if row is not None and row.digest == digest:
        return row
    if row is None:
        row = GatePolicy(product_id=product.id)
        session.add(row)
    row.document = policy_document(policy)
    row.digest = digest
    row.updated_by = actor.label[:320]
    row.updated_at = installation(session).now()
    session.flush()
    record(
        session,
        actor,
        "gates:policy:set",
        target_type="product",
        target_id=product.id,
        product_id=product.id,
        details={
            "from_default": was_default,
            "old_digest": policy_digest(before),
            "new_digest": digest,
            "changes": _policy_changes(before, policy),
        },
    )
    return row


def reset_policy(session: Session, actor: Principal, product_id: int) -> Policy:
    """Put the product back on the default policy (officers); audited, already on it: nothing. The default."""
    product = get_product(session, actor, product_id)
    authorize(actor, Permission.GATE_SIGNOFF, product.id)
    lock_row(session, Product.id, product.id)
    row = session.get(GatePolicy, product.id)
    default = default_policy(product.component_type.value, product.target_sl)
    if row is None:
        return default
    before = policy_from_document(row.document)
    session.delete(row)
    session.flush()
    record(
        session,
        actor,
        "gates:policy:reset",
        target_type="product",
        target_id=product.id,
        product_id=product.id,
        details={
            "old_digest": row.digest,
            "new_digest": policy_digest(default),
            "changes": _policy_changes(before, default),
        },
    )
    return default


# --- waivers in force -----------------------------------------------------------------------------------


def waivers_in_force(session: Session, release_id: int, now: datetime) -> list[GateWaiver]:
    """The release's waivers neither revoked nor expired at `now`, oldest first."""
    return list(
        session.scalars(
            select(GateWaiver)
            .where(GateWaiver.release_id == release_id, GateWaiver.revoked_at.is_(None), GateWaiver.expires_at > now)
            .order_by(GateWaiver.id)
        )
    )


def _as_waiver(row: GateWaiver) -> Waiver:
    return Waiver(row.rule, row.justification, row.expires_at, row.created_by)


# --- evaluations ----------------------------------------------------------------------------------------


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _results(evaluation: Evaluation, rows: Sequence[GateWaiver], waivers: Sequence[Waiver]) -> list[dict[str, Any]]:
    """Per rule, as stored: outcome, reasons with their fix, what it rests on, and the waivers it saw (by id)."""

    def waiver_id(waiver: Waiver) -> int:
        return next(row.id for row, w in zip(rows, waivers, strict=True) if w is waiver)

    ignored = {id(i.waiver): i.reason for i in evaluation.ignored_waivers}
    results = []
    for result in evaluation.results:
        applied = result.waiver
        results.append(
            {
                "rule": result.rule.value,
                "outcome": result.outcome.value,
                "reasons": [
                    {"message": r.message, "fix": {"area": r.fix.area.value, "key": r.fix.key}} for r in result.reasons
                ],
                "rests_on_evidence": list(result.rests_on_evidence),
                "submitters": list(result.submitters),
                "valid_until": _moment(result.valid_until),
                "waiver": None
                if applied is None
                else {
                    "id": waiver_id(applied),
                    "justification": applied.justification,
                    "expires_at": _moment(applied.expires_at),
                    "by": applied.by,
                },
                # Every waiver in force for the rule, applied or not: a change to them outdates the evaluation.
                "waivers": [waiver_id(w) for w in waivers if w.rule is result.rule],
                "ignored_waivers": [
                    {"id": waiver_id(w), "reason": ignored[id(w)]}
                    for w in waivers
                    if w.rule is result.rule and id(w) in ignored
                ],
            }
        )
    plain: list[dict[str, Any]] = json.loads(json.dumps(results))
    return plain


def considered_waivers(evaluation: GateEvaluation) -> frozenset[int]:
    """The ids of the waivers in force when the evaluation was made."""
    return frozenset(w for result in evaluation.results for w in result.get("waivers", ()))


def newest_evaluation(session: Session, release_id: int) -> GateEvaluation | None:
    """The release's latest evaluation."""
    return session.scalar(
        select(GateEvaluation)
        .where(GateEvaluation.release_id == release_id)
        .order_by(GateEvaluation.id.desc())
        .limit(1)
    )


def record_evaluation(
    session: Session, actor: Principal, release_id: int, facts: GateFacts, *, now: datetime
) -> GateEvaluation:
    """Judge `facts` under the product's policy and the release's waivers in force at `now` and store the result
    (audited); one identical to the newest evaluation is not stored again: the newest is returned."""
    release = get_release(session, actor, release_id)
    if (facts.release_id, facts.product_id) != (release.id, release.product_id):
        raise ValueError(f"the facts are of release {facts.release_id}, not {release.id}")
    # Evaluations of one release go one at a time, so two identical ones are never both stored.
    lock_row(session, Release.id, release.id)
    policy, _ = policy_in_force(session, release.product)
    rows = waivers_in_force(session, release.id, now)
    waivers = [_as_waiver(row) for row in rows]
    evaluation = evaluate(policy, facts, waivers, now)
    results = _results(evaluation, rows, waivers)
    newest = newest_evaluation(session, release.id)
    if newest is not None and (
        newest.facts_digest,
        newest.policy_digest,
        newest.outcome,
        newest.valid_until,
        newest.results,
    ) == (evaluation.facts_digest, evaluation.policy_digest, evaluation.outcome, evaluation.valid_until, results):
        return newest
    stored = GateEvaluation(
        release_id=release.id,
        outcome=evaluation.outcome,
        facts=json.loads(canonical_facts(facts)),
        facts_digest=evaluation.facts_digest,
        policy=policy_document(policy),
        policy_digest=evaluation.policy_digest,
        results=results,
        valid_until=evaluation.valid_until,
        evaluated_at=now,
        evaluated_by=actor.label[:320],
    )
    session.add(stored)
    session.flush()
    record(
        session,
        actor,
        "gates:release:evaluate",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={
            "evaluation": stored.id,
            "outcome": evaluation.outcome.value,
            "facts_digest": evaluation.facts_digest,
            "policy_digest": evaluation.policy_digest,
            "failed": [rule.value for rule in evaluation.failed],
            "waived": [rule.value for rule in evaluation.waived],
            "valid_until": evaluation.valid_until,
        },
    )
    return stored


# --- currency -------------------------------------------------------------------------------------------


def outdated_because(
    evaluation: GateEvaluation, *, digest: str, policy_digest: str, waivers: frozenset[int], now: datetime
) -> str:
    """Why the evaluation no longer stands for the release (empty: it is current): the facts, the policy, the
    waivers in force, or time changed since."""
    if evaluation.facts_digest != digest:
        return "the facts changed since it was evaluated"
    if evaluation.policy_digest != policy_digest:
        return "the product's gate policy changed since it was evaluated"
    if considered_waivers(evaluation) != waivers:
        return "the release's waivers changed since it was evaluated"
    if evaluation.valid_until is not None and now >= evaluation.valid_until:
        return f"it stood until {evaluation.valid_until.astimezone(UTC).isoformat()}: time changed the facts"
    return ""


def evaluation_outdated_because(
    session: Session, release: Release, evaluation: GateEvaluation, *, digest: str, now: datetime
) -> str:
    """`outdated_because` against the product's policy and the release's waivers in force now."""
    policy, _ = policy_in_force(session, release.product)
    in_force = frozenset(w.id for w in waivers_in_force(session, release.id, now))
    return outdated_because(evaluation, digest=digest, policy_digest=policy_digest(policy), waivers=in_force, now=now)


def waivable_rules(evaluation: GateEvaluation | None) -> frozenset[RuleId]:
    """The rules the evaluation fails that the policy it was judged by lets an officer waive; CRA I(2)(a) never
    (add_waiver refuses it too)."""
    if evaluation is None:
        return frozenset()
    rules = evaluation.policy.get("rules", {}) if isinstance(evaluation.policy, dict) else {}
    failing = [RuleId(r["rule"]) for r in evaluation.results if r["outcome"] == Outcome.FAIL.value]
    return frozenset(
        rule for rule in failing if rules.get(rule.value, {}).get("waivable", True) and rule not in UNWAIVABLE
    )


@dataclass(frozen=True)
class GateStatus:
    """Where a release's gate stands: the newest evaluation and whether it is current (else why not), the
    newest sign-off and whether it still stands, every waiver of the release (in force, expired or revoked, newest
    first), whether the policy is the default."""

    release_id: int
    evaluation: GateEvaluation | None
    current: bool
    outdated_because: str
    signoff: GateSignoff | None
    signoff_current: bool
    waivers: tuple[GateWaiver, ...]
    policy_is_default: bool


def signoff_stands(session: Session, release: Release, signoff: GateSignoff, *, digest: str, now: datetime) -> bool:
    """Whether a sign-off still lets the release ship: a legacy one always, else while its evaluation is current."""
    if signoff.legacy:
        return True
    evaluation = signoff.evaluation
    return evaluation is not None and not evaluation_outdated_because(
        session, release, evaluation, digest=digest, now=now
    )


def newest_signoff(session: Session, release_id: int) -> GateSignoff | None:
    """The release's latest sign-off."""
    return session.scalar(
        select(GateSignoff).where(GateSignoff.release_id == release_id).order_by(GateSignoff.id.desc()).limit(1)
    )


def gate_status_for(session: Session, actor: Principal, release_id: int, *, digest: str, now: datetime) -> GateStatus:
    """The release's gate status against the facts whose digest is `digest` at `now`."""
    release = get_release(session, actor, release_id)
    policy, is_default = policy_in_force(session, release.product)
    in_force = waivers_in_force(session, release.id, now)
    evaluation = newest_evaluation(session, release.id)
    why = (
        "the release has not been evaluated yet"
        if evaluation is None
        else outdated_because(
            evaluation,
            digest=digest,
            policy_digest=policy_digest(policy),
            waivers=frozenset(w.id for w in in_force),
            now=now,
        )
    )
    signoff = newest_signoff(session, release.id)
    return GateStatus(
        release_id=release.id,
        evaluation=evaluation,
        current=evaluation is not None and not why,
        outdated_because=why,
        signoff=signoff,
        signoff_current=signoff is not None and signoff_stands(session, release, signoff, digest=digest, now=now),
        waivers=tuple(
            session.scalars(
                select(GateWaiver).where(GateWaiver.release_id == release.id).order_by(GateWaiver.id.desc())
            )
        ),
        policy_is_default=is_default,
    )


def gate_history(
    session: Session, actor: Principal, release_id: int, *, limit: int
) -> tuple[list[GateEvaluation], list[GateSignoff]]:
    """The release's latest `limit` evaluations and sign-offs, newest first."""
    release = get_release(session, actor, release_id)
    evaluations = session.scalars(
        select(GateEvaluation)
        .where(GateEvaluation.release_id == release.id)
        .order_by(GateEvaluation.evaluated_at.desc(), GateEvaluation.id.desc())
        .limit(limit)
    )
    signoffs = session.scalars(
        select(GateSignoff)
        .where(GateSignoff.release_id == release.id)
        .order_by(GateSignoff.signed_at.desc(), GateSignoff.id.desc())
        .limit(limit)
    )
    return list(evaluations), list(signoffs)


# --- evaluation as a job --------------------------------------------------------------------------------


def request_evaluation(session: Session, actor: Principal, release_id: int) -> Job:
    """Queue an evaluation of the release (whoever may see it); one already queued or running is returned."""
    release = get_release(session, actor, release_id)
    authorize(actor, Permission.PRODUCT_READ, release.product_id)
    lock_row(session, Release.id, release.id)  # requests take turns, so the second finds the first's job
    running = active_job(session, EVALUATE_KIND, release.product_id, release_id=release.id)
    if running is not None:
        return running
    job, _ = enqueue(
        session, actor, kind=EVALUATE_KIND, arguments={"release_id": release.id}, product_id=release.product_id
    )
    record(
        session,
        actor,
        "gates:release:queue-evaluation",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={"job": job.id, "version": release.version},
    )
    return job


def _evaluate_job(context: JobContext) -> dict[str, Any]:
    """Gather in a read-only unit, judge and store in a short write: a fact changed meanwhile leaves the stored
    evaluation outdated (its digest names what it judged), never wrongly current."""
    release_id = int(context.arguments["release_id"])
    with context.read() as session:
        now = installation(session).now()
        facts = gather_facts(session, context.actor(session), release_id, now=now)
    with context.write() as session:
        evaluation = record_evaluation(session, context.actor(session), release_id, facts, now=now)
        result = {"evaluation": evaluation.id, "outcome": evaluation.outcome.value}
        context.finish(session, result)
    return result


def register_jobs() -> None:
    """Let workers evaluate release gates."""
    register(EVALUATE_KIND, _evaluate_job)


# --- with the facts gathered now ------------------------------------------------------------------------


def evaluate_release(
    session: Session, actor: Principal, release_id: int, *, now: datetime | None = None
) -> GateEvaluation:
    """Gather the release's facts now and record their evaluation."""
    now = now or installation(session).now()
    return record_evaluation(session, actor, release_id, gather_facts(session, actor, release_id, now=now), now=now)


def gate_status(session: Session, actor: Principal, release_id: int, *, now: datetime | None = None) -> GateStatus:
    """The release's gate status against its facts now."""
    now = now or installation(session).now()
    return gate_status_for(
        session, actor, release_id, digest=current_digest(session, actor, release_id, now=now), now=now
    )
