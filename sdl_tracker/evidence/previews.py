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
from datetime import UTC, datetime
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
RETRY_SECONDS = 10 * 60  # a rendering that gave no answer is tried again after this, then twice as long each time
MAX_RETRY_SECONDS = 24 * 60 * 60


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


def _no_answer_file(cache: Path, sha256: str) -> Path:
    return cache / f"{sha256}.retry.json"


def _last_no_answer(cache: Path, sha256: str) -> dict[str, object]:
    """The last rendering of a blob that gave no answer: its refusal, attempts and when it is due again."""
    try:
        last = json.loads(_no_answer_file(cache, sha256).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none (or unreadable, which costs one rendering)
    return dict(last) if isinstance(last, dict) else {}


def _note_no_answer(cache: Path, sha256: str, error: str, last: dict[str, object], now: datetime) -> dict[str, object]:
    """Keep a rendering that gave no answer as a refusal until it is due again, each time after twice as long."""
    before = last.get("attempts")
    attempts = (before if isinstance(before, int) else 0) + 1
    delay = min(RETRY_SECONDS * 2 ** min(attempts - 1, 16), MAX_RETRY_SECONDS)
    result: dict[str, object] = {"error": error, "attempts": attempts, "retry_at": now.timestamp() + delay}
    staged = cache / f".tmp-{os.getpid()}-{secrets.token_hex(6)}.json"
    staged.write_text(json.dumps(result), encoding="utf-8")
    os.replace(staged, _no_answer_file(cache, sha256))  # whole or not at all, whoever writes last
    return result


def _run_renderer(kind: str, source: Path, work: Path) -> str | None:
    """Render into `work`; None when the renderer answered (pages or its own refusal in result.json), else
    why it gave no answer."""
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
    except subprocess.TimeoutExpired:
        return "rendering took too long"
    except OSError:
        return "rendering could not start"  # no process to spare, say: the machine's state, not the file's
    if completed.returncode != 0 or not (work / "result.json").exists():
        return "rendering failed"  # killed or crashed at a limit
    return None


def _rendered(cache: Path, sha256: str, kind: str, source: Path, now: datetime) -> dict[str, object]:
    """The cached result for a blob, rendering it first when there is none. The renderer's answer (pages,
    or a refusal such as "could not be read") is kept for good; a rendering that gave no answer (too slow,
    killed, crashed) may be the machine's doing, so it is kept as a refusal only until it is due again,
    after RETRY_SECONDS, then twice as long each time (at most MAX_RETRY_SECONDS): a hostile file still
    costs few renderings. Renderings race harmlessly: each writes a folder of its own and the first to
    rename it into place wins."""
    final = cache / sha256
    result_file = final / "result.json"
    if result_file.exists():
        return dict(json.loads(result_file.read_text(encoding="utf-8")))
    last = _last_no_answer(cache, sha256)
    retry_at = last.get("retry_at")
    if isinstance(retry_at, int | float) and now.timestamp() < retry_at:
        return last
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f".tmp-{os.getpid()}-{secrets.token_hex(6)}"
    work.mkdir()
    no_answer = _run_renderer(kind, source, work)
    if no_answer is not None:
        shutil.rmtree(work, ignore_errors=True)
        return _note_no_answer(cache, sha256, no_answer, last, now)
    try:
        os.rename(work, final)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another rendering got there first
    _no_answer_file(cache, sha256).unlink(missing_ok=True)
    return dict(json.loads(result_file.read_text(encoding="utf-8")))


def preview(session: Session, actor: Principal, artifact_id: int, *, now: datetime | None = None) -> Preview:
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
    result = _rendered(cache_dir(session), artifact.blob_sha256, kind, source, now or installation(session).now())
    if "error" in result:
        retry_at = result.get("retry_at")
        again = datetime.fromtimestamp(retry_at, UTC) if isinstance(retry_at, int | float) else None
        when = f"; it is tried again from {again:%Y-%m-%d %H:%M} UTC" if again else ""
        return Preview(artifact, None, reason=f"{result['error']}{when}")
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
