"""Reading evidence: one item, lists per product, release or organisation, artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from ..auth import Principal
from ..blobs import session_blobs
from ..errors import NotFound
from ..products.services import get_product
from .models import Artifact, Evidence, EvidenceRevision, EvidenceScope, RevisionRelease


def get_evidence(session: Session, actor: Principal, evidence_id: int) -> Evidence:
    """Evidence the actor may see (organisation-wide evidence: every signed-in user), else NotFound."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or (evidence.product_id is not None and not actor.can_see(evidence.product_id)):
        raise NotFound("evidence not found")
    return evidence


def with_revisions() -> tuple[_AbstractLoad, ...]:
    """Loader options that read evidence's revisions and their links in a fixed number of statements, however
    many items a page shows (use under a relationship's loader with `.options(*with_revisions())`)."""
    revisions = selectinload(Evidence.revisions)
    return (
        revisions.selectinload(EvidenceRevision.release_links),
        revisions.selectinload(EvidenceRevision.requirement_links),
    )


@dataclass(frozen=True)
class EvidenceQuery:
    """Which evidence a list shows."""

    product_id: int | None  # None: organisation-wide evidence
    release_id: int | None = None
    include_organisation: bool = False


def _selection(session: Session, actor: Principal, query: EvidenceQuery) -> Select[Evidence]:
    statement = select(Evidence)
    if query.product_id is None:
        statement = statement.where(Evidence.product_id.is_(None))
    else:
        get_product(session, actor, query.product_id)
        owner = Evidence.product_id == query.product_id
        statement = statement.where(owner | Evidence.product_id.is_(None) if query.include_organisation else owner)
    if query.release_id is not None:
        # Release-scoped evidence counts only for the releases its current (newest) revision names;
        # product and organisation scope always.
        newest = (
            select(EvidenceRevision.evidence_id, func.max(EvidenceRevision.number).label("number"))
            .group_by(EvidenceRevision.evidence_id)
            .subquery()
        )
        naming = (
            select(EvidenceRevision.evidence_id)
            .join(
                newest,
                (newest.c.evidence_id == EvidenceRevision.evidence_id) & (newest.c.number == EvidenceRevision.number),
            )
            .join(RevisionRelease, RevisionRelease.revision_id == EvidenceRevision.id)
            .where(RevisionRelease.release_id == query.release_id)
        )
        statement = statement.where((Evidence.scope != EvidenceScope.RELEASES) | Evidence.id.in_(naming))
    return statement


def _shown() -> tuple[_AbstractLoad, ...]:
    return (*with_revisions(), selectinload(Evidence.revisions).selectinload(EvidenceRevision.artifacts))


def list_evidence(session: Session, actor: Principal, query: EvidenceQuery) -> list[Evidence]:
    """A product's evidence (optionally only what covers one release, plus inherited organisation-wide
    evidence), or the organisation's; newest first."""
    return list(session.scalars(_selection(session, actor, query).options(*_shown()).order_by(Evidence.id.desc())))


def get_artifact(session: Session, actor: Principal, artifact_id: int) -> tuple[Artifact, BinaryIO]:
    """An artifact the actor may see, opened after its content was checked against its hash."""
    artifact = session.get(Artifact, artifact_id)
    if artifact is None:
        raise NotFound("artifact not found")
    revision = session.get(EvidenceRevision, artifact.revision_id)
    assert revision is not None  # the foreign key guarantees it
    get_evidence(session, actor, revision.evidence_id)
    return artifact, session_blobs(session).open_verified(artifact.blob_sha256)
