"""Reading vulnerability files' JSON: the formats, the one-line refusal, and typed access to parsed values
that names where a value is missing or of the wrong type. Shared by `feeds` (OSV, KEV) and `supplier` (CSAF,
CycloneDX VEX)."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from packageurl import PackageURL

from ..boundary import MAX_DOCUMENT_DEPTH, TooDeep, loads_json
from ..sboms.formats import MAX_TEXT, SUSPECT_ESCAPE, Rejected, clip, refuse_unstorable_strings


class FeedError(ValueError):
    """A file that cannot be read as vulnerability data; the message is one line and says why."""


class FeedFormat(enum.StrEnum):
    """What a file holds, told by its content."""

    OSV = "osv"  # one OSV record
    OSV_LIST = "osv-list"  # a JSON list of OSV records
    OSV_ZIP = "osv-zip"  # an OSV ecosystem export (all.zip: one JSON record per member)
    KEV = "kev"  # CISA's Known Exploited Vulnerabilities catalog
    CSAF = "csaf"  # a CSAF 2.0 advisory or VEX document
    CYCLONEDX = "cyclonedx"  # a CycloneDX 1.4-1.6 JSON document with vulnerabilities (VEX)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def load_json(data: bytes, where: str) -> Any:
    """Parsed JSON, or FeedError: malformed, nested too deeply, NaN, or a string no database can store."""
    try:
        document = loads_json(data, max_depth=MAX_DOCUMENT_DEPTH, parse_constant=_refuse_constant)
    except TooDeep as exc:
        raise FeedError(f"{where} is not accepted: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"{where} is not valid JSON: {' '.join(str(exc).split())}") from None
    if SUSPECT_ESCAPE.search(data):
        try:
            refuse_unstorable_strings(document)
        except Rejected as exc:
            raise FeedError(
                f"{where}: the string at {exc.violations[0].path} holds a NUL or a lone surrogate"
            ) from None
    return document


def _get(obj: Mapping[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise FeedError(f"{where}: '{key}' is not {kind.__name__ if kind is not dict else 'an object'}")
    return value


def text(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    """A text field ("" when absent), cut at the longest text kept; FeedError when required and blank."""
    value: str = _get(obj, key, str, where, "")
    if required and not value.strip():
        raise FeedError(f"{where}: '{key}' is missing")
    return clip(value) if len(value) > MAX_TEXT else value


def items(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """A list field, [] when absent."""
    value: list[Any] = _get(obj, key, list, where, [])
    return value


def member(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    """An object field, {} when absent."""
    value: dict[str, Any] = _get(obj, key, dict, where, {})
    return value


def objects(obj: Mapping[str, Any], key: str, where: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Each object of a list field with where it is, for the refusals about it."""
    for n, item in enumerate(items(obj, key, where)):
        if not isinstance(item, dict):
            raise FeedError(f"{where}: {key}[{n}] is not an object")
        yield item, f"{where}, {key}[{n}]"


def strings(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list field of texts, () when absent."""
    values = items(obj, key, where)
    if not all(isinstance(v, str) for v in values):
        raise FeedError(f"{where}: '{key}' holds something other than text")
    return tuple(values)


def moment(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> datetime | None:
    """An RFC 3339 date and time, in UTC when it names no offset; None when absent."""
    value = text(obj, key, where, required=required)
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise FeedError(f"{where}: '{key}' is not a date and time ({value[:40]!r})") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def day(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> date | None:
    """A YYYY-MM-DD date; None when absent."""
    value = text(obj, key, where, required=required)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise FeedError(f"{where}: '{key}' is not a date ({value[:40]!r})") from None


def purl_version(purl: str) -> str:
    """The version a purl names; "" when it names none or is no purl."""
    try:
        return PackageURL.from_string(purl).version or ""
    except ValueError:
        return ""
