"""Claims spreadsheets: CSV and JSON rows in and out, validated before anything is applied."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from ..boundary import TooDeep, loads_json, parse_whole, text_problem
from ..errors import FieldError, Invalid
from .models import Claim
from .schemas import ClaimOut
from .services import CLAIM_FIELDS, OPTIONAL_CLAIM_FIELDS, ClaimInput

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defuse(text: str) -> str:
    # A cell starting like a formula runs when the sheet is opened; a leading quote keeps it text.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _restore(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def rows_to_csv(claims: Sequence[Claim]) -> str:
    """The claims as CSV, one row per requirement; evidence ids joined by semicolons."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CLAIM_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for claim in claims:
        row = ClaimOut.of(claim).model_dump(mode="json")
        free_text = {k: _defuse(row[k]) for k in ("justification", "countermeasure", "notes", "override_reason")}
        writer.writerow(
            {
                **row,
                **free_text,
                "verification": row["verification"] or "",
                "evidence": ";".join(map(str, row["evidence"])),
                "documentation": "" if row["documentation"] is None else row["documentation"],
            }
        )
    return out.getvalue()


def rows_to_json(claims: Sequence[Claim]) -> str:
    """The claims as a JSON list."""
    return (
        json.dumps([ClaimOut.of(c).model_dump(mode="json", include=set(CLAIM_FIELDS)) for c in claims], indent=2) + "\n"
    )


_MULTI_LINE_FIELDS = frozenset({"justification", "countermeasure", "notes", "override_reason"})


def _evidence_ids(value: Any, number: int, errors: list[FieldError]) -> list[int]:
    if value in (None, ""):
        return []
    parts = value if isinstance(value, list) else str(value).split(";")
    ids = []
    for part in parts:
        text = str(part).strip()
        evidence_id = parse_whole(text)
        if evidence_id is None:
            errors.append(FieldError(f"row {number}: evidence", f"not an evidence id: {text[:40]!r}"))
        else:
            ids.append(evidence_id)
    return ids


def _documentation(value: Any, number: int, errors: list[FieldError]) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    evidence_id = parse_whole(text)
    if evidence_id is None:
        errors.append(FieldError(f"row {number}: documentation", f"not an evidence id: {text[:40]!r}"))
    return evidence_id


def _row(number: int, raw: dict[str, Any], errors: list[FieldError]) -> tuple[int, str, ClaimInput]:
    text = {k: "" if raw.get(k) is None else raw.get(k) for k in CLAIM_FIELDS}
    for key in ("requirement", "status", "verification", "justification", "countermeasure", "notes", "override_reason"):
        value = text[key]
        if not isinstance(value, str):
            errors.append(FieldError(f"row {number}: {key}", "must be text"))
            text[key] = ""
        # A sheet is a door like a form: the same text rules (the claim's free text may span lines).
        elif problem := text_problem(value, multi_line=key in _MULTI_LINE_FIELDS):
            errors.append(FieldError(f"row {number}: {key}", problem))
    return (
        number,
        str(text["requirement"]).strip(),
        ClaimInput(
            status=str(text["status"]).strip(),
            verification=str(text["verification"]).strip() or None,
            justification=_restore(str(text["justification"])),
            countermeasure=_restore(str(text["countermeasure"])),
            notes=_restore(str(text["notes"])),
            evidence_ids=_evidence_ids(raw.get("evidence"), number, errors),
            override_reason=_restore(str(text["override_reason"])),
            documentation_id=_documentation(raw.get("documentation"), number, errors),
        ),
    )


def parse_sheet(content: bytes, name: str) -> list[tuple[int, str, ClaimInput]]:
    """Rows of a CSV (header row required, the claim columns; override_reason and documentation may be
    missing from older files) or JSON (a list of objects) file. Acceptance is no column: an import cannot
    accept a claim on anyone's behalf."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.field("file", "the file is not UTF-8 text") from None
    errors: list[FieldError] = []
    rows: list[tuple[int, str, ClaimInput]] = []
    if name.lower().endswith(".json"):
        try:
            data = loads_json(text)
        except TooDeep as exc:
            raise Invalid.field("file", str(exc)) from None
        except json.JSONDecodeError as exc:
            raise Invalid.field("file", f"not JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise Invalid.field("file", "a JSON claims file is a list of objects")
        for number, raw in enumerate(data, start=1):
            unknown = sorted(set(raw) - set(CLAIM_FIELDS) - {"updated_at", "updated_by"})
            # Who set or accepted a claim is recorded by the tracker, never taken from a file.
            if unknown:
                errors.append(FieldError(f"row {number}", f"unknown fields: {', '.join(unknown)}"))
            rows.append(_row(number, raw, errors))
    else:
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        missing = [c for c in CLAIM_FIELDS if c not in header and c not in OPTIONAL_CLAIM_FIELDS]
        extra = [c for c in header if c not in CLAIM_FIELDS]
        if missing or extra:
            raise Invalid.field(
                "file",
                f"the CSV columns must be {', '.join(CLAIM_FIELDS)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unexpected {', '.join(extra)}" if extra else ""),
            )
        for number, raw in enumerate(reader, start=2):  # row 1 is the header
            if None in raw:
                errors.append(FieldError(f"row {number}", "more cells than columns"))
            rows.append(_row(number, raw, errors))
    if errors:
        raise Invalid(f"nothing imported: {len(errors)} problem(s)", errors=errors)
    return rows
