"""Checks of evidence input that need its product: per-kind details, interfaces, review dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import FieldError, Invalid
from ..products.models import Product, Release, ReleaseStatus
from .details import validate_details
from .inputs import EvidenceInput
from .models import EvidenceKind
from .scoping import product_intervals
from .standing import add_months, review_months
from .threat_dragon import MAX_MODEL_BYTES, parse_threat_dragon


def details_for(
    session: Session,
    product: Product | None,
    kind: EvidenceKind,
    data: EvidenceInput,
    effective: date,
    base: dict[str, Any] | None,
    errors: list[FieldError],
) -> dict[str, Any]:
    """The revision's details: the previous ones, a Threat Dragon import, then what was given; validated."""
    details = dict(base or {})
    if data.threat_dragon is not None:
        if kind is not EvidenceKind.THREAT_MODEL:
            errors.append(FieldError("threat_dragon", "a Threat Dragon model belongs to threat-model evidence"))
            return details
        raw = data.threat_dragon.stream.read(MAX_MODEL_BYTES + 1)
        data.threat_dragon.stream.seek(0)  # it is kept as an artifact too
        try:
            details.update(parse_threat_dragon(raw))
        except Invalid as exc:
            errors.extend(exc.errors)
            return details
    details.update(data.details or {})
    try:
        valid = validate_details(kind, details)
    except Invalid as exc:
        errors.extend(exc.errors)
        return details
    errors.extend(_context_problems(session, product, kind, valid, effective))
    return valid


def _context_problems(
    session: Session, product: Product | None, kind: EvidenceKind, details: dict[str, Any], effective: date
) -> list[FieldError]:
    """Rules a schema cannot know: the product's interfaces, and whether it has been released."""
    problems = []
    if kind is EvidenceKind.FUZZ_CAMPAIGN and product is not None:
        names = {i.name for i in product.interfaces}
        if details["target_interface"] not in names:
            problems.append(
                FieldError(
                    "details.target_interface",
                    f"not one of {product.name}'s interfaces ({', '.join(sorted(names)) or 'none'})",
                )
            )
    if kind is EvidenceKind.THREAT_MODEL and product is not None and _released(session, product):
        due = details.get("next_review_due")
        latest = add_months(effective, 12)
        if not due:
            problems.append(
                FieldError("details.next_review_due", "a released product's threat model needs its next review date")
            )
        elif date.fromisoformat(due) > latest:
            problems.append(
                FieldError("details.next_review_due", f"at most 12 months after the model ({latest.isoformat()})")
            )
    return problems


def _released(session: Session, product: Product) -> bool:
    return (
        session.scalar(
            select(Release.id)
            .where(Release.product_id == product.id, Release.status == ReleaseStatus.RELEASED)
            .limit(1)
        )
        is not None
    )


def review_due_from(data: EvidenceInput, details: dict[str, Any], fallback: date | None) -> date | None:
    """The review date: as given, else the details' next review, else `fallback`."""
    if data.review_due is not None:
        return data.review_due
    if details.get("next_review_due"):
        return date.fromisoformat(details["next_review_due"])
    return fallback


def review_due_problems(
    session: Session,
    product: Product | None,
    kind: EvidenceKind,
    details: dict[str, Any],
    effective: date,
    review_due: date | None,
) -> list[FieldError]:
    """The review date is what coverage expires on: never before the activity, never later than the kind's
    review interval allows (it may bring the review forward, not push it back), and for a released
    product's threat model no later than its next review (at most 12 months)."""
    if review_due is None:
        return []
    if review_due < effective:
        return [FieldError("review_due", "the review date is before the activity itself")]
    if kind is EvidenceKind.THREAT_MODEL and product is not None and _released(session, product):
        latest = min(
            add_months(effective, 12),
            date.fromisoformat(details["next_review_due"])
            if details.get("next_review_due")
            else add_months(effective, 12),
        )
        if review_due > latest:
            return [FieldError("review_due", f"at most the model's next review ({latest.isoformat()})")]
    months = review_months(kind, product_intervals(session, product.id) if product is not None else None)
    if months and review_due > add_months(effective, months):
        limit = add_months(effective, months).isoformat()
        return [FieldError("review_due", f"{kind.value} is reviewed at least every {months} months: at most {limit}")]
    return []
