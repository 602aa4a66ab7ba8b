"""The CRA conformity file over /api/v1: the file and its completeness, Annex I points, the mapping version, the
risk assessment, support period, user information and declaration data."""

from __future__ import annotations

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input, Text
from ..api.openapi import ItemList, json_response, operation, parse_body
from ..web.context import db_session
from .applicability import TEXT_MAX, mapping_state, move_mapping, point_view, record_point, release_points
from .schemas import MappingStateOut, PointOut

bp = Blueprint("cra_api", __name__)


# === Annex I applicability and the mapping version (applicability) ===


class PointIn(Input):
    """How one Annex I point applies to the release; the evidence listed replaces what was linked by hand."""

    applicable: bool = Field(strict=True, description="Part I (1) and Part II points cannot be false")
    justification: Text = Field(default="", max_length=TEXT_MAX, description="required when not applicable")
    measures: Text = Field(default="", max_length=TEXT_MAX, description="the measures that implement it")
    evidence_ids: list[int] = Field(
        default_factory=list,
        max_length=500,
        description="evidence items of the product or organisation-wide (release-scoped ones naming this release)",
    )


class MappingIn(Input):
    """The newer mapping version to assess the release with."""

    version: str = Field(min_length=1, max_length=40)


@bp.get("/releases/<int:release_id>/cra/points")
@operation("A release's Annex I points in Annex order", response=ItemList[PointOut], tag="cra")
def points_list(release_id: int) -> Response:
    """List the release's Annex I points."""
    points = release_points(db_session(), g.principal, release_id)
    return json_response(ItemList(items=[PointOut.of(p) for p in points]))


@bp.get("/releases/<int:release_id>/cra/points/<ref>")
@operation("One Annex I point of a release", response=PointOut, tag="cra")
def points_show(release_id: int, ref: str) -> Response:
    """Show one point."""
    return json_response(PointOut.of(point_view(db_session(), g.principal, release_id, ref)))


@bp.put("/releases/<int:release_id>/cra/points/<ref>")
@operation(
    "Record how an Annex I point applies to the release (security officers): not applicable needs a "
    "justification, and Part I (1) and Part II always apply",
    body=PointIn,
    response=PointOut,
    tag="cra",
)
def points_put(release_id: int, ref: str) -> Response:
    """Record a point."""
    body = parse_body(PointIn)
    session = db_session()
    record_point(
        session,
        g.principal,
        release_id,
        ref,
        applicable=body.applicable,
        justification=body.justification,
        measures=body.measures,
        evidence_ids=body.evidence_ids,
    )
    return json_response(PointOut.of(point_view(session, g.principal, release_id, ref)))


@bp.get("/releases/<int:release_id>/cra/mapping")
@operation("The IEC 62443 -> CRA mapping version a release is assessed with", response=MappingStateOut, tag="cra")
def mapping_show(release_id: int) -> Response:
    """Show the release's mapping version."""
    return json_response(MappingStateOut.of(mapping_state(db_session(), g.principal, release_id)))


@bp.post("/releases/<int:release_id>/cra/mapping")
@operation(
    "Move a release not yet shipped on to a newer mapping version (security officers)",
    body=MappingIn,
    response=MappingStateOut,
    tag="cra",
)
def mapping_move(release_id: int) -> Response:
    """Move the release's mapping version."""
    body = parse_body(MappingIn)
    session = db_session()
    move_mapping(session, g.principal, release_id, body.version)
    return json_response(MappingStateOut.of(mapping_state(session, g.principal, release_id)))


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
