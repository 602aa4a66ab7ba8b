"""Reading one raw git commit object (the bytes `git cat-file commit SHA` prints) sent by a client.

Nothing here runs git: the id is recomputed from the bytes, the header is read as git's fsck would
accept it, and the message is decoded by its `encoding` header and read as `git log` reads it
(trailers.py), so a commit delivered by a hook is stored exactly as a scan would have stored it.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .log import LogRecord
from .trailers import GIT_SPACE, commit_trailers, subject_of

MAX_OBJECT_BYTES = 1024 * 1024  # a commit with a longer message is not a commit a person wrote
HEX_LENGTHS = {40: "sha1", 64: "sha256"}
OBJECT_ID = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
SIGNATURE_HEADERS = ("gpgsig", "gpgsig-sha256")
# Text encodings that read ASCII as ASCII, as the header needs (UTF-7 and UTF-16 do not: they count as unknown,
# and the bytes are read as UTF-8); Python-only codecs (unicode_escape...) are no encodings git's iconv knows.
_PROBE = "tree parent author committer encoding <>:-+ 0123456789abcdefxyz\n"
_NOT_GIT = frozenset({"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "mbcs", "oem"})


class ObjectProblem(ValueError):
    """Why the bytes are not a commit object the tracker stores."""


@dataclass(frozen=True)
class CommitObject:
    """A commit read from its raw object: what the scanner's log record holds, and the signature header."""

    record: LogRecord
    signature: str | None  # "gpgsig" or "gpgsig-sha256" when the object is signed (kept, not verified)
    encoding: str  # the `encoding` header, "" when absent (UTF-8)


def object_id(raw: bytes, algorithm: str) -> str:
    """The id git gives these bytes as a commit object."""
    return hashlib.new(algorithm, b"commit %d\0" % len(raw) + raw).hexdigest()


def _codec(name: str) -> str | None:
    """The Python codec of a commit's `encoding` header when it is a text encoding git could convert from."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if info.name in _NOT_GIT or not getattr(info, "_is_text_encoding", True):
        return None
    try:
        ascii_safe = _PROBE.encode(info.name) == _PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return None
    return info.name if ascii_safe else None


def _decoder(raw: bytes, encoding: str) -> str:
    """The codec to read the object with: git converts the whole object from its encoding, and keeps the bytes
    as they are (read as UTF-8 here) when that fails or the encoding is unknown."""
    codec = _codec(encoding) if encoding else None
    if codec is None:
        return "utf-8"
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return "utf-8"
    return codec


def _text(raw: bytes, codec: str) -> str:
    text = raw.decode(codec, errors="replace")
    # A decoder may yield lone surrogates (UTF-7 can): no database stores them.
    return text.encode("utf-8", errors="replace").decode("utf-8") if re.search("[\ud800-\udfff]", text) else text


def _ident(value: str, header: str) -> tuple[str, str, datetime]:
    """Name, e-mail and time of an author or committer line, split as git's `split_ident_line` splits it."""
    start = value.find("<")
    end = value.find(">", start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ObjectProblem(f"the {header} is not `Name <email> time zone`")
    name = value[:start].rstrip(GIT_SPACE)
    email = value[start + 1 : end]
    after = value[value.rfind(">") + 1 :].lstrip(GIT_SPACE)
    digits = re.match(r"[0-9]*", after)
    seconds = int(digits.group(0)) if digits and digits.group(0) else 0  # git shows no date as 0
    try:
        when = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ObjectProblem(f"the {header}'s time is out of range") from None
    return name, email, when


def _headers(header: bytes) -> list[tuple[str, bytes]]:
    """The header's fields in order, a field's continuation lines (a signature's) joined to it."""
    fields: list[tuple[str, bytes]] = []
    for line in header.split(b"\n"):
        if line.startswith(b" ") and fields:
            key, value = fields[-1]
            fields[-1] = (key, value + b"\n" + line[1:])
            continue
        name, space, value = line.partition(b" ")
        if not space or not re.fullmatch(rb"[a-z0-9-]{1,40}", name):
            raise ObjectProblem(f"malformed header line {line[:60]!r}")
        fields.append((name.decode("ascii"), value))
    return fields


def parse_commit_object(raw: bytes, sha: str) -> CommitObject:
    """The commit these bytes are, if their id is `sha` (40 hex digits: SHA-1; 64: SHA-256), else ObjectProblem."""
    if not OBJECT_ID.match(sha):
        raise ObjectProblem("a commit id is 40 (SHA-1) or 64 (SHA-256) lower-case hex digits")
    if len(raw) > MAX_OBJECT_BYTES:
        raise ObjectProblem(f"a commit object has at most {MAX_OBJECT_BYTES:,} bytes")
    computed = object_id(raw, HEX_LENGTHS[len(sha)])
    if computed != sha:
        raise ObjectProblem(f"these bytes are commit {computed}, not {sha}")
    if b"\0" in raw:
        raise ObjectProblem("a commit object holds no NUL byte (git refuses to write one)")
    header, separator, body = raw.partition(b"\n\n")
    if not separator:
        header, body = raw.removesuffix(b"\n"), b""
    fields = _headers(header)
    names = [key for key, _ in fields]
    hex_id = re.compile(rb"[0-9a-f]{%d}" % len(sha))
    parents = [value for key, value in fields if key == "parent"]
    expected = ["tree", *["parent"] * len(parents), "author", "committer"]
    if names[: len(expected)] != expected or not hex_id.fullmatch(fields[0][1]):
        raise ObjectProblem("a commit begins with tree, parent, author and committer lines, in that order")
    if any(not hex_id.fullmatch(parent) for parent in parents):
        raise ObjectProblem(f"a parent is not a {len(sha)}-digit object id")
    extra = names[len(expected) :]
    if {"tree", "parent", "author", "committer"} & set(extra) or extra.count("encoding") > 1:
        raise ObjectProblem("a commit has one tree, author, committer and encoding line")
    values = dict(fields)
    encoding = values.get("encoding", b"").decode("ascii", errors="replace").strip()
    codec = _decoder(raw, encoding)
    # git reads an identity from its own line only (a continuation line is not part of it).
    author = _ident(_text(values["author"].split(b"\n")[0], codec), "author")
    committer = _ident(_text(values["committer"].split(b"\n")[0], codec), "committer")
    message = _text(body, codec)
    record = LogRecord(
        sha=sha,
        parents=tuple(parent.decode("ascii") for parent in parents),
        author_name=author[0],
        author_email=author[1],
        authored_at=author[2],
        committer_name=committer[0],
        committer_email=committer[1],
        committed_at=committer[2],
        subject=subject_of(message),
        trailers=tuple(commit_trailers(message)),
        paths=(),  # the object names a tree, not the paths it changed: a scan fills none in later either
    )
    signature = next((key for key in extra if key in SIGNATURE_HEADERS), None)
    return CommitObject(record, signature, encoding)
