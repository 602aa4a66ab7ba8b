"""Waivers, sign-off with its signed verdict, the check that lets a release ship, and the legacy import.

A security officer signs off a release's current, passing evaluation (waived rules count as passing); the
verdict is signed with the installation's key. Separation of duties: whoever submitted evidence, or recorded an
acceptance or a VEX decision, that any rule of the evaluation rests on cannot sign it off. Whoever waived a rule
may: waiving is the officer's own recorded judgement (with a justification and an expiry, audited), which the
issue has the signing officer make ("signs off a passing gate, or waives failing rules"). A release becomes
released only with a sign-off that still stands (products' `release_shipping` signal, connected in app.py);
releases shipped before gates existed are recorded by a legacy import that says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..boundary import text_problem
from ..cra.rules import clean_text, says_something
from ..db import lock_row
from ..errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from ..installation import installation
from ..products.models import Release, ReleaseStatus
from ..products.services import create_release, get_product, get_release, update_release
from .evaluations import (
    evaluation_outdated_because,
    newest_evaluation,
    policy_in_force,
    signoff_stands,
)
from .gathering import current_digest
from .models import GateEvaluation, GateSignoff, GateWaiver
from .policy import RULE_TITLES, RuleId
from .rules import Outcome, Waiver, waiver_problems
from .verdict import sign_verdict, verdict_statement

# A waiver is a stopgap, not a policy: it lasts at most a year, so every waiver is looked at again yearly.
MAX_WAIVER_DAYS = 365
MAX_TEXT = 2000
LEGACY_NOTE = "shipped before release gates existed: recorded without an evaluation or a signed verdict"


def _text(name: str, text: str, *, required: str | None) -> tuple[str, list[FieldError]]:
    """The text as kept, and why it cannot be (empty: it can)."""
    text = clean_text(text)
    if problem := text_problem(text, multi_line=True):
        return text, [FieldError(name, problem)]
    if len(text) > MAX_TEXT:
        return text, [FieldError(name, f"at most {MAX_TEXT} characters (this is {len(text)})")]
    if required and not says_something(text):
        return text, [FieldError(name, required)]
    return text, []


# --- waivers --------------------------------------------------------------------------------------------


def add_waiver(
    session: Session, actor: Principal, release_id: int, rule: str, justification: str, expires_at: datetime
) -> GateWaiver:
    """Waive a failing rule of the release until `expires_at` (officers; at most a year; never CRA I(2)(a));
    audited."""
    release = get_release(session, actor, release_id)
    authorize(actor, Permission.GATE_SIGNOFF, release.product_id)
    now = installation(session).now()
    try:
        rule_id = RuleId(rule)
    except ValueError:
        raise Invalid.field("rule", f"one of {', '.join(r.value for r in RuleId)}, not {rule!r}") from None
    justification, errors = _text(
        "justification", justification, required="a waiver needs a justification that says why the release may ship"
    )
    policy, _ = policy_in_force(session, release.product)
    # The justification was checked above, more strictly (invisible text says nothing).
    problems = waiver_problems(policy, Waiver(rule_id, justification, expires_at, actor.label), now)
    errors += [e for e in problems if e.field != "justification"]
    if expires_at.tzinfo is not None and expires_at > now + timedelta(days=MAX_WAIVER_DAYS):
        errors.append(FieldError("expires_at", f"a waiver lasts at most {MAX_WAIVER_DAYS} days"))
    if not errors:
        # A waiver answers a failure an officer has seen; waiving a rule that passes would excuse its next
        # failure unseen.
        newest = newest_evaluation(session, release.id)
        outcome = None if newest is None else _rule_outcome(newest, rule_id)
        if outcome not in (Outcome.FAIL, Outcome.WAIVED):
            seen = "the release has not been evaluated" if newest is None else f"it is {outcome}"
            errors.append(
                FieldError("rule", f"only a failing rule can be waived: {rule_id.value} does not fail ({seen})")
            )
    if errors:
        raise Invalid("the waiver was not added", errors=errors)
    waiver = GateWaiver(
        release_id=release.id,
        rule=rule_id,
        justification=justification,
        expires_at=expires_at,
        created_by=actor.label[:320],
        created_by_user_id=actor.user_id,
        created_at=now,
    )
    session.add(waiver)
    session.flush()
    record(
        session,
        actor,
        "gates:waiver:add",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={
            "waiver": waiver.id,
            "rule": rule_id.value,
            "justification": justification,
            "expires_at": expires_at.astimezone(UTC).isoformat(),
        },
    )
    return waiver


def _rule_outcome(evaluation: GateEvaluation, rule: RuleId) -> Outcome | None:
    return next((Outcome(r["outcome"]) for r in evaluation.results if r["rule"] == rule.value), None)


def get_waiver(session: Session, actor: Principal, waiver_id: int) -> GateWaiver:
    """A waiver of a release the actor may see, else NotFound."""
    waiver = session.get(GateWaiver, waiver_id)
    if waiver is None:
        raise NotFound("waiver not found")
    try:
        get_release(session, actor, waiver.release_id)
    except NotFound:
        raise NotFound("waiver not found") from None
    return waiver


def revoke_waiver(session: Session, actor: Principal, waiver_id: int) -> GateWaiver:
    """Revoke a waiver (officers); audited. Revoking it again changes nothing and audits nothing: the first
    revocation stands, with who made it."""
    waiver = get_waiver(session, actor, waiver_id)
    release = get_release(session, actor, waiver.release_id)
    authorize(actor, Permission.GATE_SIGNOFF, release.product_id)
    lock_row(session, Release.id, release.id)
    session.refresh(waiver)
    if waiver.revoked_at is not None:
        return waiver
    now = installation(session).now()
    waiver.revoked_at = now
    waiver.revoked_by = actor.label[:320]
    session.flush()
    record(
        session,
        actor,
        "gates:waiver:revoke",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={"waiver": waiver.id, "rule": waiver.rule.value, "expired": waiver.expires_at <= now},
    )
    return waiver


# --- sign-off -------------------------------------------------------------------------------------------


def _person(label: str) -> str:
    """Who a label names: the e-mail of `user:EMAIL` and `token:PREFIX:EMAIL`, else the label itself."""
    kind, _, rest = label.partition(":")
    if kind == "user":
        return rest.strip().lower()
    if kind == "token":
        return rest.rpartition(":")[2].strip().lower()
    return label.strip().lower()


def _actor_person(session: Session, actor: Principal) -> str:
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    return user.email.strip().lower() if user is not None else _person(actor.label)


def _own_rules(evaluation: GateEvaluation, person: str) -> list[str]:
    """The rules (not switched off) resting on evidence, acceptances or decisions this person recorded."""
    return [
        r["rule"]
        for r in evaluation.results
        if r["outcome"] != Outcome.OFF.value and any(_person(s) == person for s in r.get("submitters", ()))
    ]


def authorize_sign_off(actor: Principal, release: Release) -> None:
    """Raise unless the actor may sign off the release's gate: a named security officer (or administrator)."""
    authorize(actor, Permission.GATE_SIGNOFF, release.product_id)
    if actor.user_id is None:
        raise Forbidden("a sign-off names the officer who gives it: act as a user (--as EMAIL)")


def _predicate(evaluation: GateEvaluation, actor: Principal, note: str, now: datetime) -> dict[str, Any]:
    return {
        "outcome": evaluation.outcome.value,
        "evaluation_id": evaluation.id,
        "evaluated_at": evaluation.evaluated_at.astimezone(UTC).isoformat(),
        "valid_until": None if evaluation.valid_until is None else evaluation.valid_until.astimezone(UTC).isoformat(),
        "policy_digest": evaluation.policy_digest,
        "rules": [
            {"rule": r["rule"], "outcome": r["outcome"], "reasons": [reason["message"] for reason in r["reasons"]]}
            for r in evaluation.results
        ],
        "waivers": [
            {"rule": r["rule"], **{k: r["waiver"][k] for k in ("justification", "expires_at", "by")}}
            for r in evaluation.results
            if r["outcome"] == Outcome.WAIVED.value and r.get("waiver")
        ],
        "signed_by": actor.label,
        "signed_at": now.astimezone(UTC).isoformat(),
        "note": note,
    }


def sign_off(
    session: Session, actor: Principal, release_id: int, note: str, *, digest: str, now: datetime
) -> GateSignoff:
    """Sign off the release's current, passing evaluation (facts digest `digest` at `now`) with the
    installation's key; refused to anyone who submitted what a rule of it rests on. Audited."""
    release = get_release(session, actor, release_id)
    authorize_sign_off(actor, release)
    note, errors = _text("note", note, required=None)
    if errors:
        raise Invalid("the gate was not signed off", errors=errors)
    lock_row(session, Release.id, release.id)  # sign-offs of one release go one at a time
    evaluation = newest_evaluation(session, release.id)
    if evaluation is None:
        raise Invalid.field("evaluation", f"{release.version} has not been evaluated: evaluate it, then sign off")
    why = evaluation_outdated_because(session, release, evaluation, digest=digest, now=now)
    if why:
        raise Invalid.field("evaluation", f"the evaluation is outdated ({why}): evaluate again, then sign off")
    if evaluation.outcome is not Outcome.PASS:
        failing = ", ".join(r["rule"] for r in evaluation.results if r["outcome"] == Outcome.FAIL.value)
        raise Invalid.field("evaluation", f"the gate fails ({failing}): fix or waive what fails, then sign off")
    own = _own_rules(evaluation, _actor_person(session, actor))
    if own:
        titles = "; ".join(f"{rule} ({RULE_TITLES[RuleId(rule)]})" for rule in own)
        raise Forbidden(
            f"separation of duties: you submitted evidence or recorded a decision that {titles} rests on; "
            "another security officer must sign off"
        )
    already = session.scalar(select(GateSignoff.id).where(GateSignoff.evaluation_id == evaluation.id))
    if already is not None:
        raise Conflict(f"evaluation {evaluation.id} of {release.version} is already signed off")
    product = release.product
    statement = verdict_statement(
        release=release.version,
        product=product.name,
        snapshot_digest=evaluation.facts_digest,
        predicate=_predicate(evaluation, actor, note, now),
    )
    key = installation(session).keys.active()
    envelope = sign_verdict(statement, key.private)
    waived = sum(1 for r in evaluation.results if r["outcome"] == Outcome.WAIVED.value)
    signoff = GateSignoff(
        release_id=release.id,
        evaluation_id=evaluation.id,
        legacy=False,
        note=note,
        envelope=envelope.decode("ascii"),
        key_id=key.key_id,
        signed_by=actor.label[:320],
        signed_by_user_id=actor.user_id,
        signed_at=now,
        waivers=waived,
    )
    session.add(signoff)
    session.flush()
    record(
        session,
        actor,
        "gates:release:signoff",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={
            "signoff": signoff.id,
            "evaluation": evaluation.id,
            "facts_digest": evaluation.facts_digest,
            "policy_digest": evaluation.policy_digest,
            "waived": [r["rule"] for r in evaluation.results if r["outcome"] == Outcome.WAIVED.value],
            "key_id": key.key_id,
            "note": note,
        },
    )
    return signoff


def _signoffs(session: Session, release_id: int) -> Iterable[GateSignoff]:
    return session.scalars(
        select(GateSignoff).where(GateSignoff.release_id == release_id).order_by(GateSignoff.id.desc())
    )


def current_signoff(session: Session, release: Release, *, digest: str, now: datetime) -> GateSignoff | None:
    """A sign-off that lets the release ship: a legacy one, or one whose evaluation is still current."""
    return next(
        (s for s in _signoffs(session, release.id) if signoff_stands(session, release, s, digest=digest, now=now)), None
    )


def check_shipping(session: Session, *, release: Release, actor: Principal, status: ReleaseStatus) -> None:
    """Refuse to let the release become released (products' `release_shipping`) without a sign-off that stands."""
    signoffs = list(_signoffs(session, release.id))
    if any(s.legacy for s in signoffs):
        return  # shipped before gates existed; no facts to compare
    if not signoffs:
        raise Invalid.field(
            "status",
            f"{release.version} cannot be marked {status.value} without a signed-off release gate: evaluate it, "
            "fix or waive what fails, and have a security officer sign it off",
        )
    now = installation(session).now()
    digest = current_digest(session, actor, release.id, now=now)
    if current_signoff(session, release, digest=digest, now=now) is None:
        newest = signoffs[0].evaluation
        why = (
            evaluation_outdated_because(session, release, newest, digest=digest, now=now)
            if newest is not None
            else "it no longer stands"
        )
        raise Invalid.field(
            "status",
            f"{release.version} cannot be marked {status.value}: its gate sign-off is outdated ({why}); "
            "evaluate it again and have a security officer sign it off",
        )


def sign_off_release(session: Session, actor: Principal, release_id: int, note: str = "") -> GateSignoff:
    """Sign off the release's gate against its facts now."""
    now = installation(session).now()
    return sign_off(
        session, actor, release_id, note, digest=current_digest(session, actor, release_id, now=now), now=now
    )


def verdict_envelope(session: Session, actor: Principal, signoff_id: int) -> bytes:
    """The signed verdict of a sign-off (a DSSE envelope, JSON), for download."""
    signoff = session.get(GateSignoff, signoff_id)
    if signoff is None:
        raise NotFound("sign-off not found")
    try:
        get_release(session, actor, signoff.release_id)
    except NotFound:
        raise NotFound("sign-off not found") from None
    if signoff.legacy or not signoff.envelope:
        raise NotFound("a legacy sign-off has no signed verdict: the release shipped before gates existed")
    return signoff.envelope.encode("ascii")


# --- releases shipped before gates existed --------------------------------------------------------------


def import_legacy_release(
    session: Session,
    actor: Principal,
    product_id: int,
    version: str,
    *,
    release_date: date | None,
    reason: str,
    git_ref: str = "",
) -> Release:
    """Record a release shipped before gates existed as released, with a legacy sign-off saying so (officers,
    administrators); an existing release that has not shipped is taken. Audited."""
    product = get_product(session, actor, product_id)
    authorize(actor, Permission.GATE_SIGNOFF, product.id)
    reason, errors = _text("reason", reason, required="a legacy import says why the release has no gate")
    if errors:
        raise Invalid("the release was not imported", errors=errors)
    release = session.scalar(select(Release).where(Release.product_id == product.id, Release.version == version))
    if release is not None and release.status in (ReleaseStatus.RELEASED, ReleaseStatus.WITHDRAWN):
        raise Conflict(
            f"{product.name} {version} is already {release.status.value}",
            errors=[FieldError("version", f"already {release.status.value}")],
        )
    if release is None:
        release = create_release(
            session, actor, product.id, version=version, release_date=release_date, git_ref=git_ref
        )
    now = installation(session).now()
    signoff = GateSignoff(
        release_id=release.id,
        evaluation_id=None,
        legacy=True,
        note=reason,
        envelope="",
        key_id="",
        signed_by=actor.label[:320],
        signed_by_user_id=actor.user_id,
        signed_at=now,
        waivers=0,
    )
    session.add(signoff)
    session.flush()
    record(
        session,
        actor,
        "gates:release:legacy-import",
        target_type="release",
        target_id=release.id,
        product_id=product.id,
        details={"version": release.version, "signoff": signoff.id, "reason": reason, "legacy": LEGACY_NOTE},
    )
    return update_release(
        session, actor, release.id, status=ReleaseStatus.RELEASED.value, release_date=release_date,
        git_ref=git_ref or None,
    )  # fmt: skip
