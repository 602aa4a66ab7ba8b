"""The CRA conformity file's pages: a release's file and completeness, each Annex I point, the product's risk
assessment and support period, the release's user information and declaration data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug import Response
from wtforms import SelectChoice

from ..app_access import app_installation
from ..auth import Principal
from ..errors import DomainError
from ..evidence.models import Evidence
from ..evidence.queries import EvidenceQuery, list_evidence
from ..evidence.vocabulary import EvidenceKind
from ..products.models import Release
from ..products.services import get_product, get_release
from ..web.context import db_session
from ..web.forms import apply_errors, flash_refusal
from ..web.inputs import local_path
from ..web.templating import expose_predicates
from . import declarations
from .applicability import (
    PointView,
    authorize_keep_file,
    mapping_state,
    may_keep_file,
    move_mapping,
    point_view,
    record_point,
)
from .completeness import release_file
from .forms import (
    APPLICABLE,
    BASIS_LABELS,
    NOT_APPLICABLE,
    DeclarationForm,
    MappingForm,
    PointForm,
    RiskAssessmentForm,
    SupportPeriodForm,
    UserInformationForm,
    item_field,
)
from .models import Declaration
from .records import (
    citing_revisions,
    current_risk_assessment,
    record_risk_assessment,
    record_support_period,
    risk_assessment_revision,
    risk_assessments,
    support_obligations,
    support_period_input,
    threat_models,
)
from .rules import RISK_FIELDS, ROUTE_LABELS, Area, Missing, describe_months, is_web_address, stated_end

bp = Blueprint("cra", __name__)


# --- Annex I applicability and the mapping version ---
expose_predicates(bp, may_keep_file)


def _fill(form: PointForm, point: PointView) -> None:
    """The form showing the point as recorded (a Part I (1) or Part II point always applies)."""
    if point.assessed or point.always_applicable:
        form.applicable.data = APPLICABLE if point.applicable else NOT_APPLICABLE
    form.justification.data, form.measures.data = point.justification, point.measures
    form.evidence_ids.data = [e.id for e in point.linked]


@bp.route("/releases/<int:release_id>/cra/points/<ref>", methods=["GET", "POST"])
def point(release_id: int, ref: str) -> Response | tuple[str, int]:
    """One Annex I point of a release: how it applies, its measures, the mapping's requirements and other
    evidence; its officers record it."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    view = point_view(session, g.principal, release.id, ref)
    form = PointForm()
    if form.is_submitted():
        authorize_keep_file(g.principal, release.product_id)
    evidence = list_evidence(
        session, g.principal, EvidenceQuery(release.product_id, release.id, include_organisation=True)
    )
    offered = {e.id for e in evidence}
    form.evidence_ids.choices = [
        SelectChoice(e.id, f"#{e.id} {e.current.title} ({e.kind.value}, {e.current.state.value})") for e in evidence
    ] + [
        # Linked before, and no longer covering this release: shown so that saving says why it cannot stay.
        SelectChoice(e.id, f"#{e.id} {e.title} (does not cover {release.version})")
        for e in view.linked
        if e.id not in offered
    ]
    if not form.is_submitted():
        _fill(form, view)
    if form.validate_on_submit():
        try:
            record_point(
                session,
                g.principal,
                release.id,
                ref,
                applicable=form.applicable.data == APPLICABLE,
                justification=form.justification.data or "",
                measures=form.measures.data or "",
                evidence_ids=form.evidence_ids.data or [],
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flash(f"{view.label}: recorded.", "success")
            return redirect(url_for("cra.point", release_id=release.id, ref=ref))
    state = mapping_state(session, g.principal, release.id)
    mapping_form = MappingForm()
    mapping_form.version.choices = [SelectChoice(v, v) for v in state.newer]
    return render_template(
        "cra/point.html",
        release=release,
        product=release.product,
        point=view,
        form=form,
        mapping=state,
        mapping_form=mapping_form,
    ), 422 if form.errors else 200


@bp.post("/releases/<int:release_id>/cra/mapping", endpoint="move_mapping")
def move_mapping_view(release_id: int) -> Response:
    """Move a release on to a newer version of the IEC 62443 -> CRA mapping (its officers)."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    authorize_keep_file(g.principal, release.product_id)
    form = MappingForm()
    form.version.choices = []
    if form.validate_on_submit():
        try:
            moved = move_mapping(session, g.principal, release.id, form.version.data or "")
        except DomainError as exc:
            flash_refusal(exc, exc.one_line())
        else:
            flash(f"{moved.version} is now assessed with mapping version {form.version.data}.", "success")
    else:
        flash("Choose a newer mapping version.", "error")
    back = request.form.get("next")
    return redirect(local_path(back) if back else url_for("products.release_detail", release_id=release.id))


# --- risk assessment and support period ---


@bp.route("/products/<int:product_id>/cra/risk-assessment", methods=["GET", "POST"])
def risk_assessment(product_id: int) -> Response | tuple[str, int]:
    """The product's risk assessment: the current revision, the form its officers record the next one with
    (filled from the current one), and every revision with who recorded it when."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    form = RiskAssessmentForm()
    if form.is_submitted():
        authorize_keep_file(g.principal, product.id)
    models = threat_models(session, g.principal, product.id)
    form.offer(models)
    current = current_risk_assessment(session, g.principal, product.id)
    status = 200
    if form.validate_on_submit():
        try:
            revision = record_risk_assessment(session, g.principal, product.id, form.assessment())
        except DomainError as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            if current is not None and revision.id == current.id:
                flash(f"Nothing changed: revision {revision.number} stands.", "info")
            else:
                flash(f"Revision {revision.number} of the risk assessment recorded.", "success")
            return redirect(url_for("cra.risk_assessment", product_id=product.id))
    elif form.is_submitted():
        status = 422
    elif current is not None:
        form.fill(current)
    return render_template(
        "cra/risk_assessment.html",
        product=product,
        form=form,
        current=current,
        revisions=risk_assessments(session, g.principal, product.id),
        models={model.id: model for model in models},
        labels=dict(RISK_FIELDS),
        describe_months=describe_months,
    ), status


@bp.get("/products/<int:product_id>/cra/risk-assessment/<int:number>")
def risk_revision(product_id: int, number: int) -> str:
    """One revision of the product's risk assessment, as it was recorded."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    revision = risk_assessment_revision(session, g.principal, product.id, number)
    return render_template(
        "cra/risk_revision.html",
        product=product,
        revision=revision,
        current=current_risk_assessment(session, g.principal, product.id),
        models={model.id: model for model in threat_models(session, g.principal, product.id)},
        labels=dict(RISK_FIELDS),
        describe_months=describe_months,
    )


@bp.route("/products/<int:product_id>/cra/support-period", methods=["GET", "POST"], endpoint="support_period")
def support_period_page(product_id: int) -> Response | tuple[str, int]:
    """The product's support period: how it was set, the form its officers record it with, and what it obliges
    (until when documentation and each release's updates are kept), with what an assessor would ask."""
    session = db_session()
    product = get_product(session, g.principal, product_id)
    form = SupportPeriodForm()
    if form.is_submitted():
        authorize_keep_file(g.principal, product.id)
    status = 200
    if form.validate_on_submit():
        try:
            record_support_period(session, g.principal, product.id, form.period())
        except DomainError as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            flash("Support period recorded; its end is the product's support period end.", "success")
            return redirect(url_for("cra.support_period", product_id=product.id))
    elif form.is_submitted():
        status = 422
    if not form.is_submitted():
        recorded = support_period_input(session, g.principal, product.id)
        if recorded is not None:
            form.fill(recorded)
        else:  # a first record starts from the expected use time the risk assessment states
            risk = current_risk_assessment(session, g.principal, product.id)
            form.expected_use_months.data = risk.expected_use_months if risk is not None else None
    return render_template(
        "cra/support_period.html",
        obligations=support_obligations(session, g.principal, product.id),
        product=product,
        form=form,
        stated_end=stated_end,
        describe_months=describe_months,
        is_web_address=is_web_address,
    ), status


def threat_model_panel(session: Session, principal: Principal, evidence: Evidence) -> Markup | None:
    """The risk assessment revisions that rest on a threat model, for its evidence page
    (evidence.views.set_evidence_panels); None for other evidence."""
    if evidence.kind is not EvidenceKind.THREAT_MODEL or evidence.product_id is None:
        return None
    html = render_template(
        "cra/_threat_model_panel.html",
        evidence=evidence,
        revisions=citing_revisions(session, principal, evidence),
        current=current_risk_assessment(session, principal, evidence.product_id),
    )
    return Markup(html)  # noqa: S704 - a template's own output, escaped as it was rendered


# --- Annex II user information and declaration of conformity ---


@bp.route("/releases/<int:release_id>/cra/user-information", methods=["GET", "POST"])
def user_information(release_id: int) -> Response | tuple[str, int]:
    """A release's Annex II user information, item by item, with the tracker's suggestions and the mapped
    requirements' documents; the product's security officers record it."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    items = declarations.user_information(session, g.principal, release.id)
    # An item not recorded yet starts from the suggestion: saved, it is recorded as the officer left it.
    form = UserInformationForm(
        data={
            item_field(item.ref): {
                "text": item.text if item.recorded else item.suggestion,
                "evidence_id": str(item.evidence[0]) if item.evidence else "",
            }
            for item in items
        }
    )
    if form.is_submitted():
        authorize_keep_file(g.principal, release.product_id)
    kept = {item.evidence[0]: item.evidence[1] for item in items if item.evidence}
    form.offer(declarations.evidence_choices(session, g.principal, release.id), kept)
    status = 200
    if form.validate_on_submit():
        try:
            declarations.record_user_information(session, g.principal, release.id, form.items())
        except DomainError as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            flash(f"User information of {release.product.name} {release.version} saved.", "success")
            return redirect(url_for("cra.user_information", release_id=release.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "cra/user_information.html",
        release=release,
        product=release.product,
        items=items,
        form=form,
        item_field=item_field,
    ), status


def _declaration_data(recorded: Declaration | None, suggested: dict[str, str]) -> dict[str, Any]:
    """The declaration form's values: the recorded ones, else the suggestions."""
    if recorded is None:
        return dict(suggested)
    names = (*declarations.LINE_LIMITS, *declarations.TEXT_LIMITS, "date_of_issue")
    return {
        **{name: getattr(recorded, name) for name in names},
        "conformity_route": recorded.conformity_route.value if recorded.conformity_route else "",
        "presumption_basis": recorded.presumption_basis.value if recorded.presumption_basis else "",
        "other_standards": "\n".join(recorded.other_standards),
    }


@bp.route("/releases/<int:release_id>/cra/declaration", methods=["GET", "POST"])
def declaration(release_id: int) -> Response | tuple[str, int]:
    """The data of a release's EU declaration of conformity, its conformity route and the standards applied; the
    product's security officers record it."""
    session = db_session()
    shown = declarations.declaration_view(session, g.principal, release_id, app_installation().now().date())
    release = shown.release
    form = DeclarationForm(data=_declaration_data(shown.declaration, shown.suggested))
    if form.is_submitted():
        authorize_keep_file(g.principal, release.product_id)
    recorded = shown.declaration.conformity_route if shown.declaration else None
    form.offer(shown.routes, recorded.value if recorded else "")
    status = 200
    if form.validate_on_submit():
        try:
            declarations.record_declaration(session, g.principal, release.id, form.declaration())
        except DomainError as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            flash(f"Declaration data of {release.product.name} {release.version} saved.", "success")
            return redirect(url_for("cra.declaration", release_id=release.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "cra/declaration.html",
        release=release,
        product=release.product,
        shown=shown,
        form=form,
        route_labels=ROUTE_LABELS,
        basis_labels=BASIS_LABELS,
    ), status


# --- the file as a whole and its completeness ---


@bp.route("/releases/<int:release_id>/cra")
def release_file_view(release_id: int) -> str:
    """A release's CRA file on one page: what is missing (each with its fix), then every part."""
    session = db_session()
    release = get_release(session, g.principal, release_id)
    file = release_file(session, g.principal, release.id)
    mapping_form = MappingForm()
    mapping_form.version.choices = [SelectChoice(v, v) for v in file.mapping.newer]
    return render_template(
        "cra/file.html",
        file=file,
        mapping_form=mapping_form,
        release=release,
        product=release.product,
        fix_url=fix_url,
    )


def fix_url(release: Release, missing: Missing) -> str:
    """Where a missing part of a release's CRA file is fixed."""
    anchor = f"#{missing.key}" if missing.key else ""
    if missing.area is Area.POINT:
        return url_for("cra.point", release_id=release.id, ref=missing.key)
    if missing.area is Area.RISK:
        return url_for("cra.risk_assessment", product_id=release.product_id) + anchor
    if missing.area is Area.SUPPORT:
        return url_for("cra.support_period", product_id=release.product_id) + anchor
    if missing.area is Area.USER_INFORMATION:
        return url_for("cra.user_information", release_id=release.id) + anchor
    return url_for("cra.declaration", release_id=release.id) + anchor
