"""Catalogs over /api/v1: editions, requirements (filterable), one requirement with its mapping."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..api.openapi import ItemList, Page, json_response, operation, paginated
from ..errors import FieldError, Invalid
from ..web.context import db_session
from .rules import COMPONENT_TYPES, FOUNDATIONAL_REQUIREMENTS, ItemKind
from .schemas import EditionOut, RequirementDetail, RequirementOut
from .services import RequirementFilter, export_rows, get_edition, list_editions, requirement_view, search_requirements

bp = Blueprint("catalog_api", __name__)

FILTER_QUERY = {
    "q": "text in id or title",
    "kind": f"one of {', '.join(k.value for k in ItemKind)}",
    "fr": "FR1..FR7",
    "component_type": "SAR, EDR, HDR or NDR: what applies to that type",
    "level": "1-4: required at that SL-C",
    "page": "page number from 1",
    "per_page": "1-200, default 50",
}


def _filter_from_query() -> RequirementFilter:
    args = request.args
    errors = []
    kind = args.get("kind") or None
    if kind and kind not in {k.value for k in ItemKind}:
        errors.append(FieldError("kind", f"unknown kind {kind!r}"))
    fr = args.get("fr") or None
    if fr and fr not in FOUNDATIONAL_REQUIREMENTS:
        errors.append(FieldError("fr", "FR1..FR7"))
    component_type = args.get("component_type") or None
    if component_type and component_type not in COMPONENT_TYPES:
        errors.append(FieldError("component_type", "SAR, EDR, HDR or NDR"))
    level_text = args.get("level") or ""
    if level_text and level_text not in {"1", "2", "3", "4"}:
        errors.append(FieldError("level", "a level 1-4"))
    if len(args.get("q", "")) > 100:
        errors.append(FieldError("q", "at most 100 characters"))
    if errors:
        raise Invalid("the filter is invalid", errors=errors)
    return RequirementFilter(
        query=args.get("q", ""),
        kind=kind,
        fr=fr,
        component_type=component_type,
        level=int(level_text) if level_text else None,
    )


@bp.get("/catalog/editions")
@operation("List the loaded catalog editions", response=ItemList[EditionOut], tag="catalog")
def editions_list() -> Response:
    """List editions."""
    return json_response(ItemList(items=[EditionOut.of(e) for e in list_editions(db_session())]))


@bp.get("/catalog/editions/<int:edition_id>/requirements")
@operation("An edition's requirements, filtered", response=Page[RequirementOut], tag="catalog", query=FILTER_QUERY)
def edition_requirements_list(edition_id: int) -> Response:
    """List an edition's requirements."""
    session = db_session()
    edition = get_edition(session, edition_id)
    rows = search_requirements(session, edition, _filter_from_query())
    return json_response(paginated(rows, lambda r: RequirementOut.of(r, edition)))


@bp.get("/catalog/editions/<int:edition_id>/requirements/<path:ref>")
@operation("One requirement with its enhancements and CRA mapping", response=RequirementDetail, tag="catalog")
def requirement_show(edition_id: int, ref: str) -> Response:
    """Show a requirement."""
    session = db_session()
    edition = get_edition(session, edition_id)
    return json_response(RequirementDetail.of(requirement_view(session, edition, ref), edition))


@bp.get("/catalog/export")
@operation(
    "Every requirement of every loaded edition",
    response=Page[RequirementOut],
    tag="catalog",
    query={
        "standard": "only this standard",
        "edition": "only this edition id",
        "page": "page number from 1",
        "per_page": "1-200, default 50",
    },
)
def catalog_export() -> Response:
    """Export requirements."""
    rows = export_rows(db_session(), standard=request.args.get("standard"), edition=request.args.get("edition"))
    return json_response(paginated(rows, lambda row: RequirementOut.of(*row)))
