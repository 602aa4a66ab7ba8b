"""The signing keys page: what an auditor compares against a dossier's or checkpoint's key id."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template

from ..web.context import db_session
from .services import list_keys, public_key

bp = Blueprint("signing", __name__, url_prefix="/keys")


@bp.route("/")
def index() -> str:
    """Each signing key with its id and SHA-256 fingerprint, the active one first."""
    return render_template("signing/index.html", keys=list_keys(db_session(), g.principal))


@bp.route("/<key_id>.pem")
def download(key_id: str) -> Response:
    """One public key as a PEM file."""
    info = public_key(db_session(), g.principal, key_id)
    return Response(
        info.pem,
        mimetype="application/x-pem-file",
        headers={"Content-Disposition": f'attachment; filename="sdl-tracker-{info.key_id}.pem"'},
    )
