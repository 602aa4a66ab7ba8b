"""What the SBOM pipeline passes along, whatever the standard: the formats, a violation, a refusal, a
checked document and the content read from it (CycloneDX in validation/document, SPDX in spdx)."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_REPORTED = 10  # violations named in an error; the rest are counted
MAX_MESSAGE = 300
MAX_TEXT = 10_000  # longest string kept per field; the original bytes keep everything
MAX_BOM_VERSION = 2**31 - 1
# A NUL or a UTF-16 surrogate written as a JSON escape: valid JSON, but no database stores it as text.
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class SbomFormat(enum.StrEnum):
    """The standard and encoding of a document (`json` and `xml` are CycloneDX's, as they always were)."""

    JSON = "json"
    XML = "xml"
    SPDX_JSON = "spdx-json"
    SPDX_TAG_VALUE = "spdx-tag-value"

    @property
    def standard(self) -> str:
        """`CycloneDX` or `SPDX`."""
        return "SPDX" if self.value.startswith("spdx-") else "CycloneDX"

    @property
    def encoding(self) -> str:
        """`JSON`, `XML` or `tag-value`."""
        return "tag-value" if self is SbomFormat.SPDX_TAG_VALUE else self.value.removeprefix("spdx-").upper()

    def label(self, spec_version: str) -> str:
        """`CycloneDX 1.6 JSON`, `SPDX 2.3 tag-value`."""
        return f"{self.standard} {spec_version} {self.encoding}"


@dataclass(frozen=True)
class Violation:
    """One place where the document breaks the schema or a rule."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


class Rejected(Exception):
    """The document cannot be imported; `violations` say where, the first MAX_REPORTED of `count`."""

    def __init__(self, message: str, violations: Iterable[Violation] = (), count: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.violations = list(violations)
        self.count = len(self.violations) if count is None else count

    @classmethod
    def first_of(
        cls, message: str, problems: Sequence[Any], describe: Callable[[Any], Violation] = lambda v: v
    ) -> Rejected:
        """Name the first MAX_REPORTED problems (describing only those: a description can be costly) and
        count them all."""
        return cls(message, [describe(p) for p in problems[:MAX_REPORTED]], len(problems))


@dataclass(frozen=True)
class Checked:
    """A document that passed the structural checks: its parsed form and its format-only warnings."""

    format: SbomFormat
    spec_version: str
    document: Any  # the JSON value, the lxml root element, or spdx-tools' Document
    warnings: list[Violation]


@dataclass
class SbomContent:
    """The parsed data of one SBOM, ready to store."""

    format: SbomFormat
    spec_version: str
    serial_number: str
    bom_version: int
    timestamp: datetime | None
    subject: dict[str, Any] | None  # what the SBOM describes (CycloneDX's metadata.component)
    tools: list[dict[str, str]]
    components: list[dict[str, Any]]  # in document order, nested ones after their parent
    dependencies: list[tuple[str, str]]  # (ref, depends on), each edge once
    services: int
    warnings: list[Violation] = field(default_factory=list)


def short(message: str) -> str:
    """A message on one line, cut at MAX_MESSAGE characters."""
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def clip(value: object) -> str:
    """A field's text as stored: at most MAX_TEXT characters, "" for none."""
    return str(value)[:MAX_TEXT] if value is not None else ""


def refuse_unstorable_strings(value: Any, path: str = "") -> None:
    """Refuse NUL characters and unpaired surrogates, which neither database can store as text."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            problem = "holds a NUL character or an unpaired surrogate, which cannot be stored"
            raise Rejected("not accepted: a string cannot be stored", [Violation(path or "/", problem)])
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable_strings(key, path)
            refuse_unstorable_strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_unstorable_strings(item, f"{path}/{index}")
