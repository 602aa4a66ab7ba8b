"""Pure evidence rules: dates, review, Markdown rendering, download types."""

from __future__ import annotations

import mimetypes
import unicodedata
from datetime import date

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from .vocabulary import ReviewState

# Types a browser may be told; anything else is served as opaque bytes. Every download is an
# attachment anyway (never rendered from our origin), so this only helps the person's desktop.
SAFE_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "application/json",
        "application/zip",
        "application/gzip",
        "application/xml",
        "image/png",
        "image/jpeg",
        "image/gif",
        "text/plain",
        "text/csv",
        "text/markdown",
    }
)
# Every type download_media_type may answer with: what the API document declares for downloads.
SERVED_MEDIA_TYPES = tuple(sorted(SAFE_MEDIA_TYPES | {"application/octet-stream"}))
MAX_FILENAME = 255
ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
}

# CommonMark with raw HTML switched off; nh3 (ammonia) then allows only the tags above.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def render_markdown(text: str) -> Markup:
    """A description as safe HTML: no raw HTML, no scripts, links only to http(s) and mailto."""
    html = _markdown.render(text)
    clean = nh3.clean(
        html, tags=ALLOWED_TAGS, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow"
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def effective_date_problem(effective: date, today: date) -> str | None:
    """The activity happened on `effective`: never in the future."""
    if effective > today:
        return f"the effective date {effective.isoformat()} is in the future (today is {today.isoformat()})"
    return None


def download_media_type(filename: str, declared: str) -> str:
    """The Content-Type to serve: the declared or guessed type when it is a safe one, else octet-stream."""
    for candidate in (declared.split(";")[0].strip().lower(), mimetypes.guess_type(filename)[0] or ""):
        if candidate in SAFE_MEDIA_TYPES:
            return candidate
    return "application/octet-stream"


def clean_filename(filename: str) -> str:
    """A stored file name: the last path part, no control characters, at most 255 characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip()
    if not name or name in {".", ".."}:
        name = "artifact"
    return name[-MAX_FILENAME:]


def state_after_edit(current: ReviewState, submit: bool) -> ReviewState:
    """An edit starts a new revision: accepted, rejected or submitted evidence goes back to submitted."""
    if current is ReviewState.DRAFT and not submit:
        return ReviewState.DRAFT
    return ReviewState.SUBMITTED
