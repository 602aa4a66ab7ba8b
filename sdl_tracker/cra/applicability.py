"""Annex I applicability per release: each point applicable or not, its measures and evidence (the mapping's and
linked by hand), and the release's pinned mapping version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..boundary import MAX_ID
from ..catalog.models import CatalogEdition, CatalogMapping, Requirement, RequirementLink
from ..catalog.rules import STANDARD_4_1, STANDARD_4_2
from ..catalog.services import CRA_MAPPING, current_editions, get_mapping, links_to_each, newest_mapping
from ..claims.judging import ClaimLine, ClaimsSummary, claims_summary
from ..claims.rules import ClaimStatus
from ..db import lock_row, locked, utcnow
from ..errors import FieldError, Invalid, NotFound
from ..evidence.assessment import coverage
from ..evidence.coverage import CoverageState, RequirementCoverage
from ..evidence.models import Evidence, EvidenceRevision, RevisionRelease
from ..evidence.scoping import product_intervals
from ..evidence.standing import expired, review_months
from ..evidence.vocabulary import EvidenceScope, ReviewState
from ..products.models import Product, Release
from ..products.rules import previous_release
from ..products.services import get_release
from . import rules
from .models import PointApplicability, PointEvidence

CRA_STANDARD = "CRA"  # the catalog's standard of the CRA's points (Annex I, II, VII)
TEXT_MAX = 10_000  # a justification or the measures, each
# A mapped 4-2 claim shows a point is met only when the capability is there: implemented, or met by a
# compensating countermeasure. An accepted "not applicable" claim counts toward the SL-C vector, but says the
# capability is absent, so it shows nothing of the CRA point.
MEETING_STATUSES = (ClaimStatus.IMPLEMENTED, ClaimStatus.COMPENSATED)
# How a 4-1 requirement's coverage reads beside a CRA point.
COVERAGE_WORDS = {
    CoverageState.ACCEPTED: "met",
    CoverageState.NOT_EXERCISED: "met (no occasion to exercise it yet)",
    CoverageState.SUBMITTED: "evidence awaits review",
    CoverageState.INSUFFICIENT: "tester independence below the minimum",
    CoverageState.EXPIRED: "its evidence is past its review",
    CoverageState.DRAFT: "only drafts",
    CoverageState.NONE: "no evidence",
    CoverageState.SCOPED_OUT: "scoped out of the product",
}


def authorize_keep_file(actor: Principal, product_id: int) -> None:
    """Refuse an actor who may not change the product's CRA file (security officers and administrators may)."""
    authorize(actor, Permission.CRA_MANAGE, product_id)


def may_keep_file(actor: Principal, product_id: int) -> bool:
    """Whether the actor may change the product's CRA file (pages show its forms and buttons only then)."""
    return actor.has(Permission.CRA_MANAGE, product_id)


# --- reading -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappedRequirement:
    """A 4-1 requirement or 4-2 CR that the release's pinned mapping version maps to a point, and whether the
    release meets it: a 4-1 requirement when its 4-1 coverage is met; a 4-2 CR when the release's claim for it
    (or for the component type's item it resolves to) stands: it counts as claims judging decides (verified,
    with evidence that fits and stands, accepted where acceptance is needed) and it is implemented or
    compensated (MEETING_STATUSES)."""

    standard: str
    ref: str
    title: str
    rationale: str
    met: bool
    detail: str


@dataclass(frozen=True)
class LinkedEvidence:
    """An evidence item linked to a point by hand. accepted: its current revision is accepted, it still covers the
    release (a release-scoped item whose current revision no longer names the release shows nothing of it) and it
    is not past its review (as 4-1 coverage reads it: a stale policy meets nothing)."""

    id: int
    title: str
    kind: str
    state: str  # its current revision's review state
    accepted: bool
    covers: bool = True  # product or organisation scope, or its current revision names the release
    expired: bool = False  # past its review on the day the release is judged: it shows nothing any more


@dataclass(frozen=True)
class PointView:
    """One Annex I point of a release as recorded, with the mapping's requirements and the evidence linked by
    hand (a point never assessed reads as applicable, not assessed)."""

    ref: str
    label: str
    title: str
    always_applicable: bool  # Part I (1) and Part II: never not applicable
    other_evidence_reason: str | None  # why IEC 62443 evidence cannot show it (rules.needs_other_evidence)
    assessed: bool
    applicable: bool
    justification: str
    measures: str
    updated_by: str
    updated_at: datetime | None
    mapped: tuple[MappedRequirement, ...]
    linked: tuple[LinkedEvidence, ...]

    @property
    def mapped_met(self) -> int:
        """Mapped requirements the release meets."""
        return sum(1 for m in self.mapped if m.met)

    @property
    def linked_accepted(self) -> int:
        """Evidence linked by hand whose current revision is accepted."""
        return sum(1 for e in self.linked if e.accepted)


def release_points(session: Session, actor: Principal, release_id: int) -> list[PointView]:
    """Every Annex I point of a release in rules.ANNEX_I_POINTS order, in a fixed number of statements."""
    release = get_release(session, actor, release_id)
    return _views(session, actor, release, rules.ANNEX_I_POINTS)


def point_view(session: Session, actor: Principal, release_id: int, ref: str) -> PointView:
    """One Annex I point of a release (NotFound for a ref that is not one)."""
    release = get_release(session, actor, release_id)
    if ref not in rules.ANNEX_I_POINTS:
        raise NotFound(f"{ref!r} is not an Annex I point (one of I.1, I.2a-I.2m, II.1-II.8)")
    return _views(session, actor, release, (ref,))[0]


def _cra_edition(session: Session, product: Product) -> CatalogEdition | None:
    """The CRA edition the product is assessed against (the newest loaded when it names none)."""
    pinned = next((pe.edition for pe in product.editions if pe.standard == CRA_STANDARD), None)
    return pinned or current_editions(session).get(CRA_STANDARD)


def _views(session: Session, actor: Principal, release: Release, refs: Sequence[str]) -> list[PointView]:
    product = release.product
    edition = _cra_edition(session, product)
    targets = (
        list(
            session.scalars(
                select(Requirement).where(Requirement.edition_id == edition.id, Requirement.ref.in_(list(refs)))
            )
        )
        if edition is not None
        else []
    )
    by_ref = {t.ref: t for t in targets}
    links = links_to_each(session, targets, release.cra_mapping_id)
    judged = coverage(session, actor, product.id, release)
    cells = {cell.ref: cell for cell in judged.cells}
    summary = claims_summary(session, actor, release.id)
    records = {
        r.ref: r
        for r in session.scalars(
            select(PointApplicability)
            .where(PointApplicability.release_id == release.id, PointApplicability.ref.in_(list(refs)))
            .options(selectinload(PointApplicability.evidence))
        )
    }
    linked = _linked(
        session, release, [link.evidence_id for r in records.values() for link in r.evidence], judged.judged.as_of
    )
    views = []
    for ref in refs:
        target = by_ref.get(ref)
        point = records.get(ref)
        mapped = tuple(
            m
            for link in (links.get(target.id, []) if target else [])
            if (m := _mapped(link, cells, summary)) is not None
        )
        views.append(
            PointView(
                ref=ref,
                label=rules.point_label(ref),
                title=target.title if target else "",
                always_applicable=ref in rules.ALWAYS_APPLICABLE,
                other_evidence_reason=rules.needs_other_evidence(ref, product.component_type.value),
                assessed=point is not None,
                applicable=point.applicable if point else True,
                justification=point.justification if point else "",
                measures=point.measures if point else "",
                updated_by=point.updated_by if point else "",
                updated_at=point.updated_at if point else None,
                mapped=mapped,
                linked=tuple(linked[link.evidence_id] for link in point.evidence) if point else (),
            )
        )
    return views


def _linked(session: Session, release: Release, evidence_ids: Sequence[int], as_of: date) -> dict[int, LinkedEvidence]:
    """The evidence items linked by hand, as points show them on `as_of`, the day the release is judged on (three
    statements however many: the items with their current revision, the releases those that are release-scoped
    name, and the product's review intervals)."""
    if not evidence_ids:
        return {}
    later = aliased(EvidenceRevision)
    rows = session.execute(
        select(
            Evidence.id,
            Evidence.kind,
            Evidence.scope,
            EvidenceRevision.id.label("revision_id"),
            EvidenceRevision.title,
            EvidenceRevision.state,
            EvidenceRevision.effective_date,
            EvidenceRevision.review_due,
        )
        .join(EvidenceRevision, EvidenceRevision.evidence_id == Evidence.id)
        .where(
            Evidence.id.in_(sorted(set(evidence_ids))),
            # The current revision: none newer.
            ~select(later.number)
            .where(later.evidence_id == EvidenceRevision.evidence_id, later.number > EvidenceRevision.number)
            .exists(),
        )
    ).all()
    scoped = [row.revision_id for row in rows if row.scope is EvidenceScope.RELEASES]
    naming = (
        set(
            session.scalars(
                select(RevisionRelease.revision_id).where(
                    RevisionRelease.revision_id.in_(scoped), RevisionRelease.release_id == release.id
                )
            )
        )
        if scoped
        else set()
    )
    intervals = product_intervals(session, release.product_id)
    found = {}
    for row in rows:
        covers = row.scope is not EvidenceScope.RELEASES or row.revision_id in naming
        stale = expired(row.effective_date, row.review_due, review_months(row.kind, intervals), as_of)
        accepted = covers and not stale and row.state is ReviewState.ACCEPTED
        found[row.id] = LinkedEvidence(row.id, row.title, row.kind.value, row.state.value, accepted, covers, stale)
    return found


def _mapped(
    link: RequirementLink, cells: dict[str, RequirementCoverage], summary: ClaimsSummary
) -> MappedRequirement | None:
    """A mapping row as the point shows it (None: a 4-2 CR that does not apply to the product's type)."""
    source = link.source
    standard = source.edition.standard
    if standard == STANDARD_4_1:
        cell = cells.get(source.ref)
        if cell is None:
            met, detail = False, "not in the product's IEC 62443-4-1 catalog"
        else:
            met, detail = cell.met, COVERAGE_WORDS[cell.state]
        return MappedRequirement(standard, source.ref, source.title, link.rationale, met, detail)
    if standard != STANDARD_4_2:
        return None
    item = _claimed_item(source.ref, summary)
    if item is None:
        return None
    met, detail = _claim_standing(summary.lines.get(item))
    if item != source.ref:
        detail = f"{detail} (the claim on {item}, the {source.ref} of this component type)"
    return MappedRequirement(standard, source.ref, source.title, link.rationale, met, detail)


def _claimed_item(cr: str, summary: ClaimsSummary) -> str | None:
    """The item a release claims for a mapped CR: the CR itself, or the component type's item it resolves to
    (CR 2.4 -> EDR 2.4); None when the CR does not apply to the product's type."""
    if any(item.ref == cr for item in summary.applicability.items):
        return cr
    return summary.applicability.resolved.get(cr)


def _claim_standing(line: ClaimLine | None) -> tuple[bool, str]:
    if line is None:
        return False, "no claim"
    status = line.status.value.replace("_", " ")
    if line.reasons:
        return False, f"claim: {status}, does not count: {line.reasons[0]}"
    if line.status not in MEETING_STATUSES:
        return False, f"claim: {status}, accepted: shows nothing of this point"
    accepted = ", accepted" if line.status is ClaimStatus.COMPENSATED else ""
    return True, f"claim: {status}{accepted}, counts"


# --- recording a point --------------------------------------------------------------------------------------------


def _evidence_problems(session: Session, release: Release, ids: Sequence[int]) -> list[FieldError]:
    """Why each evidence id cannot be linked to the release's points (empty: all can): it must be an item of the
    release's product or organisation-wide (both of which the release's officers see), and a release-scoped item
    must name the release in its current revision."""
    wanted = [i for i in ids if 1 <= i <= MAX_ID]
    found = {
        e.id: e
        for e in session.scalars(
            select(Evidence)
            .where(Evidence.id.in_(wanted))
            .options(selectinload(Evidence.revisions).selectinload(EvidenceRevision.release_links))
        )
    }
    problems = []
    for evidence_id in ids:
        evidence = found.get(evidence_id)
        problem = _evidence_problem(evidence, release) if evidence else _unknown(evidence_id, release)
        if problem:
            problems.append(FieldError("evidence_ids", problem))
    return problems


def _unknown(evidence_id: int, release: Release) -> str:
    # The same words for an item that does not exist and one of a product the actor does not see.
    return f"evidence #{evidence_id} is not an evidence item of {release.product.name} or of the organisation"


def stands_for(evidence: Evidence, release: Release) -> bool:
    """Whether evidence may stand for the release (in a point or an Annex II item): the product's or the
    organisation's, and naming the release in its current revision when it is release-scoped."""
    if evidence.product_id not in (None, release.product_id):
        return False
    if evidence.scope is EvidenceScope.RELEASES:
        return any(link.release_id == release.id for link in evidence.current.release_links)
    return True


def _evidence_problem(evidence: Evidence, release: Release) -> str | None:
    if evidence.product_id not in (None, release.product_id):
        return _unknown(evidence.id, release)
    if not stands_for(evidence, release):
        return f"evidence #{evidence.id} covers other releases of {release.product.name}, not {release.version}"
    return None


def record_point(
    session: Session,
    actor: Principal,
    release_id: int,
    ref: str,
    *,
    applicable: bool,
    justification: str,
    measures: str,
    evidence_ids: Sequence[int],
) -> PointApplicability:
    """Record how an Annex I point applies to a release, its measures and the evidence linked to it by hand
    (replacing what was linked); unchanged input writes nothing."""
    release = get_release(session, actor, release_id)
    authorize_keep_file(actor, release.product_id)
    justification, measures = justification.strip(), measures.strip()
    ids = sorted(set(evidence_ids))  # duplicates collapse
    errors = rules.applicability_problems(ref, applicable, justification)
    for name, text in (("justification", justification), ("measures", measures)):
        if len(text) > TEXT_MAX:
            errors.append(FieldError(name, f"at most {TEXT_MAX:,} characters ({len(text):,} given)"))
    errors += _evidence_problems(session, release, ids)
    if errors:
        raise Invalid(f"{ref} of {release.version} was not recorded", errors=errors)
    # Writers of one release's points go one at a time: the first to record a point creates its row.
    lock_row(session, Release.id, release.id)
    point = session.scalar(
        select(PointApplicability)
        .where(PointApplicability.release_id == release.id, PointApplicability.ref == ref)
        .options(selectinload(PointApplicability.evidence))
    )
    before = _state(point)
    after = {"applicable": applicable, "justification": justification, "measures": measures, "evidence_ids": ids}
    if point is not None and before == after:
        return point
    if point is None:
        point = PointApplicability(release_id=release.id, ref=ref)
        session.add(point)
    point.applicable, point.justification, point.measures = applicable, justification, measures
    _relink(point, ids)
    point.updated_by, point.updated_at = actor.label, utcnow()
    session.flush()
    record(
        session,
        actor,
        "cra:point:record",
        target_type="cra_point",
        target_id=point.id,
        product_id=release.product_id,
        details={
            "release": release.version,
            "ref": ref,
            **after,
            "changed": [name for name in after if before is None or before[name] != after[name]],
        },
    )
    return point


def _state(point: PointApplicability | None) -> dict[str, object] | None:
    if point is None:
        return None
    return {
        "applicable": point.applicable,
        "justification": point.justification,
        "measures": point.measures,
        "evidence_ids": sorted(link.evidence_id for link in point.evidence),
    }


def _relink(point: PointApplicability, ids: Sequence[int]) -> None:
    # Links that stay are kept as they are: removing and adding the same key in one flush would insert before
    # it deletes.
    wanted = set(ids)
    point.evidence = [link for link in point.evidence if link.evidence_id in wanted]
    have = {link.evidence_id for link in point.evidence}
    point.evidence.extend(PointEvidence(evidence_id=i) for i in ids if i not in have)


# --- the mapping version ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingState:
    """The mapping version a release is assessed with, the newest loaded, and those it may move to."""

    release_id: int
    release: str
    pinned: str | None  # None: pinned to none (made before any mapping was loaded); reads use the newest
    newest: str | None
    newer: tuple[str, ...]  # loaded versions newer than the pinned one, oldest first
    shipped: bool  # a shipped release keeps the version it was assessed with

    @property
    def behind(self) -> bool:
        """Whether a newer version is loaded than the one the release is assessed with."""
        return self.pinned is not None and bool(self.newer)


def mapping_state(session: Session, actor: Principal, release_id: int) -> MappingState:
    """Where a release's mapping version stands."""
    release = get_release(session, actor, release_id)
    return _mapping_state(session, release)


def _loaded_versions(session: Session) -> list[CatalogMapping]:
    """The loaded versions of the CRA mapping, oldest first (they are loaded in version order)."""
    return list(
        session.scalars(select(CatalogMapping).where(CatalogMapping.name == CRA_MAPPING).order_by(CatalogMapping.id))
    )


def _mapping_state(session: Session, release: Release) -> MappingState:
    versions = _loaded_versions(session)
    pinned = release.cra_mapping
    # Pinned to none, a release reads the newest: pinning that is the only move forward.
    floor = pinned.id if pinned is not None else versions[-1].id - 1 if versions else 0
    newer = tuple(m.version for m in versions if m.id > floor)
    return MappingState(
        release.id,
        release.version,
        pinned.version if pinned else None,
        versions[-1].version if versions else None,
        newer,
        release.shipped,
    )


def move_mapping(session: Session, actor: Principal, release_id: int, version: str) -> Release:
    """Move a release on to a newer loaded version of the CRA mapping (audited); a shipped release keeps the
    version it was assessed with, and other releases keep theirs."""
    release = get_release(session, actor, release_id)
    authorize_keep_file(actor, release.product_id)
    release = locked(session, release)
    try:
        target = get_mapping(session, version)
    except NotFound:
        loaded = ", ".join(m.version for m in _loaded_versions(session))
        raise Invalid.field("version", f"no mapping version {version!r} is loaded (loaded: {loaded})") from None
    pinned = release.cra_mapping
    if release.shipped:
        raise Invalid.field(
            "version",
            f"{release.version} is {release.status.value}: it keeps the mapping version it was assessed with "
            f"({pinned.version if pinned else 'the newest'})",
        )
    # Pinned to none, a release reads the newest loaded version: that is where it stands.
    current = pinned or newest_mapping(session)
    if pinned is not None and target.id == pinned.id:
        raise Invalid.field("version", f"{release.version} is already assessed with mapping version {version}")
    if current is not None and target.id < current.id:
        raise Invalid.field(
            "version",
            f"mapping version {version} is older than {current.version}, which {release.version} is assessed with: "
            "a release's mapping only moves to a newer version",
        )
    release.cra_mapping_id = target.id
    session.flush()
    session.expire(release, ["cra_mapping"])
    record(
        session,
        actor,
        "cra:mapping:move",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={"release": release.version, "from": pinned.version if pinned else None, "to": target.version},
    )
    return release


# --- a new release ------------------------------------------------------------------------------------------------


def copy_points_forward(session: Session, *, release: Release, actor: Principal) -> None:
    """A new release starts with the previous release's point records (connected to release_created), with the
    evidence linked by hand that still holds for it: release-scoped evidence naming only the old release is
    not carried. Points the new release already has are left alone."""
    siblings = session.scalars(select(Release).where(Release.product_id == release.product_id)).all()
    previous = previous_release(siblings, release.version)
    if previous is None:
        return
    have = set(session.scalars(select(PointApplicability.ref).where(PointApplicability.release_id == release.id)))
    points = [
        p
        for p in session.scalars(
            select(PointApplicability)
            .where(PointApplicability.release_id == previous.id)
            .order_by(PointApplicability.id)
            .options(selectinload(PointApplicability.evidence))
        )
        if p.ref not in have
    ]
    if not points:
        return
    ids = sorted({link.evidence_id for p in points for link in p.evidence})
    evidence = {
        e.id: e
        for e in session.scalars(
            select(Evidence)
            .where(Evidence.id.in_(ids))
            .options(selectinload(Evidence.revisions).selectinload(EvidenceRevision.release_links))
        )
    }
    carried = {i for i in ids if stands_for(evidence[i], release)}
    dropped = 0
    for point in points:
        kept = [link.evidence_id for link in point.evidence if link.evidence_id in carried]
        dropped += len(point.evidence) - len(kept)
        session.add(
            PointApplicability(
                release_id=release.id,
                ref=point.ref,
                applicable=point.applicable,
                justification=point.justification,
                measures=point.measures,
                updated_by=f"copied from {previous.version}",
                evidence=[PointEvidence(evidence_id=i) for i in kept],
            )
        )
    session.flush()
    record(
        session,
        actor,
        "cra:point:copy",
        target_type="release",
        target_id=release.id,
        product_id=release.product_id,
        details={"from": previous.version, "points": [p.ref for p in points], "evidence_not_carried": dropped},
    )
