"""Evidence as JSON, shared by the API and `--json`."""

from __future__ import annotations

from typing import Any

from .models import Evidence, EvidenceRevision


def revision_json(revision: EvidenceRevision) -> dict[str, Any]:
    """One revision, with its artifacts and links."""
    return {
        "number": revision.number,
        "title": revision.title,
        "description": revision.description,
        "effective_date": revision.effective_date.isoformat(),
        "author": revision.author,
        "review_due": revision.review_due.isoformat() if revision.review_due else None,
        "details": revision.details,
        "state": revision.state.value,
        "submitted_by": revision.submitted_by,
        "reviewed_by": revision.reviewed_by or None,
        "reviewed_at": revision.reviewed_at.isoformat() if revision.reviewed_at else None,
        "rejection_reason": revision.rejection_reason or None,
        "requirements": [
            {"standard": r.edition.standard, "edition": r.edition.edition, "id": r.ref} for r in revision.requirements
        ],
        "releases": [r.version for r in revision.releases],
        "artifacts": [
            {"id": a.id, "filename": a.filename, "media_type": a.media_type, "size": a.size, "sha256": a.blob_sha256}
            for a in revision.artifacts
        ],
        "created_at": revision.created_at.isoformat(),
    }


def evidence_json(evidence: Evidence, *, history: bool = False) -> dict[str, Any]:
    """An evidence item: its current revision, and all of them with `history`."""
    data: dict[str, Any] = {
        "id": evidence.id,
        "product_id": evidence.product_id,
        "scope": evidence.scope.value,
        "kind": evidence.kind.value,
        "created_at": evidence.created_at.isoformat(),
        "created_by": evidence.created_by,
        "current": revision_json(evidence.current),
    }
    if history:
        data["revisions"] = [revision_json(r) for r in evidence.revisions]
    return data
