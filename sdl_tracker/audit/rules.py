"""How an audit event's details read for people: rows of field, old value and new value.

Services record details in a few shapes (see `docs/architecture.md`, "Readable audit details"): facts
(`{"title": ...}`), changes per field (`{"status": {"old": ..., "new": ...}}`), a whole before and after
(`{"old": {...} | None, "new": {...}}`), and a value beside what it replaced (`role` and `old_role`,
`months` and `before`). Nested values become paths (`Target SL-C / FR1`), values are formatted, and
anything else reads as JSON, never as a Python repr. The stored details stay as they are (the chain
hashes them); this only decides how they are shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..labels import label


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """An edit's details in the changes-per-field shape: the fields whose value changed, old and new."""
    return {key: {"old": before[key], "new": after[key]} for key in after if before[key] != after[key]}


# A value and the key of what it replaced, where a service records both side by side.
REPLACED = {"role": "old_role", "months": "before", "key_id": "previous_key_id"}
# Fields whose values are stored words of a vocabulary (shown by their label, `sbom` -> `SBOM`).
WORD_FIELDS = frozenset(
    {"kind", "role", "status", "state", "verification", "scope", "component_type", "cra_category",
     "tester_independence", "old_role"}
)  # fmt: skip
# Details are stored as JSON, so mappings are dicts: asked as such, which is several times quicker than
# asking an abstract Mapping for every value of a page of events.
# Below this depth a value is shown as JSON rather than as more paths.
MAX_DEPTH = 4
MAX_ROWS = 60
# A moment as `isoformat()` or `str()` wrote it (`2026-03-12T10:00:00+00:00`, `2026-03-12 10:00:00.5+00:00`).
ISO_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(\+00:00|Z)?$")
PATH = " / "
NOTHING = "—"


@dataclass(frozen=True)
class DetailRow:
    """One line of an event's details: `old` is None for a fact (nothing was replaced)."""

    field: str
    old: str | None
    new: str

    @property
    def changed(self) -> bool:
        """Whether the row says what a value was before."""
        return self.old is not None


@lru_cache(maxsize=4096)  # keys are the services' few field names (and list positions); a page asks each often
def field_name(key: str) -> str:
    """A details key as people read it: `release_date` -> `Release date`, `FR1` stays."""
    return label(key)


def show(value: Any, key: str = "") -> str:
    """One value as text: words by their label, moments in UTC, lists joined, nothing as a dash; anything
    nested as JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        if key in WORD_FIELDS:
            return label(value)
        moment = ISO_MOMENT.match(value)
        if moment:
            return f"{moment.group(1)} {moment.group(2)}" + (" UTC" if moment.group(3) else "")
        return value
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(show(item, key) for item in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _flatten(value: Any, path: tuple[str, ...], depth: int = 0) -> list[tuple[tuple[str, ...], Any]]:
    """(path, leaf) pairs: mappings and lists of mappings open into paths, the rest are leaves."""
    if isinstance(value, dict) and value and depth < MAX_DEPTH:
        found: list[tuple[tuple[str, ...], Any]] = []
        for key, inner in value.items():
            found += _flatten(inner, (*path, str(key)), depth + 1)
        return found
    if isinstance(value, list) and value and depth < MAX_DEPTH and all(isinstance(i, dict) for i in value):
        found = []
        for number, inner in enumerate(value, start=1):
            found += _flatten(inner, (*path, str(number)), depth + 1)
        return found
    return [(path, value)]


def _name(path: tuple[str, ...]) -> str:
    return PATH.join(field_name(part) for part in path)


def _leaf_key(path: tuple[str, ...]) -> str:
    return path[-1] if path else ""


def _is_change(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"old", "new"}


def _openable(value: Any) -> bool:
    """Whether a value opens into paths: a mapping, or a list of mappings."""
    return (isinstance(value, dict) and bool(value)) or (
        isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)
    )


def _leaves(value: Any, path: tuple[str, ...]) -> dict[tuple[str, ...], Any]:
    if _openable(value):
        return dict(_flatten(value, path))
    return {} if value in (None, [], {}, "") else {path: value}


def _compare(old: Any, new: Any, path: tuple[str, ...]) -> list[DetailRow]:
    """Rows for a value that changed from `old` to `new`; whole records compare field by field, and a
    field the same on both sides is left out (it is not part of the change)."""
    if not (_openable(old) or _openable(new)):
        key = _leaf_key(path)
        return [DetailRow(_name(path) or "Value", show(old, key), show(new, key))]
    before, after = _leaves(old, path), _leaves(new, path)
    rows = []
    for leaf in [*after, *(p for p in before if p not in after)]:
        key = _leaf_key(leaf)
        was, now = show(before.get(leaf), key), show(after.get(leaf), key)
        if was != now:
            rows.append(DetailRow(_name(leaf) or "Value", was, now))
    return rows


def detail_rows(details: Any) -> list[DetailRow]:
    """An event's details as rows of field, old value (None for a fact) and new value."""
    if not isinstance(details, dict):
        return [DetailRow("Details", None, show(details))] if details not in (None, {}, []) else []
    rows: list[DetailRow] = []
    paired = {REPLACED[key] for key in details if key in REPLACED and REPLACED[key] in details}
    whole = "old" in details and "new" in details
    for key, value in details.items():
        if key in paired or (whole and key in ("old", "new")):
            continue
        if key in REPLACED and REPLACED[key] in details:
            rows += _compare(details[REPLACED[key]], value, (key,))
        elif _is_change(value):
            rows += _compare(value["old"], value["new"], (key,))
        else:
            facts = _flatten(value, (key,))
            rows += [DetailRow(_name(path), None, show(leaf, _leaf_key(path))) for path, leaf in facts]
    if whole:
        rows += _compare(details["old"], details["new"], ())
    if len(rows) > MAX_ROWS:
        hidden = len(rows) - MAX_ROWS + 1
        rows = [*rows[: MAX_ROWS - 1], DetailRow("…", None, f"{hidden} more (the CSV export has them all)")]
    return rows


def detail_lines(details: Any) -> list[str]:
    """The rows as lines of text (the command line): `Field: old → new`, or `Field: value`."""
    return [
        f"{row.field}: {row.old} → {row.new}" if row.changed else f"{row.field}: {row.new}"
        for row in detail_rows(details)
    ]
