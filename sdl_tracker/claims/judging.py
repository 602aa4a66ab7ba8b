"""Judging claims: each claim's standing on the date its release is judged on, the vector and gap, and
comparing two releases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ..audit.services import kept
from ..auth import Principal
from ..catalog.rules import natural_ref_key
from ..db import utcnow
from ..errors import Invalid, NotFound
from ..evidence.models import Evidence
from ..evidence.standing import review_months
from ..evidence.vocabulary import EvidenceScope
from ..products.models import Product, Release
from ..products.services import get_product, get_release
from .models import Claim
from .rules import (
    PROCESS_CONSTRAINT,
    Applicability,
    ClaimContext,
    ClaimFact,
    ClaimStatus,
    FrBreakdown,
    achieved_vector,
    breakdown,
    documentation_problems,
    fit_problems,
    gap,
    level_matrix,
    not_counting,
    standing_problems,
)
from .services import list_claims, snapshot
from .terms import (
    ProductCatalog,
    ReleaseTerms,
    claim_context,
    cra_links_of,
    evidence_facts,
    product_catalog,
    release_terms,
)


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


@dataclass(frozen=True)
class EvidenceMark:
    """One evidence item linked to a claim, as the claims list shows it: its current state, and why it does
    not count for the claim (empty: it counts)."""

    id: int
    state: str
    problems: tuple[str, ...]

    @property
    def counts(self) -> bool:
        """Whether it fits the claim and stands on the date the release is judged on."""
        return not self.problems


@dataclass(frozen=True)
class ClaimLine:
    """One claim of a release as judged for it, in plain values."""

    ref: str
    status: ClaimStatus
    carried_from: str | None
    override_reason: str
    set_by: str
    accepted_by: str
    reasons: tuple[str, ...]  # why it does not count (empty: it counts)
    evidence: tuple[EvidenceMark, ...]


@dataclass(frozen=True)
class CraPoint:
    """A CRA Annex I point an item supports."""

    ref: str
    title: str


@dataclass(frozen=True)
class ClaimsSummary:
    """`vector_report` of a release in plain values, with each claim's line and each item's CRA points:
    what the claims list, readiness and summaries show, kept between requests."""

    edition: str | None
    applicability: Applicability
    target: dict[str, int]
    achieved: dict[str, int]
    gap: dict[str, list[str]]
    matrix: dict[str, dict[int, tuple[int, int]]]
    breakdown: list[FrBreakdown]
    judged_on: date | None
    lines: dict[str, ClaimLine]  # by requirement id, in catalog order
    cra: dict[str, list[CraPoint]]  # by applicable item

    @property
    def overrides(self) -> list[ClaimLine]:
        """Not applicable claims on unconditional items, with the officer's override and its reason."""
        return [line for line in self.lines.values() if line.override_reason]


def _line(standing: ClaimStanding) -> ClaimLine:
    claim = standing.claim
    marks = tuple(
        EvidenceMark(e.evidence.id, e.evidence.current.state.value, tuple(e.problems)) for e in standing.evidence
    )
    return ClaimLine(
        claim.requirement.ref,
        claim.status,
        claim.carried_from,
        claim.override_reason,
        claim.set_by,
        claim.accepted_by,
        tuple(standing.reasons),
        marks,
    )


def claims_summary(session: Session, actor: Principal, release_id: int, *, today: date | None = None) -> ClaimsSummary:
    """A release's claims judged, its vector and gap, as plain values. Kept until an audited change (every
    change to a claim, its evidence, the product, scoping or the catalog is audited) or until the day changes:
    judging loads every claim with its evidence and their revisions, which a page view need not repeat."""
    release = get_release(session, actor, release_id)  # access is checked on every request, kept or not
    today = today or utcnow().date()

    def judge() -> ClaimsSummary:
        report = vector_report(session, actor, release.product_id, release.id)
        items = report.catalog.applicability.items
        links = cra_links_of(session, report.catalog, [item.ref for item in items], release.cra_mapping_id)
        return ClaimsSummary(
            report.catalog.edition.edition if report.catalog.edition else None,
            report.catalog.applicability,
            dict(report.target),
            dict(report.achieved),
            {fr: list(refs) for fr, refs in report.gap.items()},
            report.matrix,
            report.breakdown,
            report.judged_on,
            {c.requirement.ref: _line(report.standings[c.requirement.ref]) for c in report.claims},
            {
                ref: [CraPoint(link.target.ref, link.target.title) for link in found if link.target]
                for ref, found in links.items()
            },
        )

    return kept(session, ("claims summary", release.id, today), judge)


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
    a = {c.requirement.ref: snapshot(c) for c in list_claims(session, actor, first.id)}
    b = {c.requirement.ref: snapshot(c) for c in list_claims(session, actor, second.id)}
    changed = [
        ClaimChange(ref, a.get(ref), b.get(ref))
        for ref in sorted(a.keys() | b.keys(), key=natural_ref_key)
        if a.get(ref) != b.get(ref)
    ]
    va = vector_report(session, actor, first.product_id, first.id).achieved
    vb = vector_report(session, actor, first.product_id, second.id).achieved
    return ReleaseComparison(first, second, changed, [LevelMove(fr, va[fr], vb[fr]) for fr in va])
