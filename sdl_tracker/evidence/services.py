"""Writing evidence: attach, revise, submit; every operation authorised and audited."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..blobs import Blob, store_blob
from ..catalog.models import Requirement
from ..db import lock_row, locked, utcnow
from ..errors import Conflict, FieldError, Invalid
from ..products.models import Product, Release
from ..products.services import get_product
from .checks import details_for, review_due_from, review_due_problems
from .inputs import EvidenceInput, Upload, check_text, independence_from, with_model
from .links import resolve_releases, resolve_requirements
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
from .queries import get_evidence
from .review import ask_for_review, resolve_overtaken
from .rules import clean_filename, state_after_edit
from .vocabulary import TesterIndependence, parse_kind

T = TypeVar("T")


def _collect(errors: list[FieldError], resolve: Callable[[], list[T]]) -> list[T]:
    """Run a lookup, adding its field errors to `errors` (so a form shows every problem at once)."""
    try:
        return resolve()
    except Invalid as exc:
        errors.extend(exc.errors)
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


def authorize_attach_evidence(
    actor: Principal, product: Product | None, permission: Permission = Permission.EVIDENCE_ATTACH
) -> None:
    """Raise unless the actor may attach evidence to the product (its developers and security officers)
    or, with no product, organisation-wide evidence (administrators)."""
    _authorize_write(actor, product.id if product else None, permission)


def may_attach_evidence(actor: Principal, product: Product | None) -> bool:
    """Whether the actor may attach evidence to the product (None: organisation-wide evidence)."""
    return permits(authorize_attach_evidence, actor, product)


def authorize_edit_evidence(actor: Principal, evidence: Evidence) -> None:
    """Raise unless the actor may revise or submit this evidence: whoever may attach evidence where it lives."""
    _authorize_write(actor, evidence.product_id)


def may_edit_evidence(actor: Principal, evidence: Evidence) -> bool:
    """Whether the actor may revise or submit this evidence."""
    return permits(authorize_edit_evidence, actor, evidence)


@dataclass(frozen=True)
class _NewItem:
    """A new item's input, checked: what creating it needs beyond the input itself."""

    product: Product | None
    kind: EvidenceKind
    effective: date
    details: dict[str, Any]
    independence: TesterIndependence | None
    requirements: list[Requirement]
    releases: list[Release]


def _checked_new(
    session: Session,
    actor: Principal,
    product_id: int | None,
    kind: str,
    data: EvidenceInput,
    today: date,
    permission: Permission,
) -> _NewItem:
    """The new item's input checked (access, kind, text, details, links, dates), else Invalid naming each field."""
    product = get_product(session, actor, product_id) if product_id is not None else None
    authorize_attach_evidence(actor, product, permission)
    errors: list[FieldError] = []
    evidence_kind: EvidenceKind | None = None
    try:
        evidence_kind = parse_kind(kind)
    except Invalid as exc:
        errors.extend(exc.errors)
    check_text(data, today, errors, creating=True)
    if product is None and data.release_versions:
        errors.append(FieldError("releases", "organisation-wide evidence names no releases"))
    effective = data.effective_date or today
    details = details_for(session, product, evidence_kind, data, effective, None, errors) if evidence_kind else {}
    independence = independence_from(evidence_kind, data.tester_independence, None, errors)
    requirements = _collect(errors, lambda: resolve_requirements(session, product, data.requirements or []))
    releases = (
        _collect(errors, lambda: resolve_releases(session, product, data.release_versions or [])) if product else []
    )
    if evidence_kind is not None and not errors:
        errors += review_due_problems(
            session, product, evidence_kind, details, effective, review_due_from(data, details, None)
        )
    if errors or evidence_kind is None:
        raise Invalid("the evidence was not attached", errors=errors)
    return _NewItem(product, evidence_kind, effective, details, independence, requirements, releases)


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
    new = _checked_new(session, actor, product_id, kind, data, today or utcnow().date(), permission)
    return _create(session, actor, new, data, draft=draft)


def _create(session: Session, actor: Principal, new: _NewItem, data: EvidenceInput, *, draft: bool) -> Evidence:
    product, details = new.product, new.details
    evidence = Evidence(
        product_id=product.id if product else None,
        scope=EvidenceScope.ORGANISATION
        if product is None
        else EvidenceScope.RELEASES
        if new.releases
        else EvidenceScope.PRODUCT,
        kind=new.kind,
        created_by=actor.label,
    )
    revision = EvidenceRevision(
        number=1,
        title=(data.title or "").strip(),
        description=data.description or "",
        effective_date=new.effective,
        author=(data.author or "").strip(),
        review_due=review_due_from(data, details, None),
        details=details,
        tester_independence=new.independence,
        state=ReviewState.DRAFT if draft else ReviewState.SUBMITTED,
        submitted_by_user_id=actor.user_id,
        submitted_by=actor.label,
        submitted_at=None if draft else utcnow(),
        requirement_links=[RevisionRequirement(requirement_id=r.id) for r in new.requirements],
        release_links=[RevisionRelease(release_id=r.id) for r in new.releases],
    )
    revision.artifacts = _store_artifacts(session, with_model(data))
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
    ask_for_review(session, actor, evidence, revision)
    return evidence


@dataclass(frozen=True)
class Attached:
    """The evidence a door's attach answers with, and whether this request created it (False: the files were
    already that item's)."""

    evidence: Evidence
    created: bool


def _digests(files: Sequence[Upload]) -> frozenset[str] | None:
    """The SHA-256 of every file, each stream rewound for storing; None when a stream cannot be rewound."""
    digests = set()
    for upload in files:
        if upload.stored_sha256:
            digests.add(upload.stored_sha256)
            continue
        if not upload.stream.seekable():
            return None
        start = upload.stream.tell()
        digest = hashlib.sha256()
        while chunk := upload.stream.read(1024 * 1024):
            digest.update(chunk)
        upload.stream.seek(start)
        digests.add(digest.hexdigest())
    return frozenset(digests)


def _same_files(
    session: Session, product_id: int | None, kind: EvidenceKind, digests: frozenset[str]
) -> Evidence | None:
    """The oldest item of the product (None: the organisation) and kind whose current revision holds exactly
    these files."""
    where = Evidence.product_id.is_(None) if product_id is None else Evidence.product_id == product_id
    candidates = session.scalars(
        select(Evidence)
        .join(EvidenceRevision, EvidenceRevision.evidence_id == Evidence.id)
        .join(Artifact, Artifact.revision_id == EvidenceRevision.id)
        .where(where, Evidence.kind == kind, Artifact.blob_sha256.in_(sorted(digests)))
        .distinct()
        .order_by(Evidence.id)
    )
    for evidence in candidates:
        if {a.blob_sha256 for a in evidence.current.artifacts} == digests:
            return evidence
    return None


def attach_evidence(
    session: Session,
    actor: Principal,
    *,
    product_id: int | None,
    kind: str,
    data: EvidenceInput,
    draft: bool = False,
    today: date | None = None,
) -> Attached:
    """What the doors call to attach evidence: idempotent on the files' digests (a CI job that uploads its
    report again gets the item it made the first time); the same files with another release set are refused,
    so a release link is never dropped silently."""
    # Checked first: a request that is wrong is refused as such, whether or not its files are already evidence.
    new = _checked_new(session, actor, product_id, kind, data, today or utcnow().date(), Permission.EVIDENCE_ATTACH)
    files = with_model(data)
    digests = _digests(files) if files else None
    if digests:
        if new.product is not None:
            lock_row(session, Product.id, new.product.id)  # two uploads of one file at once: the second finds the first
        existing = _same_files(session, product_id, new.kind, digests)
        if existing is not None:
            wanted = {release.version for release in new.releases}
            if wanted != {release.version for release in existing.current.releases}:
                these = "this file is" if len(digests) == 1 else "these files are"
                raise Conflict(f"{these} already evidence #{existing.id}; edit that item to add releases")
            return Attached(existing, created=False)
    return Attached(_create(session, actor, new, data, draft=draft), True)


def _revision_summary(evidence: Evidence, revision: EvidenceRevision) -> dict[str, Any]:
    return {
        "kind": evidence.kind.value,
        "scope": evidence.scope.value,
        "revision": revision.number,
        "title": revision.title,
        "effective_date": revision.effective_date,
        "state": revision.state.value,
        "tester_independence": revision.tester_independence.value if revision.tester_independence else None,
        "requirements": [r.ref for r in revision.requirements],
        "releases": [r.version for r in revision.releases],
        "artifacts": [{"name": a.filename, "sha256": a.blob_sha256} for a in revision.artifacts],
    }


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
    authorize_edit_evidence(actor, evidence)
    # Edits at the same moment go one at a time: each revision follows (and is numbered after) the one
    # the edit before committed, instead of two claiming the same number.
    evidence = locked(session, evidence)
    product = session.get(Product, evidence.product_id) if evidence.product_id else None
    errors: list[FieldError] = []
    check_text(data, today, errors, creating=False)
    if data.requirements is not None and not data.requirements:
        errors.append(FieldError("requirements", "name at least one requirement the evidence shows"))
    if product is None and data.release_versions:
        errors.append(FieldError("releases", "organisation-wide evidence names no releases"))
    if errors:
        raise Invalid("the evidence was not changed", errors=errors)
    previous = evidence.current
    effective = data.effective_date or previous.effective_date
    details = details_for(session, product, evidence.kind, data, effective, previous.details, errors)
    independence = independence_from(evidence.kind, data.tester_independence, previous.tester_independence, errors)
    review_due = (
        review_due_from(data, details, previous.review_due)
        if data.details or data.threat_dragon
        else (data.review_due if data.review_due is not None else previous.review_due)
    )
    if not errors:
        errors += review_due_problems(session, product, evidence.kind, details, effective, review_due)
    if errors:
        raise Invalid("the evidence was not changed", errors=errors)
    requirements = (
        resolve_requirements(session, product, data.requirements)
        if data.requirements is not None
        else previous.requirements
    )
    releases = (
        resolve_releases(session, product, data.release_versions)
        if product is not None and data.release_versions is not None
        else previous.releases
    )
    state = state_after_edit(previous.state, submit)
    revision = EvidenceRevision(
        number=previous.number + 1,
        title=(data.title if data.title is not None else previous.title).strip(),
        description=data.description if data.description is not None else previous.description,
        effective_date=effective,
        author=(data.author if data.author is not None else previous.author).strip(),
        review_due=review_due,
        details=details,
        tester_independence=independence,
        state=state,
        submitted_by_user_id=actor.user_id,
        submitted_by=actor.label,
        submitted_at=None if state is ReviewState.DRAFT else utcnow(),
        requirement_links=[RevisionRequirement(requirement_id=r.id) for r in requirements],
        release_links=[RevisionRelease(release_id=r.id) for r in releases],
    )
    # Earlier artifacts stay with the new revision (the blobs are shared, never copied).
    carried = [
        Artifact(blob_sha256=a.blob_sha256, filename=a.filename, media_type=a.media_type, size=a.size)
        for a in previous.artifacts
    ]
    revision.artifacts = carried + _store_artifacts(session, with_model(data))
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
    resolve_overtaken(session, actor, evidence)
    ask_for_review(session, actor, evidence, revision)
    return revision


def submit_evidence(session: Session, actor: Principal, evidence_id: int) -> EvidenceRevision:
    """Submit a draft for review."""
    evidence = get_evidence(session, actor, evidence_id)
    authorize_edit_evidence(actor, evidence)
    revision = locked(session, evidence.current)  # submitted once, however many submit it at the same moment
    if revision.state is not ReviewState.DRAFT:
        raise Invalid.field("state", f"only a draft can be submitted; this revision is {revision.state.value}")
    # The revision's author stays who wrote it: submitting someone's draft must not let them accept it.
    revision.state, revision.submitted_at = ReviewState.SUBMITTED, utcnow()  # the queue's age counts from here
    record(
        session,
        actor,
        "evidence:item:submit",
        target_type="evidence",
        target_id=evidence.id,
        product_id=evidence.product_id,
        details={"revision": revision.number},
    )
    ask_for_review(session, actor, evidence, revision)
    return revision
