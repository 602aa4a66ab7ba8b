"""A product's settings for 4-1 coverage: requirements scoped out (SM-5) and review intervals per kind."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.notifications import Subject, request_review, resolve_requests, tell_decision
from ..audit.services import record
from ..auth import Permission, Principal, authorize, authorize_second_person, permits
from ..boundary import parse_whole
from ..catalog.models import CatalogEdition, Requirement
from ..catalog.rules import STANDARD_4_1, ItemKind
from ..db import lock_row, locked, utcnow
from ..errors import FieldError, Invalid, NotFound
from ..products.models import Product
from ..products.services import authorize_manage_product, get_product
from .models import ProductReviewInterval, RequirementScoping, ScopingState
from .standing import DEFAULT_REVIEW_MONTHS, review_months
from .vocabulary import EvidenceKind, parse_kind

MAX_JUSTIFICATION = 5000
MAX_MONTHS = 120


def edition_4_1(product: Product) -> CatalogEdition | None:
    """The IEC 62443-4-1 edition the product is assessed against."""
    return next((pe.edition for pe in product.editions if pe.standard == STANDARD_4_1), None)


def _process_requirements(session: Session, product: Product) -> list[str]:
    edition = edition_4_1(product)
    return list(
        session.scalars(
            select(Requirement.ref)
            .where(
                Requirement.edition_id == (edition.id if edition else -1),
                Requirement.kind == ItemKind.PROCESS_REQUIREMENT,
            )
            .order_by(Requirement.position)
        )
    )


def active_scoping(session: Session, product_id: int) -> dict[str, RequirementScoping]:
    """The scoping-outs in force or awaiting acceptance, by requirement (no check: callers have one)."""
    rows = session.scalars(
        select(RequirementScoping).where(
            RequirementScoping.product_id == product_id, RequirementScoping.state != ScopingState.WITHDRAWN
        )
    )
    return {row.requirement_ref: row for row in rows}


def list_scoping(session: Session, actor: Principal, product_id: int) -> list[RequirementScoping]:
    """Every scoping-out of the product, withdrawn ones included, newest first."""
    product = get_product(session, actor, product_id)
    return list(
        session.scalars(
            select(RequirementScoping)
            .where(RequirementScoping.product_id == product.id)
            .order_by(RequirementScoping.id.desc())
        )
    )


def get_scoping(session: Session, actor: Principal, scoping_id: int) -> RequirementScoping:
    """A scoping-out the actor may see, else NotFound."""
    row = session.get(RequirementScoping, scoping_id)
    if row is None or not actor.can_see(row.product_id):
        raise NotFound("scoping not found")
    return row


def authorize_scope(actor: Principal, product: Product) -> None:
    """Raise unless the actor may scope requirements out of the product or withdraw that (its officers)."""
    authorize_manage_product(actor, product)


def may_scope(actor: Principal, product: Product) -> bool:
    """Whether the actor may scope requirements out of the product."""
    return permits(authorize_scope, actor, product)


def propose_scoping(
    session: Session, actor: Principal, product_id: int, *, requirement: str, justification: str
) -> RequirementScoping:
    """Scope a 4-1 requirement out of the product with its justification; it counts once accepted."""
    product = get_product(session, actor, product_id)
    authorize_scope(actor, product)
    ref = requirement.strip().upper()
    known = _process_requirements(session, product)
    errors = []
    if ref not in known:
        errors.append(
            FieldError(
                "requirement", f"{ref or 'nothing'} is not an IEC 62443-4-1 requirement of {product.name}'s edition"
            )
        )
    text = justification.strip()
    if not text or len(text) > MAX_JUSTIFICATION:
        errors.append(FieldError("justification", f"a justification of 1-{MAX_JUSTIFICATION:,} characters is required"))
    if errors:
        raise Invalid("the requirement was not scoped out", errors=errors)
    lock_row(session, Product.id, product.id)  # one active scoping-out per requirement, however many propose it
    if ref in active_scoping(session, product.id):
        raise Invalid.field("requirement", f"{ref} is already scoped out of {product.name} (withdraw that first)")
    row = RequirementScoping(
        product_id=product.id,
        requirement_ref=ref,
        justification=text,
        state=ScopingState.PROPOSED,
        set_by_user_id=actor.user_id,
        set_by=actor.label,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        "evidence:scoping:propose",
        target_type="requirement_scoping",
        target_id=row.id,
        product_id=product.id,
        details={"requirement": ref, "justification": text},
    )
    message = f"{ref} scoped out of {product.name}: awaits acceptance"
    request_review(session, actor, Subject("requirement_scoping", row.id, product.id), message)
    return row


def authorize_review_scoping(actor: Principal, row: RequirementScoping) -> None:
    """Raise unless the actor is one who accepts scoping-outs of the product: its security officers or an
    administrator."""
    authorize(actor, Permission.EVIDENCE_REVIEW, row.product_id)


def authorize_accept_scoping(actor: Principal, row: RequirementScoping) -> None:
    """Raise unless the actor may accept the scoping-out now: the product's security officers or an
    administrator, as a named user other than the one who set it (the review rule of evidence)."""
    authorize_review_scoping(actor, row)
    authorize_second_person(
        actor,
        row.set_by_user_id,
        unnamed="accepting a scoping-out needs a named user (on the command line: --as EMAIL)",
        own="nobody accepts their own scoping-out",
    )
    if row.state is not ScopingState.PROPOSED:
        raise Invalid.field("state", f"only a proposed scoping-out is accepted; this one is {row.state.value}")


def may_accept_scoping(actor: Principal, row: RequirementScoping) -> bool:
    """Whether the actor may accept the scoping-out now."""
    return permits(authorize_accept_scoping, actor, row)


def accept_scoping(session: Session, actor: Principal, scoping_id: int) -> RequirementScoping:
    """Accept a proposed scoping-out: the requirement leaves the product's denominator."""
    row = locked(session, get_scoping(session, actor, scoping_id))  # an acceptance and a withdrawal take turns
    authorize_accept_scoping(actor, row)
    row.state, row.accepted_by, row.accepted_at = ScopingState.ACCEPTED, actor.label, utcnow()
    record(
        session,
        actor,
        "evidence:scoping:accept",
        target_type="requirement_scoping",
        target_id=row.id,
        product_id=row.product_id,
        details={"requirement": row.requirement_ref},
    )
    message = f"{row.requirement_ref} scoped out: accepted"
    tell_decision(session, actor, row.set_by_user_id, Subject("requirement_scoping", row.id, row.product_id), message)
    return row


def withdraw_scoping(session: Session, actor: Principal, scoping_id: int, *, reason: str) -> RequirementScoping:
    """Withdraw a scoping-out (proposed or accepted): the requirement counts again."""
    row = locked(session, get_scoping(session, actor, scoping_id))  # an acceptance and a withdrawal take turns
    product = get_product(session, actor, row.product_id)
    authorize_scope(actor, product)
    if row.state is ScopingState.WITHDRAWN:
        raise Invalid.field("state", "this scoping-out is already withdrawn")
    if not reason.strip() or len(reason) > MAX_JUSTIFICATION:
        raise Invalid.field("reason", f"a reason of 1-{MAX_JUSTIFICATION:,} characters is required")
    row.state, row.withdrawn_by, row.withdrawn_at = ScopingState.WITHDRAWN, actor.label, utcnow()
    row.withdrawal_reason = reason.strip()
    record(
        session,
        actor,
        "evidence:scoping:withdraw",
        target_type="requirement_scoping",
        target_id=row.id,
        product_id=row.product_id,
        details={"requirement": row.requirement_ref, "reason": row.withdrawal_reason},
    )
    # A withdrawn proposal awaits nobody's acceptance any more.
    resolve_requests(session, actor, Subject("requirement_scoping", row.id, row.product_id))
    return row


@dataclass(frozen=True)
class ReviewInterval:
    """One kind's review interval for a product: the default, the product's setting, what applies."""

    kind: EvidenceKind
    default: int | None
    product_set: bool
    months: int | None  # what applies; None: evidence of the kind does not expire


def product_intervals(session: Session, product_id: int) -> dict[str, int | None]:
    """The product's own intervals by kind (no check: callers have one)."""
    rows = session.scalars(select(ProductReviewInterval).where(ProductReviewInterval.product_id == product_id))
    return {row.kind.value: row.months for row in rows}


def list_review_intervals(session: Session, actor: Principal, product_id: int) -> list[ReviewInterval]:
    """Every kind's review interval for the product."""
    product = get_product(session, actor, product_id)
    own = product_intervals(session, product.id)
    return [
        ReviewInterval(kind, DEFAULT_REVIEW_MONTHS.get(kind), kind.value in own, review_months(kind, own))
        for kind in EvidenceKind
    ]


def _interval_to_change(session: Session, product_id: int, kind: EvidenceKind) -> ProductReviewInterval | None:
    """The product's own interval for the kind as the change before this one left it: the product's interval
    changes take turns (its row is locked), so two at once neither insert the row twice nor audit a stale value."""
    lock_row(session, Product.id, product_id)
    return session.get(ProductReviewInterval, (product_id, kind), populate_existing=True)


def set_review_interval(
    session: Session, actor: Principal, product_id: int, *, kind: str, months: int | None
) -> ReviewInterval:
    """Set a kind's review interval for the product (months 1-120; None: it does not expire)."""
    product = get_product(session, actor, product_id)
    authorize_manage_product(actor, product)
    evidence_kind = parse_kind(kind)
    if months is not None and not 1 <= months <= MAX_MONTHS:
        raise Invalid.field("months", f"a review interval is 1-{MAX_MONTHS} months, or none")
    row = _interval_to_change(session, product.id, evidence_kind)
    before = row.months if row is not None else DEFAULT_REVIEW_MONTHS.get(evidence_kind)
    if row is None:
        row = ProductReviewInterval(product_id=product.id, kind=evidence_kind)
        session.add(row)
    row.months = months
    session.flush()
    record(
        session,
        actor,
        "evidence:interval:set",
        target_type="product_review_interval",
        target_id=f"{product.id}:{evidence_kind.value}",
        product_id=product.id,
        details={"kind": evidence_kind.value, "months": months, "before": before},
    )
    return ReviewInterval(evidence_kind, DEFAULT_REVIEW_MONTHS.get(evidence_kind), True, months)


def reset_review_interval(session: Session, actor: Principal, product_id: int, *, kind: str) -> ReviewInterval:
    """Go back to the default interval of a kind for the product."""
    product = get_product(session, actor, product_id)
    authorize_manage_product(actor, product)
    evidence_kind = parse_kind(kind)
    row = _interval_to_change(session, product.id, evidence_kind)
    default = DEFAULT_REVIEW_MONTHS.get(evidence_kind)
    if row is not None:
        before = row.months
        session.delete(row)
        session.flush()
        record(
            session,
            actor,
            "evidence:interval:reset",
            target_type="product_review_interval",
            target_id=f"{product.id}:{evidence_kind.value}",
            product_id=product.id,
            details={"kind": evidence_kind.value, "months": default, "before": before},
        )
    return ReviewInterval(evidence_kind, default, False, default)


def change_review_interval(
    session: Session, actor: Principal, product_id: int, *, kind: str, value: str, field: str = "months"
) -> ReviewInterval:
    """Set a kind's interval as typed on a form or a command line: months, "never", or "default"."""
    text = value.strip().lower()
    if text == "default":
        return reset_review_interval(session, actor, product_id, kind=kind)
    months = parse_whole(text)
    if text == "never" or months is not None:
        return set_review_interval(session, actor, product_id, kind=kind, months=months)
    raise Invalid.field(field, f"a number of months (1-{MAX_MONTHS}), never, or default")
