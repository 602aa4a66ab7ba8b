"""Previews rendered by the server from real files: PDF pages and images as our own PNGs, text and Markdown
through the sanitiser, and refusals (SVG, decompression bombs, broken files) said on the page."""

from __future__ import annotations

import io
import re
import struct
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import find_user, principal_for
from sdl_tracker.evidence import previews
from sdl_tracker.evidence.previews import preview
from sdl_tracker.evidence.render import kind_of
from sdl_tracker.evidence.services import Upload
from tests.factories import attach, make_product, member, signed_in

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pdf_bytes(pages: int = 2) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(200, 300).close()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG", comment=b"source comment")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png() -> bytes:
    """A valid PNG header claiming 100,000 x 100,000 pixels (ten billion), with a few bytes of data."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b"")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
MARKDOWN = b"# Policy\n\nSee <script>alert(1)</script> and [x](javascript:alert(1)).\n"


def artifacts(session: Session, files: list[tuple[str, str, bytes]]) -> dict[str, int]:
    product = make_product(session, "Previewed")
    dev = member(session, product, "developer", email="dev@example.com")
    uploads = [Upload(name, media, io.BytesIO(data)) for name, media, data in files]
    evidence = attach(session, dev, product, "Attachments", files=uploads)
    session.commit()
    return {a.filename: a.id for a in evidence.current.artifacts}


def viewer(app: Flask) -> FlaskClient:
    return signed_in(app, "dev@example.com")


def test_pdf_pages_and_images_become_our_own_pngs(app: Flask, session: Session) -> None:
    ids = artifacts(
        session, [("report.pdf", "application/pdf", pdf_bytes(5)), ("photo.jpg", "image/jpeg", jpeg_bytes())]
    )
    client = viewer(app)
    page = client.get(f"/artifacts/{ids['report.pdf']}/preview").get_data(as_text=True)
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 3  # the first pages only
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.get_data().startswith(PNG_SIGNATURE)
    image_page = client.get(f"/artifacts/{ids['photo.jpg']}/preview").get_data(as_text=True)
    (source,) = re.findall(r'<img src="([^"]+)"', image_page)
    png = client.get(source).get_data()
    assert png.startswith(PNG_SIGNATURE) and b"source comment" not in png
    assert Image.open(io.BytesIO(png)).size == (64, 48)
    assert client.get(f"/artifacts/{ids['report.pdf']}/preview/4.png").status_code == 404
    assert client.get(f"/artifacts/{ids['report.pdf']}/preview/0.png").status_code == 404
    # The artifacts themselves are still only attachments.
    download = client.get(f"/artifacts/{ids['report.pdf']}")
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_second_view_does_not_render_again(app: Flask, session: Session, monkeypatch: Any) -> None:
    ids = artifacts(session, [("once.pdf", "application/pdf", pdf_bytes(1))])
    client = viewer(app)
    assert client.get(f"/artifacts/{ids['once.pdf']}/preview").status_code == 200

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(previews.subprocess, "run", refuse)
    page = client.get(f"/artifacts/{ids['once.pdf']}/preview").get_data(as_text=True)
    assert client.get(re.findall(r'<img src="([^"]+)"', page)[0]).status_code == 200


def test_what_cannot_be_previewed_says_why(app: Flask, session: Session) -> None:
    ids = artifacts(
        session,
        [
            ("drawing.svg", "image/svg+xml", SVG),
            ("bomb.png", "image/png", bomb_png()),
            ("broken.pdf", "application/pdf", b"%PDF-1.7\nnot really a pdf"),
            ("tool.bin", "application/octet-stream", b"\x7fELF\x00\x00binary"),
        ],
    )
    client = viewer(app)
    expected = {
        "drawing.svg": "are not previewed",
        "bomb.png": "too large to preview",
        "broken.pdf": "could not be read",
        "tool.bin": "are not previewed",
    }
    for name, why in expected.items():
        response = client.get(f"/artifacts/{ids[name]}/preview")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert why in page, (name, page[page.find("no-preview") :][:300])
        assert "<img" not in page.split('id="preview"')[1] and "<svg" not in page.split('id="preview"')[1]
        assert client.get(f"/artifacts/{ids[name]}/preview/1.png").status_code == 404


def test_text_and_markdown_go_through_the_sanitiser(app: Flask, session: Session) -> None:
    ids = artifacts(
        session,
        [("policy.md", "text/markdown", MARKDOWN), ("log.txt", "text/plain", b"<b>not bold</b>\nline two")],
    )
    client = viewer(app)
    markdown = client.get(f"/artifacts/{ids['policy.md']}/preview").get_data(as_text=True)
    assert "<h1>Policy</h1>" in markdown and "<script>alert(1)" not in markdown and 'href="javascript' not in markdown
    text = client.get(f"/artifacts/{ids['log.txt']}/preview").get_data(as_text=True)
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text


def test_others_see_no_preview(app: Flask, session: Session) -> None:
    ids = artifacts(session, [("secret.pdf", "application/pdf", pdf_bytes(1))])
    outsider = make_product(session, "Other")
    member(session, outsider, "developer", email="outsider@example.com")
    session.commit()
    client = signed_in(app, "outsider@example.com")
    assert client.get(f"/artifacts/{ids['secret.pdf']}/preview").status_code == 404
    assert client.get(f"/artifacts/{ids['secret.pdf']}/preview/1.png").status_code == 404
    assert client.get("/artifacts/2147483648/preview").status_code == 404


def test_a_hung_renderer_is_stopped(app: Flask, session: Session, monkeypatch: Any) -> None:
    ids = artifacts(session, [("slow.pdf", "application/pdf", pdf_bytes(1))])

    def hang(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("render", previews.RENDER_SECONDS)

    monkeypatch.setattr(previews.subprocess, "run", hang)
    page = viewer(app).get(f"/artifacts/{ids['slow.pdf']}/preview").get_data(as_text=True)
    assert "rendering took too long; it is tried again from " in page


def _timeout(*args: object, **kwargs: object) -> None:
    raise subprocess.TimeoutExpired("render", previews.RENDER_SECONDS)


def _killed(args: Any, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.CompletedProcess(args, -9, b"", b"")  # the kernel's out-of-memory killer, say


def _no_process(*args: object, **kwargs: object) -> None:
    raise BlockingIOError(11, "Resource temporarily unavailable")  # fork() found no process to spare


def _not_again(*args: object, **kwargs: object) -> None:
    raise AssertionError("rendered again")


@pytest.mark.parametrize(
    ("failure", "why"),
    [(_timeout, "rendering took too long"), (_killed, "rendering failed"), (_no_process, "rendering could not start")],
)
def test_a_rendering_that_gave_no_answer_is_tried_again_later(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch, failure: Any, why: str
) -> None:
    ids = artifacts(session, [("busy.pdf", "application/pdf", pdf_bytes(2))])
    user = find_user(session, "dev@example.com")
    assert user is not None
    dev, artifact = principal_for(session, user), ids["busy.pdf"]
    start = datetime.now(UTC)
    minutes = previews.RETRY_SECONDS // 60
    with monkeypatch.context() as patched:
        patched.setattr(previews.subprocess, "run", failure)
        assert preview(session, dev, artifact, now=start).reason.startswith(f"{why}; it is tried again from ")
        patched.setattr(previews.subprocess, "run", _not_again)  # until then, the refusal is kept
        assert preview(session, dev, artifact, now=start + timedelta(minutes=minutes - 1)).kind is None
        page = viewer(app).get(f"/artifacts/{artifact}/preview").get_data(as_text=True)
        assert why in page and "<img" not in page.split('id="preview"')[1]
        patched.setattr(previews.subprocess, "run", failure)  # due again, and no answer again: twice as long
        later = start + timedelta(minutes=minutes + 1)
        assert preview(session, dev, artifact, now=later).kind is None
        patched.setattr(previews.subprocess, "run", _not_again)
        assert preview(session, dev, artifact, now=later + timedelta(minutes=2 * minutes - 1)).kind is None
    shown = preview(session, dev, artifact, now=later + timedelta(minutes=2 * minutes + 1))  # the machine recovered
    assert (shown.kind, shown.pages, shown.reason) == ("pdf", 2, "")
    monkeypatch.setattr(previews.subprocess, "run", _not_again)  # kept for good now
    page = viewer(app).get(f"/artifacts/{artifact}/preview").get_data(as_text=True)
    assert len(re.findall(r'<img src="([^"]+)"', page)) == 2
    assert sorted(p.name for p in previews.cache_dir(session).iterdir()) == [shown.artifact.blob_sha256]


def test_what_the_renderer_refused_stays_refused(app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = artifacts(session, [("broken.pdf", "application/pdf", b"%PDF-1.7\nnot really a pdf")])
    user = find_user(session, "dev@example.com")
    assert user is not None
    dev = principal_for(session, user)
    assert "could not be read" in preview(session, dev, ids["broken.pdf"]).reason
    monkeypatch.setattr(previews.subprocess, "run", _not_again)
    a_year_on = datetime.now(UTC) + timedelta(days=365)
    assert preview(session, dev, ids["broken.pdf"], now=a_year_on).reason.startswith("the PDF could not be read")


def test_the_kind_is_read_from_the_bytes_not_the_declared_type() -> None:
    assert kind_of("x.png", "image/png", b"%PDF-1.4") == "pdf"
    assert kind_of("x.pdf", "application/pdf", b"<svg xmlns=") is None
    assert kind_of("x.svg", "text/plain", b"<svg xmlns=") is None
    assert kind_of("notes.md", "text/plain", b"# Notes") == "markdown"
    assert kind_of("page.html", "text/html", b"<html>") is None
    assert kind_of("x.jpg", "image/jpeg", b"\xff\xd8\xff\xe0") == "image"


def test_text_that_begins_like_a_bitmap_is_previewed_as_text(app: Flask, session: Session) -> None:
    # "BM" opens a bitmap, and also "BMC firmware ...": a bitmap's header has reserved zero bytes after its size.
    ids = artifacts(session, [("bmc.txt", "text/plain", b"BMC firmware update log\nall good\n")])
    page = viewer(app).get(f"/artifacts/{ids['bmc.txt']}/preview").get_data(as_text=True)
    assert "all good" in page and "could not be read" not in page
    bitmap = io.BytesIO()
    Image.new("RGB", (4, 4)).save(bitmap, "BMP")
    assert kind_of("bmc.txt", "text/plain", b"BMC firmware upd") == "text"
    assert kind_of("x.bmp", "image/bmp", bitmap.getvalue()[:16]) == "image"
