"""PSIRT cases over /api/v1: list, record, show, change; submissions, intermediate requests, the timeline, the due
clocks, and a product's Article 14 settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, g, request
from pydantic import AwareDatetime, Field, StrictBool

from ..api.inputs import Input, Text
from ..api.openapi import PAGE_QUERY, Page, json_response, operation, paginated, parse_body
from ..products.services import get_product
from ..web.context import db_session
from .forms import CaseFilterForm, case_filter, filter_problem
from .models import CaseKind, CaseSource, CaseStatus
from .packaging import submission_packet
from .packets import packet_json
from .schemas import (
    CaseDetailOut,
    CaseOut,
    DueClockOut,
    IntermediateRequestOut,
    PacketOut,
    SettingsOut,
    SubmissionOut,
    TimelineEventOut,
)
from .services import (
    MAX_ITEMS,
    MAX_SHORT,
    MAX_TEXT,
    MAX_TITLE,
    case_timeline,
    create_case,
    due_clocks,
    get_case,
    list_cases,
    record_submission,
    request_intermediate,
    settings_of,
    update_case,
    update_settings,
)

bp = Blueprint("psirt_api", __name__)
# Fields of a body that are not facts of the case: the service takes them as arguments of their own.
NOT_FACTS = {"kind", "title", "source", "received_at", "exercise", "justification"}


class CaseFacts(Input):
    """What may be recorded about a case; only the fields given are recorded (times ISO 8601 with their zone)."""

    description: Text | None = Field(default=None, max_length=MAX_TEXT)
    reporter_contact: Text | None = Field(
        default=None, max_length=MAX_TEXT, description="shown to the product's security officers only"
    )
    aware_at: AwareDatetime | None = Field(
        default=None,
        description="when the manufacturer became aware of active exploitation (a vulnerability) or of the incident: "
        "the Article 14 clocks start; set before receipt, or moved once set, only with a justification",
    )
    measure_available_at: AwareDatetime | None = Field(
        default=None, description="when a corrective or mitigating measure became available (vulnerabilities)"
    )
    cve_ids: list[str] | None = Field(default=None, max_length=MAX_ITEMS, description="CVE-YYYY-NNNN")
    cwe_ids: list[int | str] | None = Field(default=None, max_length=MAX_ITEMS, description="79 or CWE-79")
    cvss_v31: str | None = Field(default=None, max_length=MAX_SHORT * 2, description="a CVSS v3.1 vector")
    cvss_v40: str | None = Field(default=None, max_length=MAX_SHORT * 2, description="a CVSS v4.0 vector")
    affected: list[str] | None = Field(default=None, max_length=MAX_ITEMS, description="release versions")
    fixed_in: list[str] | None = Field(default=None, max_length=MAX_ITEMS, description="release versions")
    components: list[str] | None = Field(default=None, max_length=MAX_ITEMS, description="purls")
    embargo_until: date | None = None
    remediation: Text | None = Field(default=None, max_length=MAX_TEXT)
    mitigation: Text | None = Field(default=None, max_length=MAX_TEXT)
    impact: Text | None = Field(default=None, max_length=MAX_TEXT, description="severity and impact, in words")
    sensitivity: Text | None = Field(default=None, max_length=MAX_TEXT, description="how sensitive the information is")
    malicious_actor: Text | None = Field(default=None, max_length=MAX_TEXT, description="where known")
    root_cause: Text | None = Field(default=None, max_length=MAX_TEXT, description="an incident's root cause")
    incident_criteria: list[str] | None = Field(
        default=None, max_length=MAX_ITEMS, description="why an incident is severe: protection-affected, malicious-code"
    )
    malicious_suspected: StrictBool | None = None
    upstream_component: str | None = Field(default=None, max_length=MAX_SHORT * 5)
    maintainer_reported_at: AwareDatetime | None = None
    maintainer_reference: str | None = Field(default=None, max_length=MAX_SHORT)
    users_informed_at: AwareDatetime | None = None
    users_information: Text | None = Field(default=None, max_length=MAX_TEXT)

    def facts(self) -> dict[str, Any]:
        """The facts given, by the names the service takes."""
        return self.model_dump(exclude_unset=True, exclude=NOT_FACTS)


class CaseIn(CaseFacts):
    """A new case of the product."""

    kind: CaseKind
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    source: CaseSource
    received_at: AwareDatetime
    exercise: StrictBool = Field(default=False, description="a tabletop exercise: runs every clock, counts for nothing")
    justification: Text = Field(default="", max_length=MAX_TEXT, description="why awareness precedes receipt")


class CasePatch(CaseFacts):
    """Changes to a case: only the fields given change."""

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    source: CaseSource | None = None
    received_at: AwareDatetime | None = None
    status: CaseStatus | None = None
    status_reason: Text | None = Field(default=None, max_length=MAX_TEXT, description="why rejected or a duplicate")
    duplicate_of: str | None = Field(default=None, max_length=40, description="PSIRT-YYYY-NNNN of this product")
    justification: Text = Field(
        default="", max_length=MAX_TEXT, description="why an anchor time is moved, or disclosure precedes a fix"
    )


class SubmissionIn(Input):
    """A report made to the Single Reporting Platform by the caller (the tracker never submits)."""

    submitted_at: AwareDatetime
    stages: list[str] = Field(
        min_length=1, max_length=20, description="early-warning, notification, final-report, intermediate-N"
    )
    reference: str = Field(default="", max_length=MAX_SHORT, description="the platform's reference")
    note: Text = Field(default="", max_length=MAX_TEXT)


class IntermediateIn(Input):
    """The CSIRT's request for an intermediate report, and when it is due."""

    requested_at: AwareDatetime
    due_at: AwareDatetime
    reference: str = Field(default="", max_length=MAX_SHORT, description="the CSIRT's reference")


class SettingsIn(Input):
    """A product's Article 14 settings."""

    zone: str = Field(min_length=1, max_length=64, description="the main establishment's IANA time zone")
    csirt: str = Field(default="", max_length=MAX_SHORT, description="the CSIRT of the main establishment")
    member_states: list[str] = Field(
        default_factory=list, max_length=40, description="where the product is made available (two-letter codes)"
    )


@bp.get("/psirt/cases")
@operation(
    "The cases of the products the caller sees, newest received first; the reporter's contact only for the "
    "product's security officers (else null)",
    response=Page[CaseOut],
    tag="psirt",
    query={
        "product": "a product id: only its cases",
        "status": "only cases in this status (repeat for several)",
        "kind": "vulnerability or incident",
        **PAGE_QUERY,
    },
)
def cases_list() -> Response:
    """List cases."""
    form = CaseFilterForm(request.args)
    problem = filter_problem(form)
    if problem is not None:
        raise problem
    cases = list_cases(db_session(), g.principal, case_filter(form))
    return json_response(paginated(cases, lambda case: CaseOut.of(case, g.principal)))


@bp.post("/products/<int:product_id>/psirt/cases")
@operation(
    "Record a case of the product (its security officers): numbered PSIRT-YYYY-NNNN by the year received; an "
    "incident's clocks run from receipt unless aware_at says otherwise",
    body=CaseIn,
    response=CaseDetailOut,
    status=201,
    tag="psirt",
)
def cases_create(product_id: int) -> Response:
    """Record a case."""
    body = parse_body(CaseIn)
    session = db_session()
    case = create_case(
        session,
        g.principal,
        product_id,
        kind=body.kind.value,
        title=body.title,
        source=body.source.value,
        received_at=body.received_at,
        facts=body.facts() | ({"exercise": True} if body.exercise else {}),
        justification=body.justification,
    )
    return json_response(CaseDetailOut.read(session, case, g.principal), 201)


@bp.get("/psirt/cases/<int:case_id>")
@operation("A case with everything recorded about it and its clocks now", response=CaseDetailOut, tag="psirt")
def cases_show(case_id: int) -> Response:
    """Show a case."""
    session = db_session()
    return json_response(CaseDetailOut.read(session, get_case(session, g.principal, case_id), g.principal))


@bp.patch("/psirt/cases/<int:case_id>")
@operation(
    "Change what is recorded about a case (its security officers); every change audited, old and new",
    body=CasePatch,
    response=CaseDetailOut,
    tag="psirt",
)
def cases_update(case_id: int) -> Response:
    """Change a case."""
    body = parse_body(CasePatch)
    session = db_session()
    changes = body.model_dump(exclude_unset=True, exclude={"justification"})
    for name in ("source", "status"):
        if changes.get(name) is not None:
            changes[name] = changes[name].value
    case = update_case(session, g.principal, case_id, changes, body.justification)
    return json_response(CaseDetailOut.read(session, case, g.principal))


@bp.post("/psirt/cases/<int:case_id>/submissions")
@operation(
    "Record a report the caller made to the Single Reporting Platform: when, the stages it covers, its reference",
    body=SubmissionIn,
    response=SubmissionOut,
    status=201,
    tag="psirt",
)
def submissions_record(case_id: int) -> Response:
    """Record a submission."""
    body = parse_body(SubmissionIn)
    submission = record_submission(
        db_session(),
        g.principal,
        case_id,
        submitted_at=body.submitted_at,
        stages=body.stages,
        reference=body.reference,
        note=body.note,
    )
    return json_response(SubmissionOut.of(submission), 201)


@bp.post("/psirt/cases/<int:case_id>/intermediate-requests")
@operation(
    "Record that the CSIRT asked for an intermediate report, due when it said: a clock of its own",
    body=IntermediateIn,
    response=IntermediateRequestOut,
    status=201,
    tag="psirt",
)
def intermediate_record(case_id: int) -> Response:
    """Record an intermediate request."""
    body = parse_body(IntermediateIn)
    found = request_intermediate(
        db_session(), g.principal, case_id, requested_at=body.requested_at, due_at=body.due_at, reference=body.reference
    )
    return json_response(IntermediateRequestOut.of(found), 201)


@bp.get("/psirt/cases/<int:case_id>/timeline")
@operation(
    "Every recorded change of a case, oldest first: its audit events, their details as field, old and new value",
    response=Page[TimelineEventOut],
    tag="psirt",
    query=PAGE_QUERY,
)
def cases_timeline(case_id: int) -> Response:
    """A case's timeline."""
    session = db_session()
    case = get_case(session, g.principal, case_id)
    events = case_timeline(session, case)
    return json_response(paginated(events, lambda event: TimelineEventOut.of(event, g.principal, case.product_id)))


@bp.get("/psirt/cases/<int:case_id>/packets/<stage>")
@operation(
    "What the Single Reporting Platform asks at one stage of a case (early-warning, notification, final-report,"
    " intermediate-N), with its completeness checklist; the tracker never submits",
    response=PacketOut,
    tag="psirt",
)
def packets_show(case_id: int, stage: str) -> Response:
    """A stage's submission packet."""
    session = db_session()
    return json_response(PacketOut(**packet_json(submission_packet(session, g.principal, case_id, stage))))


@bp.get("/psirt/clocks")
@operation(
    "Every running, overdue or breached Article 14 clock of the cases the caller sees, the next deadline first",
    response=Page[DueClockOut],
    tag="psirt",
    query=PAGE_QUERY,
)
def clocks_list() -> Response:
    """List due clocks."""
    return json_response(paginated(due_clocks(db_session(), g.principal), DueClockOut.of))


@bp.get("/products/<int:product_id>/psirt/settings")
@operation("A product's Article 14 settings (the defaults until recorded)", response=SettingsOut, tag="psirt")
def settings_show(product_id: int) -> Response:
    """Show a product's Article 14 settings."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    return json_response(SettingsOut.of(product.id, settings_of(session, product.id)))


@bp.put("/products/<int:product_id>/psirt/settings")
@operation(
    "Record a product's Article 14 settings (its security officers); its cases' clocks are read again",
    body=SettingsIn,
    response=SettingsOut,
    tag="psirt",
)
def settings_update(product_id: int) -> Response:
    """Record a product's Article 14 settings."""
    body = parse_body(SettingsIn)
    settings = update_settings(
        db_session(), g.principal, product_id, zone=body.zone, csirt=body.csirt, member_states=body.member_states
    )
    return json_response(SettingsOut.of(product_id, settings))
