"""Rendering previews of untrusted files, meant to run in a child process with time and memory limits
(`evidence/previews.py` starts it): a PDF's first pages and raster images, re-encoded as PNG.

`python -m sdl_tracker.evidence.render KIND OUT_DIR` reads the file on standard input, writes
`page-1.png`... and `result.json` ({"pages": N} or {"error": "why"}) into OUT_DIR. PDFium and
Pillow are large C code parsing what anyone attached; in a child process a crash, a hang or a memory
blow-up costs that process, never a web worker.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from pathlib import Path

MAX_PAGES = 3  # a PDF's first pages
MAX_SIDE = 1600  # pixels of the longer side of a preview
MAX_PIXELS = 40_000_000  # what a source image may decode to (a decompression bomb is refused before decoding)
MAX_PNG_BYTES = 8 * 1024 * 1024  # a preview larger than this is refused rather than served
# Raster formats Pillow decodes for a preview; SVG (a document that may script) is never among them.
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")


class Refused(Exception):
    """The file cannot be previewed, for the reason given."""


def kind_of(filename: str, media_type: str, head: bytes) -> str | None:
    """What preview a file gets, by its first bytes (and, for text, its name): pdf, image, markdown, text;
    None when it gets none. The declared media type alone never decides: it is what the uploader said."""
    name = filename.lower()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")):
        return "image"
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":
        # A bitmap's size is followed by reserved zero bytes; text may begin "BM" too ("BMC firmware ...").
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if b"\x00" in head:
        return None
    if name.endswith((".md", ".markdown")) or media_type == "text/markdown":
        return "markdown"
    if name.endswith((".svg", ".svgz", ".html", ".htm", ".xhtml")) or "svg" in media_type or "html" in media_type:
        return None  # documents a browser would run: never previewed, not even as text
    if media_type.startswith("text/") or name.endswith((".txt", ".log", ".csv", ".json", ".yaml", ".yml", ".xml")):
        return "text"
    return None


def _save(image: object, out: Path) -> None:
    from PIL import Image

    assert isinstance(image, Image.Image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False)  # fresh PNG: no metadata, chunk or trailing byte of the source
    if buffer.tell() > MAX_PNG_BYTES:
        raise Refused("the preview would be too large")
    out.write_bytes(buffer.getvalue())


def render_image(data: bytes, out_dir: Path) -> int:
    """One PNG of a raster image; refused when it would decode to more than MAX_PIXELS."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Refused(f"the image is too large to preview ({width} x {height} pixels)")
            image.seek(0)
            image.load()
            _save(image, out_dir / "page-1.png")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("the image is too large to preview") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Refused(f"the image could not be read ({type(exc).__name__})") from None
    return 1


def render_pdf(data: bytes, out_dir: Path) -> int:
    """PNGs of a PDF's first MAX_PAGES pages, each at most MAX_SIDE pixels on its longer side."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Refused(f"the PDF could not be read ({exc})") from None
    try:
        count = min(len(document), MAX_PAGES)
        if count == 0:
            raise Refused("the PDF has no pages")
        for index in range(count):
            page = document[index]
            width, height = page.get_size()  # points
            longest = max(width, height, 1.0)
            scale = min(MAX_SIDE / longest, 2.0)
            if width * scale * height * scale > MAX_PIXELS:
                raise Refused("a page is too large to preview")
            bitmap = page.render(scale=scale)
            _save(bitmap.to_pil(), out_dir / f"page-{index + 1}.png")
            page.close()
        return count
    finally:
        document.close()


def main(argv: list[str]) -> int:
    """Render what standard input holds as `argv[0]` (pdf or image) into the folder `argv[1]`."""
    kind, out_dir = argv[0], Path(argv[1])
    data = sys.stdin.buffer.read()
    try:
        pages = render_pdf(data, out_dir) if kind == "pdf" else render_image(data, out_dir)
    except Refused as exc:
        result: dict[str, object] = {"error": str(exc)}
    else:
        result = {"pages": pages}
    (out_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a child process
    sys.exit(main(sys.argv[1:]))
