"""Substantial-modification signals over /api/v1: list with decisions, decide."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, g
from pydantic import Field

from ..api.inputs import Input, Text
from ..api.openapi import json_response, operation, parse_body
from ..app_access import app_db
from ..web.context import db_session, rollback
from .schemas import DecisionOut, ModificationsOut
from .services import MAX_REASON, decide_modification, read_signals, release_modifications

bp = Blueprint("modifications_api", __name__)


class DecisionIn(Input):
    """A decision on one signal: confirm it as a substantial modification, or dismiss it with a reason."""

    key: str = Field(min_length=1, max_length=5000, description="the signal's key, or its 12-digit ref")
    verdict: Literal["confirmed", "dismissed"]
    reason: Text = Field(default="", max_length=MAX_REASON, description="required to dismiss")


@bp.get("/releases/<int:release_id>/modifications")
@operation(
    "The release's substantial-modification signals against the previous release (docs/sboms.md has the "
    "rules), each with its evidence and decision; decisions whose signal no longer appears are listed as stale",
    response=ModificationsOut,
    tag="sboms",
)
def modifications_show(release_id: int) -> Response:
    """List modification signals."""
    return json_response(ModificationsOut.of(release_modifications(db_session(), g.principal, release_id)))


@bp.post("/releases/<int:release_id>/modifications/decisions")
@operation(
    "Confirm a signal as a substantial modification or dismiss it (a reason is required to dismiss); 404 when "
    "the release has no signal under that key",
    body=DecisionIn,
    response=DecisionOut,
    tag="sboms",
)
def modifications_decide(release_id: int) -> Response:
    """Decide on a modification signal."""
    body = parse_body(DecisionIn)
    rollback()  # the signals are read before the decision's write transaction (read_signals)
    read_signals(app_db(), g.principal, release_id)
    decision = decide_modification(
        db_session(), g.principal, release_id, key=body.key, verdict=body.verdict, reason=body.reason
    )
    return json_response(DecisionOut.of(decision))
