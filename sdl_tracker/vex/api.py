"""VEX decisions over /api/v1: a release's decisions (list, record), one decision (show, confirm, delete), the
decisions on a component, a case's vulnerability or a vulnerability across the caller's releases, a vulnerability."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, g, request
from pydantic import Field

from ..api.inputs import Input, Text
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
from ..errors import Invalid
from ..evidence.services import Upload
from ..jobs.api import accepted
from ..jobs.schemas import JobOut
from ..web.context import db_session, rollback
from .advisory import Tlp, TrackingStatus
from .downloads import vex_download
from .exports import MEDIA_TYPES, release_vex
from .forms import (
    DecisionFilterForm,
    VulnerabilityFilterForm,
    decision_filter,
    vuln_inline_max_bytes,
    vulnerability_filter,
)
from .importer import submit_feed
from .models import CsafProfile
from .publishing import SUMMARY_MAX, csaf_document, publications, publish_csaf
from .queries import affected_releases, list_vulnerabilities
from .rules import STATEMENT_MAX, CdxJustification, Justification, Status
from .schemas import (
    AffectedOut,
    CsafPreviewOut,
    CsafPublicationOut,
    ImportResultOut,
    KnownVulnerabilityOut,
    VexDecisionOut,
    VulnerabilityOut,
)
from .services import (
    MAX_NAME,
    MAX_PURL,
    DecisionInput,
    case_decisions,
    component_decisions,
    confirm_decision,
    delete_decision,
    find_decision,
    get_decision,
    get_vulnerability,
    list_decisions,
    record_decision,
    vulnerability_decisions,
)

bp = Blueprint("vex_api", __name__)


class DecisionIn(Input):
    """A decision on one vulnerability in one component of the release (none: the product itself)."""

    vulnerability: str = Field(
        min_length=1, max_length=MAX_NAME, description="CVE, GHSA, an OSV id, or a case's PSIRT-YYYY-NNNN"
    )
    component: str = Field(default="", max_length=1000, description="a purl (its version is not kept); '' the product")
    status: Status
    justification: Justification | None = Field(default=None, description="required for not_affected")
    cdx_justification: CdxJustification | None = Field(
        default=None, description="not affected: a CycloneDX justification under the label given"
    )
    impact: Text = Field(default="", max_length=STATEMENT_MAX, description="not affected: why, in words")
    action: Text = Field(default="", max_length=STATEMENT_MAX, description="required for affected: what users do")

    def decision(self) -> DecisionInput:
        """The decision as the service takes it."""
        return DecisionInput(
            self.status.value,
            self.justification.value if self.justification else None,
            self.cdx_justification.value if self.cdx_justification else None,
            self.impact,
            self.action,
        )


FILTER_QUERY = {
    "status": "only decisions with this status",
    "vulnerability": "only decisions on this vulnerability",
    "component": "only decisions on this component (a purl, any version)",
}


@bp.get("/releases/<int:release_id>/vex-decisions")
@operation(
    "A release's VEX decisions by vulnerability and component",
    response=Page[VexDecisionOut],
    tag="vex",
    query={**FILTER_QUERY, **PAGE_QUERY},
)
def release_decisions_list(release_id: int) -> Response:
    """List a release's decisions."""
    where = decision_filter(DecisionFilterForm(request.args))
    decisions = list_decisions(db_session(), g.principal, release_id, where)
    return json_response(paginated(decisions, VexDecisionOut.of))


@bp.post("/releases/<int:release_id>/vex-decisions")
@operation(
    "Record or change the release's decision on a vulnerability in a component (security officers): 201 when it "
    "is new, 200 when it changed or was already so; not affected needs a justification, affected an action",
    body=DecisionIn,
    responses={201: VexDecisionOut, 200: VexDecisionOut},
    tag="vex",
)
def release_decisions_record(release_id: int) -> Response:
    """Record a decision."""
    body = parse_body(DecisionIn)
    session = db_session()
    existed = find_decision(session, g.principal, release_id, body.vulnerability, body.component) is not None
    decision = record_decision(
        session, g.principal, release_id, body.vulnerability, body.decision(), component=body.component
    )
    return json_response(VexDecisionOut.of(decision), 200 if existed else 201)


@bp.get("/vex-decisions/<int:decision_id>")
@operation("One VEX decision", response=VexDecisionOut, tag="vex")
def decisions_show(decision_id: int) -> Response:
    """Show a decision."""
    return json_response(VexDecisionOut.of(get_decision(db_session(), g.principal, decision_id)))


@bp.post("/vex-decisions/<int:decision_id>/confirm")
@operation(
    "Confirm an unconfirmed decision (carried forward, matched, a supplier's) for its release: a security officer, "
    "as a named user",
    response=VexDecisionOut,
    tag="vex",
)
def decisions_confirm(decision_id: int) -> Response:
    """Confirm a decision."""
    return json_response(VexDecisionOut.of(confirm_decision(db_session(), g.principal, decision_id)))


@bp.delete("/vex-decisions/<int:decision_id>")
@operation("Delete a decision (security officers); its audit event keeps what it said", status=204, tag="vex")
def decisions_delete(decision_id: int) -> Response:
    """Delete a decision."""
    delete_decision(db_session(), g.principal, decision_id)
    return Response(status=204)


@bp.get("/vex-decisions")
@operation(
    "The decisions on a component (any version of its purl) in every release the caller sees",
    response=Page[VexDecisionOut],
    tag="vex",
    query={"component": "a purl (required)", **PAGE_QUERY},
)
def component_decisions_list() -> Response:
    """List the decisions on a component."""
    purl = request.args.get("component", "")[: MAX_PURL * 2]
    return json_response(paginated(component_decisions(db_session(), g.principal, purl), VexDecisionOut.of))


@bp.get("/psirt/cases/<int:case_id>/vex-decisions")
@operation(
    "The decisions on a case's vulnerability in the releases the caller sees",
    response=ItemList[VexDecisionOut],
    tag="vex",
)
def case_decisions_list(case_id: int) -> Response:
    """List the decisions on a case's vulnerability."""
    decisions = case_decisions(db_session(), g.principal, case_id)
    return json_response(ItemList(items=[VexDecisionOut.of(d) for d in decisions]))


@bp.get("/vulnerabilities/<vulnerability>")
@operation("A vulnerability the tracker knows", response=VulnerabilityOut, tag="vex")
def vulnerabilities_show(vulnerability: str) -> Response:
    """Show a vulnerability."""
    session = db_session()
    found = get_vulnerability(session, g.principal, vulnerability)
    return json_response(VulnerabilityOut.read(session, found, g.principal))


@bp.get("/vulnerabilities/<vulnerability>/vex-decisions")
@operation(
    "The decisions on a vulnerability in every release the caller sees",
    response=Page[VexDecisionOut],
    tag="vex",
    query=PAGE_QUERY,
)
def vulnerability_decisions_list(vulnerability: str) -> Response:
    """List the decisions on a vulnerability."""
    decisions = vulnerability_decisions(db_session(), g.principal, vulnerability)
    return json_response(paginated(decisions, VexDecisionOut.of))


class CsafPublishIn(Input):
    """Publish the next version of a case's CSAF document."""

    profile: CsafProfile
    status: Literal["interim", "final"]
    tlp: Tlp = Field(description="WHITE, GREEN, AMBER or RED (CSAF 2.0 has no CLEAR)")
    summary: Text = Field(min_length=1, max_length=SUMMARY_MAX, description="what this version changes")


@bp.get("/psirt/cases/<int:case_id>/csaf")
@operation(
    "A case's CSAF 2.0 document as its next version would be published (final, TLP:WHITE unless asked), with each "
    "schema check and mandatory test it fails and what else keeps it from being published",
    response=CsafPreviewOut,
    tag="vex",
    query={"profile": "csaf_security_advisory (default) or csaf_vex", "tlp": "WHITE (default), GREEN, AMBER, RED"},
)
def case_csaf_preview(case_id: int) -> Response:
    """Preview a case's CSAF document."""
    profile = request.args.get("profile", CsafProfile.ADVISORY.value)
    if profile not in {p.value for p in CsafProfile}:
        raise Invalid.field("profile", "csaf_security_advisory or csaf_vex")
    document = csaf_document(
        db_session(), g.principal, case_id, profile=CsafProfile(profile), tlp=request.args.get("tlp", "WHITE")
    )
    return json_response(CsafPreviewOut.of(document))


@bp.get("/psirt/cases/<int:case_id>/csaf/publications")
@operation("A case's published CSAF versions", response=ItemList[CsafPublicationOut], tag="vex")
def case_csaf_publications(case_id: int) -> Response:
    """List a case's publications."""
    return json_response(
        ItemList(items=[CsafPublicationOut.of(p) for p in publications(db_session(), g.principal, case_id)])
    )


@bp.post("/psirt/cases/<int:case_id>/csaf/publications")
@operation(
    "Publish the next version of a case's CSAF document (security officers): refused with 422 naming each failed "
    "rule and mandatory test, nothing published",
    body=CsafPublishIn,
    response=CsafPublicationOut,
    status=201,
    problems=(409,),
    tag="vex",
)
def case_csaf_publish(case_id: int) -> Response:
    """Publish a case's CSAF document."""
    body = parse_body(CsafPublishIn)
    published = publish_csaf(
        db_session(),
        g.principal,
        case_id,
        profile=body.profile,
        status=TrackingStatus(body.status),
        tlp=body.tlp.value,
        summary=body.summary,
    )
    return json_response(CsafPublicationOut.of(published), 201)


@bp.get("/releases/<int:release_id>/vex")
@operation(
    "The release's VEX as CycloneDX 1.6, OpenVEX 0.2.0 or a CSAF 2.0 VEX document, validated, from its confirmed "
    "decisions only (unconfirmed ones are left out: X-VEX-Statements and X-VEX-Left-Out count both); the same "
    "decisions give the same bytes (docs/vex.md); 422 naming the product field to fill when it has no vendor or CVD "
    "policy URL, or when the release has no confirmed decision",
    response=Download(
        tuple(sorted({media.split(";")[0] for media in MEDIA_TYPES.values()})),
        "the document as an attachment (application/vnd.cyclonedx+json, or application/json)",
    ),
    tag="vex",
    query={
        "format": "cyclonedx, openvex or csaf (required)",
        "tlp": "csaf only: WHITE (the default), GREEN, AMBER or RED",
    },
)
def release_vex_export(release_id: int) -> Response:
    """Export a release's VEX."""
    export = release_vex(
        db_session(), g.principal, release_id, format=request.args.get("format", ""), tlp=request.args.get("tlp")
    )
    return vex_download(export)


class VulnerabilityImportIn(Input):
    """Options of a vulnerability file's import (none yet: the optional `metadata` part may be `{}`; the file goes
    in the `file` part)."""


@bp.get("/vulnerabilities")
@operation(
    "The vulnerabilities the tracker knows (known exploited first), with how many of the caller's releases stand "
    "where on each; by default only those with a decision in the caller's releases",
    response=Page[KnownVulnerabilityOut],
    tag="vex",
    query={
        "q": "words of the name, an alias or the title",
        "everything": "true: also those without a decision in the caller's releases",
        "exploited": "true: only known exploited ones",
        **PAGE_QUERY,
    },
)
def vulnerabilities_list() -> Response:
    """List known vulnerabilities."""
    page, per_page = page_args()
    where = vulnerability_filter(VulnerabilityFilterForm(request.args))
    items, total = list_vulnerabilities(db_session(), g.principal, where, page=page, per_page=per_page)
    return json_response(
        Page(items=[KnownVulnerabilityOut.of(i) for i in items], total=total, page=page, per_page=per_page)
    )


@bp.get("/vulnerabilities/<vulnerability>/affected")
@operation(
    "Which of the caller's releases a vulnerability (by name or alias) affects: each release with a decision on "
    "it, grouped by status (affected, under investigation, fixed, not affected: a release by its worst decision)",
    response=AffectedOut,
    tag="vex",
)
def vulnerability_affected(vulnerability: str) -> Response:
    """Which releases a vulnerability affects."""
    session = db_session()
    return json_response(AffectedOut.read(session, affected_releases(session, g.principal, vulnerability), g.principal))


@bp.post("/vulnerabilities/import")
@operation(
    "Import a vulnerability file, its format told by content: OSV (a record, a list, an ecosystem export zip), "
    "CISA's KEV catalog, or a supplier's CSAF 2.0 or CycloneDX VEX (administrators; security officers suppliers' VEX "
    "for their products). Matches become decisions under investigation, supplier statements proposals, both "
    "unconfirmed; an officer's decision is never replaced. 200 with the counts; a file larger than "
    "VULN_INLINE_MAX_BYTES is imported by a job: 202 with the job (see /jobs/{job_id}) and its Location",
    multipart=VulnerabilityImportIn,
    responses={200: ImportResultOut, 202: JobOut},
    tag="vex",
)
def vulnerabilities_import() -> Response:
    """Import a vulnerability file, or queue its import."""
    if "metadata" in request.form:
        parse_metadata(VulnerabilityImportIn)
    files = request.files.getlist("file")
    if len(files) != 1:
        raise Invalid.field("file", "send exactly one `file` part with the vulnerability file")
    rollback()  # the import writes in short transactions of its own, which this request's session would block
    upload = Upload(files[0].filename or "", files[0].mimetype or "", files[0].stream)
    submitted = submit_feed(app_db(), g.principal, upload, inline_max_bytes=vuln_inline_max_bytes())
    if submitted.job is not None:
        return accepted(submitted.job)
    assert submitted.result is not None  # imported at once
    return json_response(ImportResultOut.of(submitted.result))
