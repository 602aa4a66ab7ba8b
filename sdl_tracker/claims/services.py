"""Claim operations: set, import, list, and copying claims forward to a new release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..accounts.notifications import Subject, request_review
from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..catalog.models import Requirement
from ..db import lock_row, utcnow
from ..errors import FieldError, Invalid
from ..evidence.models import Evidence
from ..evidence.queries import with_revisions
from ..evidence.vocabulary import EvidenceScope
from ..labels import label
from ..products.models import Release
from ..products.rules import previous_release
from ..products.services import get_release, list_releases
from .models import Claim, ClaimEvidence
from .rules import (
    ClaimStatus,
    Verification,
    documentation_problems,
    fit_problems,
)
from .terms import ProductCatalog, ReleaseTerms, claim_context, evidence_facts, product_catalog, release_terms

CLAIM_FIELDS = (
    "requirement",
    "status",
    "verification",
    "justification",
    "countermeasure",
    "notes",
    "evidence",
    "override_reason",
    "documentation",
)
# Columns a spreadsheet written before they existed may lack.
OPTIONAL_CLAIM_FIELDS = ("override_reason", "documentation")
# The parts of a claim that make up the decision an officer accepts: changing one drops the acceptance.
# The decisions another officer accepts for the release before they count.
ACCEPTED_STATUSES = (ClaimStatus.NOT_APPLICABLE, ClaimStatus.COMPENSATED)
DECISION_FIELDS = ("status", "justification", "countermeasure", "override_reason", "documentation")


@dataclass(frozen=True)
class ClaimInput:
    """A claim as a door (form, API, spreadsheet row) gives it."""

    status: str
    verification: str | None = None
    justification: str = ""
    countermeasure: str = ""
    notes: str = ""
    evidence_ids: Sequence[int] = ()
    override_reason: str = ""  # not applicable on an unconditional item: why the officer overrides
    documentation_id: int | None = None  # compensated: the user documentation (SG-1/SG-2 guideline)


def _status(value: str) -> ClaimStatus | None:
    try:
        return ClaimStatus(value)
    except ValueError:
        return None


def _verification(value: str | None) -> Verification | None:
    try:
        return Verification(value) if value else None
    except ValueError:
        return None


def _claim_problems(
    session: Session,
    release: Release,
    catalog: ProductCatalog,
    terms: ReleaseTerms,
    ref: str,
    data: ClaimInput,
    prefix: str = "",
) -> list[FieldError]:
    """Everything wrong with one claim, without writing anything."""
    product = release.product
    errors: list[FieldError] = []
    applicable_refs = {item.ref for item in catalog.applicability.items}
    known = ref in applicable_refs
    if ref not in catalog.rows:
        errors.append(FieldError(f"{prefix}requirement", f"unknown requirement {ref!r}"))
    elif not known:
        via = catalog.applicability.resolved.get(ref)
        reason = f"claim {via} instead" if via else f"it does not apply to a {product.component_type.value}"
        errors.append(FieldError(f"{prefix}requirement", f"{ref}: {reason}"))
    status = _status(data.status)
    if status is None:
        errors.append(
            FieldError(
                f"{prefix}status", f"unknown status {data.status!r} (one of: {', '.join(s.value for s in ClaimStatus)})"
            )
        )
    verification = _verification(data.verification)
    if data.verification and verification is None:
        errors.append(FieldError(f"{prefix}verification", f"unknown verification {data.verification!r}"))
    if status is ClaimStatus.NOT_APPLICABLE:
        if not data.justification.strip():
            errors.append(FieldError(f"{prefix}justification", "“not applicable” needs a justification"))
        if known and not catalog.conditional(ref) and not data.override_reason.strip():
            errors.append(
                FieldError(
                    f"{prefix}override_reason",
                    f"{ref} applies to every component (it is not conditional): “not applicable” needs an "
                    "officer's override with its reason",
                )
            )
    elif data.override_reason.strip():
        errors.append(FieldError(f"{prefix}override_reason", "an override is recorded only for “not applicable”"))
    if status is ClaimStatus.COMPENSATED:
        if not data.countermeasure.strip():
            errors.append(FieldError(f"{prefix}countermeasure", "a compensating countermeasure must be described"))
        if data.documentation_id is None:
            errors.append(
                FieldError(
                    f"{prefix}documentation",
                    "a compensating countermeasure needs a link to the user documentation (SG-1/SG-2) that tells "
                    "the integrator what the environment must provide",
                )
            )
    for name, text in (
        ("justification", data.justification),
        ("countermeasure", data.countermeasure),
        ("notes", data.notes),
        ("override_reason", data.override_reason),
    ):
        if len(text) > 10_000:
            errors.append(FieldError(f"{prefix}{name}", "at most 10,000 characters"))
    if data.documentation_id is not None:
        errors += _documentation_errors(session, release, data.documentation_id, prefix)
    existing = (
        session.scalar(
            select(Claim).where(Claim.release_id == release.id, Claim.requirement_id == catalog.rows[ref].id)
        )
        if ref in catalog.rows
        else None
    )
    already = {link.evidence_id for link in existing.evidence_links} if existing else set()
    context = claim_context(catalog, release, terms, ref, verification) if known else None
    for evidence_id in data.evidence_ids:
        evidence = session.get(Evidence, evidence_id)
        if evidence is None or evidence.product_id not in (None, product.id):
            errors.append(FieldError(f"{prefix}evidence", f"no evidence {evidence_id} for {product.name}"))
        elif context is not None and evidence_id not in already:
            # Links made before these rules stay (shown as not counting); a new link must fit.
            problems = fit_problems(evidence_facts(evidence), context)
            if problems:
                errors.append(
                    FieldError(
                        f"{prefix}evidence",
                        f"evidence {evidence_id} does not fit {ref} of release {release.version}: "
                        + "; ".join(problems),
                    )
                )
    return errors


def _documentation_errors(session: Session, release: Release, evidence_id: int, prefix: str) -> list[FieldError]:
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.product_id not in (None, release.product_id):
        return [FieldError(f"{prefix}documentation", f"no evidence {evidence_id} for {release.product.name}")]
    facts = evidence_facts(evidence)
    problems = documentation_problems(facts, release.product_id)
    if facts.scope is EvidenceScope.RELEASES and release.id not in facts.release_ids:
        problems.append(f"it does not name release {release.version}")
    if problems:
        return [FieldError(f"{prefix}documentation", f"evidence {evidence_id}: " + "; ".join(problems))]
    return []


def snapshot(claim: Claim | None) -> dict[str, Any] | None:
    """A claim as its audit events and the release comparison record it (None: no claim)."""
    if claim is None:
        return None
    return {
        "status": claim.status.value,
        "verification": claim.verification.value if claim.verification else None,
        "justification": claim.justification,
        "countermeasure": claim.countermeasure,
        "notes": claim.notes,
        "evidence": sorted(link.evidence_id for link in claim.evidence_links),
        "override_reason": claim.override_reason,
        "documentation": claim.documentation_id,
    }


def _apply(session: Session, actor: Principal, release: Release, requirement: Requirement, data: ClaimInput) -> Claim:
    query = select(Claim).where(Claim.release_id == release.id, Claim.requirement_id == requirement.id)
    # As committed, not as this session may have loaded it before the release's lock (lock_release_claims).
    claim = session.scalar(query.execution_options(populate_existing=True))
    old = snapshot(claim)
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
    claim.override_reason = data.override_reason.strip()
    claim.documentation_id = data.documentation_id
    claim.evidence_links = [ClaimEvidence(evidence_id=e) for e in sorted(set(data.evidence_ids))]
    session.flush()
    new = snapshot(claim)
    if new == old:
        return claim
    assert new is not None
    decided = old is None or any(old[key] != new[key] for key in DECISION_FIELDS)
    dropped = decided and claim.accepted_at is not None
    if decided:
        # The decision is this actor's now; an acceptance was of the decision as it was.
        claim.set_by_user_id, claim.set_by = actor.user_id, actor.label
        claim.accepted_by_user_id, claim.accepted_by, claim.accepted_at = None, "", None
    # Changed for this release by an officer: no longer the previous release's claim carried forward.
    was_carried, claim.carried_from = claim.carried_from, ""
    claim.updated_at, claim.updated_by = utcnow(), actor.label
    session.flush()
    details: dict[str, Any] = {"release": release.version, "requirement": requirement.ref, "old": old, "new": new}
    if dropped:
        details["acceptance_dropped"] = True
    if was_carried:
        details["carried_from"] = was_carried
    record(
        session,
        actor,
        "claims:claim:update" if old else "claims:claim:create",
        target_type="claim",
        target_id=claim.id,
        product_id=release.product_id,
        details=details,
    )
    if decided and claim.status in ACCEPTED_STATUSES:
        subject = Subject("claim", claim.id, release.product_id, release.id, requirement.ref)
        decision = label(claim.status)
        message = f"{requirement.ref} of {release.version}: “{decision}” awaits acceptance"
        request_review(session, actor, subject, message)
    return claim


def authorize_manage_claims(actor: Principal, release: Release) -> None:
    """Raise unless the actor may set the release's capability claims (its product's security officers)."""
    authorize(actor, Permission.CLAIMS_MANAGE, release.product_id)


def may_manage_claims(actor: Principal, release: Release) -> bool:
    """Whether the actor may set the release's capability claims."""
    return permits(authorize_manage_claims, actor, release)


def lock_release_claims(session: Session, release_id: int) -> None:
    """Hold the release's claim decisions (setting, accepting, confirming) until this transaction ends, so
    concurrent ones take turns: an acceptance is never of a decision that another officer changed meanwhile."""
    lock_row(session, Release.id, release_id)


def set_claim(session: Session, actor: Principal, release_id: int, ref: str, data: ClaimInput) -> Claim:
    """Create or change the release's claim for one applicable requirement (security officers)."""
    release = get_release(session, actor, release_id)
    authorize_manage_claims(actor, release)
    lock_release_claims(session, release.id)
    catalog = product_catalog(session, release.product)
    errors = _claim_problems(session, release, catalog, release_terms(session, release), ref, data)
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
    """Apply (row number, requirement, claim) rows all or nothing: every row is checked before any is written.
    An import sets claims; it never accepts or confirms one on anyone's behalf."""
    release = get_release(session, actor, release_id)
    authorize_manage_claims(actor, release)
    lock_release_claims(session, release.id)
    catalog = product_catalog(session, release.product)
    terms = release_terms(session, release)
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for number, ref, data in rows:
        errors += _claim_problems(session, release, catalog, terms, ref, data, prefix=f"row {number}: ")
        if ref in seen:
            errors.append(FieldError(f"row {number}: requirement", f"{ref} is also on row {seen[ref]}"))
        seen[ref] = number
    if errors:
        raise Invalid(f"nothing imported: {len(errors)} problem(s)", errors=errors)
    before = {c.requirement.ref: snapshot(c) for c in list_claims(session, actor, release.id)}
    for _number, ref, data in rows:
        _apply(session, actor, release, catalog.rows[ref], data)
    after = {c.requirement.ref: snapshot(c) for c in list_claims(session, actor, release.id)}
    return ImportResult(len(rows), sum(1 for ref in after if after[ref] != before.get(ref)))


def list_claims(session: Session, actor: Principal, release_id: int) -> list[Claim]:
    """A release's claims in catalog order."""
    release = get_release(session, actor, release_id)
    claims = session.scalars(
        select(Claim)
        .where(Claim.release_id == release.id)
        .options(
            # Judging reads each claim's evidence and documentation: loaded here, not one query per claim.
            selectinload(Claim.evidence_links).joinedload(ClaimEvidence.evidence).options(*with_revisions()),
            selectinload(Claim.documentation).options(*with_revisions()),
        )
    ).all()
    return sorted(claims, key=lambda c: c.requirement.position)


def newest_release(session: Session, actor: Principal, product_id: int) -> Release | None:
    """The last release in release order."""
    releases = list_releases(session, actor, product_id)
    return releases[-1] if releases else None


def copy_claims_forward(session: Session, *, release: Release, actor: Principal) -> None:
    """A new release starts with a copy of the previous release's claims (connected to release_created),
    carried forward and unconfirmed: acceptances and confirmations were for the previous release."""
    siblings = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    previous = previous_release(siblings, release.version)
    if previous is None:
        return
    catalog = product_catalog(session, release.product)
    terms = release_terms(session, release)
    copied = dropped = 0
    for claim in session.scalars(select(Claim).where(Claim.release_id == previous.id)):
        context = claim_context(catalog, release, terms, claim.requirement.ref, claim.verification)
        # Evidence that does not fit the new release (it names only the old one, or is dated before its
        # window) is not linked: it would be refused if an officer linked it.
        kept = [
            link.evidence_id
            for link in claim.evidence_links
            if not fit_problems(evidence_facts(link.evidence), context)
        ]
        dropped += len(claim.evidence_links) - len(kept)
        session.add(
            Claim(
                release_id=release.id,
                requirement_id=claim.requirement_id,
                status=claim.status,
                verification=claim.verification,
                justification=claim.justification,
                countermeasure=claim.countermeasure,
                notes=claim.notes,
                override_reason=claim.override_reason,
                documentation_id=claim.documentation_id,
                set_by_user_id=claim.set_by_user_id,
                set_by=claim.set_by,
                carried_from=previous.version,
                updated_by=f"copied from {previous.version}",
                evidence_links=[ClaimEvidence(evidence_id=evidence_id) for evidence_id in kept],
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
            details={"from": previous.version, "claims": copied, "evidence_not_carried": dropped},
        )
