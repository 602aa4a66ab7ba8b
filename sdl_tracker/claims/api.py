"""Claims, the vector and the gap over /api/v1."""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from pydantic import Field

from ..api.inputs import Input, Text
from ..api.openapi import ItemList, json_response, operation, parse_body
from ..products.services import optional_release
from ..web.context import db_session
from .judging import compare_releases, standing_of, vector_report
from .review import accept_claim, confirm_claim
from .rules import ClaimStatus, Verification
from .schemas import ClaimOut, CompareOut, VectorOut, claim_list
from .services import ClaimInput, set_claim

bp = Blueprint("claims_api", __name__)


class ClaimIn(Input):
    """A claim for one requirement."""

    status: ClaimStatus
    verification: Verification | None = None
    justification: Text = Field(default="", max_length=10_000)
    countermeasure: Text = Field(default="", max_length=10_000)
    notes: Text = Field(default="", max_length=10_000)
    evidence: list[int] = Field(default_factory=list, max_length=500)
    override_reason: Text = Field(
        default="", max_length=10_000, description="not applicable on an unconditional item: the officer's reason"
    )
    documentation: int | None = Field(
        default=None, description="compensated: the user documentation evidence (a guideline naming SG-1 or SG-2)"
    )


@bp.get("/releases/<int:release_id>/claims")
@operation("A release's claims in catalog order", response=ItemList[ClaimOut], tag="claims")
def claims_list(release_id: int) -> Response:
    """List claims."""
    return json_response(ItemList(items=claim_list(db_session(), g.principal, release_id)))


@bp.put("/releases/<int:release_id>/claims/<path:ref>")
@operation(
    "Set the claim for one applicable requirement (security officers)", body=ClaimIn, response=ClaimOut, tag="claims"
)
def claims_put(release_id: int, ref: str) -> Response:
    """Set a claim."""
    data = parse_body(ClaimIn)
    claim = set_claim(
        db_session(),
        g.principal,
        release_id,
        ref,
        ClaimInput(
            data.status.value,
            data.verification.value if data.verification else None,
            data.justification,
            data.countermeasure,
            data.notes,
            data.evidence,
            data.override_reason,
            data.documentation,
        ),
    )
    return json_response(ClaimOut.judged(standing_of(db_session(), claim)))


@bp.post("/releases/<int:release_id>/claims/<path:ref>/accept")
@operation(
    "Accept a “not applicable” or “compensated” claim for its release (a security officer other than its "
    "setter, or an administrator)",
    response=ClaimOut,
    tag="claims",
)
def claims_accept(release_id: int, ref: str) -> Response:
    """Accept a claim."""
    claim = accept_claim(db_session(), g.principal, release_id, ref)
    return json_response(ClaimOut.judged(standing_of(db_session(), claim)))


@bp.post("/releases/<int:release_id>/claims/<path:ref>/confirm")
@operation("Confirm a claim carried forward from the previous release for this one", response=ClaimOut, tag="claims")
def claims_confirm(release_id: int, ref: str) -> Response:
    """Confirm a carried-forward claim."""
    claim = confirm_claim(db_session(), g.principal, release_id, ref)
    return json_response(ClaimOut.judged(standing_of(db_session(), claim)))


@bp.get("/products/<int:product_id>/vector")
@operation(
    "Target against achieved SL-C vector and the missing ids per FR",
    response=VectorOut,
    tag="claims",
    query={"release": "a release version; none: the product's applicable list"},
)
def vector_show(product_id: int) -> Response:
    """The vector and the gap."""
    version = request.args.get("release")
    release = optional_release(db_session(), g.principal, product_id, version)
    report = vector_report(db_session(), g.principal, product_id, release.id if release else None)
    return json_response(VectorOut.of(report))


@bp.get("/releases/<int:release_id>/compare/<int:other_id>")
@operation("Claims that changed and levels that moved between two releases", response=CompareOut, tag="claims")
def releases_compare(release_id: int, other_id: int) -> Response:
    """Compare two releases."""
    return json_response(CompareOut.of(compare_releases(db_session(), g.principal, release_id, other_id)))
