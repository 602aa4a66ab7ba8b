"""What a door gives to create or revise evidence, and the checks of its own fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from ..errors import FieldError
from .rules import effective_date_problem
from .vocabulary import TEST_KINDS, EvidenceKind, TesterIndependence

MAX_TITLE = 200


MAX_DESCRIPTION = 50_000


@dataclass(frozen=True)
class Upload:
    """A file as a door received it."""

    filename: str
    media_type: str
    stream: IO[bytes]
    # Already in the blob store under this name (a big SBOM): not read and written again.
    stored_sha256: str = ""


@dataclass
class EvidenceInput:
    """What a door gives to create or revise evidence; None on a revision means "unchanged"."""

    title: str | None = None
    description: str | None = None
    effective_date: date | None = None
    author: str | None = None
    review_due: date | None = None
    requirements: Sequence[str] | None = None
    release_versions: Sequence[str] | None = None
    details: dict[str, Any] | None = None
    tester_independence: str | None = None  # test evidence: none, independent-person, -department, -organisation
    files: Sequence[Upload] = field(default_factory=list)
    threat_dragon: Upload | None = None  # an OWASP Threat Dragon model: fills the threat details


def check_text(data: EvidenceInput, today: date, errors: list[FieldError], *, creating: bool) -> None:
    """Add the problems of the text fields (and, when creating, of what must be given) to `errors`."""
    if creating or data.title is not None:
        title = (data.title or "").strip()
        if not title or len(title) > MAX_TITLE:
            errors.append(FieldError("title", f"a title of 1-{MAX_TITLE} characters is required"))
    if data.description is not None and len(data.description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"at most {MAX_DESCRIPTION:,} characters"))
    if data.author is not None and len(data.author) > 200:
        errors.append(FieldError("author", "at most 200 characters"))
    if data.effective_date is not None:
        problem = effective_date_problem(data.effective_date, today)
        if problem:
            errors.append(FieldError("effective_date", problem))
    if creating and not data.requirements:
        errors.append(FieldError("requirements", "name at least one requirement the evidence shows"))
    if creating and not data.files and data.threat_dragon is None:
        errors.append(FieldError("files", "attach at least one file"))


def with_model(data: EvidenceInput) -> list[Upload]:
    """The files to keep as artifacts: the uploads and a Threat Dragon model, if any."""
    return [*data.files, *([data.threat_dragon] if data.threat_dragon else [])]


def independence_from(
    kind: EvidenceKind | None, given: str | None, previous: TesterIndependence | None, errors: list[FieldError]
) -> TesterIndependence | None:
    """The tester independence to store: as given (test evidence only), else the previous revision's."""
    if given is None or given == "":
        return previous
    try:
        level = TesterIndependence(given)
    except ValueError:
        levels = ", ".join(level.value for level in TesterIndependence)
        errors.append(FieldError("tester_independence", f"unknown tester independence {given!r} (one of: {levels})"))
        return previous
    if kind is not None and kind not in TEST_KINDS:
        errors.append(
            FieldError("tester_independence", f"tester independence is recorded on test evidence, not {kind.value}")
        )
        return previous
    return level
