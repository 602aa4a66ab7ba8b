"""Claim operations, the vector and gap of a release, spreadsheet import, and copying claims forward."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..catalog.models import CatalogEdition, Requirement
from ..db import utcnow
from ..errors import FieldError, Invalid, NotFound
from ..evidence.models import Evidence, EvidenceScope
from ..evidence.standing import expired
from ..evidence.vocabulary import ReviewState
from ..products.models import Product, Release
from ..products.rules import previous_release
from ..products.services import get_product, get_release, list_releases
from .models import Claim, ClaimEvidence
from .rules import Applicability, ClaimFact, ClaimStatus, Verification, achieved_vector, applicable, gap, level_matrix

STANDARD_4_2 = "IEC 62443-4-2"
CLAIM_FIELDS = ("requirement", "status", "verification", "justification", "countermeasure", "notes", "evidence")


@dataclass(frozen=True)
class ProductCatalog:
    """The 4-2 edition a product is assessed against, what applies to its type, and the rows by id."""

    edition: CatalogEdition | None
    applicability: Applicability
    rows: dict[str, Requirement]


def product_catalog(session: Session, product: Product) -> ProductCatalog:
    """What of IEC 62443-4-2 applies to the product's component type."""
    edition = next((pe.edition for pe in product.editions if pe.standard == STANDARD_4_2), None)
    if edition is None:
        return ProductCatalog(None, Applicability([], {}, []), {})
    rows = list(
        session.scalars(select(Requirement).where(Requirement.edition_id == edition.id).order_by(Requirement.position))
    )
    return ProductCatalog(
        edition, applicable([r.item() for r in rows], product.component_type.value), {r.ref: r for r in rows}
    )


@dataclass(frozen=True)
class ClaimInput:
    """A claim as a door (form, API, spreadsheet row) gives it."""

    status: str
    verification: str | None = None
    justification: str = ""
    countermeasure: str = ""
    notes: str = ""
    evidence_ids: Sequence[int] = ()


def _claim_problems(
    session: Session, release: Release, catalog: ProductCatalog, ref: str, data: ClaimInput, prefix: str = ""
) -> list[FieldError]:
    """Everything wrong with one claim, without writing anything."""
    product = release.product
    errors: list[FieldError] = []
    applicable_refs = {item.ref for item in catalog.applicability.items}
    if ref not in catalog.rows:
        errors.append(FieldError(f"{prefix}requirement", f"unknown requirement {ref!r}"))
    elif ref not in applicable_refs:
        via = catalog.applicability.resolved.get(ref)
        reason = f"claim {via} instead" if via else f"it does not apply to a {product.component_type.value}"
        errors.append(FieldError(f"{prefix}requirement", f"{ref}: {reason}"))
    try:
        status = ClaimStatus(data.status)
    except ValueError:
        errors.append(
            FieldError(
                f"{prefix}status", f"unknown status {data.status!r} (one of: {', '.join(s.value for s in ClaimStatus)})"
            )
        )
        status = None
    if data.verification:
        try:
            Verification(data.verification)
        except ValueError:
            errors.append(FieldError(f"{prefix}verification", f"unknown verification {data.verification!r}"))
    if status is ClaimStatus.NOT_APPLICABLE and not data.justification.strip():
        errors.append(FieldError(f"{prefix}justification", "“not applicable” needs a justification"))
    if status is ClaimStatus.COMPENSATED and not data.countermeasure.strip():
        errors.append(FieldError(f"{prefix}countermeasure", "a compensating countermeasure must be described"))
    for name, text in (
        ("justification", data.justification),
        ("countermeasure", data.countermeasure),
        ("notes", data.notes),
    ):
        if len(text) > 10_000:
            errors.append(FieldError(f"{prefix}{name}", "at most 10,000 characters"))
    for evidence_id in data.evidence_ids:
        evidence = session.get(Evidence, evidence_id)
        if evidence is None or evidence.product_id not in (None, product.id):
            errors.append(FieldError(f"{prefix}evidence", f"no evidence {evidence_id} for {product.name}"))
        elif not covers(evidence, release):
            errors.append(
                FieldError(f"{prefix}evidence", f"evidence {evidence_id} does not cover release {release.version}")
            )
    return errors


def covers(evidence: Evidence, release: Release) -> bool:
    """Whether evidence speaks for a release: product- or organisation-wide, or naming that release."""
    if evidence.scope is not EvidenceScope.RELEASES:
        return True
    return any(link.release_id == release.id for link in evidence.current.release_links)


def _snapshot(claim: Claim | None) -> dict[str, Any] | None:
    if claim is None:
        return None
    return {
        "status": claim.status.value,
        "verification": claim.verification.value if claim.verification else None,
        "justification": claim.justification,
        "countermeasure": claim.countermeasure,
        "notes": claim.notes,
        "evidence": sorted(link.evidence_id for link in claim.evidence_links),
    }


def _apply(session: Session, actor: Principal, release: Release, requirement: Requirement, data: ClaimInput) -> Claim:
    claim = session.scalar(select(Claim).where(Claim.release_id == release.id, Claim.requirement_id == requirement.id))
    old = _snapshot(claim)
    if claim is None:
        claim = Claim(release_id=release.id, requirement_id=requirement.id, updated_by=actor.label)
        session.add(claim)
    claim.status = ClaimStatus(data.status)
    claim.verification = Verification(data.verification) if data.verification else None
    claim.justification, claim.countermeasure, claim.notes = (
        data.justification.strip(),
        data.countermeasure.strip(),
        data.notes.strip(),
    )
    claim.evidence_links = [ClaimEvidence(evidence_id=e) for e in sorted(set(data.evidence_ids))]
    claim.updated_at, claim.updated_by = utcnow(), actor.label
    session.flush()
    new = _snapshot(claim)
    if new != old:
        record(
            session,
            actor,
            "claims:claim:update" if old else "claims:claim:create",
            target_type="claim",
            target_id=claim.id,
            product_id=release.product_id,
            details={"release": release.version, "requirement": requirement.ref, "old": old, "new": new},
        )
    return claim


def authorize_manage_claims(actor: Principal, release: Release) -> None:
    """Raise unless the actor may set the release's capability claims (its product's security officers)."""
    authorize(actor, Permission.CLAIMS_MANAGE, release.product_id)


def may_manage_claims(actor: Principal, release: Release) -> bool:
    """Whether the actor may set the release's capability claims."""
    return permits(authorize_manage_claims, actor, release)


def set_claim(session: Session, actor: Principal, release_id: int, ref: str, data: ClaimInput) -> Claim:
    """Create or change the release's claim for one applicable requirement (security officers)."""
    release = get_release(session, actor, release_id)
    authorize_manage_claims(actor, release)
    product = release.product
    catalog = product_catalog(session, product)
    errors = _claim_problems(session, release, catalog, ref, data)
    if errors:
        raise Invalid("the claim was not saved", errors=errors)
    return _apply(session, actor, release, catalog.rows[ref], data)


@dataclass(frozen=True)
class ImportResult:
    """What a spreadsheet import did."""

    rows: int
    changed: int


def import_claims(
    session: Session, actor: Principal, release_id: int, rows: Sequence[tuple[int, str, ClaimInput]]
) -> ImportResult:
    """Apply (row number, requirement, claim) rows all or nothing: every row is checked before any is written."""
    release = get_release(session, actor, release_id)
    authorize_manage_claims(actor, release)
    catalog = product_catalog(session, release.product)
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for number, ref, data in rows:
        errors += _claim_problems(session, release, catalog, ref, data, prefix=f"row {number}: ")
        if ref in seen:
            errors.append(FieldError(f"row {number}: requirement", f"{ref} is also on row {seen[ref]}"))
        seen[ref] = number
    if errors:
        raise Invalid(f"nothing imported: {len(errors)} problem(s)", errors=errors)
    before = {c.requirement.ref: _snapshot(c) for c in list_claims(session, actor, release.id)}
    for _number, ref, data in rows:
        _apply(session, actor, release, catalog.rows[ref], data)
    after = {c.requirement.ref: _snapshot(c) for c in list_claims(session, actor, release.id)}
    return ImportResult(len(rows), sum(1 for ref in after if after[ref] != before.get(ref)))


def list_claims(session: Session, actor: Principal, release_id: int) -> list[Claim]:
    """A release's claims in catalog order."""
    release = get_release(session, actor, release_id)
    claims = session.scalars(
        select(Claim).where(Claim.release_id == release.id).options(selectinload(Claim.evidence_links))
    ).all()
    return sorted(claims, key=lambda c: c.requirement.position)


def _accepted(claim: Claim, today: date) -> bool:
    # Accepted and not past its review date (the day itself still counts), as the 4-1 coverage map reads it.
    return any(
        (revision := link.evidence.current).state is ReviewState.ACCEPTED
        and not expired(revision.effective_date, revision.review_due, None, today)
        for link in claim.evidence_links
    )


def facts(claims: Sequence[Claim], today: date | None = None) -> dict[str, ClaimFact]:
    """The claims as the pure vector functions see them."""
    today = today or utcnow().date()
    return {c.requirement.ref: ClaimFact(c.status, _accepted(c, today)) for c in claims}


@dataclass(frozen=True)
class VectorReport:
    """Target, achieved and the gap of a release (or, with none, of the product's applicable list)."""

    product: Product
    release: Release | None
    catalog: ProductCatalog
    target: dict[str, int]
    achieved: dict[str, int]
    gap: dict[str, list[str]]
    matrix: dict[str, dict[int, tuple[int, int]]]
    claims: list[Claim]


def vector_report(session: Session, actor: Principal, product_id: int, release_id: int | None) -> VectorReport:
    """The achieved SL-C vector against the target, and exactly what is missing."""
    product = get_product(session, actor, product_id)
    release = get_release(session, actor, release_id) if release_id is not None else None
    if release is not None and release.product_id != product.id:
        raise NotFound("release not found")
    catalog = product_catalog(session, product)
    claims = list_claims(session, actor, release.id) if release else []
    known = facts(claims)
    items = catalog.applicability.items
    return VectorReport(
        product,
        release,
        catalog,
        product.target_sl,
        achieved_vector(items, known),
        gap(items, known, product.target_sl),
        level_matrix(items, known),
        claims,
    )


def newest_release(session: Session, actor: Principal, product_id: int) -> Release | None:
    """The last release in release order."""
    releases = list_releases(session, actor, product_id)
    return releases[-1] if releases else None


def copy_claims_forward(session: Session, *, release: Release, actor: Principal) -> None:
    """A new release starts with a copy of the previous release's claims (connected to release_created)."""
    siblings = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    previous = previous_release(siblings, release.version)
    if previous is None:
        return
    copied = 0
    for claim in session.scalars(select(Claim).where(Claim.release_id == previous.id)):
        session.add(
            Claim(
                release_id=release.id,
                requirement_id=claim.requirement_id,
                status=claim.status,
                verification=claim.verification,
                justification=claim.justification,
                countermeasure=claim.countermeasure,
                notes=claim.notes,
                updated_by=f"copied from {previous.version}",
                # Evidence that named only the old release does not speak for the new one.
                evidence_links=[
                    ClaimEvidence(evidence_id=link.evidence_id)
                    for link in claim.evidence_links
                    if covers(link.evidence, release)
                ],
            )
        )
        copied += 1
    if copied:
        session.flush()
        record(
            session,
            actor,
            "claims:claim:copy",
            target_type="release",
            target_id=release.id,
            product_id=release.product_id,
            details={"from": previous.version, "claims": copied},
        )


@dataclass(frozen=True)
class ClaimChange:
    """One requirement whose claim differs between two releases (None: no claim there)."""

    requirement: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class LevelMove:
    """One FR's achieved level in the first and the second release."""

    fr: str
    before: int
    after: int


@dataclass(frozen=True)
class ReleaseComparison:
    """What changed from one release to another: claims and achieved levels."""

    first: Release
    second: Release
    changed: list[ClaimChange]
    levels: list[LevelMove]


def compare_releases(session: Session, actor: Principal, first_id: int, second_id: int) -> ReleaseComparison:
    """Claims that changed between two releases of a product, and the levels that moved."""
    first, second = get_release(session, actor, first_id), get_release(session, actor, second_id)
    if first.product_id != second.product_id:
        raise Invalid.field("other", "compare two releases of the same product")
    a = {c.requirement.ref: _snapshot(c) for c in list_claims(session, actor, first.id)}
    b = {c.requirement.ref: _snapshot(c) for c in list_claims(session, actor, second.id)}
    changed = [
        ClaimChange(ref, a.get(ref), b.get(ref))
        for ref in sorted(a.keys() | b.keys(), key=lambda r: (r.split(" ")[0], r))
        if a.get(ref) != b.get(ref)
    ]
    va = vector_report(session, actor, first.product_id, first.id).achieved
    vb = vector_report(session, actor, first.product_id, second.id).achieved
    return ReleaseComparison(first, second, changed, [LevelMove(fr, va[fr], vb[fr]) for fr in va])
