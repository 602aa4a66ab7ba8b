"""Catalog pages: editions, a searchable list per edition, a page per requirement."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..web.context import db_session
from .forms import KIND_LABELS, RequirementFilterForm
from .rules import cra_section_label, foundational_requirements, fr_label, fr_name
from .services import (
    RequirementFilter,
    get_edition,
    list_editions,
    mapping_versions,
    newest_mapping,
    requirement_view,
    search_requirements,
)

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
# The seven FRs with abbreviations and names, for every SL-C vector a page shows (`level_badges`).
bp.add_app_template_global(foundational_requirements)
bp.add_app_template_filter(fr_label, "fr_label")  # `FR1` -> `FR1 IAC`
bp.add_app_template_filter(fr_name, "fr_name")  # `FR1` -> its name, for tooltips


@bp.app_template_filter("cra_label")
def cra_label(ref: str) -> str:
    """`I.2a` -> `Annex I Part I (2a)`."""
    return cra_section_label(ref)


@bp.route("/")
def index() -> str:
    """The loaded editions and mapping versions."""
    session = db_session()
    return render_template("catalog/index.html", editions=list_editions(session), mappings=mapping_versions(session))


@bp.route("/<int:edition_id>/")
def edition(edition_id: int) -> tuple[str, int] | str:
    """An edition's requirements, searchable and filterable."""
    session = db_session()
    catalog_edition = get_edition(session, edition_id)
    form = RequirementFilterForm(request.args)
    if not form.validate():
        return render_template(
            "catalog/edition.html", edition=catalog_edition, form=form, rows=[], kind_labels=KIND_LABELS
        ), 422
    wanted = RequirementFilter(
        query=form.q.data or "",
        kind=form.kind.data or None,
        fr=form.fr.data or None,
        component_type=form.component_type.data or None,
        level=int(form.level.data) if form.level.data else None,
    )
    rows = search_requirements(session, catalog_edition, wanted)
    return render_template(
        "catalog/edition.html", edition=catalog_edition, form=form, rows=rows, kind_labels=KIND_LABELS
    )


@bp.route("/<int:edition_id>/<path:ref>")
def requirement(edition_id: int, ref: str) -> str:
    """One requirement: levels, enhancements, and the CRA points it maps to (or that map to it)."""
    session = db_session()
    catalog_edition = get_edition(session, edition_id)
    view = requirement_view(session, catalog_edition, ref)
    return render_template(
        "catalog/requirement.html",
        edition=catalog_edition,
        view=view,
        kind_labels=KIND_LABELS,
        mapping=newest_mapping(session),  # what requirement_view reads; a release reads the version it pinned
    )
