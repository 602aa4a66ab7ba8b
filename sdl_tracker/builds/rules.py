"""What a build artifact's name, digest and CI run link may be (pure)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_NAME = 255
MAX_SIZE = 2**53  # what a JSON number carries exactly
MAX_RUN_URL = 2000
MAX_PER_REQUEST = 200


def name_problem(name: str) -> str | None:
    """Why a file name cannot be recorded: a relative path of printable characters, no `..` or empty parts."""
    if not name or len(name) > MAX_NAME:
        return f"a file name of 1-{MAX_NAME} characters is required"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "a file name may not contain control characters"
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
        return "a file name is a relative path with no empty, '.' or '..' parts and no backslashes"
    return None


def digest_problem(sha256: str) -> str | None:
    """Why a SHA-256 cannot be recorded (64 hexadecimal digits, either case)."""
    return None if SHA256.match(sha256.lower()) else "a SHA-256 is 64 hexadecimal digits"


def size_problem(size: int) -> str | None:
    """Why a size cannot be recorded."""
    return None if 0 <= size <= MAX_SIZE else f"a size is a whole number of bytes from 0 to {MAX_SIZE}"


def run_url_problem(url: str) -> str | None:
    """Why a CI run's address cannot be linked: only http(s) URLs with a host, so a page never links a script."""
    if not url:
        return None
    if len(url) > MAX_RUN_URL or any(unicodedata.category(c).startswith("C") or c.isspace() for c in url):
        return f"a CI run URL is at most {MAX_RUN_URL} characters, without spaces or control characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "a CI run URL is an http:// or https:// address"
    return None
