"""The mandatory tests of a CSAF 2.0 document's tracking: its version and its revision history (6.1.14 to
6.1.22 and 6.1.30).

A version (`version_t`) is an integer (`0`, `1`, `2`...) or a semantic version (`1.4.3-rc.1+build`); the
history is read in date order, ties by version. Semantic versions are ordered by semver's precedence through
the `semantic_version` reading `univers` wraps (pre-releases before their release, build metadata ignored).
A test whose premise the document lacks (a history mixing both schemes, an unreadable date) is skipped: the
schema or 6.1.30 names the fault.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from univers.versions import SemverVersion

from . import csaf_json as cj

INTEGER = re.compile(r"0|[1-9][0-9]*")
# The schema's semantic version pattern (`version_t`), with the pre-release and build parts captured.
SEMANTIC = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def instant(value: Any) -> datetime | None:
    """A CSAF date-time as an aware datetime, or None if it is not one (the schema's failure)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def scheme(version: Any) -> str | None:
    """`integer`, `semantic`, or None for what is no `version_t`."""
    if not isinstance(version, str):
        return None
    if INTEGER.fullmatch(version):
        return "integer"
    return "semantic" if SEMANTIC.fullmatch(version) else None


def major(version: str) -> int:
    """The integer, or the semantic version's major part."""
    return int(version.split(".", 1)[0].split("-", 1)[0].split("+", 1)[0])


def prerelease(version: str) -> str | None:
    """A semantic version's pre-release part (`rc.1` of `1.0.0-rc.1+b7`), else None."""
    match = SEMANTIC.fullmatch(version)
    return match.group(4) if match else None


def _without_build(version: str) -> str:
    return version.split("+", 1)[0]


def _order(version: str) -> Any:
    """A key ordering versions of one scheme by precedence."""
    if scheme(version) == "integer":
        return int(version)
    return SemverVersion(_without_build(version))


@dataclass(frozen=True)
class _Entry:
    path: str  # pointer of the revision history item
    when: datetime
    number: str


def _tracking(document: Mapping[str, Any]) -> Mapping[str, Any]:
    return cj.as_dict(cj.document_of(document).get("tracking"))


def _numbers(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(pointer, number) of every revision history item whose number is a string."""
    history = _tracking(document).get("revision_history")
    for index, item in enumerate(history if isinstance(history, list) else []):
        if isinstance(item, dict) and isinstance(item.get("number"), str):
            yield f"/document/tracking/revision_history/{index}/number", item["number"]


def _history(document: Mapping[str, Any]) -> list[_Entry] | None:
    """The revision history in date order (ties by version), or None if some item is unreadable or the
    versions mix integer and semantic versioning."""
    history = _tracking(document).get("revision_history")
    if not isinstance(history, list):
        return None
    entries = []
    for index, item in enumerate(history):
        when = instant(item.get("date")) if isinstance(item, dict) else None
        number = item.get("number") if isinstance(item, dict) else None
        if when is None or not isinstance(number, str) or scheme(number) is None:
            return None
        entries.append(_Entry(f"/document/tracking/revision_history/{index}", when, number))
    if len({scheme(entry.number) for entry in entries}) > 1:
        return None
    return sorted(entries, key=lambda entry: (entry.when, _order(entry.number)))


def _status(document: Mapping[str, Any]) -> Any:
    return _tracking(document).get("status")


def _version(document: Mapping[str, Any]) -> str | None:
    version = _tracking(document).get("version")
    return version if scheme(version) else None


def rule_6_1_14(document: Mapping[str, Any]) -> cj.Found:
    """Sorted revision history: in date order, the numbers ascend."""
    entries = _history(document) or []
    for before, after in itertools.pairwise(entries):
        if _order(after.number) < _order(before.number):
            yield f"{after.path}/number", f"version {after.number} is dated after version {before.number}"


def rule_6_1_16(document: Mapping[str, Any]) -> cj.Found:
    """Latest document version: the version is the number of the latest revision (build metadata ignored; a
    draft's pre-release part too)."""
    entries, version = _history(document), _version(document)
    if not entries or version is None:
        return

    def compared(text: str) -> str:
        text = _without_build(text)
        return text.split("-", 1)[0] if _status(document) == "draft" else text

    latest = entries[-1].number
    if compared(version) != compared(latest):
        yield "/document/tracking/version", f"the version is {version}, the latest revision is {latest}"


def rule_6_1_17(document: Mapping[str, Any]) -> cj.Found:
    """Document status draft: a version 0, 0.y.z or with a pre-release part is a draft."""
    version, status = _version(document), _status(document)
    if version is not None and status != "draft" and (major(version) == 0 or prerelease(version)):
        yield "/document/tracking/status", f"version {version} is a draft's, but the status is {status}"


def rule_6_1_18(document: Mapping[str, Any]) -> cj.Found:
    """Released revision history: a final or interim document's history has no version 0 or 0.y.z."""
    if _status(document) in ("final", "interim"):
        for path, number in _numbers(document):
            if scheme(number) and major(number) == 0:
                yield path, f"the document is {_status(document)}, but its history holds version {number}"


def rule_6_1_19(document: Mapping[str, Any]) -> cj.Found:
    """Revision history entries for pre-release versions: none."""
    for path, number in _numbers(document):
        if prerelease(number):
            yield path, f"version {number} in the history is a pre-release"


def rule_6_1_20(document: Mapping[str, Any]) -> cj.Found:
    """Non-draft document version: a final or interim document's version has no pre-release part."""
    version, status = _version(document), _status(document)
    if version is not None and status in ("final", "interim") and prerelease(version):
        yield "/document/tracking/version", f"the document is {status}, but version {version} is a pre-release"


def rule_6_1_21(document: Mapping[str, Any]) -> cj.Found:
    """Missing item in revision history: it starts at (major) 0 or 1 and leaves no (major) version out."""
    entries = _history(document)
    if not entries:
        return
    if major(entries[0].number) > 1:
        yield f"{entries[0].path}/number", f"the history starts at version {entries[0].number}, not at 0 or 1"
    for before, after in itertools.pairwise(entries):
        if major(after.number) > major(before.number) + 1:
            yield f"{after.path}/number", f"the history goes from {before.number} to {after.number}, leaving out one"


def rule_6_1_22(document: Mapping[str, Any]) -> cj.Found:
    """Multiple definition in revision history: each number once."""
    seen: set[str] = set()
    for path, number in _numbers(document):
        if number in seen:
            yield path, f"version {number} is in the history more than once"
        seen.add(number)


def rule_6_1_30(document: Mapping[str, Any]) -> cj.Found:
    """Mixed integer and semantic versioning: the document keeps to one."""
    version = _tracking(document).get("version")
    values = [*_numbers(document), *([("/document/tracking/version", version)] if isinstance(version, str) else [])]
    first: str | None = None
    for path, value in values:
        kind = scheme(value)
        if kind is not None and first is not None and kind != first:
            yield path, f"{value} is {kind} versioning, where the document began with {first} versioning"
        first = first or kind
