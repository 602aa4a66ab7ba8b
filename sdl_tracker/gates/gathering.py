"""Gathering a release's gate facts from the database: each part read by the feature that owns it.

`gather_facts` turns what the pages show (4-1 coverage, commit review, the claims summary, the SBOMs, the VEX
decisions, the PSIRT cases and clocks, the CRA file) into the plain `GateFacts` snapshot that gates/rules.py
judges, so the gate judges the same figures a reader sees. Its own reading (evidence rows, interfaces, cases,
clocks) is a fixed number of statements however much evidence, how many vulnerabilities or cases there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..audit.services import kept
from ..auth import Principal
from ..catalog.models import CatalogEdition, Requirement
from ..catalog.rules import FOUNDATIONAL_REQUIREMENTS, STANDARD_4_1
from ..claims.judging import ClaimsSummary, claims_summary
from ..cra.completeness import release_file
from ..evidence.assessment import coverage
from ..evidence.models import Evidence, EvidenceRevision, RevisionRelease, RevisionRequirement
from ..evidence.scoping import product_intervals
from ..evidence.standing import covers_release, expires_on, release_window, review_months
from ..evidence.vocabulary import EvidenceKind, EvidenceScope, ReviewState, TesterIndependence
from ..gitlink.services import release_commits_by_id
from ..products.models import Interface, InterfaceKind, Product, Release
from ..products.rules import previous_release
from ..products.services import get_release, list_releases
from ..psirt.models import CaseKind, CaseStatus, PsirtCase, PsirtRelease, ReportClock
from ..psirt.scoring import ScoringError, parse_vector
from ..sboms.services import list_sboms
from ..vex.models import VexDecision, Vulnerability
from ..vex.rules import Status
from ..vex.services import list_decisions
from .facts import (
    CommitFacts,
    CraFacts,
    CraGap,
    EvidenceRef,
    FuzzCampaign,
    GateFacts,
    InterfaceFacts,
    IssueFacts,
    IssueKind,
    IssueState,
    LevelFacts,
    OpenClock,
    PatchFacts,
    PenTestFacts,
    RequirementFacts,
    SumRecord,
    ThreatModelFacts,
    VulnerabilityFacts,
    snapshot_digest,
)
from .policy import SUM_RECORDS

# Interfaces reached over a network, radio included: what `fuzzing: {interfaces: network}` asks campaigns for.
NETWORK_KINDS = frozenset({InterfaceKind.NETWORK, InterfaceKind.WIRELESS})
# The SUM records of a patch release by requirement, for the aspect gates/rules.py asks for.
SUM_ASPECTS = {ref: aspect for aspect, ref in SUM_RECORDS.items()}
REVIEW_KINDS = frozenset({EvidenceKind.CODE_REVIEW, EvidenceKind.DESIGN_REVIEW})
# Kinds whose details the gate reads (fuzz campaigns' interface and hours, reviews' open findings).
DETAIL_KINDS = frozenset({EvidenceKind.FUZZ_CAMPAIGN, *REVIEW_KINDS})
HANDLED = frozenset({CaseStatus.FIXED, CaseStatus.DISCLOSED, CaseStatus.CLOSED})
DISMISSED = frozenset({CaseStatus.REJECTED, CaseStatus.DUPLICATE})
STATE_RANK = {ReviewState.ACCEPTED: 3, ReviewState.SUBMITTED: 2, ReviewState.DRAFT: 1, ReviewState.REJECTED: 0}


@dataclass(frozen=True)
class _Row:
    """One evidence item's current revision, as the gate reads it."""

    evidence_id: int
    product_id: int | None
    scope: EvidenceScope
    kind: EvidenceKind
    state: ReviewState
    effective: date
    submitted_by: str
    tester_independence: TesterIndependence | None
    revision_id: int
    stands_until: date | None
    release_ids: tuple[int, ...]

    @property
    def ref(self) -> EvidenceRef:
        """The row as a fact."""
        return EvidenceRef(self.evidence_id, self.submitted_by, self.state, self.stands_until)


def gather_facts(session: Session, actor: Principal, release_id: int, *, now: datetime) -> GateFacts:
    """Everything the gate judges of a release, read from the database (NotFound for a release of a product
    the actor does not see); the same data gives the same facts."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(UTC).date()
    release = get_release(session, actor, release_id)
    product = release.product
    previous = previous_release(list_releases(session, actor, product.id), release.version)
    window = release_window(
        release.id,
        release.release_date,
        previous.release_date if previous else None,
        previous.created_at.date() if previous else None,
        today,
    )
    rows = _evidence_rows(session, product.id)
    by_id = {row.evidence_id: row for row in rows}
    mine = [
        r
        for r in rows
        if r.product_id == product.id
        and r.state is not ReviewState.REJECTED
        and covers_release(r.scope, r.release_ids, r.effective, window)
    ]
    details = _details(session, [r.revision_id for r in mine if r.kind in DETAIL_KINDS])
    decisions = list_decisions(session, actor, release.id)
    vulnerabilities = _vulnerabilities(session, decisions)
    summary = claims_summary(session, actor, release.id, today=today)
    return GateFacts(
        product_id=product.id,
        release_id=release.id,
        version=release.version,
        requirements=_requirements(session, actor, release, today, by_id),
        threat_model=_threat_model(rows, release),
        commits=_commits(session, actor, release, today, by_id),
        interfaces=_interfaces(session, product, mine, details),
        pen_tests=tuple(
            PenTestFacts(r.ref, r.tester_independence) for r in mine if r.kind is EvidenceKind.PENETRATION_TEST
        ),
        levels=_levels(summary, by_id),
        primary_sbom=_primary_sbom(session, actor, release, by_id),
        vulnerabilities=vulnerabilities,
        issues=(
            *_cases(session, release),
            *_findings(mine, details),
            *(_decision_issue(v) for v in vulnerabilities if v.status is Status.AFFECTED),
        ),
        patch=PatchFacts(
            patch=_is_patch(previous.version if previous else None, release.version),
            records=_sum_records(session, mine),
        ),
        cra=_cra(session, actor, release, today),
    )


def current_digest(session: Session, actor: Principal, release_id: int, *, now: datetime) -> str:
    """The digest of the release's facts as they stand (NotFound for a release the actor does not see); kept per
    release and day until the audit chain moves, since every change of a fact is audited."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    release = get_release(session, actor, release_id)  # access is checked on every call, kept or not
    today = now.astimezone(UTC).date()
    # Facts hold no instant of `now`: within a day only an audited change moves them.
    return kept(
        session,
        ("gate facts digest", release.id, today),
        lambda: snapshot_digest(gather_facts(session, actor, release.id, now=now)),
    )


# --- evidence -------------------------------------------------------------------------------------------------


def _evidence_rows(session: Session, product_id: int) -> list[_Row]:
    """Every current revision of the product's and the organisation's evidence, with the day it stands until and
    the releases it names; three statements."""
    later = aliased(EvidenceRevision)
    found = session.execute(
        select(
            Evidence.id,
            Evidence.product_id,
            Evidence.scope,
            Evidence.kind,
            EvidenceRevision.state,
            EvidenceRevision.effective_date,
            EvidenceRevision.review_due,
            EvidenceRevision.submitted_by,
            EvidenceRevision.tester_independence,
            EvidenceRevision.id,
        )
        .join(EvidenceRevision, EvidenceRevision.evidence_id == Evidence.id)
        .where(
            (Evidence.product_id == product_id) | Evidence.product_id.is_(None),
            ~select(later.number)
            .where(later.evidence_id == EvidenceRevision.evidence_id, later.number > EvidenceRevision.number)
            .exists(),
        )
    ).all()
    intervals = product_intervals(session, product_id)
    links: dict[int, list[int]] = defaultdict(list)
    scoped = [row[9] for row in found if row[2] is EvidenceScope.RELEASES]
    if scoped:
        for revision_id, linked in session.execute(
            select(RevisionRelease.revision_id, RevisionRelease.release_id).where(
                RevisionRelease.revision_id.in_(scoped)
            )
        ):
            links[revision_id].append(linked)
    rows = []
    for evidence_id, owner, scope, kind, state, effective, due, by, independence, revision_id in found:
        # The product's review intervals, for inherited evidence too: as the product's coverage reads them.
        months = review_months(kind, intervals)
        rows.append(
            _Row(
                evidence_id,
                owner,
                scope,
                kind,
                state,
                effective,
                by,
                independence,
                revision_id,
                expires_on(effective, due, months),
                tuple(sorted(links.get(revision_id, ()))),
            )
        )
    return rows


def _details(session: Session, revision_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The details of the given revisions, by revision (only the kinds the gate reads: a threat model's list of
    threats is not loaded)."""
    if not revision_ids:
        return {}
    return {
        revision_id: dict(details or {})
        for revision_id, details in session.execute(
            select(EvidenceRevision.id, EvidenceRevision.details).where(EvidenceRevision.id.in_(list(revision_ids)))
        )
    }


def _refs(ids: Iterable[int | None], by_id: dict[int, _Row]) -> tuple[EvidenceRef, ...]:
    return tuple(by_id[i].ref for i in sorted({i for i in ids if i is not None}) if i in by_id)


def _requirements(
    session: Session, actor: Principal, release: Release, today: date, by_id: dict[int, _Row]
) -> tuple[RequirementFacts, ...]:
    """Each 4-1 requirement as the release's coverage judges it (SM-5 scoping included), with the evidence that
    decides each half."""
    found = coverage(session, actor, release.product_id, release, today=today)
    if found.edition is None:
        return ()  # no 4-1 catalog: records_in_scope fails on every practice it lists
    return tuple(
        RequirementFacts(
            ref=cell.ref,
            practice=cell.practice,
            scoped_out=cell.scoping == "accepted",
            process=cell.process.state,
            records=cell.records.state,
            evidence=_refs((cell.process.deciding, cell.records.deciding), by_id),
        )
        for cell in found.cells
    )


def _threat_model(rows: Sequence[_Row], release: Release) -> ThreatModelFacts | None:
    """The product's threat model: of its threat-model evidence for the product or naming the release, the best
    standing current revision (accepted first), then the most recently reviewed."""
    models = [
        r
        for r in rows
        if r.kind is EvidenceKind.THREAT_MODEL
        and r.product_id == release.product_id
        and (r.scope is EvidenceScope.PRODUCT or release.id in r.release_ids)
    ]
    if not models:
        return None
    best = max(models, key=lambda r: (STATE_RANK[r.state], r.effective, r.evidence_id))
    # The model was last reviewed when its current revision's activity took place (its effective date).
    return ThreatModelFacts(best.ref, best.effective)


def _commits(session: Session, actor: Principal, release: Release, today: date, by_id: dict[int, _Row]) -> CommitFacts:
    """The release's commits and how many a code review covers, as the commits page counts them."""
    found = release_commits_by_id(session, actor, release.id, today=today)
    return CommitFacts(found.total, len(found.reviewed), _refs((c.review for c in found.reviewed), by_id))


def _interfaces(
    session: Session, product: Product, mine: Sequence[_Row], details: dict[int, dict[str, Any]]
) -> tuple[InterfaceFacts, ...]:
    """The product's interfaces, each with the fuzz campaigns covering the release that name it."""
    campaigns: dict[str, list[FuzzCampaign]] = defaultdict(list)
    for row in mine:
        if row.kind is not EvidenceKind.FUZZ_CAMPAIGN:
            continue
        found = details.get(row.revision_id, {})
        target = str(found.get("target_interface", "")).strip().casefold()
        hours = found.get("duration_hours")
        campaigns[target].append(FuzzCampaign(row.ref, float(hours) if isinstance(hours, int | float) else 0.0))
    interfaces = session.scalars(select(Interface).where(Interface.product_id == product.id))
    return tuple(
        InterfaceFacts(i.name, i.kind in NETWORK_KINDS, tuple(campaigns.get(i.name.strip().casefold(), ())))
        for i in interfaces
    )


# --- claims ---------------------------------------------------------------------------------------------------


def _levels(summary: ClaimsSummary, by_id: dict[int, _Row]) -> tuple[LevelFacts, ...]:
    """Each FR's target and achieved SL-C as the claims summary judges them, with the evidence behind the claims
    that count. Nothing in the tracker records a risk acceptance of an FR's gap yet: none is gathered."""
    fr_of = {item.ref: item.fr for item in summary.applicability.items}
    evidence: dict[str, set[int]] = defaultdict(set)
    for ref, line in summary.lines.items():
        fr = fr_of.get(ref)
        if fr is None or line.reasons:
            continue
        evidence[fr].update(mark.id for mark in line.evidence if mark.counts)
    return tuple(
        LevelFacts(
            fr=fr,
            target=summary.target.get(fr, 0),
            achieved=summary.achieved.get(fr, 0),
            evidence=_refs(evidence.get(fr, ()), by_id),
        )
        for fr in FOUNDATIONAL_REQUIREMENTS
    )


# --- SBOMs and vulnerabilities ----------------------------------------------------------------------------------


def _primary_sbom(session: Session, actor: Principal, release: Release, by_id: dict[int, _Row]) -> EvidenceRef | None:
    """The release's primary SBOM as the evidence it became (one without evidence, made while the product had no
    catalog to link it to, stands as a draft: nobody accepted it)."""
    primary = next((s for s in list_sboms(session, actor, release.product_id, release.id) if s.is_primary), None)
    if primary is None:
        return None
    if primary.evidence_id is not None and primary.evidence_id in by_id:
        return by_id[primary.evidence_id].ref
    return EvidenceRef(0, primary.imported_by, ReviewState.DRAFT)


def _score(*vectors: str) -> float | None:
    """The highest base score of the CVSS vectors given (None: none given, or none that parses)."""
    scores = []
    for vector in vectors:
        if vector.strip():
            try:
                scores.append(parse_vector(vector).base_score)
            except ScoringError:
                continue
    return max(scores) if scores else None


def _vulnerabilities(session: Session, decisions: Sequence[VexDecision]) -> tuple[VulnerabilityFacts, ...]:
    """The release's VEX decisions (a match becomes one, under investigation, awaiting confirmation) as facts;
    known exploited: a KEV entry, or the vulnerability's PSIRT case aware of active exploitation."""
    case_ids = sorted({d.vulnerability.case_id for d in decisions if d.vulnerability.case_id is not None})
    exploited_cases = (
        set(
            session.scalars(
                select(PsirtCase.id).where(
                    PsirtCase.id.in_(case_ids),
                    PsirtCase.kind == CaseKind.VULNERABILITY,
                    PsirtCase.aware_at.is_not(None),
                    PsirtCase.exercise.is_(False),
                )
            )
        )
        if case_ids
        else set()
    )
    facts = []
    for d in decisions:
        vulnerability: Vulnerability = d.vulnerability
        # Unconfirmed (a match, a supplier's statement, one carried from the previous release): nobody stood by it
        # for this release yet, so it is no decision; but "affected" is never read as less than it says.
        status = d.status if d.confirmed or d.status is Status.AFFECTED else None
        facts.append(
            VulnerabilityFacts(
                vulnerability=vulnerability.name,
                component=d.component_purl,
                status=status,
                since=d.decided_at.astimezone(UTC),
                justification=(d.justification.value if d.justification else "") if status else "",
                exploited=vulnerability.known_exploited or vulnerability.case_id in exploited_cases,
                cvss=_score(vulnerability.cvss_v31, vulnerability.cvss_v40),
                decided_by=d.decided_by if status is not None else "",
            )
        )
    return tuple(facts)


def _decision_issue(vulnerability: VulnerabilityFacts) -> IssueFacts:
    """A decision "affected" as an open security issue (SM-11)."""
    return IssueFacts(
        key=f"{vulnerability.vulnerability}@{vulnerability.component}",
        kind=IssueKind.DECISION,
        state=IssueState.MITIGATED if vulnerability.mitigated else IssueState.OPEN,
        cvss=vulnerability.cvss,
        exploited=vulnerability.exploited,
    )


# --- security issues ------------------------------------------------------------------------------------------


def _cases(session: Session, release: Release) -> list[IssueFacts]:
    """The product's PSIRT cases naming the release (affected, or fixed in it), exercises and rejected or duplicate
    cases aside: fixed in this release, or handled (fixed, disclosed, closed) with a fix in another release, is
    fixed; a corrective or mitigating measure available is mitigated; anything else is open."""
    roles: dict[int, set[str]] = defaultdict(set)
    for case_id, role in session.execute(
        select(PsirtRelease.case_id, PsirtRelease.role).where(PsirtRelease.release_id == release.id)
    ):
        roles[case_id].add(role)
    if not roles:
        return []
    fixed_anywhere = set(
        session.scalars(
            select(PsirtRelease.case_id).where(PsirtRelease.case_id.in_(sorted(roles)), PsirtRelease.role == "fixed")
        )
    )
    issues = []
    for case in session.scalars(
        select(PsirtCase).where(
            PsirtCase.id.in_(sorted(roles)),
            PsirtCase.product_id == release.product_id,
            PsirtCase.exercise.is_(False),
            PsirtCase.status.not_in(DISMISSED),
        )
    ):
        if "fixed" in roles[case.id] or (case.status in HANDLED and case.id in fixed_anywhere):
            state = IssueState.FIXED
        elif case.measure_available_at is not None:
            state = IssueState.MITIGATED
        else:
            state = IssueState.OPEN
        score = case.severity_score if case.severity_score is not None else _score(case.cvss_v31, case.cvss_v40)
        issues.append(
            IssueFacts(
                key=case.reference,
                kind=IssueKind.CASE,
                state=state,
                cvss=score,
                exploited=case.kind is CaseKind.VULNERABILITY and case.aware_at is not None,
            )
        )
    return issues


def _findings(mine: Sequence[_Row], details: dict[int, dict[str, Any]]) -> list[IssueFacts]:
    """Design and code reviews covering the release with findings still open: not scored."""
    issues = []
    for row in mine:
        if row.kind not in REVIEW_KINDS:
            continue
        open_findings = details.get(row.revision_id, {}).get("findings_open", 0)
        if isinstance(open_findings, int) and open_findings > 0:
            issues.append(IssueFacts(str(row.evidence_id), IssueKind.FINDING, IssueState.OPEN, evidence=(row.ref,)))
    return issues


# --- patch releases -------------------------------------------------------------------------------------------


def _is_patch(previous: str | None, version: str) -> bool:
    """Whether a release is a patch of the one before it: the same major and minor version, a later micro
    version (2.1.0 -> 2.1.1); versions that do not parse are not read as patches."""
    if previous is None:
        return False
    try:
        before, this = Version(previous.removeprefix("v")), Version(version.removeprefix("v"))
    except InvalidVersion:
        return False

    def parts(v: Version) -> tuple[int, int, int]:
        padded = (*v.release, 0, 0)
        return padded[0], padded[1], padded[2]

    return before.epoch == this.epoch and parts(before)[:2] == parts(this)[:2] and parts(this)[2] > parts(before)[2]


def _sum_records(session: Session, mine: Sequence[_Row]) -> tuple[SumRecord, ...]:
    """The evidence covering the release that records SUM-1 (qualification), SUM-2 (documentation) or SUM-4
    (delivery); a process document defines the practice and is never a record."""
    candidates = {r.revision_id: r for r in mine if r.kind is not EvidenceKind.PROCESS_DOCUMENT}
    if not candidates:
        return ()
    records = []
    for revision_id, ref in session.execute(
        select(RevisionRequirement.revision_id, Requirement.ref)
        .join(Requirement, Requirement.id == RevisionRequirement.requirement_id)
        .join(CatalogEdition, CatalogEdition.id == Requirement.edition_id)
        .where(
            RevisionRequirement.revision_id.in_(sorted(candidates)),
            CatalogEdition.standard == STANDARD_4_1,
            Requirement.ref.in_(sorted(SUM_ASPECTS)),
        )
    ):
        records.append(SumRecord(SUM_ASPECTS[ref], candidates[revision_id].ref))
    return tuple(records)


# --- CRA ------------------------------------------------------------------------------------------------------


def _cra(session: Session, actor: Principal, release: Release, today: date) -> CraFacts:
    """The product's CRA duties, the release's CRA file's missing parts, and the product's Article 14 clocks not
    yet submitted that have a due time (exercises aside)."""
    product = release.product
    file = release_file(session, actor, release.id, today=today)
    clocks = session.execute(
        select(PsirtCase.year, PsirtCase.number, ReportClock.stage, ReportClock.due_at)
        .join(PsirtCase, PsirtCase.id == ReportClock.case_id)
        .where(
            ReportClock.product_id == product.id,
            ReportClock.open.is_(True),
            ReportClock.due_at.is_not(None),
            PsirtCase.exercise.is_(False),
        )
    ).all()
    return CraFacts(
        security_contact=bool(product.security_contact.strip()),
        cvd_policy=bool(product.cvd_policy_url.strip()),
        support_ends=product.support_period_end,
        missing=tuple(CraGap(m.area.value, m.key, m.message) for m in file.missing),
        clocks=tuple(
            OpenClock(f"PSIRT-{year:04d}-{number:04d}", stage, due.astimezone(UTC))
            for year, number, stage, due in clocks
            if due is not None
        ),
    )
