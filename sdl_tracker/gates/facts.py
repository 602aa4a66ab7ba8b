"""Pure: the snapshot of facts a release gate judges, as plain data, with its JSON form and digest.

The services gather `GateFacts` from the database (evidence, claims, SBOMs, VEX decisions, cases, the CRA
file); gates/rules.py judges them. `snapshot_digest` is the sha256 of their canonical JSON (sorted keys and
collections, no whitespace, dates ISO, datetimes UTC), stored with a result so an audit sees exactly what was
judged, and compared with a fresh snapshot to tell a result outdated.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import AwareDatetime, ConfigDict, TypeAdapter, ValidationError

from ..errors import FieldError, Invalid
from ..evidence.coverage import CoverageState
from ..evidence.vocabulary import ReviewState, TesterIndependence
from ..vex.rules import Status

# Every fact type refuses keys it does not name when read back from JSON (facts_from_json).
_STRICT = ConfigDict(extra="forbid", strict=True)


# --- the facts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRef:
    """A piece of evidence a rule rests on: who submitted it, its review state, the last day it stands."""

    __pydantic_config__ = _STRICT

    evidence_id: int
    submitted_by: str
    state: ReviewState = ReviewState.ACCEPTED
    stands_until: date | None = None  # None: a record of an event, which does not expire


@dataclass(frozen=True)
class Acceptance:
    """An officer's recorded acceptance (of a risk, or of a residual risk), until it expires."""

    __pydantic_config__ = _STRICT

    by: str
    justification: str
    accepted_at: AwareDatetime
    expires_at: AwareDatetime | None = None


@dataclass(frozen=True)
class RequirementFacts:
    """One 4-1 requirement for the release, as coverage judged it (evidence/coverage.py)."""

    __pydantic_config__ = _STRICT

    ref: str
    practice: str
    scoped_out: bool  # scoped out of the product under SM-5, accepted
    process: CoverageState
    records: CoverageState
    evidence: tuple[EvidenceRef, ...] = ()  # the evidence deciding each half


@dataclass(frozen=True)
class ThreatModelFacts:
    """The product's current threat model and the day it was last reviewed."""

    __pydantic_config__ = _STRICT

    evidence: EvidenceRef
    last_reviewed: date


@dataclass(frozen=True)
class CommitFacts:
    """The release's commits (since the previous release) and how many a security code review covers."""

    __pydantic_config__ = _STRICT

    total: int
    reviewed: int
    reviews: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True)
class FuzzCampaign:
    """A fuzz campaign covering the release, against one interface."""

    __pydantic_config__ = _STRICT

    evidence: EvidenceRef
    duration_hours: float


@dataclass(frozen=True)
class InterfaceFacts:
    """One of the product's interfaces and the fuzz campaigns against it."""

    __pydantic_config__ = _STRICT

    name: str
    network: bool
    campaigns: tuple[FuzzCampaign, ...] = ()


@dataclass(frozen=True)
class PenTestFacts:
    """A penetration test covering the release, with its tester independence (4-1 Table 3)."""

    __pydantic_config__ = _STRICT

    evidence: EvidenceRef
    tester_independence: TesterIndependence | None  # None: not stated


@dataclass(frozen=True)
class LevelFacts:
    """One FR: the target SL-C, the SL-C the release's claims achieve, and a risk acceptance of a gap."""

    __pydantic_config__ = _STRICT

    fr: str
    target: int
    achieved: int
    risk_acceptance: Acceptance | None = None
    evidence: tuple[EvidenceRef, ...] = ()  # the evidence behind the counted claims


@dataclass(frozen=True)
class VulnerabilityFacts:
    """A known vulnerability matched to a component of the release, and the release's VEX decision on it."""

    __pydantic_config__ = _STRICT

    vulnerability: str  # CVE or advisory id
    component: str  # purl or name@version
    status: Status | None  # None: no decision yet
    since: AwareDatetime  # when the current decision was recorded, or when matched if none
    justification: str = ""  # not affected: the VEX justification
    mitigated: bool = False  # affected, with a mitigation shipped with the release
    exploited: bool = False  # known exploited: in a KEV catalog or a PSIRT case of active exploitation
    cvss: float | None = None
    decided_by: str = ""


class IssueKind(enum.StrEnum):
    """Where an open security issue (SM-11) was recorded."""

    CASE = "case"  # a PSIRT case
    FINDING = "finding"  # an open finding of a review or test
    DECISION = "decision"  # a VEX decision "affected"


class IssueState(enum.StrEnum):
    """Where a security issue stands for the release."""

    OPEN = "open"
    FIXED = "fixed"
    MITIGATED = "mitigated"


@dataclass(frozen=True)
class IssueFacts:
    """A security issue of the release (SM-11)."""

    __pydantic_config__ = _STRICT

    key: str  # case id, evidence id of the finding, or vulnerability@component
    kind: IssueKind
    state: IssueState
    cvss: float | None = None  # None: not scored
    exploited: bool = False
    residual_risk: Acceptance | None = None
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True)
class SumRecord:
    """A security update management record of the release: qualification, documentation or delivery."""

    __pydantic_config__ = _STRICT

    aspect: str
    evidence: EvidenceRef


@dataclass(frozen=True)
class PatchFacts:
    """Whether the release is a patch release, its SUM records and how its security fixes were shipped."""

    __pydantic_config__ = _STRICT

    patch: bool
    records: tuple[SumRecord, ...] = ()
    security_fixes_separate: bool | None = None  # None: not recorded
    not_separate_reason: str = ""  # why shipping them apart was not feasible (CRA Annex I Part II (2))


@dataclass(frozen=True)
class CraGap:
    """One part the CRA file lacks (cra.rules.Missing as plain data)."""

    __pydantic_config__ = _STRICT

    area: str
    key: str
    message: str


@dataclass(frozen=True)
class OpenClock:
    """An Article 14 reporting stage of one of the product's cases not yet submitted."""

    __pydantic_config__ = _STRICT

    case: str
    stage: str
    due_at: AwareDatetime


@dataclass(frozen=True)
class CraFacts:
    """The CRA duties of the product and release."""

    __pydantic_config__ = _STRICT

    security_contact: bool
    cvd_policy: bool
    support_ends: date | None
    missing: tuple[CraGap, ...] = ()
    clocks: tuple[OpenClock, ...] = ()


@dataclass(frozen=True)
class GateFacts:
    """Everything the gate judges of one release. Collections are unordered: the digest sorts them."""

    __pydantic_config__ = _STRICT

    product_id: int
    release_id: int
    version: str
    requirements: tuple[RequirementFacts, ...] = ()
    threat_model: ThreatModelFacts | None = None
    commits: CommitFacts = field(default_factory=lambda: CommitFacts(0, 0))
    interfaces: tuple[InterfaceFacts, ...] = ()
    pen_tests: tuple[PenTestFacts, ...] = ()
    levels: tuple[LevelFacts, ...] = ()
    primary_sbom: EvidenceRef | None = None
    vulnerabilities: tuple[VulnerabilityFacts, ...] = ()
    issues: tuple[IssueFacts, ...] = ()
    patch: PatchFacts = field(default_factory=lambda: PatchFacts(False))
    cra: CraFacts = field(default_factory=lambda: CraFacts(False, False, None))


# --- snapshots: JSON and digest --------------------------------------------------------------------------

FACTS_FORMAT = "sdl-tracker/gate-facts"
FACTS_VERSION = 1


@dataclass(frozen=True)
class _Snapshot:
    __pydantic_config__ = _STRICT

    format: str
    version: int
    facts: GateFacts


_SNAPSHOT = TypeAdapter(_Snapshot)


def facts_to_json(facts: GateFacts) -> str:
    """The facts as a JSON document (`facts_from_json` reads it back to equal facts)."""
    return _SNAPSHOT.dump_json(_Snapshot(FACTS_FORMAT, FACTS_VERSION, facts)).decode("utf-8")


def facts_from_json(text: str | bytes) -> GateFacts:
    """Facts from their JSON document, else Invalid naming the path of each problem."""
    try:
        snapshot = _SNAPSHOT.validate_json(text)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(part) for part in err["loc"]) or "json", err["msg"])
            for err in exc.errors(include_url=False)
        ]
        raise Invalid("the gate facts are invalid", errors=errors) from None
    if (snapshot.format, snapshot.version) != (FACTS_FORMAT, FACTS_VERSION):
        raise Invalid.field("format", f"not {FACTS_FORMAT} version {FACTS_VERSION}")
    return snapshot.facts


def _canonical(value: Any) -> Any:
    """Plain JSON values: datetimes in UTC, dates ISO, enums by value, every list sorted (collections of facts
    are unordered, so the order the database returned them in does not change the digest)."""
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, separators=(",", ":")))
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def canonical_facts(facts: GateFacts) -> str:
    """The facts as canonical JSON: sorted keys and lists, no whitespace, dates ISO, datetimes UTC."""
    plain = _canonical(_SNAPSHOT.dump_python(_Snapshot(FACTS_FORMAT, FACTS_VERSION, facts), mode="python"))
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def snapshot_digest(facts: GateFacts) -> str:
    """sha256 (hex) of the canonical JSON of the facts: what a stored result says it judged."""
    return hashlib.sha256(canonical_facts(facts).encode("utf-8")).hexdigest()
