"""Reviewing evidence: who may accept or reject it, and the review itself."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..accounts.notifications import Subject, request_review, resolve_requests, tell_decision
from ..audit.services import record
from ..auth import Permission, Principal, Role, authorize, authorize_second_person, permits
from ..db import locked, utcnow
from ..errors import Forbidden, Invalid
from ..labels import label
from .models import Evidence, EvidenceRevision, ReviewState
from .queries import get_evidence


def _roles_in_reach(actor: Principal) -> list[Role]:
    # A token narrowed to some products carries its owner's roles in those products only.
    return [
        role
        for product_id, role in actor.role_by_product.items()
        if actor.token_products is None or product_id in actor.token_products
    ]


def _authorize_review_of(actor: Principal, product_id: int | None, submitter_user_id: int | None) -> None:
    if product_id is not None:
        authorize(actor, Permission.EVIDENCE_REVIEW, product_id)
    elif not (actor.is_admin or Role.SECURITY_OFFICER in _roles_in_reach(actor)):
        # Organisation-wide evidence: an administrator or any security officer reviews it.
        raise Forbidden("organisation-wide evidence is reviewed by an administrator or a security officer")
    if actor.scopes is not None and Permission.EVIDENCE_REVIEW not in actor.scopes:
        raise Forbidden("this token does not grant evidence:review")
    authorize_second_person(
        actor,
        submitter_user_id,
        unnamed="a review needs a named reviewer (on the command line: --as EMAIL)",
        own="nobody reviews their own submission",
    )


def authorize_review(actor: Principal, evidence: Evidence) -> None:
    """Raise unless the actor may review this evidence: its product's security officers (for organisation-wide
    evidence, an administrator or any security officer), as a named user other than the submitter."""
    _authorize_review_of(actor, evidence.product_id, evidence.current.submitted_by_user_id)


def _authorize_review_current(
    actor: Principal, product_id: int | None, submitter_user_id: int | None, state: ReviewState
) -> None:
    _authorize_review_of(actor, product_id, submitter_user_id)
    if state is not ReviewState.SUBMITTED:
        raise Invalid.field("state", f"only submitted evidence is reviewed; this revision is {state.value}")


def _authorize_review_now(actor: Principal, evidence: Evidence) -> None:
    current = evidence.current
    _authorize_review_current(actor, evidence.product_id, current.submitted_by_user_id, current.state)


def _subject(evidence: Evidence) -> Subject:
    return Subject("evidence", evidence.id, evidence.product_id)


def ask_for_review(session: Session, actor: Principal, evidence: Evidence, revision: EvidenceRevision) -> None:
    """Tell the evidence's reviewers that a revision awaits them (when it was submitted)."""
    if revision.state is ReviewState.SUBMITTED:
        title = revision.title or f"evidence #{evidence.id}"
        message = f"{label(evidence.kind)} “{title}” (revision {revision.number}) awaits review"
        request_review(session, actor, _subject(evidence), message)


def resolve_overtaken(session: Session, actor: Principal, evidence: Evidence) -> None:
    """A new revision was made: the review requests of the ones before it are resolved for everyone (only the
    current revision is ever reviewed), audited, in the edit's transaction; the new one asks anew."""
    resolve_requests(session, actor, _subject(evidence))


def may_review(actor: Principal, evidence: Evidence) -> bool:
    """Whether the actor may accept or reject the evidence's current revision now."""
    return permits(_authorize_review_now, actor, evidence)


def may_review_current(
    actor: Principal, product_id: int | None, submitter_user_id: int | None, state: ReviewState
) -> bool:
    """`may_review` for a list that read the current revision's columns rather than the item: the item's
    product (None: organisation-wide), who submitted the current revision, and its state."""
    return permits(_authorize_review_current, actor, product_id, submitter_user_id, state)


def review_evidence(
    session: Session, actor: Principal, evidence_id: int, *, accept: bool, reason: str = ""
) -> EvidenceRevision:
    """Accept or reject the current revision; the reviewer is a named user other than the submitter."""
    evidence = get_evidence(session, actor, evidence_id)
    # Reviews of one revision take turns: the second reviewer finds it decided, not still submitted.
    revision = locked(session, evidence.current)
    _authorize_review_now(actor, evidence)
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
    verdict = "accepted" if accept else f"rejected: {revision.rejection_reason}"
    message = f"“{revision.title}” (revision {revision.number}) was {verdict}"
    tell_decision(session, actor, revision.submitted_by_user_id, _subject(evidence), message)
    return revision
