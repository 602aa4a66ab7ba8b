"""A release's build artifacts over /api/v1: record (CI) and list."""

from __future__ import annotations

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input
from ..api.openapi import Page, json_response, operation, paginated, parse_body
from ..web.context import db_session
from .rules import MAX_PER_REQUEST, MAX_RUN_URL
from .schemas import ArtifactOut, RecordedArtifactOut, RecordedArtifactsOut
from .services import ArtifactInput, list_artifacts, record_artifacts

bp = Blueprint("builds_api", __name__)


class ArtifactIn(Input):
    """One file a build produced."""

    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)


class ArtifactsIn(Input):
    """The files one CI run of a release's build produced."""

    artifacts: list[ArtifactIn] = Field(min_length=1, max_length=MAX_PER_REQUEST)
    ci_run_url: str = Field(default="", max_length=MAX_RUN_URL)


@bp.get("/releases/<int:release_id>/artifacts")
@operation(
    "A release's build artifacts by name",
    response=Page[ArtifactOut],
    tag="builds",
    query={"page": "page number from 1", "per_page": "1-200, default 50"},
)
def artifacts_list(release_id: int) -> Response:
    """List build artifacts."""
    return json_response(paginated(list_artifacts(db_session(), g.principal, release_id), ArtifactOut.of))


@bp.post("/releases/<int:release_id>/artifacts")
@operation(
    "Record the files a build of the release produced (name, size, SHA-256, the CI run); 201 when any is new, "
    "200 when every one was already recorded; 409 when a name is recorded with other bytes (nothing is kept)",
    body=ArtifactsIn,
    responses={201: RecordedArtifactsOut, 200: RecordedArtifactsOut},
    problems=[409],
    tag="builds",
)
def artifacts_record(release_id: int) -> Response:
    """Record build artifacts."""
    body = parse_body(ArtifactsIn)
    recorded = record_artifacts(
        db_session(),
        g.principal,
        release_id,
        [ArtifactInput(a.name, a.size, a.sha256) for a in body.artifacts],
        ci_run_url=body.ci_run_url,
    )
    out = RecordedArtifactsOut(items=[RecordedArtifactOut.of_recorded(r) for r in recorded])
    return json_response(out, 201 if any(r.created for r in recorded) else 200)
