"""Claim operations, the vector and gap of a release, spreadsheet import, and copying claims forward."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..catalog.models import CatalogEdition, Requirement, RequirementLink
from ..catalog.rules import STANDARD_4_2, Annotation, CatalogItem, annotation_of, natural_ref_key
from ..catalog.services import annotations_for, links_from
from ..db import utcnow
from ..errors import FieldError, Invalid, NotFound
from ..evidence.models import Evidence
from ..evidence.scoping import product_intervals
from ..evidence.standing import ReleaseWindow, judged_on, release_window, review_months
from ..evidence.vocabulary import EvidenceScope
from ..products.models import Product, Release
from ..products.rules import previous_release
from ..products.services import get_product, get_release, list_releases
from .models import Claim, ClaimEvidence
from .rules import (
    PROCESS_CONSTRAINT,
    Applicability,
    ClaimContext,
    ClaimFact,
    ClaimStatus,
    EvidenceFacts,
    FrBreakdown,
    Verification,
    achieved_vector,
    applicable,
    breakdown,
    documentation_problems,
    fit_problems,
    gap,
    level_matrix,
    not_counting,
    resolution_chain,
    standing_problems,
)

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
DECISION_FIELDS = ("status", "justification", "countermeasure", "override_reason", "documentation")


@dataclass(frozen=True)
class ProductCatalog:
    """The 4-2 edition a product is assessed against, what applies to its type, and the rows by id."""

    edition: CatalogEdition | None
    applicability: Applicability
    rows: dict[str, Requirement]
    annotations: Mapping[str, Annotation] = field(default_factory=dict)

    def items(self) -> dict[str, CatalogItem]:
        """Every item of the edition by id, as the pure rules see them."""
        return {ref: row.item() for ref, row in self.rows.items()}

    def conditional(self, ref: str) -> bool:
        """Whether the item applies only when the component has a feature (catalog annotations)."""
        return annotation_of(ref, self.items(), self.annotations).conditional


def product_catalog(session: Session, product: Product) -> ProductCatalog:
    """What of IEC 62443-4-2 applies to the product's component type."""
    edition = next((pe.edition for pe in product.editions if pe.standard == STANDARD_4_2), None)
    if edition is None:
        return ProductCatalog(None, Applicability([], {}, []), {})
    rows = list(
        session.scalars(select(Requirement).where(Requirement.edition_id == edition.id).order_by(Requirement.position))
    )
    return ProductCatalog(
        edition,
        applicable([r.item() for r in rows], product.component_type.value),
        {r.ref: r for r in rows},
        annotations_for(session, STANDARD_4_2),
    )


def cra_links(session: Session, catalog: ProductCatalog, ref: str) -> list[RequirementLink]:
    """The CRA points an item supports: its own mapping rows, else those of the item it resolves to
    (CR 1.1 RE(1) -> CR 1.1; EDR 3.10 -> CR 3.10), as the mapping is kept per CR."""
    for step in resolution_chain(ref, catalog.items()):
        row = catalog.rows.get(step)
        links = links_from(session, row) if row is not None else []
        if links:
            return links
    return []


@dataclass(frozen=True)
class ReleaseTerms:
    """What a release's claims are judged against: the window product-wide evidence must fall in, and the
    date (a released release: its release date)."""

    window: ReleaseWindow
    judged_on: date
    intervals: dict[str, int | None]  # the product's own review intervals by evidence kind


def release_terms(session: Session, release: Release, today: date | None = None) -> ReleaseTerms:
    """The release's window (from the previous release's date or creation) and the date it is judged on."""
    today = today or utcnow().date()
    siblings = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    previous = previous_release(siblings, release.version)
    window = release_window(
        release.id,
        release.release_date,
        previous.release_date if previous else None,
        previous.created_at.date() if previous else None,
        today,
    )
    return ReleaseTerms(
        window,
        judged_on(release.shipped, release.release_date, today),
        product_intervals(session, release.product_id),
    )


def evidence_facts(evidence: Evidence, as_of: date | None = None) -> EvidenceFacts:
    """Evidence as the claim rules see it: its current revision, or the one that stood on `as_of` with the
    review state it had then (a figure judged on a release date is not raised by what came later)."""
    stood = evidence.revision_on(as_of) if as_of is not None else evidence.current
    revision = stood or evidence.revisions[0]
    return EvidenceFacts(
        id=evidence.id,
        kind=evidence.kind,
        product_id=evidence.product_id,
        scope=evidence.scope,
        release_ids=frozenset(link.release_id for link in revision.release_links),
        refs=frozenset(
            (link.requirement.edition.standard, link.requirement.ref) for link in revision.requirement_links
        ),
        effective=revision.effective_date,
        review_due=revision.review_due,
        state=revision.state_on(as_of) if as_of is not None else revision.state,
        tester_independence=revision.tester_independence,
        recorded=stood is not None,
    )


def claim_context(
    catalog: ProductCatalog, release: Release, terms: ReleaseTerms, ref: str, verification: Verification | None
) -> ClaimContext:
    """A claim as the evidence rules see it."""
    return ClaimContext(
        ref, resolution_chain(ref, catalog.items()), release.product_id, release.version, terms.window, verification
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
        "override_reason": claim.override_reason,
        "documentation": claim.documentation_id,
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
    claim.override_reason = data.override_reason.strip()
    claim.documentation_id = data.documentation_id
    claim.evidence_links = [ClaimEvidence(evidence_id=e) for e in sorted(set(data.evidence_ids))]
    session.flush()
    new = _snapshot(claim)
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


@dataclass(frozen=True)
class EvidenceStanding:
    """One linked evidence item and why it does not count for the claim (empty: it counts)."""

    evidence: Evidence
    problems: list[str]

    @property
    def counts(self) -> bool:
        """Whether it fits the claim and stands on the date the release is judged on."""
        return not self.problems


@dataclass(frozen=True)
class ClaimStanding:
    """A claim as judged for its release: the facts, each evidence item's standing and why it does not count."""

    claim: Claim
    fact: ClaimFact
    evidence: list[EvidenceStanding]
    documentation: list[str]  # why the user documentation does not stand (empty: it stands, or none needed)
    reasons: list[str]  # empty: it counts

    @property
    def counts(self) -> bool:
        """Whether the claim counts toward its level."""
        return not self.reasons


def _evidence_standing(evidence: Evidence, context: ClaimContext, terms: ReleaseTerms) -> EvidenceStanding:
    facts = evidence_facts(evidence, terms.judged_on)
    problems = fit_problems(facts, context)
    problems += standing_problems(facts, review_months(facts.kind, terms.intervals), terms.judged_on)
    return EvidenceStanding(evidence, problems)


def _documentation_standing(claim: Claim, release: Release, terms: ReleaseTerms) -> list[str]:
    if claim.documentation is None:
        return ["no link to the user documentation"]
    facts = evidence_facts(claim.documentation, terms.judged_on)
    problems = documentation_problems(facts, release.product_id)
    if facts.scope is EvidenceScope.RELEASES and release.id not in facts.release_ids:
        problems.append(f"it does not name release {release.version}")
    problems += standing_problems(facts, review_months(facts.kind, terms.intervals), terms.judged_on)
    return problems


def _late(claim: Claim, judged_on: date) -> tuple[str, ...]:
    # A claim has no revisions: as it stands it was made on `updated_at`; a shipped release's figure is
    # not raised by a claim or an acceptance made after its release date.
    late = []
    if claim.updated_at.date() > judged_on:
        late.append(f"set on {claim.updated_at.date().isoformat()}, after {judged_on.isoformat()}")
    if claim.accepted_at is not None and claim.accepted_at.date() > judged_on:
        late.append(f"accepted on {claim.accepted_at.date().isoformat()}, after {judged_on.isoformat()}")
    return tuple(late)


def judge_claim(claim: Claim, catalog: ProductCatalog, release: Release, terms: ReleaseTerms) -> ClaimStanding:
    """Whether a claim counts for its release, and why not (docs/assurance.md)."""
    ref = claim.requirement.ref
    context = claim_context(catalog, release, terms, ref, claim.verification)
    evidence = [_evidence_standing(link.evidence, context, terms) for link in claim.evidence_links]
    documentation = _documentation_standing(claim, release, terms) if claim.status is ClaimStatus.COMPENSATED else []
    notes = tuple(f"#{e.evidence.id}: {'; '.join(e.problems)}" for e in evidence if e.problems)
    fact = ClaimFact(
        status=claim.status,
        evidence_counts=any(e.counts for e in evidence),
        verification=claim.verification is not None or ref == PROCESS_CONSTRAINT,
        justified=bool(claim.justification.strip()),
        described=bool(claim.countermeasure.strip()),
        documentation=("user documentation: " + "; ".join(documentation)) if documentation else None,
        accepted=claim.accepted_at is not None and claim.accepted_at.date() <= terms.judged_on,
        needs_override=claim.status is ClaimStatus.NOT_APPLICABLE and not catalog.conditional(ref),
        overridden=bool(claim.override_reason.strip()),
        carried_from=claim.carried_from,
        evidence_notes=notes,
        late=_late(claim, terms.judged_on),
    )
    return ClaimStanding(claim, fact, evidence, documentation, not_counting(fact))


def judge_claims(
    session: Session, release: Release, claims: Sequence[Claim], catalog: ProductCatalog
) -> list[ClaimStanding]:
    """Every claim of a release judged for it, in the order given."""
    terms = release_terms(session, release)
    return [judge_claim(claim, catalog, release, terms) for claim in claims]


def standing_of(session: Session, claim: Claim) -> ClaimStanding:
    """One claim judged for its release."""
    release = session.get(Release, claim.release_id)
    assert release is not None
    return judge_claim(claim, product_catalog(session, release.product), release, release_terms(session, release))


def judged_claims(session: Session, actor: Principal, release_id: int) -> list[ClaimStanding]:
    """A release's claims in catalog order, each judged for the release."""
    release = get_release(session, actor, release_id)
    return judge_claims(
        session, release, list_claims(session, actor, release.id), product_catalog(session, release.product)
    )


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
    standings: dict[str, ClaimStanding] = field(default_factory=dict)  # by requirement id
    breakdown: list[FrBreakdown] = field(default_factory=list)
    judged_on: date | None = None

    @property
    def overrides(self) -> list[ClaimStanding]:
        """Not applicable claims on unconditional items, with the officer's override and its reason."""
        return [s for s in self.standings.values() if s.claim.override_reason]


def vector_report(session: Session, actor: Principal, product_id: int, release_id: int | None) -> VectorReport:
    """The achieved SL-C vector against the target, and exactly what is missing."""
    product = get_product(session, actor, product_id)
    release = get_release(session, actor, release_id) if release_id is not None else None
    if release is not None and release.product_id != product.id:
        raise NotFound("release not found")
    catalog = product_catalog(session, product)
    claims = list_claims(session, actor, release.id) if release else []
    standings = {s.claim.requirement.ref: s for s in judge_claims(session, release, claims, catalog)} if release else {}
    known = {ref: standing.fact for ref, standing in standings.items()}
    items = catalog.applicability.items
    achieved = achieved_vector(items, known)
    return VectorReport(
        product,
        release,
        catalog,
        product.target_sl,
        achieved,
        gap(items, known, product.target_sl),
        level_matrix(items, known),
        claims,
        standings,
        breakdown(items, known, product.target_sl, achieved),
        release_terms(session, release).judged_on if release else None,
    )


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
        for ref in sorted(a.keys() | b.keys(), key=natural_ref_key)
        if a.get(ref) != b.get(ref)
    ]
    va = vector_report(session, actor, first.product_id, first.id).achieved
    vb = vector_report(session, actor, first.product_id, second.id).achieved
    return ReleaseComparison(first, second, changed, [LevelMove(fr, va[fr], vb[fr]) for fr in va])
