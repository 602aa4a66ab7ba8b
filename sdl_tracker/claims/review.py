"""Accepting "not applicable" and "compensated" claims, and confirming claims carried forward."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.notifications import Subject, tell_decision
from ..audit.services import record
from ..auth import Permission, Principal, authorize, authorize_second_person, permits
from ..catalog.models import Requirement
from ..db import utcnow
from ..errors import Forbidden, Invalid, NotFound
from ..labels import label
from ..products.models import Release
from ..products.services import get_release
from .models import Claim
from .rules import ClaimStatus
from .services import ACCEPTED_STATUSES, lock_release_claims
from .terms import product_catalog, release_terms


def get_claim(session: Session, actor: Principal, release_id: int, ref: str) -> Claim:
    """The release's claim for one requirement, else NotFound."""
    release = get_release(session, actor, release_id)
    claim = session.scalar(
        select(Claim)
        .join(Requirement, Requirement.id == Claim.requirement_id)
        .where(Claim.release_id == release.id, Requirement.ref == ref)
    )
    if claim is None:
        raise NotFound(f"{release.version} has no claim for {ref}")
    return claim


def _decided_claim(session: Session, actor: Principal, release_id: int, ref: str) -> Claim:
    """The claim as it stands once the release's claim decisions are ours (lock_release_claims)."""
    claim = get_claim(session, actor, release_id, ref)
    lock_release_claims(session, claim.release_id)
    session.refresh(claim)  # another officer may have changed or accepted it since it was read
    return claim


def _release(session: Session, claim: Claim) -> Release:
    release = session.get(Release, claim.release_id)
    assert release is not None
    return release


def authorize_accept(actor: Principal, claim: Claim, release: Release) -> None:
    """Raise unless the actor may accept this claim's decision: a security officer of its product or an
    administrator, as a named user other than the one who set it (the rules of evidence review)."""
    authorize(actor, Permission.CLAIMS_MANAGE, release.product_id)
    authorize_second_person(
        actor,
        claim.set_by_user_id,
        unnamed="an acceptance needs a named officer (on the command line: --as EMAIL)",
        own="nobody accepts a claim they set: another security officer or an administrator accepts it",
    )


def _authorize_accept_now(actor: Principal, claim: Claim, release: Release) -> None:
    authorize_accept(actor, claim, release)
    if claim.status not in ACCEPTED_STATUSES:
        raise Invalid.field("status", "only “not applicable” and “compensated” claims are accepted")
    if claim.accepted_at is not None:
        raise Invalid.field("status", f"already accepted by {claim.accepted_by}")


def may_accept(actor: Principal, claim: Claim, release: Release) -> bool:
    """Whether the actor may accept the claim now."""
    return permits(_authorize_accept_now, actor, claim, release)


def accept_claim(session: Session, actor: Principal, release_id: int, ref: str) -> Claim:
    """Accept a "not applicable" or "compensated" claim for its release (an officer other than its setter)."""
    claim = _decided_claim(session, actor, release_id, ref)
    release = _release(session, claim)
    _authorize_accept_now(actor, claim, release)
    catalog = product_catalog(session, release.product)
    if claim.status is ClaimStatus.NOT_APPLICABLE:
        if not claim.justification.strip():
            raise Invalid.field("justification", "“not applicable” needs a justification before it is accepted")
        if not catalog.conditional(ref) and not claim.override_reason.strip():
            raise Invalid.field(
                "override_reason", f"{ref} is not conditional: record the override and its reason before accepting"
            )
    if claim.status is ClaimStatus.COMPENSATED:
        if not claim.countermeasure.strip():
            raise Invalid.field("countermeasure", "describe the countermeasure before it is accepted")
        if claim.documentation_id is None:
            raise Invalid.field("documentation", "link the user documentation (SG-1/SG-2) before it is accepted")
    carried = claim.carried_from
    now = utcnow()
    claim.accepted_by_user_id, claim.accepted_by, claim.accepted_at = actor.user_id, actor.label, now
    if carried:
        # Accepting for this release is a stronger statement than confirming it.
        claim.carried_from = ""
        claim.confirmed_by_user_id, claim.confirmed_by, claim.confirmed_at = actor.user_id, actor.label, now
    session.flush()
    record(
        session,
        actor,
        "claims:claim:accept",
        target_type="claim",
        target_id=claim.id,
        product_id=release.product_id,
        details={
            "release": release.version,
            "requirement": ref,
            "status": claim.status.value,
            "set_by": claim.set_by,
            "override_reason": claim.override_reason,
            "judged_on": release_terms(session, release).judged_on.isoformat(),
            **({"carried_from": carried} if carried else {}),
        },
    )
    subject = Subject("claim", claim.id, release.product_id, release.id, ref)
    message = f"{ref} of {release.version}: “{label(claim.status)}” was accepted"
    tell_decision(session, actor, claim.set_by_user_id, subject, message)
    return claim


def authorize_confirm(actor: Principal, claim: Claim, release: Release) -> None:
    """Raise unless the actor may confirm a carried-forward claim for its release (its security officers,
    as a named user: the confirmation is theirs)."""
    authorize(actor, Permission.CLAIMS_MANAGE, release.product_id)
    if actor.user_id is None:
        raise Forbidden("a confirmation needs a named officer (on the command line: --as EMAIL)")


def _authorize_confirm_now(actor: Principal, claim: Claim, release: Release) -> None:
    authorize_confirm(actor, claim, release)
    if not claim.carried_from:
        raise Invalid.field("status", "only a claim carried forward from an earlier release is confirmed")


def may_confirm(actor: Principal, claim: Claim, release: Release) -> bool:
    """Whether the actor may confirm the claim for its release now."""
    return permits(_authorize_confirm_now, actor, claim, release)


def confirm_claim(session: Session, actor: Principal, release_id: int, ref: str) -> Claim:
    """Confirm that a claim carried forward holds for this release. "Not applicable" and "compensated"
    still need their acceptance for this release."""
    claim = _decided_claim(session, actor, release_id, ref)
    release = _release(session, claim)
    _authorize_confirm_now(actor, claim, release)
    carried, claim.carried_from = claim.carried_from, ""
    claim.confirmed_by_user_id, claim.confirmed_by, claim.confirmed_at = actor.user_id, actor.label, utcnow()
    session.flush()
    record(
        session,
        actor,
        "claims:claim:confirm",
        target_type="claim",
        target_id=claim.id,
        product_id=release.product_id,
        details={"release": release.version, "requirement": ref, "carried_from": carried},
    )
    return claim
