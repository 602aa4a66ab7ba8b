"""A product's cybersecurity risk assessment (revisions) and how its support period was set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..audit.services import record
from ..auth import Principal
from ..boundary import day_problem
from ..db import lock_row, locked, utcnow
from ..errors import FieldError, Invalid, NotFound
from ..evidence.models import Evidence
from ..evidence.queries import get_evidence
from ..evidence.vocabulary import EvidenceKind
from ..products.models import Product, Release
from ..products.services import get_product, list_releases
from . import rules
from .applicability import authorize_keep_file
from .models import RiskAssessment, SupportPeriod

RISK_TEXT_MAX = 20_000  # each text of the risk assessment
SUPPORT_TEXT_MAX = 4000  # how the support period was set, why it is shorter
RISK_TEXT_FIELDS = tuple(name for name, _label in rules.RISK_FIELDS)
PRECISIONS = ("month", "day")


def _too_long(name: str, text: str, limit: int) -> FieldError | None:
    return FieldError(name, f"at most {limit} characters (this is {len(text)})") if len(text) > limit else None


# --- the risk assessment (Art. 13(2)-(3)) ------------------------------------------------------------------


@dataclass(frozen=True)
class RiskAssessmentInput:
    """What a revision of the risk assessment states."""

    intended_purpose: str = ""
    foreseeable_use: str = ""
    foreseeable_misuse: str = ""
    operational_environment: str = ""
    assets: str = ""
    expected_use_months: int | None = None
    threat_model_evidence_id: int | None = None  # the product's threat model (an evidence item) it rests on


def _threat_model_problem(session: Session, actor: Principal, product_id: int, evidence_id: int) -> str | None:
    """Why the evidence item cannot be the product's threat model (None: it can)."""
    try:
        evidence = get_evidence(session, actor, evidence_id)
    except NotFound:  # another product's item the actor may not see reads like one that does not exist
        return f"there is no evidence item {evidence_id}"
    if evidence.product_id != product_id:
        return (
            f"evidence item {evidence_id} is not this product's: the assessment rests on the product's own threat model"
        )
    if evidence.kind is not EvidenceKind.THREAT_MODEL:
        return f"evidence item {evidence_id} is not a threat model (its kind is {evidence.kind.value})"
    return None


def _current(session: Session, product_id: int) -> RiskAssessment | None:
    return session.scalar(
        select(RiskAssessment)
        .where(RiskAssessment.product_id == product_id)
        .order_by(RiskAssessment.number.desc())
        .limit(1)
    )


def _risk_values(revision: RiskAssessment | RiskAssessmentInput) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(revision, name) for name in RISK_TEXT_FIELDS}
    values["expected_use_months"] = revision.expected_use_months
    values["threat_model_evidence_id"] = revision.threat_model_evidence_id
    return values


def record_risk_assessment(
    session: Session, actor: Principal, product_id: int, data: RiskAssessmentInput
) -> RiskAssessment:
    """Record the next revision of the product's risk assessment (its officers); earlier revisions are kept.
    Input that states what the current revision states records nothing and returns that revision."""
    product = get_product(session, actor, product_id)
    authorize_keep_file(actor, product.id)
    texts = {name: rules.clean_text(getattr(data, name)) for name in RISK_TEXT_FIELDS}
    errors = [e for name, text in texts.items() if (e := _too_long(name, text, RISK_TEXT_MAX))]
    if not texts["intended_purpose"]:
        errors.append(
            FieldError("intended_purpose", "state the product's intended purpose: the assessment starts there")
        )
    use_problem = rules.expected_use_problem(data.expected_use_months)
    if use_problem:
        errors.append(FieldError("expected_use_months", use_problem))
    if data.threat_model_evidence_id is not None:
        model_problem = _threat_model_problem(session, actor, product.id, data.threat_model_evidence_id)
        if model_problem:
            errors.append(FieldError("threat_model_evidence_id", model_problem))
    if errors:
        raise Invalid("the risk assessment was not recorded", errors=errors)
    wanted = RiskAssessmentInput(
        **texts, expected_use_months=data.expected_use_months, threat_model_evidence_id=data.threat_model_evidence_id
    )
    lock_row(session, Product.id, product.id)  # two officers at once: the second numbers after the first
    current = _current(session, product.id)
    before = _risk_values(current if current is not None else RiskAssessmentInput())  # first: what it states
    after = _risk_values(wanted)
    if current is not None and before == after:
        return current
    number = current.number + 1 if current is not None else 1
    revision = RiskAssessment(product_id=product.id, number=number, created_by=actor.label, **after)
    session.add(revision)
    session.flush()
    record(
        session,
        actor,
        "cra:risk:record",
        target_type="cra_risk_assessment",
        target_id=revision.id,
        product_id=product.id,
        details={
            "number": revision.number,
            # The texts stay in the revision, which is never changed; the event names what changed.
            "changed": sorted(name for name, value in after.items() if before[name] != value),
            "expected_use_months": revision.expected_use_months,
            "threat_model_evidence_id": revision.threat_model_evidence_id,
        },
    )
    return revision


def risk_assessments(session: Session, actor: Principal, product_id: int) -> list[RiskAssessment]:
    """The revisions of the product's risk assessment, newest first."""
    product = get_product(session, actor, product_id)
    query = select(RiskAssessment).where(RiskAssessment.product_id == product.id)
    return list(session.scalars(query.order_by(RiskAssessment.number.desc())))


def current_risk_assessment(session: Session, actor: Principal, product_id: int) -> RiskAssessment | None:
    """The product's current (newest) risk assessment revision, None when none is recorded."""
    return _current(session, get_product(session, actor, product_id).id)


def risk_assessment_revision(session: Session, actor: Principal, product_id: int, number: int) -> RiskAssessment:
    """One revision of the product's risk assessment by its number, else NotFound."""
    product = get_product(session, actor, product_id)
    revision = session.scalar(
        select(RiskAssessment).where(RiskAssessment.product_id == product.id, RiskAssessment.number == number)
    )
    if revision is None:
        raise NotFound(f"{product.name} has no risk assessment revision {number}")
    return revision


def threat_models(session: Session, actor: Principal, product_id: int) -> list[Evidence]:
    """The product's threat models (evidence items of that kind) a risk assessment may rest on, newest first."""
    product = get_product(session, actor, product_id)
    query = select(Evidence).where(Evidence.product_id == product.id, Evidence.kind == EvidenceKind.THREAT_MODEL)
    return list(session.scalars(query.options(selectinload(Evidence.revisions)).order_by(Evidence.id.desc())))


def citing_revisions(session: Session, actor: Principal, evidence: Evidence) -> list[RiskAssessment]:
    """The risk assessment revisions that rest on a threat model, newest first (none for other evidence)."""
    if evidence.kind is not EvidenceKind.THREAT_MODEL or evidence.product_id is None:
        return []
    get_product(session, actor, evidence.product_id)
    query = select(RiskAssessment).where(RiskAssessment.threat_model_evidence_id == evidence.id)
    return list(session.scalars(query.order_by(RiskAssessment.number.desc())))


# --- the support period (Art. 13(8)) -----------------------------------------------------------------------


@dataclass(frozen=True)
class SupportPeriodInput:
    """How the support period was set; an end stated as a month ends with that month's last day."""

    starts_on: date | None  # placed on the market
    ends_on: date | None
    ends_precision: str = "month"  # "month" or "day"
    expected_use_months: int | None = None
    method: str = ""  # how the period was set
    shorter_reason: str = ""  # why it is under 5 years (required then)
    published_where: str = ""  # a URL, or a short description


SUPPORT_FIELDS = (
    "starts_on",
    "ends_on",
    "ends_precision",
    "expected_use_months",
    "method",
    "shorter_reason",
    "published_where",
)


def _support_values(period: SupportPeriod | SupportPeriodInput, product_end: date | None) -> dict[str, Any]:
    """What a support period states, with the product's end date beside it (a change of either is a change)."""
    return {**{name: getattr(period, name) for name in SUPPORT_FIELDS}, "product_support_period_end": product_end}


def _checked_support(data: SupportPeriodInput) -> SupportPeriodInput:
    """The input as recorded (a month's end normalised, texts cleaned), else Invalid naming every field."""
    errors: list[FieldError] = []
    ends_on = data.ends_on
    if data.ends_precision not in PRECISIONS:
        errors.append(FieldError("ends_precision", f"{data.ends_precision!r} is neither month nor day"))
    elif ends_on is not None and data.ends_precision == "month":
        ends_on = rules.end_of_month(ends_on.year, ends_on.month)
    dated = True
    for name, day in (("starts_on", data.starts_on), ("ends_on", ends_on)):
        day_error = day_problem(day) if day is not None else None
        if day_error:
            errors.append(FieldError(name, day_error))
            dated = False
    method, reason, published = (
        rules.clean_text(data.method),
        rules.clean_text(data.shorter_reason),
        data.published_where.strip(),
    )
    for name, text in (("method", method), ("shorter_reason", reason)):
        error = _too_long(name, text, SUPPORT_TEXT_MAX)
        if error:
            errors.append(error)
    published_problem = rules.published_where_problem(published)
    if published_problem:
        errors.append(FieldError("published_where", published_problem))
    checked = SupportPeriodInput(
        data.starts_on, ends_on, data.ends_precision, data.expected_use_months, method, reason, published
    )
    if dated:
        errors += rules.support_period_problems(_facts(checked, ends_on))
    if errors:
        raise Invalid("the support period was not recorded", errors=errors)
    return checked


def _facts(period: SupportPeriodInput | SupportPeriod, ends_on: date | None) -> rules.SupportPeriodFacts:
    return rules.SupportPeriodFacts(
        period.starts_on,
        ends_on,
        period.expected_use_months,
        period.method,
        period.shorter_reason,
        period.published_where,
    )


def record_support_period(
    session: Session, actor: Principal, product_id: int, data: SupportPeriodInput
) -> SupportPeriod:
    """Record how the product's support period was set (its officers) and make its end the product's support
    period end; input that changes nothing records nothing."""
    product = get_product(session, actor, product_id)
    authorize_keep_file(actor, product.id)
    checked = _checked_support(data)
    assert checked.starts_on is not None and checked.ends_on is not None  # the rules require both
    # The product form changes the same end date: one after the other, each seeing what the other committed.
    product = locked(session, product)
    period = session.get(SupportPeriod, product.id)
    before = _support_values(period, product.support_period_end) if period is not None else None
    after = _support_values(checked, checked.ends_on)
    if period is not None and before == after:
        return period
    if period is None:
        period = SupportPeriod(product_id=product.id)
        session.add(period)
    for name in SUPPORT_FIELDS:
        setattr(period, name, after[name])
    period.updated_by, period.updated_at = actor.label, utcnow()
    product.support_period_end = checked.ends_on
    session.flush()
    record(
        session,
        actor,
        "cra:support:record",
        target_type="cra_support_period",
        target_id=product.id,
        product_id=product.id,
        details={"old": before, "new": after},
    )
    return period


def support_period(session: Session, actor: Principal, product_id: int) -> SupportPeriod | None:
    """How the product's support period was set, None when it is not recorded."""
    return session.get(SupportPeriod, get_product(session, actor, product_id).id)


def support_period_input(session: Session, actor: Principal, product_id: int) -> SupportPeriodInput | None:
    """What confirming the recorded support period again states: the record, with the end in force (the product's,
    to the day) where the product form changed it; None when nothing is recorded."""
    product = get_product(session, actor, product_id)
    period = session.get(SupportPeriod, product.id)
    if period is None:
        return None
    values = {name: getattr(period, name) for name in SUPPORT_FIELDS}
    if product.support_period_end != period.ends_on:
        values["ends_on"], values["ends_precision"] = product.support_period_end, "day"
    return SupportPeriodInput(**values)


def support_period_facts(session: Session, actor: Principal, product_id: int) -> rules.SupportPeriodFacts | None:
    """The support period as the file judges it: the record with the end date in force (the product's)."""
    product = get_product(session, actor, product_id)
    period = session.get(SupportPeriod, product.id)
    return _facts(period, product.support_period_end) if period is not None else None


@dataclass(frozen=True)
class UpdateAvailability:
    """How long a shipped release (a security update, or the release placed on the market) stays available."""

    release_id: int
    version: str
    released_on: date
    available_until: date  # 10 years after its release or the end of support, whichever is later (Art. 13(9))


@dataclass(frozen=True)
class SupportObligations:
    """What the support period obliges: until when documentation and each update are kept, and what an assessor
    would ask about (allowed, but worth an answer)."""

    period: SupportPeriod
    ends_on: date | None  # the end in force: the product's support period end
    months: int | None  # the period's length in whole months
    documentation_retained_until: date  # 10 years after placing on the market or the end of support (Art. 13(13))
    updates: tuple[UpdateAvailability, ...]
    warnings: tuple[str, ...]


def support_obligations(session: Session, actor: Principal, product_id: int) -> SupportObligations | None:
    """The product's support period with what follows from it, None when it is not recorded. The product's
    support period end is the end in force: where the product form changed it after the record, the obligations
    follow the product's date and a warning asks for the record to be confirmed again."""
    product = get_product(session, actor, product_id)
    period = session.get(SupportPeriod, product.id)
    if period is None:
        return None
    ends = product.support_period_end
    shipped = [release for release in list_releases(session, actor, product.id) if release.shipped]
    updates = tuple(
        UpdateAvailability(r.id, r.version, r.release_date, rules.update_available_until(r.release_date, ends))
        for r in shipped
        if r.release_date is not None
    )
    months = rules.months_between(period.starts_on, ends) if ends is not None and ends > period.starts_on else None
    return SupportObligations(
        period=period,
        ends_on=ends,
        months=months,
        documentation_retained_until=rules.documentation_retained_until(period.starts_on, ends),
        updates=updates,
        warnings=tuple(_warnings(period, ends, months, _current(session, product.id), shipped)),
    )


def _warnings(
    period: SupportPeriod,
    ends: date | None,
    months: int | None,
    risk: RiskAssessment | None,
    shipped: list[Release],
) -> list[str]:
    """What is allowed but an assessor would ask about."""
    found = []
    recorded_end = rules.stated_end(period.ends_on, period.ends_precision)
    if ends is None:
        found.append(
            f"the product's support period end was cleared on the product form after this record set {recorded_end}: "
            "record the support period again"
        )
    elif ends != period.ends_on:
        found.append(
            f"the product's support period end ({ends.isoformat()}) was changed on the product form after this record "
            f"set {recorded_end}: the product's date is the end in force and these obligations follow it; record the "
            "support period again so that how it was set covers that date"
        )
        found += [f"with the end in force, {e.message}" for e in rules.support_period_problems(_facts(period, ends))]
    use = risk.expected_use_months if risk is not None else None
    if risk is not None and use is not None and months is not None and months < use:
        found.append(
            f"the support period ({rules.describe_months(months)}) is shorter than the expected use time in risk "
            f"assessment revision {risk.number} ({rules.describe_months(use)})"
        )
    if risk is not None and use is not None and period.expected_use_months not in (None, use):
        found.append(
            f"the support period was set from an expected use time of "
            f"{rules.describe_months(period.expected_use_months or 0)}; risk assessment revision {risk.number} states "
            f"{rules.describe_months(use)}"
        )
    for release in shipped:
        if release.release_date is None:
            found.append(
                f"{release.version} is released without a release date: how long its updates stay available "
                "cannot be worked out"
            )
        elif release.release_date < period.starts_on:
            found.append(
                f"{release.version} was released on {release.release_date.isoformat()}, before the support period "
                f"starts ({period.starts_on.isoformat()}): was the product placed on the market earlier?"
            )
    return found
