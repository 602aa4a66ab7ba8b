"""VEX pages: a release's decisions (filtered, with the form to record or change one), confirming and deleting a
decision, and the panels the PSIRT case page and the SBOM component page show (installed by the app module)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug import Response

from ..auth import Principal
from ..errors import DomainError, Invalid, NotFound
from ..products.models import Release
from ..products.services import get_release
from ..psirt.models import PsirtCase
from ..web.context import db_session
from ..web.forms import apply_errors, flash_refusal
from ..web.inputs import id_argument
from ..web.templating import expose_predicates
from .forms import JUSTIFICATION_LABELS, ORIGIN_LABELS, STATUS_LABELS, DecisionFilterForm, DecisionForm, decision_filter
from .models import VexDecision
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
)

bp = Blueprint("vex", __name__)
expose_predicates(bp, may_decide_vex, may_confirm_decision, may_delete_decision)
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
        **LABELS,
    ), 422 if problem else 200


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
    return _panel(case_decisions(session, principal, case.id), empty="No release has a decision on this case yet.")


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
