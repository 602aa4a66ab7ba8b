"""A release's exported VEX as a download, for the page and the API alike."""

from __future__ import annotations

import io

from flask import Response

from ..evidence.downloads import attachment_response
from .exports import ExportedVex


def vex_download(export: ExportedVex) -> Response:
    """The document as an attachment of its own media type, with how many decisions it states and left out."""
    response = attachment_response(export.filename, export.media_type, len(export.data), io.BytesIO(export.data))
    # Our own document, built and validated here: its registered type is known, unlike an upload's, whose type the
    # safe list vets (which names no CycloneDX type).
    response.headers["Content-Type"] = export.media_type
    response.headers["X-VEX-Statements"] = str(export.statements)
    response.headers["X-VEX-Left-Out"] = str(export.left_out)
    return response
