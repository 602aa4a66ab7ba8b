"""Evidence over /api/v1: list, attach (multipart), revise, submit, review (one or many), download artifacts."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import Blueprint, Response, g, request
from pydantic import Field

from ..api.inputs import Facts, Input, Text
from ..api.openapi import (
    PAGE_QUERY,
    Download,
    ItemList,
    Page,
    json_response,
    operation,
    page_args,
    paginated,
    parse_body,
    parse_metadata,
)
from ..app_access import app_db
from ..products.services import optional_release
from ..web.context import db_session, rollback
from .assessment import coverage, organisation_maturity, record_maturity
from .downloads import artifact_response
from .forms import EvidenceFilterForm, filter_of, filter_problem
from .models import EvidenceKind
from .queries import get_artifact, get_evidence
from .review import review_evidence
from .rules import SERVED_MEDIA_TYPES
from .schemas import (
    BulkResultOut,
    CoverageOut,
    EvidenceOut,
    OrganisationMaturityOut,
    PracticeMaturityOut,
    ReviewIntervalOut,
    ScopingOut,
)
from .scoping import (
    accept_scoping,
    list_review_intervals,
    list_scoping,
    propose_scoping,
    reset_review_interval,
    set_review_interval,
    withdraw_scoping,
)
from .services import EvidenceInput, Upload, attach_evidence, revise_evidence, submit_evidence
from .triage import MAX_BULK, review_many, search_current_evidence
from .vocabulary import TesterIndependence

bp = Blueprint("evidence_api", __name__)

IDEMPOTENT = (
    "200 with created=false when the same kind's item already holds exactly these files (by SHA-256), 409 when "
    "it does for another set of releases"
)


class EvidenceIn(Input):
    """New evidence (the `metadata` part; files go in `file` parts)."""

    kind: EvidenceKind
    title: str = Field(min_length=1, max_length=200)
    requirements: list[str] = Field(min_length=1, max_length=200, description="ids such as SR-2 or CR 3.4")
    releases: list[str] = Field(default_factory=list, max_length=200, description="versions; none: the whole product")
    effective_date: date | None = None
    description: Text = Field(default="", max_length=50_000, description="Markdown")
    author: str = Field(default="", max_length=200)
    review_due: date | None = None
    details: Facts | None = Field(default=None, description="the kind's facts (see the kind's schema)")
    tester_independence: TesterIndependence | None = Field(
        default=None, description="test evidence: how independent the tester was (IEC 62443-4-1 Table 3)"
    )
    draft: bool = False


class RevisionIn(Input):
    """Changes for a new revision; absent fields stay as they were. New files are added."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    requirements: list[str] | None = Field(default=None, min_length=1, max_length=200)
    releases: list[str] | None = Field(default=None, max_length=200)
    effective_date: date | None = None
    description: Text | None = Field(default=None, max_length=50_000)
    author: str | None = Field(default=None, max_length=200)
    review_due: date | None = None
    details: Facts | None = None
    tester_independence: TesterIndependence | None = None
    submit: bool = False


class ReviewIn(Input):
    """A review decision."""

    decision: Literal["accept", "reject"]
    reason: Text = Field(default="", max_length=5000)


class BulkItemIn(Input):
    """An item to review, as the client last saw it."""

    evidence_id: int = Field(ge=1)
    revision: int = Field(ge=1, description="the current revision's number when read: a newer one is refused (stale)")


class BulkReviewIn(Input):
    """One decision for several items, each reviewed on its own."""

    items: list[BulkItemIn] = Field(min_length=1, max_length=MAX_BULK)
    decision: Literal["accept", "reject"]
    reason: Text = Field(default="", max_length=5000, description="required to reject; the same for every item")


def _threat_dragon() -> Upload | None:
    model = request.files.get("threat_dragon")
    return Upload(model.filename or "threat-model.json", model.mimetype, model.stream) if model else None


def _evidence_input(data: EvidenceIn | RevisionIn) -> EvidenceInput:
    """The service's input from a `metadata` part and the request's file parts."""
    return EvidenceInput(
        title=data.title,
        description=data.description,
        effective_date=data.effective_date,
        author=data.author,
        review_due=data.review_due,
        requirements=data.requirements,
        release_versions=data.releases,
        files=_uploads(),
        details=data.details,
        tester_independence=data.tester_independence.value if data.tester_independence else None,
        threat_dragon=_threat_dragon(),
    )


def _uploads() -> list[Upload]:
    return [
        Upload(f.filename or "artifact", f.mimetype or "application/octet-stream", f.stream)
        for f in request.files.getlist("file")
    ]


def _create(product_id: int | None) -> Response:
    data = parse_metadata(EvidenceIn)
    attached = attach_evidence(
        db_session(),
        g.principal,
        product_id=product_id,
        kind=data.kind.value,
        draft=data.draft,
        data=_evidence_input(data),
    )
    out = EvidenceOut.with_history(attached.evidence).model_copy(update={"created": attached.created})
    return json_response(out, 201 if attached.created else 200)


@bp.get("/products/<int:product_id>/evidence")
@operation(
    "A product's evidence, filtered, searched and sorted (newest first by default)",
    response=Page[EvidenceOut],
    tag="evidence",
    query={
        "release": "only what covers this release version, with organisation-wide evidence",
        "state": "draft, submitted, accepted or rejected (the current revision's)",
        "kind": "an evidence kind",
        "requirement": "a requirement id the current revision names, such as SR-2",
        "submitter": "who submitted the current revision, as recorded (an e-mail address or cli:NAME)",
        "expiry": "expired, or due: expires within `days` days and has not yet expired",
        "days": "1-3650, default 30 (with expiry=due)",
        "q": "words that must all appear in the title or description (case-insensitive; % and _ are literal)",
        "sort": "created, updated, title, state or expiry",
        "order": "desc (default) or asc",
        "page": "page number from 1",
        "per_page": "1-200, default 50",
    },
)
def evidence_list(product_id: int) -> Response:
    """List evidence."""
    session = db_session()
    form = EvidenceFilterForm(request.args)
    problem = filter_problem(form)
    if problem is not None:
        raise problem
    release = optional_release(session, g.principal, product_id, form.release.data or None)
    page, per_page = page_args()
    found = search_current_evidence(
        session, g.principal, product_id, filter_of(form, release.id if release else None), page=page, per_page=per_page
    )
    items = [EvidenceOut.listed(item) for item in found.items]
    return json_response(Page(items=items, total=found.total, page=page, per_page=per_page))


@bp.post("/products/<int:product_id>/evidence")
@operation(
    "Attach evidence (multipart: a JSON `metadata` part and one or more `file` parts); " + IDEMPOTENT,
    multipart=EvidenceIn,
    responses={201: EvidenceOut, 200: EvidenceOut},
    problems=[409],
    tag="evidence",
)
def evidence_create(product_id: int) -> Response:
    """Attach evidence to a product."""
    return _create(product_id)


@bp.post("/organisation/evidence")
@operation(
    "Attach organisation-wide evidence (administrators); " + IDEMPOTENT,
    multipart=EvidenceIn,
    responses={201: EvidenceOut, 200: EvidenceOut},
    problems=[409],
    tag="evidence",
)
def organisation_evidence_create() -> Response:
    """Attach organisation-wide evidence."""
    return _create(None)


@bp.get("/evidence/<int:evidence_id>")
@operation("An evidence item with every revision", response=EvidenceOut, tag="evidence")
def evidence_show(evidence_id: int) -> Response:
    """Show evidence."""
    return json_response(EvidenceOut.with_history(get_evidence(db_session(), g.principal, evidence_id)))


@bp.post("/evidence/<int:evidence_id>/revisions")
@operation(
    "Edit evidence: a new revision (multipart: `metadata` with the changes, `file` parts to add)",
    multipart=RevisionIn,
    response=EvidenceOut,
    status=201,
    tag="evidence",
)
def evidence_revise(evidence_id: int) -> Response:
    """Revise evidence."""
    data = parse_metadata(RevisionIn)
    revise_evidence(
        db_session(),
        g.principal,
        evidence_id,
        submit=data.submit,
        data=_evidence_input(data),
    )
    return json_response(EvidenceOut.with_history(get_evidence(db_session(), g.principal, evidence_id)), 201)


@bp.post("/evidence/<int:evidence_id>/submit")
@operation("Submit a draft for review", response=EvidenceOut, tag="evidence")
def evidence_submit(evidence_id: int) -> Response:
    """Submit a draft."""
    submit_evidence(db_session(), g.principal, evidence_id)
    return json_response(EvidenceOut.of(get_evidence(db_session(), g.principal, evidence_id)))


@bp.post("/evidence/<int:evidence_id>/review")
@operation(
    "Accept or reject the current revision (security officers; never one's own)",
    body=ReviewIn,
    response=EvidenceOut,
    tag="evidence",
)
def evidence_review(evidence_id: int) -> Response:
    """Review evidence."""
    data = parse_body(ReviewIn)
    review_evidence(db_session(), g.principal, evidence_id, accept=data.decision == "accept", reason=data.reason)
    return json_response(EvidenceOut.of(get_evidence(db_session(), g.principal, evidence_id)))


@bp.post("/evidence/bulk-review")
@operation(
    f"Accept or reject up to {MAX_BULK:,} items, each as the single review would and in a unit of its own: the "
    "answer says per item what became of it (one's own submission, a wrong state, an item not seen, or a newer "
    "revision than the one named is refused, and the others' decisions stand)",
    body=BulkReviewIn,
    response=ItemList[BulkResultOut],
    tag="evidence",
)
def evidence_bulk_review() -> Response:
    """Review several items."""
    data = parse_body(BulkReviewIn)
    rollback()  # the decisions are committed in batches of their own (see review_many)
    results = review_many(
        app_db(),
        g.principal,
        [(item.evidence_id, item.revision) for item in data.items],
        accept=data.decision == "accept",
        reason=data.reason,
    )
    return json_response(ItemList(items=[BulkResultOut.of(r) for r in results]))


@bp.get("/artifacts/<int:artifact_id>")
@operation(
    "Download an artifact (always an attachment; its SHA-256 is checked first)",
    response=Download(SERVED_MEDIA_TYPES, "the file; its declared type when that is safe, else octet-stream"),
    tag="evidence",
)
def artifact_download(artifact_id: int) -> Response:
    """Download an artifact."""
    return artifact_response(*get_artifact(db_session(), g.principal, artifact_id))


class MaturityIn(Input):
    """The organisation's maturity level of a practice."""

    practice: str = Field(max_length=10)
    level: int = Field(ge=1, le=4)
    rationale: Text = Field(min_length=1, max_length=5000)
    assessed_on: date


class ScopingIn(Input):
    """A requirement to scope out of the product, and why."""

    requirement: str = Field(max_length=40, description="an IEC 62443-4-1 requirement id such as SM-10")
    justification: Text = Field(min_length=1, max_length=5000)


class WithdrawIn(Input):
    """Why a scoping-out is withdrawn."""

    reason: Text = Field(min_length=1, max_length=5000)


class IntervalIn(Input):
    """A review interval in months (null: evidence of the kind does not expire)."""

    months: int | None = Field(ge=1, le=120)


@bp.get("/products/<int:product_id>/coverage")
@operation(
    "IEC 62443-4-1 coverage: per requirement its process and records of use; a released release is judged "
    "on its release date, with today's view beside it",
    response=CoverageOut,
    tag="evidence",
    query={"release": "a release version; none: the product across releases"},
)
def coverage_show(product_id: int) -> Response:
    """Coverage of a product or release."""
    version = request.args.get("release")
    release = optional_release(db_session(), g.principal, product_id, version)
    return json_response(CoverageOut.of(coverage(db_session(), g.principal, product_id, release)))


@bp.get("/organisation/maturity")
@operation(
    "The organisation's maturity per practice, and what the evidence supports",
    response=OrganisationMaturityOut,
    tag="evidence",
)
def maturity_show() -> Response:
    """The organisation's maturity."""
    views = organisation_maturity(db_session(), g.principal)
    return json_response(OrganisationMaturityOut(practices=[PracticeMaturityOut.of(v) for v in views]))


@bp.post("/organisation/maturity")
@operation(
    "Record the organisation's maturity level of a practice, within what the evidence supports "
    "(administrators and security officers)",
    body=MaturityIn,
    response=OrganisationMaturityOut,
    status=201,
    tag="evidence",
)
def maturity_create() -> Response:
    """Record a maturity level."""
    data = parse_body(MaturityIn)
    record_maturity(
        db_session(),
        g.principal,
        practice=data.practice,
        level=data.level,
        rationale=data.rationale,
        assessed_on=data.assessed_on,
    )
    views = organisation_maturity(db_session(), g.principal)
    return json_response(OrganisationMaturityOut(practices=[PracticeMaturityOut.of(v) for v in views]), 201)


@bp.get("/products/<int:product_id>/scoping")
@operation(
    "Requirements scoped out of the product (SM-5), withdrawn ones included",
    response=Page[ScopingOut],
    tag="evidence",
    query=PAGE_QUERY,
)
def scoping_list(product_id: int) -> Response:
    """List scoping-outs."""
    return json_response(paginated(list_scoping(db_session(), g.principal, product_id), ScopingOut.of))


@bp.post("/products/<int:product_id>/scoping")
@operation(
    "Scope a requirement out of the product with its justification (security officers); it counts once "
    "another officer accepts it",
    body=ScopingIn,
    response=ScopingOut,
    status=201,
    tag="evidence",
)
def scoping_create(product_id: int) -> Response:
    """Propose a scoping-out."""
    data = parse_body(ScopingIn)
    row = propose_scoping(
        db_session(), g.principal, product_id, requirement=data.requirement, justification=data.justification
    )
    return json_response(ScopingOut.of(row), 201)


@bp.post("/scoping/<int:scoping_id>/accept")
@operation(
    "Accept a scoping-out (a security officer other than the setter, or an administrator)",
    response=ScopingOut,
    tag="evidence",
)
def scoping_accept(scoping_id: int) -> Response:
    """Accept a scoping-out."""
    return json_response(ScopingOut.of(accept_scoping(db_session(), g.principal, scoping_id)))


@bp.post("/scoping/<int:scoping_id>/withdraw")
@operation("Withdraw a scoping-out: the requirement counts again", body=WithdrawIn, response=ScopingOut, tag="evidence")
def scoping_withdraw(scoping_id: int) -> Response:
    """Withdraw a scoping-out."""
    data = parse_body(WithdrawIn)
    return json_response(ScopingOut.of(withdraw_scoping(db_session(), g.principal, scoping_id, reason=data.reason)))


@bp.get("/products/<int:product_id>/review-intervals")
@operation(
    "Every evidence kind's review interval for the product",
    response=Page[ReviewIntervalOut],
    tag="evidence",
    query=PAGE_QUERY,
)
def intervals_list(product_id: int) -> Response:
    """List review intervals."""
    return json_response(paginated(list_review_intervals(db_session(), g.principal, product_id), ReviewIntervalOut.of))


@bp.put("/products/<int:product_id>/review-intervals/<kind>")
@operation(
    "Set a kind's review interval for the product (security officers)",
    body=IntervalIn,
    response=ReviewIntervalOut,
    tag="evidence",
)
def interval_set(product_id: int, kind: str) -> Response:
    """Set a review interval."""
    data = parse_body(IntervalIn)
    interval = set_review_interval(db_session(), g.principal, product_id, kind=kind, months=data.months)
    return json_response(ReviewIntervalOut.of(interval))


@bp.delete("/products/<int:product_id>/review-intervals/<kind>")
@operation(
    "Go back to the default review interval of a kind (security officers)", response=ReviewIntervalOut, tag="evidence"
)
def interval_reset(product_id: int, kind: str) -> Response:
    """Reset a review interval."""
    return json_response(ReviewIntervalOut.of(reset_review_interval(db_session(), g.principal, product_id, kind=kind)))
