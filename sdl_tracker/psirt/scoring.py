"""CVSS v3.1 and v4.0 vectors, parsed and scored by the `cvss` library (Red Hat Product Security), never by hand.

A case records one vector per CVSS version. v2 and v3.0 are refused: FIRST superseded them, and a 3.0 vector
would score differently as 3.1 (Privileges Required with a changed scope, the rounding). The library checks
every metric and value, the mandatory metrics and duplicates; what comes before it here (length, characters,
the version prefix) only makes its refusals name what is wrong. Every refusal is a `ScoringError` whose
message is one line.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cvss import CVSS3, CVSS4, CVSSError, constants3, constants4

# The longest vector either version allows, every metric given, is under 200 characters (tests check it).
MAX_VECTOR_LENGTH = 255
_VECTOR_CHARACTERS = re.compile(r"[A-Za-z0-9.:/]+")  # metric names, values and separators; no spaces
_PREFIX = re.compile(r"CVSS:([0-9.]*)/", re.IGNORECASE)
SUPPORTED = ("3.1", "4.0")
# CVSS v4.0 names a score by the metric groups it used (specification, "Nomenclature"); supplemental metrics
# do not change the score.
_THREAT = frozenset({"E"})
_ENVIRONMENTAL = frozenset(
    {"CR", "IR", "AR"}
    | {abbreviation for abbreviation in constants4.METRICS_ABBREVIATIONS if abbreviation.startswith("M")}
)


class ScoringError(ValueError):
    """A CVSS vector that cannot be recorded; the message is one line."""


class Severity(enum.StrEnum):
    """The qualitative rating of a score, as FIRST's specifications band it."""

    NONE = "None"
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"


@dataclass(frozen=True)
class Score:
    """A parsed vector: its version, the vector normalised, its score, rating and metrics by name."""

    version: str  # "3.1" or "4.0"
    vector: str  # in the specification's metric order, metrics given as X (not defined) left out
    base_score: float  # 3.1: the base score; 4.0: the score of the vector as given, see `nomenclature`
    severity: Severity
    metrics: tuple[tuple[str, str], ...]  # (metric name, value name), e.g. ("Attack Vector", "Network")
    nomenclature: str | None  # 4.0: CVSS-B, CVSS-BT, CVSS-BE or CVSS-BTE; None for 3.1


def parse_vector(text: str) -> Score:
    """The score of a CVSS v3.1 or v4.0 vector (`CVSS:3.1/AV:N/...`, `CVSS:4.0/AV:N/...`), else ScoringError."""
    vector = text.strip()
    version = _version(vector)
    try:
        scored = CVSS3(vector) if version == "3.1" else CVSS4(vector)
    except CVSSError as error:
        raise ScoringError(f"not a valid CVSS {version} vector: {' '.join(str(error).split())}") from None
    given = {metric: value for metric, value in scored.original_metrics.items() if value != "X"}
    if version == "3.1":
        return Score(
            version,
            scored.clean_vector(),
            float(scored.scores()[0]),
            Severity(scored.severities()[0]),
            _named(given, constants3.METRICS_ABBREVIATIONS, constants3.METRICS_VALUE_NAMES),
            None,
        )
    return Score(
        version,
        scored.clean_vector(),
        float(scored.base_score),
        Severity(scored.severity),
        _named(given, constants4.METRICS_ABBREVIATIONS, constants4.METRICS_VALUE_NAMES),
        "CVSS-B" + ("T" if _THREAT & given.keys() else "") + ("E" if _ENVIRONMENTAL & given.keys() else ""),
    )


def _version(vector: str) -> str:
    """The CVSS version a vector's prefix names, if it is one a case may record, else ScoringError."""
    if not vector:
        raise ScoringError("no CVSS vector given: write one starting CVSS:3.1/ or CVSS:4.0/")
    if len(vector) > MAX_VECTOR_LENGTH:
        raise ScoringError(
            f"CVSS vector of {len(vector)} characters: no valid vector is longer than {MAX_VECTOR_LENGTH}"
        )
    prefix = _PREFIX.match(vector)
    if prefix is None and "Au:" in vector:  # Authentication is a v2 metric only; v2 vectors have no prefix
        raise ScoringError("CVSS v2 vectors are not accepted: give a CVSS:3.1/ or CVSS:4.0/ vector")
    if not _VECTOR_CHARACTERS.fullmatch(vector):
        raise ScoringError("a CVSS vector has only letters, digits and the separators : / . (no spaces)")
    if prefix is None:
        raise ScoringError("a CVSS vector starts with its version: CVSS:3.1/ or CVSS:4.0/")
    version = prefix.group(1)
    if version not in SUPPORTED:
        raise ScoringError(f"CVSS version {version or '(none)'} is not accepted: give a CVSS:3.1/ or CVSS:4.0/ vector")
    if not prefix.group(0).startswith("CVSS:"):
        raise ScoringError(f"write the prefix in upper case: CVSS:{version}/")
    return version


def _named(
    given: Mapping[str, str], names: Mapping[str, str], values: Mapping[str, Mapping[str, str]]
) -> tuple[tuple[str, str], ...]:
    """The given metrics in the specification's order, by their names and their values' names."""
    return tuple((names[metric], values[metric][given[metric]]) for metric in names if metric in given)
