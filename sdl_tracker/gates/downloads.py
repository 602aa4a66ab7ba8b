"""A signed gate verdict as a download, for the page and the API alike."""

from __future__ import annotations

import io

from flask import Response
from sqlalchemy.orm import Session

from ..evidence.downloads import attachment_response
from ..products.models import Release
from .models import GateSignoff


def verdict_filename(session: Session, signoff_id: int) -> str:
    """PRODUCT-VERSION-gate-verdict.dsse.json (the caller read the verdict, so the reader sees its release)."""
    signoff = session.get(GateSignoff, signoff_id)
    release = session.get(Release, signoff.release_id) if signoff is not None else None
    stem = f"{release.product.name}-{release.version}" if release is not None else f"signoff-{signoff_id}"
    return f"{stem}-gate-verdict.dsse.json"


def verdict_download(session: Session, signoff_id: int, envelope: bytes) -> Response:
    """The DSSE envelope as a JSON attachment."""
    name = verdict_filename(session, signoff_id)
    return attachment_response(name, "application/json", len(envelope), io.BytesIO(envelope))
