"""Evidence operations: attach, revise, submit, review, read; every one authorised and audited."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any, BinaryIO, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..audit.services import record
from ..auth import Permission, Principal, Role, authorize
from ..blobs import Blob, session_blobs, store_blob
from ..catalog.models import CatalogEdition, Requirement
from ..catalog.rules import ItemKind
from ..catalog.services import current_editions
from ..db import utcnow
from ..errors import FieldError, Forbidden, Invalid, NotFound
from ..products.models import Product, Release, ReleaseStatus
from ..products.services import get_product
from .details import validate_details
from .models import (
    Artifact,
    Evidence,
    EvidenceKind,
    EvidenceRevision,
    EvidenceScope,
    ReviewState,
    RevisionRelease,
    RevisionRequirement,
)
from .rules import clean_filename, effective_date_problem, state_after_edit
from .threat_dragon import MAX_MODEL_BYTES, parse_threat_dragon

# Grouping items are not something an activity shows; their requirements are.
NOT_LINKABLE = frozenset({ItemKind.PRACTICE, ItemKind.MATURITY_LEVEL, ItemKind.FOUNDATIONAL_REQUIREMENT, ItemKind.CCSC})
MAX_TITLE = 200
T = TypeVar("T")
MAX_DESCRIPTION = 50_000


@dataclass(frozen=True)
class Upload:
    """A file as a door received it."""

    filename: str
    media_type: str
    stream: IO[bytes]
    # Already in the blob store under this name (a big SBOM): not read and written again.
    stored_sha256: str = ""


@dataclass
class EvidenceInput:
    """What a door gives to create or revise evidence; None on a revision means "unchanged"."""

    title: str | None = None
    description: str | None = None
    effective_date: date | None = None
    author: str | None = None
    review_due: date | None = None
    requirements: Sequence[str] | None = None
    release_versions: Sequence[str] | None = None
    details: dict[str, Any] | None = None
    files: Sequence[Upload] = field(default_factory=list)
    threat_dragon: Upload | None = None  # an OWASP Threat Dragon model: fills the threat details


def _editions_for(session: Session, product: Product | None) -> list[CatalogEdition]:
    if product is not None and product.editions:
        return [pe.edition for pe in product.editions]
    return list(current_editions(session).values())


def _normalise_ref(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def _look_up_requirements(
    session: Session, product: Product | None, refs: Sequence[str]
) -> tuple[list[Requirement], list[str]]:
    """The linkable requirements among `refs`, and the refs that name none."""
    edition_ids = [e.id for e in _editions_for(session, product)]
    found: list[Requirement] = []
    unknown: list[str] = []
    for ref in dict.fromkeys(_normalise_ref(r) for r in refs if r.strip()):
        requirement = session.scalar(
            select(Requirement).where(Requirement.edition_id.in_(edition_ids), Requirement.ref == ref)
        )
        if requirement is None or requirement.kind in NOT_LINKABLE:
            unknown.append(ref)
        else:
            found.append(requirement)
    return found, unknown


def known_requirement_refs(session: Session, product: Product | None, refs: Sequence[str]) -> list[str]:
    """Those of `refs` that the product's catalog editions know: for evidence a record brings with it,
    which links what exists rather than fail on an edition without one of its ids."""
    return [requirement.ref for requirement in _look_up_requirements(session, product, refs)[0]]


def resolve_requirements(session: Session, product: Product | None, refs: Sequence[str]) -> list[Requirement]:
    """Catalog requirements by id (`SR-2`, `CR 3.4`), in the editions the product is assessed against."""
    found, unknown = _look_up_requirements(session, product, refs)
    if unknown:
        raise Invalid(
            "unknown requirement ids",
            errors=[FieldError("requirements", f"unknown requirement {r!r}") for r in unknown],
        )
    return found


def _resolve_releases(session: Session, product: Product, versions: Sequence[str]) -> list[Release]:
    releases = []
    for version in dict.fromkeys(v.strip() for v in versions if v.strip()):
        release = session.scalar(select(Release).where(Release.product_id == product.id, Release.version == version))
        if release is None:
            raise Invalid.field("releases", f"{product.name} has no release {version!r}")
        releases.append(release)
    return releases


def _check_text(data: EvidenceInput, today: date, errors: list[FieldError], *, creating: bool) -> None:
    if creating or data.title is not None:
        title = (data.title or "").strip()
        if not title or len(title) > MAX_TITLE:
            errors.append(FieldError("title", f"a title of 1-{MAX_TITLE} characters is required"))
    if data.description is not None and len(data.description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"at most {MAX_DESCRIPTION:,} characters"))
    if data.author is not None and len(data.author) > 200:
        errors.append(FieldError("author", "at most 200 characters"))
    if data.effective_date is not None:
        problem = effective_date_problem(data.effective_date, today)
        if problem:
            errors.append(FieldError("effective_date", problem))
    if creating and not data.requirements:
        errors.append(FieldError("requirements", "name at least one requirement the evidence shows"))
    if creating and not data.files and data.threat_dragon is None:
        errors.append(FieldError("files", "attach at least one file"))


def _with_model(data: EvidenceInput) -> list[Upload]:
    return [*data.files, *([data.threat_dragon] if data.threat_dragon else [])]


def _collect(errors: list[FieldError], resolve: Callable[[], list[T]]) -> list[T]:
    """Run a lookup, adding its field errors to `errors` (so a form shows every problem at once)."""
    try:
        return resolve()
    except Invalid as exc:
        errors.extend(exc.errors)
        return []


def _details_for(
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
        latest = _add_months(effective, 12)
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


def _add_months(day: date, months: int) -> date:
    # The same day `months` later, or the month's last day when that day does not exist.
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _review_due(data: EvidenceInput, details: dict[str, Any], fallback: date | None) -> date | None:
    if data.review_due is not None:
        return data.review_due
    if details.get("next_review_due"):
        return date.fromisoformat(details["next_review_due"])
    return fallback


def _review_due_problems(
    session: Session,
    product: Product | None,
    kind: EvidenceKind,
    details: dict[str, Any],
    effective: date,
    review_due: date | None,
) -> list[FieldError]:
    """The review date is what coverage expires on: never before the activity, and for a released
    product's threat model no later than its next review (at most 12 months)."""
    if review_due is None:
        return []
    if review_due < effective:
        return [FieldError("review_due", "the review date is before the activity itself")]
    if kind is EvidenceKind.THREAT_MODEL and product is not None and _released(session, product):
        latest = min(
            _add_months(effective, 12),
            date.fromisoformat(details["next_review_due"])
            if details.get("next_review_due")
            else _add_months(effective, 12),
        )
        if review_due > latest:
            return [FieldError("review_due", f"at most the model's next review ({latest.isoformat()})")]
    return []


def _store_artifacts(session: Session, files: Sequence[Upload]) -> list[Artifact]:
    artifacts = []
    for upload in files:
        # The blob file is durable before the row exists; if the transaction then fails, the file
        # is merely unreferenced, which `blobs verify` reports and `blobs gc` removes.
        known = session.get(Blob, upload.stored_sha256) if upload.stored_sha256 else None
        blob = known or store_blob(session, upload.stream)
        artifacts.append(
            Artifact(
                blob_sha256=blob.sha256,
                filename=clean_filename(upload.filename),
                media_type=(upload.media_type or "application/octet-stream")[:120],
                size=blob.size,
            )
        )
    return artifacts


def _authorize_write(
    actor: Principal, product_id: int | None, permission: Permission = Permission.EVIDENCE_ATTACH
) -> None:
    if product_id is None:
        authorize(actor, Permission.ORGANISATION_MANAGE)
    else:
        authorize(actor, permission, product_id)


def create_evidence(
    session: Session,
    actor: Principal,
    *,
    product_id: int | None,
    kind: str,
    data: EvidenceInput,
    draft: bool = False,
    today: date | None = None,
    permission: Permission = Permission.EVIDENCE_ATTACH,
) -> Evidence:
    """Attach evidence to a product (its releases, or the whole product) or, with no product, the organisation.

    `permission` is what the write needs: evidence that another record brings with it (an SBOM's)
    needs what that record needs, so a token scoped to `sbom:upload` can import an SBOM.
    """
    today = today or utcnow().date()
    product = get_product(session, actor, product_id) if product_id is not None else None
    _authorize_write(actor, product_id, permission)
    errors: list[FieldError] = []
    evidence_kind: EvidenceKind | None = None
    try:
        evidence_kind = EvidenceKind(kind)
    except ValueError:
        errors.append(FieldError("kind", f"unknown kind {kind!r} (one of: {', '.join(k.value for k in EvidenceKind)})"))
    _check_text(data, today, errors, creating=True)
    if product is None and data.release_versions:
        errors.append(FieldError("releases", "organisation-wide evidence names no releases"))
    effective = data.effective_date or today
    details = _details_for(session, product, evidence_kind, data, effective, None, errors) if evidence_kind else {}
    requirements = _collect(errors, lambda: resolve_requirements(session, product, data.requirements or []))
    releases = (
        _collect(errors, lambda: _resolve_releases(session, product, data.release_versions or [])) if product else []
    )
    if evidence_kind is not None and not errors:
        errors += _review_due_problems(
            session, product, evidence_kind, details, effective, _review_due(data, details, None)
        )
    if errors or evidence_kind is None:
        raise Invalid("the evidence was not attached", errors=errors)

    evidence = Evidence(
        product_id=product.id if product else None,
        scope=EvidenceScope.ORGANISATION
        if product is None
        else EvidenceScope.RELEASES
        if releases
        else EvidenceScope.PRODUCT,
        kind=evidence_kind,
        created_by=actor.label,
    )
    revision = EvidenceRevision(
        number=1,
        title=(data.title or "").strip(),
        description=data.description or "",
        effective_date=effective,
        author=(data.author or "").strip(),
        review_due=_review_due(data, details, None),
        details=details,
        state=ReviewState.DRAFT if draft else ReviewState.SUBMITTED,
        submitted_by_user_id=actor.user_id,
        submitted_by=actor.label,
        requirement_links=[RevisionRequirement(requirement_id=r.id) for r in requirements],
        release_links=[RevisionRelease(release_id=r.id) for r in releases],
    )
    revision.artifacts = _store_artifacts(session, _with_model(data))
    evidence.revisions = [revision]
    session.add(evidence)
    session.flush()
    record(
        session,
        actor,
        "evidence:item:attach",
        target_type="evidence",
        target_id=evidence.id,
        product_id=evidence.product_id,
        details=_revision_summary(evidence, revision),
    )
    return evidence


def _revision_summary(evidence: Evidence, revision: EvidenceRevision) -> dict[str, Any]:
    return {
        "kind": evidence.kind.value,
        "scope": evidence.scope.value,
        "revision": revision.number,
        "title": revision.title,
        "effective_date": revision.effective_date,
        "state": revision.state.value,
        "requirements": [r.ref for r in revision.requirements],
        "releases": [r.version for r in revision.releases],
        "artifacts": [{"name": a.filename, "sha256": a.blob_sha256} for a in revision.artifacts],
    }


def get_evidence(session: Session, actor: Principal, evidence_id: int) -> Evidence:
    """Evidence the actor may see (organisation-wide evidence: every signed-in user), else NotFound."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or (evidence.product_id is not None and not actor.can_see(evidence.product_id)):
        raise NotFound("evidence not found")
    return evidence


def revise_evidence(
    session: Session,
    actor: Principal,
    evidence_id: int,
    *,
    data: EvidenceInput,
    submit: bool = False,
    today: date | None = None,
) -> EvidenceRevision:
    """Edit evidence: a new revision, earlier ones kept; accepted or rejected evidence returns to submitted."""
    today = today or utcnow().date()
    evidence = get_evidence(session, actor, evidence_id)
    _authorize_write(actor, evidence.product_id)
    product = session.get(Product, evidence.product_id) if evidence.product_id else None
    errors: list[FieldError] = []
    _check_text(data, today, errors, creating=False)
    if data.requirements is not None and not data.requirements:
        errors.append(FieldError("requirements", "name at least one requirement the evidence shows"))
    if product is None and data.release_versions:
        errors.append(FieldError("releases", "organisation-wide evidence names no releases"))
    if errors:
        raise Invalid("the evidence was not changed", errors=errors)
    previous = evidence.current
    effective = data.effective_date or previous.effective_date
    details = _details_for(session, product, evidence.kind, data, effective, previous.details, errors)
    review_due = (
        _review_due(data, details, previous.review_due)
        if data.details or data.threat_dragon
        else (data.review_due if data.review_due is not None else previous.review_due)
    )
    if not errors:
        errors += _review_due_problems(session, product, evidence.kind, details, effective, review_due)
    if errors:
        raise Invalid("the evidence was not changed", errors=errors)
    requirements = (
        resolve_requirements(session, product, data.requirements)
        if data.requirements is not None
        else previous.requirements
    )
    releases = (
        _resolve_releases(session, product, data.release_versions)
        if product is not None and data.release_versions is not None
        else previous.releases
    )
    revision = EvidenceRevision(
        number=previous.number + 1,
        title=(data.title if data.title is not None else previous.title).strip(),
        description=data.description if data.description is not None else previous.description,
        effective_date=effective,
        author=(data.author if data.author is not None else previous.author).strip(),
        review_due=review_due,
        details=details,
        state=state_after_edit(previous.state, submit),
        submitted_by_user_id=actor.user_id,
        submitted_by=actor.label,
        requirement_links=[RevisionRequirement(requirement_id=r.id) for r in requirements],
        release_links=[RevisionRelease(release_id=r.id) for r in releases],
    )
    # Earlier artifacts stay with the new revision (the blobs are shared, never copied).
    carried = [
        Artifact(blob_sha256=a.blob_sha256, filename=a.filename, media_type=a.media_type, size=a.size)
        for a in previous.artifacts
    ]
    revision.artifacts = carried + _store_artifacts(session, _with_model(data))
    if product is not None:
        evidence.scope = EvidenceScope.RELEASES if releases else EvidenceScope.PRODUCT
    evidence.revisions.append(revision)
    session.flush()
    record(
        session,
        actor,
        "evidence:item:update",
        target_type="evidence",
        target_id=evidence.id,
        product_id=evidence.product_id,
        details=_revision_summary(evidence, revision),
    )
    return revision


def submit_evidence(session: Session, actor: Principal, evidence_id: int) -> EvidenceRevision:
    """Submit a draft for review."""
    evidence = get_evidence(session, actor, evidence_id)
    _authorize_write(actor, evidence.product_id)
    revision = evidence.current
    if revision.state is not ReviewState.DRAFT:
        raise Invalid.field("state", f"only a draft can be submitted; this revision is {revision.state.value}")
    # The revision's author stays who wrote it: submitting someone's draft must not let them accept it.
    revision.state = ReviewState.SUBMITTED
    record(
        session,
        actor,
        "evidence:item:submit",
        target_type="evidence",
        target_id=evidence.id,
        product_id=evidence.product_id,
        details={"revision": revision.number},
    )
    return revision


def _roles_in_reach(actor: Principal) -> list[Role]:
    # A token narrowed to some products carries its owner's roles in those products only.
    return [
        role
        for product_id, role in actor.role_by_product.items()
        if actor.token_products is None or product_id in actor.token_products
    ]


def authorize_review(actor: Principal, evidence: Evidence) -> None:
    """Raise unless the actor may review this evidence (its product's security officers; for organisation-wide
    evidence, an administrator or any security officer)."""
    if evidence.product_id is not None:
        authorize(actor, Permission.EVIDENCE_REVIEW, evidence.product_id)
    elif not (actor.is_admin or Role.SECURITY_OFFICER in _roles_in_reach(actor)):
        # Organisation-wide evidence: an administrator or any security officer reviews it.
        raise Forbidden("organisation-wide evidence is reviewed by an administrator or a security officer")
    if actor.scopes is not None and Permission.EVIDENCE_REVIEW not in actor.scopes:
        raise Forbidden("this token does not grant evidence:review")


def review_evidence(
    session: Session, actor: Principal, evidence_id: int, *, accept: bool, reason: str = ""
) -> EvidenceRevision:
    """Accept or reject the current revision; the reviewer is a named user other than the submitter."""
    evidence = get_evidence(session, actor, evidence_id)
    authorize_review(actor, evidence)
    revision = evidence.current
    if actor.user_id is None:
        raise Forbidden("a review needs a named reviewer (on the command line: --as EMAIL)")
    if revision.submitted_by_user_id == actor.user_id:
        raise Forbidden("nobody reviews their own submission")
    if revision.state is not ReviewState.SUBMITTED:
        raise Invalid.field("state", f"only submitted evidence is reviewed; this revision is {revision.state.value}")
    if not accept and not reason.strip():
        raise Invalid.field("reason", "a rejection needs a reason")
    if len(reason) > 5000:
        raise Invalid.field("reason", "at most 5,000 characters")
    revision.state = ReviewState.ACCEPTED if accept else ReviewState.REJECTED
    revision.rejection_reason = "" if accept else reason.strip()
    revision.reviewed_by_user_id, revision.reviewed_by, revision.reviewed_at = actor.user_id, actor.label, utcnow()
    record(
        session,
        actor,
        "evidence:item:accept" if accept else "evidence:item:reject",
        target_type="evidence",
        target_id=evidence.id,
        product_id=evidence.product_id,
        details={"revision": revision.number, "reason": revision.rejection_reason},
    )
    return revision


@dataclass(frozen=True)
class EvidenceQuery:
    """Which evidence a list shows."""

    product_id: int | None  # None: organisation-wide evidence
    release_id: int | None = None
    include_organisation: bool = False


def list_evidence(session: Session, actor: Principal, query: EvidenceQuery) -> list[Evidence]:
    """A product's evidence (optionally only what covers one release, plus inherited organisation-wide
    evidence), or the organisation's; newest first."""
    statement = select(Evidence).options(
        selectinload(Evidence.revisions).selectinload(EvidenceRevision.release_links),
        selectinload(Evidence.revisions).selectinload(EvidenceRevision.requirement_links),
        selectinload(Evidence.revisions).selectinload(EvidenceRevision.artifacts),
    )
    if query.product_id is None:
        statement = statement.where(Evidence.product_id.is_(None))
    else:
        get_product(session, actor, query.product_id)
        owner = Evidence.product_id == query.product_id
        statement = statement.where(owner | Evidence.product_id.is_(None) if query.include_organisation else owner)
    items = list(session.scalars(statement.order_by(Evidence.id.desc())))
    if query.release_id is not None:
        # Release-scoped evidence counts only for its releases; product and organisation scope always.
        items = [
            e
            for e in items
            if e.scope is not EvidenceScope.RELEASES
            or any(link.release_id == query.release_id for link in e.current.release_links)
        ]
    return items


def get_artifact(session: Session, actor: Principal, artifact_id: int) -> tuple[Artifact, BinaryIO]:
    """An artifact the actor may see, opened after its content was checked against its hash."""
    artifact = session.get(Artifact, artifact_id)
    if artifact is None:
        raise NotFound("artifact not found")
    revision = session.get(EvidenceRevision, artifact.revision_id)
    assert revision is not None  # the foreign key guarantees it
    get_evidence(session, actor, revision.evidence_id)
    return artifact, session_blobs(session).open_verified(artifact.blob_sha256)
