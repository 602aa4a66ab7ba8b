"""An exported BOM as a download, for the page and the API alike."""

from __future__ import annotations

import io

from flask import Response

from ..evidence.downloads import attachment_response
from .exports import BomExport


def bom_download(export: BomExport) -> Response:
    """The BOM as an attachment, with its serial number and version in headers too."""
    response = attachment_response(export.filename, export.media_type, len(export.data), io.BytesIO(export.data))
    response.headers["X-BOM-Serial-Number"] = export.serial_number
    response.headers["X-BOM-Version"] = str(export.version)
    return response
