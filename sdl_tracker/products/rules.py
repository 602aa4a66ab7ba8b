"""Pure rules for products and releases: names, versions, target levels, release order."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from packaging.version import InvalidVersion, Version

from ..catalog.rules import FOUNDATIONAL_REQUIREMENTS
from ..errors import FieldError, Invalid

MAX_VERSION_LENGTH = 64
MAX_NAME_LENGTH = 120
SL_LEVELS = (1, 2, 3, 4)


def _has_control_or_space(text: str) -> bool:
    return any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text)


def version_problem(version: str) -> str | None:
    """Why a release version is unacceptable, or None: no whitespace or control characters, 1-64."""
    if not version:
        return "a version is required"
    if len(version) > MAX_VERSION_LENGTH:
        return f"a version has at most {MAX_VERSION_LENGTH} characters"
    if _has_control_or_space(version):
        return "a version may not contain whitespace or control characters"
    return None


def name_problem(name: str, what: str = "name") -> str | None:
    """Why a display name is unacceptable, or None."""
    if not name.strip():
        return f"a {what} is required"
    if len(name) > MAX_NAME_LENGTH:
        return f"a {what} has at most {MAX_NAME_LENGTH} characters"
    if name != name.strip():
        return f"a {what} may not begin or end with whitespace"
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return f"a {what} may not contain control characters"
    return None


def name_key(name: str) -> str:
    """What names are compared by: Unicode case folding, so "Ölwächter" and "ölwächter" clash on
    every database (SQLite's lower() folds ASCII only)."""
    return unicodedata.normalize("NFKC", name).casefold()


def same_version(version: str, existing: Sequence[str]) -> str | None:
    """An existing version equal to `version` by version semantics (1.0 = 1.0.0 = v1.0), if any."""
    try:
        wanted = Version(version)
    except InvalidVersion:
        return None
    for other in existing:
        try:
            if Version(other) == wanted:
                return other
        except InvalidVersion:
            continue
    return None


def parse_target_sl(text: str) -> dict[str, int]:
    """Parse `3` (every FR) or `FR1=3,FR2=2,...` (all seven) into a target SL-C vector."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        if int(text) not in SL_LEVELS:
            raise Invalid.field("target_sl", f"a level is 1-4, got {text}")
        return validate_target_sl(dict.fromkeys(FOUNDATIONAL_REQUIREMENTS, int(text)))
    vector: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().upper()
        if not sep or key not in FOUNDATIONAL_REQUIREMENTS:
            raise Invalid.field("target_sl", f"expected a level 1-4 or FR1=n,...,FR7=n; got {part!r}")
        if key in vector:
            raise Invalid.field("target_sl", f"{key} is given twice")
        if not re.fullmatch(r"\s*\d+\s*", value):
            raise Invalid.field("target_sl", f"{key}: level must be a number 1-4, got {value.strip()!r}")
        vector[key] = int(value)
    return validate_target_sl(vector)


def validate_target_sl(vector: dict[str, Any]) -> dict[str, int]:
    """Check a vector names exactly FR1..FR7, each with a level 1-4."""
    errors = [
        FieldError(f"target_sl.{fr}", "a level 1-4 is required") for fr in FOUNDATIONAL_REQUIREMENTS if fr not in vector
    ]
    errors += [
        FieldError(f"target_sl.{key}", "unknown foundational requirement")
        for key in vector
        if key not in FOUNDATIONAL_REQUIREMENTS
    ]
    errors += [
        FieldError(f"target_sl.{fr}", f"level must be 1-4, got {vector[fr]!r}")
        for fr in FOUNDATIONAL_REQUIREMENTS
        if fr in vector and (isinstance(vector[fr], bool) or vector[fr] not in SL_LEVELS)
    ]
    if errors:
        raise Invalid("the target SL-C vector is invalid", errors=errors)
    return {fr: int(vector[fr]) for fr in FOUNDATIONAL_REQUIREMENTS}


def format_target_sl(vector: dict[str, int]) -> str:
    """`3` when every FR has the same level, else `FR1=3,FR2=2,...`."""
    levels = set(vector.values())
    if len(levels) == 1:
        return str(levels.pop())
    return ",".join(f"{fr}={vector[fr]}" for fr in FOUNDATIONAL_REQUIREMENTS)


class VersionedItem(Protocol):
    """What release ordering needs to know of a release: its version and creation order (id)."""

    @property
    def version(self) -> str: ...

    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=VersionedItem)


def release_sort_key(item: VersionedItem) -> tuple[int, Version | None, int]:
    """Versions that parse (PEP 440, with a leading v allowed) first in version order, then the rest by creation."""
    try:
        return (0, Version(item.version), item.id)
    except InvalidVersion:
        return (1, None, item.id)


def order_releases(items: Sequence[T]) -> list[T]:
    """Releases oldest first by version semantics where they parse, else by creation."""
    return sorted(items, key=release_sort_key)


def previous_release(items: Sequence[T], version: str) -> T | None:
    """The release before `version` in release order, if any."""
    ordered = order_releases(items)
    for index, item in enumerate(ordered):
        if item.version == version:
            return ordered[index - 1] if index > 0 else None
    return None
