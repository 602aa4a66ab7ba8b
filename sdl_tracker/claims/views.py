"""Claims pages: a release's matrix, chart, list and gap; one claim's form; two releases compared."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug import Response
from wtforms import SelectChoice

from ..audit.services import kept
from ..boundary import parse_whole
from ..catalog.rules import required_at
from ..db import utcnow
from ..errors import DomainError, NotFound
from ..evidence.queries import EvidenceQuery, list_evidence
from ..evidence.vocabulary import EvidenceKind
from ..products.services import get_release, list_releases
from ..web.context import db_session
from ..web.forms import apply_errors, flash_refusal
from ..web.inputs import id_argument
from ..web.templating import expose_predicates
from .chart import vector_chart
from .forms import STATUS_LABELS, STATUS_NAMES, VERIFICATION_LABELS, ClaimForm
from .judging import claims_summary, compare_releases, vector_report
from .review import accept_claim, confirm_claim, may_accept, may_confirm
from .services import ClaimInput, authorize_manage_claims, may_manage_claims, set_claim

bp = Blueprint("claims", __name__)
expose_predicates(bp, may_manage_claims, may_accept, may_confirm)


@bp.route("/releases/<int:release_id>/claims")
def index(release_id: int) -> str:
    """The release's claims: FR x level matrix, target against achieved, the filterable list and the gap."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    report = claims_summary(session, g.principal, release.id)
    fr, status, level = request.args.get("fr") or None, request.args.get("status") or None, request.args.get("level")
    level_number = parse_whole(level or "")  # anything but a number filters nothing, as before
    rows = []
    for item in report.applicability.items:
        line = report.lines.get(item.ref)
        if fr and item.fr != fr:
            continue
        if status and (line.status.value if line else "unclaimed") != status:
            continue
        if level_number is not None and not required_at(item, level_number):
            continue
        rows.append((item, line, report.cra.get(item.ref, [])))
    manage = may_manage_claims(g.principal, release)

    def table() -> Markup:
        html = render_template(
            "claims/_table.html", release=release, rows=rows, manage=manage, status_labels=STATUS_LABELS
        )
        return Markup(html)  # noqa: S704 - a template's own output, escaped as it was rendered

    # The table was most of the page's time. Unfiltered (the page as it opens), it is rendered once and kept as
    # the summary is, per reader's right to manage claims; a filtered one is rendered each time (its filters
    # would make keys without bound).
    filtered = bool(fr or status or level)
    claims_table = table() if filtered else kept(session, ("claims table", release.id, manage, utcnow().date()), table)
    return render_template(
        "claims/index.html",
        claims_table=claims_table,
        release=release,
        product=release.product,
        report=report,
        rows=rows,
        chart=vector_chart(report.target, report.achieved),
        status_labels=STATUS_LABELS,
        releases=list_releases(session, g.principal, release.product_id),
        filters={"fr": fr, "status": status, "level": level},
    )


@bp.route("/releases/<int:release_id>/claims/<path:ref>", methods=["GET", "POST"])
def edit(release_id: int, ref: str) -> Response | str:
    """Set the release's claim for one requirement (security officers)."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    authorize_manage_claims(g.principal, release)
    report = vector_report(session, g.principal, release.product_id, release.id)
    item = next((i for i in report.catalog.applicability.items if i.ref == ref), None)
    if item is None:
        raise NotFound(f"{ref} does not apply to this product")
    claim = next((c for c in report.claims if c.requirement.ref == ref), None)
    form = ClaimForm(obj=None)
    evidence = list_evidence(
        session, g.principal, EvidenceQuery(release.product_id, release.id, include_organisation=True)
    )
    form.evidence.choices = [
        SelectChoice(e.id, f"#{e.id} {e.current.title} ({e.kind.value}, {e.current.state.value})") for e in evidence
    ]
    form.documentation.choices = [
        SelectChoice("", "—"),
        *(
            SelectChoice(e.id, f"#{e.id} {e.current.title} ({e.current.state.value})")
            for e in evidence
            if e.kind is EvidenceKind.GUIDELINE_DOCUMENT
        ),
    ]
    if not form.is_submitted() and claim is not None:
        form.status.data, form.notes.data = claim.status.value, claim.notes
        form.verification.data = claim.verification.value if claim.verification else ""
        form.justification.data, form.countermeasure.data = claim.justification, claim.countermeasure
        form.evidence.data = [link.evidence_id for link in claim.evidence_links]
        form.documentation.data, form.override_reason.data = claim.documentation_id, claim.override_reason
    if form.validate_on_submit():
        data = ClaimInput(
            form.status.data,
            form.verification.data or None,
            form.justification.data or "",
            form.countermeasure.data or "",
            form.notes.data or "",
            form.evidence.data or [],
            form.override_reason.data or "",
            form.documentation.data,
        )
        try:
            set_claim(session, g.principal, release.id, ref, data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"{ref}: {STATUS_LABELS[form.status.data].lower()}.", "success")
            return redirect(url_for("claims.index", release_id=release.id, fr=item.fr))
    return render_template(
        "claims/edit.html",
        release=release,
        product=release.product,
        item=item,
        claim=claim,
        standing=report.standings.get(ref),
        conditional=report.catalog.conditional(ref),
        condition=report.catalog.annotations.get(ref),
        form=form,
    )


def _decide(release_id: int, ref: str, action: str) -> Response:
    try:
        if action == "accept":
            accept_claim(db_session(), g.principal, release_id, ref)
        else:
            confirm_claim(db_session(), g.principal, release_id, ref)
    except DomainError as exc:
        flash_refusal(exc, exc.one_line())
    else:
        flash(f"{ref}: {'accepted' if action == 'accept' else 'confirmed'} for this release.", "success")
    return redirect(url_for("claims.edit", release_id=release_id, ref=ref))


@bp.route("/releases/<int:release_id>/claims/<path:ref>/accept", methods=["POST"])
def accept(release_id: int, ref: str) -> Response:
    """Accept a "not applicable" or "compensated" claim (a security officer other than its setter)."""
    return _decide(release_id, ref, "accept")


@bp.route("/releases/<int:release_id>/claims/<path:ref>/confirm", methods=["POST"])
def confirm(release_id: int, ref: str) -> Response:
    """Confirm a claim carried forward from the previous release for this one."""
    return _decide(release_id, ref, "confirm")


@bp.route("/releases/<int:release_id>/claims/compare")
def compare(release_id: int) -> str:
    """What changed between this release and another: claims and levels."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    other_id = id_argument("other")
    others = [r for r in list_releases(session, g.principal, release.product_id) if r.id != release.id]
    result = compare_releases(session, g.principal, other_id, release.id) if other_id else None
    return render_template(
        "claims/compare.html",
        release=release,
        product=release.product,
        others=others,
        result=result,
        other_id=other_id,
        status_names=STATUS_NAMES,
        verification_labels=VERIFICATION_LABELS,
    )
