"""Serving artifacts: always as attachments, with a safe type and a sandbox, never rendered from our origin."""

from __future__ import annotations

from typing import BinaryIO
from urllib.parse import quote

from flask import Response

from .models import Artifact
from .rules import download_media_type


def artifact_response(artifact: Artifact, stream: BinaryIO) -> Response:
    """A download response for a verified artifact stream."""
    response = Response(_chunks(stream), mimetype=download_media_type(artifact.filename, artifact.media_type))
    ascii_name = artifact.filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(artifact.filename)}"
    )
    response.headers["Content-Length"] = str(artifact.size)
    # Even if a browser ignored the attachment, nothing in it could script our origin.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _chunks(stream: BinaryIO):  # type: ignore[no-untyped-def]
    with stream:
        while chunk := stream.read(256 * 1024):
            yield chunk
