"""The CRA conformity file's pages: a release's file and completeness, each Annex I point, the product's risk
assessment and support period, the release's user information and declaration data."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug import Response
from wtforms import SelectChoice

from ..errors import DomainError
from ..evidence.queries import EvidenceQuery, list_evidence
from ..products.services import get_release
from ..web.context import db_session
from ..web.forms import apply_errors, flash_refusal
from ..web.inputs import local_path
from ..web.templating import expose_predicates
from .applicability import (
    PointView,
    authorize_keep_file,
    mapping_state,
    may_keep_file,
    move_mapping,
    point_view,
    record_point,
)
from .forms import APPLICABLE, NOT_APPLICABLE, MappingForm, PointForm

bp = Blueprint("cra", __name__)


# === Annex I applicability and the mapping version (applicability) ===
expose_predicates(bp, may_keep_file)


def _fill(form: PointForm, point: PointView) -> None:
    """The form showing the point as recorded (a Part I (1) or Part II point always applies)."""
    if point.assessed or point.always_applicable:
        form.applicable.data = APPLICABLE if point.applicable else NOT_APPLICABLE
    form.justification.data, form.measures.data = point.justification, point.measures
    form.evidence_ids.data = [e.id for e in point.linked]


@bp.route("/releases/<int:release_id>/cra/points/<ref>", methods=["GET", "POST"])
def point(release_id: int, ref: str) -> Response | str:
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
    )


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


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
