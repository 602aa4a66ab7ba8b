"""Identifiers a PSIRT case records: CVE ids by the CVE program's syntax, CWE ids from MITRE's CWE list.

The CWE list is package data (`data/cwe.json`, written by scripts/cwe_list.py with MITRE's notice); its
version is the one docs/psirt.md ("Identifiers and scores") names. Every refusal is a `VocabularyError` whose
message is one line and says what to give instead.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

# The CVE JSON 5 record format (CVEProject/cve-schema, `cveId`): `CVE-`, a four-digit year, four to nineteen digits.
_CVE_ID = re.compile(r"CVE-([0-9]{4})-([0-9]{4,19})")
FIRST_CVE_YEAR = 1999  # the CVE list began in 1999; no id names an earlier year
# `CWE-79` or `79`; seven digits bound the number far above MITRE's ids without parsing absurd input.
_CWE_ID = re.compile(r"(?:CWE-)?([0-9]{1,7})", re.IGNORECASE)
DEPRECATED = "Deprecated"  # the status MITRE gives an entry that must no longer be used


class VocabularyError(ValueError):
    """An identifier a case cannot record; the message is one line."""


class CweKind(enum.StrEnum):
    """What a CWE entry is: only weaknesses describe a vulnerability's cause; categories and views group them."""

    WEAKNESS = "weakness"
    CATEGORY = "category"
    VIEW = "view"


@dataclass(frozen=True)
class CweEntry:
    """One entry of the CWE list: its number, name, MITRE's status (Stable, Draft, ... Deprecated) and kind."""

    number: int
    name: str
    status: str
    kind: CweKind

    @property
    def deprecated(self) -> bool:
        """Whether MITRE deprecated the entry (its name then says so too)."""
        return self.status == DEPRECATED

    @property
    def label(self) -> str:
        """`CWE-79: Improper Neutralization of Input ...`; a deprecated entry is marked if its name does not say so."""
        marked = self.deprecated and not self.name.upper().startswith("DEPRECATED")
        return f"CWE-{self.number}: {self.name}" + (" (deprecated)" if marked else "")


@dataclass(frozen=True)
class CweList:
    """The packaged CWE list: MITRE's version and date, and every entry by number."""

    version: str
    date: str
    entries: Mapping[int, CweEntry]


@functools.cache
def cwe_list() -> CweList:
    """The CWE list shipped with the package, read once."""
    text = resources.files("sdl_tracker.psirt").joinpath("data", "cwe.json").read_text(encoding="utf-8")
    document = json.loads(text)
    entries = {
        int(number): CweEntry(int(number), entry["name"], entry["status"], CweKind(entry["kind"]))
        for number, entry in document["entries"].items()
    }
    return CweList(document["cwe_version"], document["cwe_date"], entries)


def _shown(text: str) -> str:
    """Input quoted for a one-line message: escapes newlines, shortens what is long."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def parse_cve(text: str) -> str:
    """A CVE id in upper case (`cve-2024-3094` -> `CVE-2024-3094`), else VocabularyError."""
    match = _CVE_ID.fullmatch(text.strip().upper())
    if match is None:
        raise VocabularyError(
            f"{_shown(text)} is not a CVE id: write CVE-YYYY-NNNN, a year then 4 to 19 digits (CVE-2024-3094)"
        )
    year, sequence = match.groups()
    if int(year) < FIRST_CVE_YEAR:
        raise VocabularyError(f"CVE-{year}-{sequence} names a year before {FIRST_CVE_YEAR}, when CVE ids began")
    return f"CVE-{year}-{sequence}"


def cwe_entry(number: int) -> CweEntry | None:
    """The CWE list's entry with this number, of any kind or status, or None."""
    return cwe_list().entries.get(number)


def cwe_name(number: int) -> str | None:
    """The name the CWE list gives the number, or None if it lists no such entry."""
    entry = cwe_entry(number)
    return entry.name if entry else None


def cwe_label(number: int) -> str:
    """`CWE-79: Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')`."""
    entry = cwe_entry(number)
    if entry is None:
        raise VocabularyError(f"CWE-{number} {_not_listed()}")
    return entry.label


def parse_cwe(text: str) -> int:
    """The number of a weakness a case may record (`CWE-79` or `79` -> 79), else VocabularyError.

    Refused: what is not a CWE id, ids the list does not have, deprecated entries, and categories and views,
    which group weaknesses but name no cause (MITRE's mapping guidance and CSAF's CWE test refuse them too).
    """
    match = _CWE_ID.fullmatch(text.strip())
    if match is None:
        raise VocabularyError(f"{_shown(text)} is not a CWE id: write CWE-79 or 79")
    number = int(match.group(1))
    entry = cwe_entry(number)
    version = cwe_list().version
    if entry is None:
        raise VocabularyError(f"CWE-{number} {_not_listed()}")
    if entry.deprecated:
        raise VocabularyError(
            f"CWE-{number} is deprecated in the CWE list {version} ({entry.name}): record the weakness that replaces it"
        )
    if entry.kind is not CweKind.WEAKNESS:
        raise VocabularyError(
            f"CWE-{number} is a {entry.kind} in the CWE list {version} ({entry.name}), not a weakness: "
            "record one of the weaknesses it groups"
        )
    return number


def _not_listed() -> str:
    """The end of the message for a number the list does not have."""
    return f"is not in the CWE list {cwe_list().version}: use an id it lists (https://cwe.mitre.org/data/index.html)"
