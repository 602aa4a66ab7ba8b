"""Serving stored files (artifacts, original SBOMs): always as attachments, with a safe type and a sandbox,
never rendered from our origin."""

from __future__ import annotations

from typing import BinaryIO
from urllib.parse import quote

from flask import Response

from .models import Artifact
from .rules import download_media_type


def artifact_response(artifact: Artifact, stream: BinaryIO) -> Response:
    """A download response for a verified artifact stream."""
    return attachment_response(artifact.filename, artifact.media_type, artifact.size, stream)


def attachment_response(filename: str, media_type: str, size: int, stream: BinaryIO) -> Response:
    """A download response for a verified stored file: an attachment, a safe type, a sandbox."""
    response = Response(_chunks(stream), mimetype=download_media_type(filename, media_type))
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    response.headers["Content-Disposition"] = disposition
    response.headers["Content-Length"] = str(size)
    # Even if a browser ignored the attachment, nothing in it could script our origin.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _chunks(stream: BinaryIO):  # type: ignore[no-untyped-def]
    with stream:
        while chunk := stream.read(256 * 1024):
            yield chunk
