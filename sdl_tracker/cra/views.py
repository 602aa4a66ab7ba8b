"""The CRA conformity file's pages: a release's file and completeness, each Annex I point, the product's risk
assessment and support period, the release's user information and declaration data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, url_for
from werkzeug import Response

from ..app_access import app_installation
from ..errors import DomainError
from ..products.services import get_release
from ..web.context import db_session
from ..web.forms import apply_errors
from . import declarations
from .applicability import authorize_keep_file, may_keep_file
from .forms import BASIS_LABELS, DeclarationForm, UserInformationForm, item_field
from .models import Declaration
from .rules import ROUTE_LABELS

bp = Blueprint("cra", __name__)


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


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
        may_keep=may_keep_file(g.principal, release.product_id),
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
        may_keep=may_keep_file(g.principal, release.product_id),
    ), status


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
