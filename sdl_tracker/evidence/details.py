"""Per-kind structured details of evidence: one pydantic schema per kind, used by every door.

The schemas validate what a door receives and generate the web form's fields, so the web, the
API and the CLI accept exactly the same facts.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import FieldError, Invalid
from .vocabulary import EvidenceKind


class Details(BaseModel):
    """Base of the per-kind schemas: every field named, nothing else accepted."""

    model_config = ConfigDict(extra="forbid")


class ThreatMethod(enum.StrEnum):
    """How the threats were found."""

    STRIDE = "STRIDE"
    LINDDUN = "LINDDUN"
    ATTACK_TREES = "attack trees"
    PASTA = "PASTA"
    CIA = "CIA"
    DIE = "DIE"
    OTHER = "other"


class Threat(Details):
    """One threat of a model (filled by a Threat Dragon import)."""

    title: str = Field(max_length=300)
    status: str = Field(default="Open", max_length=40)
    severity: str = Field(default="", max_length=40)
    category: str = Field(default="", max_length=80)
    element: str = Field(default="", max_length=200)
    mitigation: str = Field(default="", max_length=4000)


class ThreatModelDetails(Details):
    """SR-2: the threat model."""

    method: ThreatMethod = ThreatMethod.STRIDE
    scope: str = Field(default="", max_length=1000, description="what the model covers")
    threats_total: int = Field(ge=0, le=100_000)
    threats_open: int = Field(default=0, ge=0, le=100_000)
    threats_mitigated: int = Field(default=0, ge=0, le=100_000)
    next_review_due: date | None = Field(default=None, description="required, within 12 months, once released")
    threats: list[Threat] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _counts_add_up(self) -> ThreatModelDetails:
        if self.threats_open + self.threats_mitigated > self.threats_total:
            raise ValueError("open and mitigated threats exceed the total")
        return self


class ReviewDetails(Details):
    """SD-4 and SI-1: a security design or code review."""

    change: str = Field(
        max_length=300,
        description="the commits reviewed: SHAs or a range a1b2c3d..d4e5f6a (commit review counts these), "
        "or a change request",
    )
    reviewer: str = Field(max_length=200)
    cwe_top25_checked: bool = Field(default=False, description="reviewed against the CWE Top 25")
    findings_total: int = Field(default=0, ge=0, le=100_000)
    findings_open: int = Field(default=0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _open_within_total(self) -> ReviewDetails:
        if self.findings_open > self.findings_total:
            raise ValueError("open findings exceed the total")
        return self


class FuzzDetails(Details):
    """SVV-3: a fuzzing campaign against one of the product's interfaces."""

    target_interface: str = Field(max_length=120, description="the name of one of the product's interfaces")
    protocol: str = Field(max_length=120, description="e.g. Modbus TCP, OPC UA, PROFINET")
    tool: str = Field(max_length=120)
    duration_hours: float = Field(gt=0, le=100_000)
    executions: int = Field(default=0, ge=0)
    crashes_found: int = Field(default=0, ge=0, le=1_000_000)
    crashes_fixed: int = Field(default=0, ge=0, le=1_000_000)
    coverage_percent: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _fixed_within_found(self) -> FuzzDetails:
        if self.crashes_fixed > self.crashes_found:
            raise ValueError("more crashes fixed than found")
        return self


class ThreatModelChangeDetails(Details):
    """SR-2: a commit that changed the threat model (a `Threat-Model:` trailer fills it)."""

    change: str = Field(min_length=1, max_length=300, description="the commit (SHA) that changed the model")
    summary: str = Field(min_length=1, max_length=1000, description="what changed, or where the model lives")


class PsirtFixDetails(Details):
    """DM-4: a commit that addresses a security-related issue (a `Fixes-PSIRT:` trailer fills it)."""

    case: str = Field(min_length=1, max_length=120, description="the PSIRT case id, e.g. PSIRT-2026-0007")
    change: str = Field(min_length=1, max_length=300, description="the commit (SHA) with the fix")


class FuzzRunDetails(Details):
    """SVV-3: one fuzzer run on a commit (a `Fuzzed-by:` trailer fills it; a campaign is fuzz-campaign)."""

    fuzzer: str = Field(min_length=1, max_length=200, description="the fuzzer or fuzzing job")
    change: str = Field(min_length=1, max_length=300, description="the commit (SHA) that was fuzzed")


class FindingsBySeverity(Details):
    """Counts per severity."""

    critical: int = Field(default=0, ge=0, le=1_000_000)
    high: int = Field(default=0, ge=0, le=1_000_000)
    medium: int = Field(default=0, ge=0, le=1_000_000)
    low: int = Field(default=0, ge=0, le=1_000_000)
    info: int = Field(default=0, ge=0, le=1_000_000)


class ScanDetails(Details):
    """SVV-3/SVV-4: a vulnerability scan or penetration test (its tester independence is a field of the evidence)."""

    tool: str = Field(max_length=200, description="the scanner, or the testing company")
    scope: str = Field(default="", max_length=1000)
    findings: FindingsBySeverity = Field(default_factory=FindingsBySeverity)


class QualificationResult(enum.StrEnum):
    """Outcome of an update's qualification."""

    PASSED = "passed"
    FAILED = "failed"
    CONDITIONAL = "conditional"


class TrainingDetails(Details):
    """SM-4: security training."""

    course: str = Field(max_length=200)
    attendees: int = Field(ge=1, le=100_000)
    held_on: date


class UpdateDetails(Details):
    """SUM-1..SUM-5: a security update's qualification and delivery."""

    update_id: str = Field(max_length=120)
    qualification_result: QualificationResult
    delivery_channel: str = Field(max_length=200, description="e.g. signed download portal, OTA, USB image")


class SbomDetails(Details):
    """SM-9, SM-10, CRA Annex I Part II (1): a bill of materials (filled by an SBOM import)."""

    format: str = Field(default="", max_length=40, description="e.g. CycloneDX 1.6 JSON, SPDX 2.3")
    components: int | None = Field(default=None, ge=0, le=10_000_000)
    serial_number: str = Field(default="", max_length=200)


SCHEMAS: dict[EvidenceKind, type[Details]] = {
    EvidenceKind.THREAT_MODEL: ThreatModelDetails,
    EvidenceKind.DESIGN_REVIEW: ReviewDetails,
    EvidenceKind.CODE_REVIEW: ReviewDetails,
    EvidenceKind.FUZZ_CAMPAIGN: FuzzDetails,
    EvidenceKind.THREAT_MODEL_CHANGE: ThreatModelChangeDetails,
    EvidenceKind.PSIRT_FIX: PsirtFixDetails,
    EvidenceKind.FUZZ_RUN: FuzzRunDetails,
    EvidenceKind.VULNERABILITY_SCAN: ScanDetails,
    EvidenceKind.PENETRATION_TEST: ScanDetails,
    EvidenceKind.SECURITY_TRAINING: TrainingDetails,
    EvidenceKind.UPDATE_RECORD: UpdateDetails,
    EvidenceKind.SBOM: SbomDetails,
}


def schema_for(kind: EvidenceKind) -> type[Details] | None:
    """The details schema of a kind, if it has one."""
    return SCHEMAS.get(kind)


def validate_details(kind: EvidenceKind, raw: dict[str, Any] | None) -> dict[str, Any]:
    """The kind's details, validated and normalised to JSON; Invalid naming `details.<field>`."""
    raw = raw or {}
    schema = schema_for(kind)
    if schema is None:
        if raw:
            raise Invalid.field("details", f"{kind.value} evidence takes no details")
        return {}
    try:
        return schema.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        errors = [
            FieldError(".".join(["details", *(str(p) for p in err["loc"])]), err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_url=False)
        ]
        raise Invalid("the details are invalid", errors=errors) from None


def parse_detail_pairs(pairs: list[str]) -> dict[str, Any]:
    """`--detail key=value` (dotted keys nest: findings.high=2) into a details mapping."""
    details: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise Invalid.field("--detail", f"expected key=value, got {pair!r}")
        node = details
        *parents, leaf = key.strip().split(".")
        for parent in parents:
            child = node.setdefault(parent, {})
            if not isinstance(child, dict):
                raise Invalid.field("--detail", f"{key!r} mixes a value and nested keys")
            node = child
        node[leaf] = value
    return details
