"""Previews of artifacts, rendered by the server: PDF pages and images as PNGs of our own (in a child process
with time and memory limits, cached by the artifact's SHA-256), text and Markdown as text for the sanitiser.
The artifacts themselves are only ever downloaded as attachments."""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ..auth import Principal
from ..blobs import session_blobs
from ..errors import NotFound
from ..installation import installation
from .models import Artifact
from .queries import get_artifact
from .render import kind_of

MAX_SOURCE_BYTES = 25 * 1024 * 1024  # larger files are not previewed (downloading them still works)
MAX_TEXT_BYTES = 256 * 1024  # text and Markdown shown in a preview
RENDER_SECONDS = 20  # wall clock for one rendering
RENDER_CPU_SECONDS = 15
RENDER_MEMORY_BYTES = 1024 * 1024 * 1024  # address space of the rendering process
RENDER_FILE_BYTES = 64 * 1024 * 1024  # the largest file it may write


@dataclass(frozen=True)
class Preview:
    """What a preview page shows: PNG pages, text (rendered as Markdown or kept as it is), or why there is none."""

    artifact: Artifact
    kind: str | None  # pdf, image, markdown, text; None: no preview
    pages: int = 0
    text: str = ""
    truncated: bool = False
    reason: str = ""


def _limits() -> None:  # pragma: no cover - runs in the child before it executes
    resource.setrlimit(resource.RLIMIT_AS, (RENDER_MEMORY_BYTES, RENDER_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (RENDER_CPU_SECONDS, RENDER_CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_FSIZE, (RENDER_FILE_BYTES, RENDER_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def cache_dir(session: Session) -> Path:
    """Where rendered previews are kept: one folder per content hash in the data directory."""
    return installation(session).data_dir / "previews"


def _rendered(cache: Path, sha256: str, kind: str, source: Path) -> dict[str, object]:
    """The cached result for a blob, rendering it first when there is none. Renderings race harmlessly:
    each writes a folder of its own and the first to rename it into place wins."""
    final = cache / sha256
    result_file = final / "result.json"
    if result_file.exists():
        return dict(json.loads(result_file.read_text(encoding="utf-8")))
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f".tmp-{os.getpid()}-{secrets.token_hex(6)}"
    work.mkdir()
    try:
        with open(source, "rb") as stdin:
            completed = subprocess.run(
                [sys.executable, "-m", "sdl_tracker.evidence.render", kind, str(work)],
                stdin=stdin,
                capture_output=True,
                timeout=RENDER_SECONDS,
                preexec_fn=_limits,
                env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)},
                check=False,
            )
        if completed.returncode != 0 or not (work / "result.json").exists():
            # A crash or a limit hit: said once and cached, so a hostile file does not cost a render per view.
            (work / "result.json").write_text(json.dumps({"error": "rendering failed"}), encoding="utf-8")
    except subprocess.TimeoutExpired:
        (work / "result.json").write_text(json.dumps({"error": "rendering took too long"}), encoding="utf-8")
    try:
        os.rename(work, final)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another rendering got there first
    return dict(json.loads(result_file.read_text(encoding="utf-8")))


def preview(session: Session, actor: Principal, artifact_id: int) -> Preview:
    """The preview of an artifact the actor may see (checked against its hash first), or why it has none."""
    artifact, stream = get_artifact(session, actor, artifact_id)
    with stream:
        head = stream.read(MAX_TEXT_BYTES + 1)
    kind = kind_of(artifact.filename, artifact.media_type, head[:16])
    if kind is None:
        return Preview(artifact, None, reason=f"files of this type ({artifact.media_type}) are not previewed")
    if kind in ("text", "markdown"):
        truncated = len(head) > MAX_TEXT_BYTES
        text = head[:MAX_TEXT_BYTES].decode("utf-8", errors="replace")
        return Preview(artifact, kind, text=text, truncated=truncated)
    if artifact.size > MAX_SOURCE_BYTES:
        return Preview(artifact, None, reason=f"the file is too large to preview (over {MAX_SOURCE_BYTES:,} bytes)")
    source = session_blobs(session).path_for(artifact.blob_sha256)
    result = _rendered(cache_dir(session), artifact.blob_sha256, kind, source)
    if "error" in result:
        return Preview(artifact, None, reason=str(result["error"]))
    pages = result.get("pages")
    return Preview(artifact, kind, pages=pages if isinstance(pages, int) else 0)


def preview_page(session: Session, actor: Principal, artifact_id: int, page: int) -> Path:
    """The rendered PNG of one page of an artifact's preview, rendering it when needed; NotFound when there
    is no such page."""
    shown = preview(session, actor, artifact_id)
    if shown.kind not in ("pdf", "image") or not 1 <= page <= shown.pages:
        raise NotFound("no such preview page")
    path = cache_dir(session) / shown.artifact.blob_sha256 / f"page-{page}.png"
    if not path.is_file():
        raise NotFound("no such preview page")
    return path
