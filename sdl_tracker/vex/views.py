"""VEX pages: a release's decisions (filtered, with the form to record or change one), confirming and deleting a
decision, and the panels the PSIRT case page and the SBOM component page show (installed by the app module)."""

from __future__ import annotations

import io

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug import Response

from ..api import authenticate_bearer
from ..app_access import app_db, app_installation
from ..auth import Principal
from ..errors import DomainError, Invalid, NotFound, Unauthorized
from ..evidence.downloads import attachment_response
from ..evidence.services import Upload
from ..products.models import Release
from ..products.services import get_release
from ..psirt.models import PsirtCase
from ..psirt.services import get_case
from ..web.context import db_session, rollback
from ..web.forms import apply_errors, flash_refusal
from ..web.inputs import id_argument, page_number
from ..web.templating import expose_predicates
from . import exports
from .advisory import Tlp, TrackingStatus
from .directory import WELL_KNOWN, listing, needs_authentication
from .downloads import vex_download
from .forms import (
    JUSTIFICATION_LABELS,
    ORIGIN_LABELS,
    PROFILE_LABELS,
    STATUS_LABELS,
    CsafPublishForm,
    DecisionFilterForm,
    DecisionForm,
    VulnerabilityFilterForm,
    VulnerabilityImportForm,
    decision_filter,
    vuln_inline_max_bytes,
    vulnerability_filter,
)
from .importer import authorize_import_vulnerabilities, may_import_vulnerabilities, submit_feed
from .models import CsafProfile, VexDecision
from .provider import provider_files
from .publishing import (
    CsafDocument,
    authorize_publish_csaf,
    csaf_document,
    get_publication,
    may_publish_csaf,
    publication_bytes,
    publications,
    publish_csaf,
    signature_bytes,
)
from .queries import affected_releases, list_vulnerabilities
from .services import (
    authorize_decide_vex,
    case_decisions,
    component_decisions,
    confirm_decision,
    delete_decision,
    get_decision,
    list_decisions,
    may_confirm_decision,
    may_decide_vex,
    may_delete_decision,
    record_decision,
    vulnerability_case,
)

bp = Blueprint("vex", __name__)
expose_predicates(bp, may_decide_vex, may_confirm_decision, may_delete_decision)
LIST_PAGE = 50  # vulnerabilities a page of the list shows
LABELS = {"status_labels": STATUS_LABELS, "justification_labels": JUSTIFICATION_LABELS, "origin_labels": ORIGIN_LABELS}


def _fill(form: DecisionForm, decision: VexDecision) -> None:
    """The form showing a recorded decision, to change it."""
    form.vulnerability.data, form.component.data = decision.vulnerability.name, decision.component_purl
    form.status.data = decision.status.value
    form.justification.data = decision.justification.value if decision.justification else ""
    form.cdx_justification.data = decision.cdx_justification.value if decision.cdx_justification else ""
    form.impact.data, form.action.data = decision.impact, decision.action


@bp.route("/releases/<int:release_id>/vex", methods=["GET", "POST"])
def release_vex(release_id: int) -> Response | tuple[str, int]:
    """A release's VEX decisions, filtered by status, vulnerability and component; its officers record one."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    form = DecisionForm()
    if form.is_submitted():
        authorize_decide_vex(g.principal, release)
    if form.validate_on_submit():
        try:
            decision = record_decision(
                session,
                g.principal,
                release.id,
                form.vulnerability.data or "",
                form.decision(),
                component=form.component.data or "",
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"{decision.vulnerability.name}: {STATUS_LABELS[decision.status].lower()}.", "success")
            return redirect(url_for("vex.release_vex", release_id=release.id))
    editing = id_argument("decision")
    if editing is not None and not form.is_submitted():
        decision = get_decision(session, g.principal, editing)
        if decision.release_id != release.id:
            raise NotFound("no such VEX decision of this release")
        _fill(form, decision)
    filters = DecisionFilterForm(request.args)
    try:
        decisions, problem = list_decisions(session, g.principal, release.id, decision_filter(filters)), ""
    except Invalid as exc:
        decisions, problem = [], exc.one_line()
    return render_template(
        "vex/release.html",
        release=release,
        product=release.product,
        decisions=decisions,
        filters=filters,
        problem=problem,
        form=form,
        standing=exports.export_standing(session, g.principal, release.id),
        formats=exports.FORMAT_LABELS,
        tlps=[tlp.value for tlp in Tlp],
        **LABELS,
    ), 422 if problem else 200


@bp.get("/releases/<int:release_id>/vex/export")
def release_vex_export(release_id: int) -> Response:
    """Download the release's VEX (`format`: cyclonedx, openvex, csaf; `tlp` for CSAF); a refusal is shown on the
    release's VEX page."""
    fmt, tlp = request.args.get("format", ""), request.args.get("tlp") or None
    try:
        export = exports.release_vex(db_session(), g.principal, release_id, format=fmt, tlp=tlp)
    except DomainError as exc:
        flash_refusal(exc, exc.one_line())
        return redirect(url_for("vex.release_vex", release_id=release_id))
    return vex_download(export)


def _act(decision_id: int, action: str) -> Response:
    """Confirm or delete a decision, back on its release's page (a refusal there as a message)."""
    session = db_session()
    decision = get_decision(session, g.principal, decision_id)
    release_id, name = decision.release_id, decision.vulnerability.name
    try:
        if action == "confirm":
            confirm_decision(session, g.principal, decision.id)
        else:
            delete_decision(session, g.principal, decision.id)
    except DomainError as exc:
        flash_refusal(exc, exc.one_line())
    else:
        flash(f"{name}: {'confirmed for this release' if action == 'confirm' else 'decision deleted'}.", "success")
    return redirect(url_for("vex.release_vex", release_id=release_id))


@bp.post("/vex-decisions/<int:decision_id>/confirm")
def confirm(decision_id: int) -> Response:
    """Confirm an unconfirmed decision for its release (a security officer)."""
    return _act(decision_id, "confirm")


@bp.post("/vex-decisions/<int:decision_id>/delete")
def delete(decision_id: int) -> Response:
    """Delete a decision (a security officer)."""
    return _act(decision_id, "delete")


def _panel(decisions: list[VexDecision], *, empty: str, release: Release | None = None) -> Markup:
    html = render_template("vex/_decisions.html", decisions=decisions, empty=empty, current=release, **LABELS)
    return Markup(html)  # noqa: S704 - a template's own output, escaped as it was rendered


def case_panel(session: Session, principal: Principal, case: PsirtCase) -> Markup:
    """The decisions on a case's vulnerability, for the case page (psirt.views.set_case_decisions)."""
    panel = _panel(case_decisions(session, principal, case.id), empty="No release has a decision on this case yet.")
    link = render_template("vex/_csaf_link.html", case=case)
    return panel + Markup(link)  # noqa: S704 - a template's own output, escaped as it was rendered


def component_panel(session: Session, principal: Principal, release: Release, purl: str) -> Markup:
    """The decisions on a component in the releases the reader sees, for the SBOM component page
    (sboms.views.set_component_decisions); `release` is the one the page is about."""
    if not purl.strip():
        return _panel([], empty="Without a purl, no decision can name this component.")
    try:
        decisions = component_decisions(session, principal, purl)
    except Invalid:  # a purl the SBOM gave that is no purl: no decision names it
        decisions = []
    return _panel(decisions, empty="No release has a decision on this component.", release=release)


# --- CSAF documents of a case ------------------------------------------------------------------------------


def _profile(value: str) -> CsafProfile:
    try:
        return CsafProfile(value)
    except ValueError:
        raise NotFound("no such CSAF document") from None


def _previews(session: Session, case_id: int) -> dict[CsafProfile, CsafDocument | str]:
    """Each document as it would be published now as final TLP:WHITE, or the rule that keeps it from being built."""
    found: dict[CsafProfile, CsafDocument | str] = {}
    for profile in CsafProfile:
        try:
            found[profile] = csaf_document(session, g.principal, case_id, profile=profile)
        except Invalid as exc:
            found[profile] = exc.one_line()
    return found


@bp.route("/psirt/cases/<int:case_id>/csaf", methods=["GET", "POST"])
def case_csaf(case_id: int) -> Response | tuple[str, int]:
    """A case's CSAF documents: each checked as it would be published, the published versions, and the form an
    officer publishes the next version with."""
    session = db_session()
    case = get_case(session, g.principal, case_id)
    form = CsafPublishForm()
    if form.is_submitted():
        authorize_publish_csaf(g.principal, case.product_id)
    status = 200
    if form.validate_on_submit():
        try:
            published = publish_csaf(
                session,
                g.principal,
                case.id,
                profile=CsafProfile(form.profile.data),
                status=TrackingStatus(form.status.data),
                tlp=form.tlp.data,
                summary=form.summary.data or "",
            )
        except DomainError as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            flash(f"{published.tracking_id} version {published.version} published.", "success")
            return redirect(url_for("vex.case_csaf", case_id=case.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "vex/csaf.html",
        case=case,
        form=form,
        previews=_previews(session, case.id),
        publications=publications(session, g.principal, case.id),
        may_publish=may_publish_csaf(g.principal, case.product_id),
        profile_labels=PROFILE_LABELS,
    ), status


@bp.get("/psirt/cases/<int:case_id>/csaf/<profile>.json")
def case_csaf_preview(case_id: int, profile: str) -> Response:
    """The document as it would be published now (final, TLP:WHITE), to read before publishing: an attachment."""
    session = db_session()
    document = csaf_document(session, g.principal, case_id, profile=_profile(profile))
    name = document.file_name.removesuffix(".json") + "-preview.json"
    return attachment_response(name, "application/json", len(document.content), io.BytesIO(document.content))


@bp.get("/csaf-publications/<int:publication_id>.<extension>")
def csaf_publication(publication_id: int, extension: str) -> Response:
    """A published version (`.json`) or its OpenPGP signature (`.asc`), as an attachment."""
    session = db_session()
    publication = get_publication(session, g.principal, publication_id)
    stem = f"{publication.file_name.removesuffix('.json')}-v{publication.version}"
    if extension == "json":
        content = publication_bytes(session, publication)
        return attachment_response(f"{stem}.json", "application/json", len(content), io.BytesIO(content))
    signature = signature_bytes(session, publication) if extension == "asc" else None
    if signature is None:
        raise NotFound("no such file of this publication")
    return attachment_response(f"{stem}.json.asc", "application/pgp-signature", len(signature), io.BytesIO(signature))


# --- the CSAF provider directory -------------------------------------------------------------------------------

PROVIDER_TYPES = {
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".sha256": "text/plain; charset=utf-8",
    ".sha512": "text/plain; charset=utf-8",
    ".asc": "text/plain; charset=utf-8",
}


@bp.get("/.well-known/csaf/", defaults={"path": ""})
@bp.get("/.well-known/csaf/<path:path>")
def provider(path: str) -> Response | str:
    """The CSAF provider directory: TLP:WHITE for anyone, the rest for signed-in readers (a session, or an API
    token for aggregators) who see the document's product; folders list their entries."""
    wanted = f"{WELL_KNOWN}/{path}".rstrip("/")
    if "principal" not in g and "Authorization" in request.headers:
        authenticate_bearer()  # an aggregator's token; a bad one is refused, not ignored
    if needs_authentication(wanted) and "principal" not in g:
        raise Unauthorized("sign in, or send Authorization: Bearer <token>, to read documents not TLP:WHITE")
    files = provider_files(db_session(), g.get("principal"), request.host_url)
    if wanted in files:
        suffix = "." + wanted.rsplit(".", 1)[-1]
        response = Response(files[wanted], mimetype=PROVIDER_TYPES.get(suffix, "application/octet-stream"))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        if needs_authentication(wanted) or not app_installation().csaf.base_url:
            response.headers["Cache-Control"] = "private, no-store"  # per reader, or per the Host header
        return response
    entries = listing(files, wanted)
    if not entries or wanted.endswith((".json", ".txt", ".csv", ".asc", ".sha256", ".sha512")):
        raise NotFound("no such file in the CSAF provider directory")
    if not request.path.endswith("/"):
        return redirect(request.path + "/")
    return render_template("vex/listing.html", folder=wanted, entries=entries)


expose_predicates(bp, may_import_vulnerabilities)


@bp.route("/vulnerabilities")
def vulnerabilities() -> str:
    """The vulnerabilities the tracker knows, with how many of the reader's releases stand where on each."""
    filters = VulnerabilityFilterForm(request.args)
    page = page_number()
    known, total = list_vulnerabilities(
        db_session(), g.principal, vulnerability_filter(filters), page=page, per_page=LIST_PAGE
    )
    shown = {key: value for key, value in request.args.items() if key != "page"}
    pages = max(1, -(-total // LIST_PAGE))
    return render_template(
        "vex/vulnerabilities.html", known=known, total=total, page=page, pages=pages, filters=filters, shown=shown
    )


@bp.route("/vulnerabilities/<vulnerability>")
def vulnerability(vulnerability: str) -> str:
    """Which of the reader's releases a vulnerability (by name or alias) affects, grouped by status."""
    session = db_session()
    affected = affected_releases(session, g.principal, vulnerability)
    case = vulnerability_case(session, g.principal, affected.vulnerability)
    return render_template("vex/vulnerability.html", affected=affected, case=case, **LABELS)


@bp.route("/vulnerabilities/import", methods=["GET", "POST"])
def vulnerability_import() -> Response | str:
    """Upload a vulnerability file (administrators; security officers a supplier's VEX): small files are imported
    at once and their result shown, bigger ones by a job."""
    authorize_import_vulnerabilities(g.principal)
    form = VulnerabilityImportForm()
    result = None
    if form.validate_on_submit():
        rollback()  # the import writes in short transactions of its own, which this request's session would block
        upload = form.file.data
        try:
            submitted = submit_feed(
                app_db(),
                g.principal,
                Upload(upload.filename or "", upload.mimetype or "", upload.stream),
                inline_max_bytes=vuln_inline_max_bytes(),
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            if submitted.job is not None:
                flash("The file is large: it is imported by a job; this page shows its progress.", "info")
                return redirect(url_for("jobs.detail", job_id=submitted.job.id))
            result = submitted.result
    return render_template("vex/vulnerability_import.html", form=form, result=result)
