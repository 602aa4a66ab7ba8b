"""Pure: a gate policy, its defaults per component type and target SL-C, and its YAML form.

A policy has one entry per rule (`RuleId`), each switched on or off, waivable or not, with its parameters.
The CRA Annex I Part I (2)(a) rule is always on and never waivable: the law allows no exception, so neither
the dataclass nor the YAML form can express one. The YAML form is read with PyYAML's safe loader, with
aliases, anchors, duplicate keys and deep nesting refused and the size capped, then validated by pydantic
models (docs/gates.md, "Policy and evaluation").
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..catalog.rules import COMPONENT_TYPES, FOUNDATIONAL_REQUIREMENTS
from ..errors import FieldError, Invalid
from ..evidence.vocabulary import TesterIndependence


class RuleId(enum.StrEnum):
    """The gate's rules, in the order they are shown and written; the value is the policy's YAML key."""

    RECORDS_IN_SCOPE = "records_in_scope"  # 4-1 SM-12
    THREAT_MODEL = "threat_model"  # 4-1 SR-2
    COMMITS_REVIEWED = "commits_reviewed"  # 4-1 SI-1
    FUZZING = "fuzzing"  # 4-1 SVV-3
    PENETRATION_TEST = "penetration_test"  # 4-1 SVV-4, Table 3
    SECURITY_LEVEL = "security_level"  # 4-2 SL-C per FR
    SBOM_TRIAGE = "sbom_triage"  # 4-1 SM-9/DM, CRA Annex I Part II (1)-(2)
    NO_KNOWN_EXPLOITABLE = "no_known_exploitable"  # CRA Annex I Part I (2)(a): never off, never waived
    OPEN_ISSUES = "open_issues"  # 4-1 SM-11
    PATCH_RELEASE = "patch_release"  # 4-1 SUM-1, SUM-2, SUM-4, CRA Annex I Part II (2)
    CRA_DUTIES = "cra_duties"  # CRA Art. 13-14, Annex II, Annex VII


RULE_TITLES: Mapping[RuleId, str] = {
    RuleId.RECORDS_IN_SCOPE: "Every 4-1 requirement in scope has its process and records (SM-12)",
    RuleId.THREAT_MODEL: "Threat model reviewed recently (SR-2)",
    RuleId.COMMITS_REVIEWED: "The release's commits security-reviewed (SI-1)",
    RuleId.FUZZING: "A fuzz campaign for every network interface (SVV-3)",
    RuleId.PENETRATION_TEST: "A penetration test by an independent tester (SVV-4, Table 3)",
    RuleId.SECURITY_LEVEL: "Achieved SL-C at or above the target for every FR",
    RuleId.SBOM_TRIAGE: "A primary SBOM, every matched vulnerability triaged",
    RuleId.NO_KNOWN_EXPLOITABLE: "No known exploitable vulnerability (CRA Annex I Part I (2)(a))",
    RuleId.OPEN_ISSUES: "No open security issue above the accepted residual risk (SM-11)",
    RuleId.PATCH_RELEASE: "A patch release's update records, security fixes apart (SUM, CRA Annex I Part II (2))",
    RuleId.CRA_DUTIES: "CRA duties: file complete, contact and CVD policy, no overdue Article 14 clock",
}

UNWAIVABLE = frozenset({RuleId.NO_KNOWN_EXPLOITABLE})
CRA_2A_REFUSAL = (
    "CRA Annex I Part I (2)(a) forbids placing a product with a known exploitable vulnerability on the market: "
    "this rule cannot be switched off or waived; the way through is a fix, a mitigation, or a VEX decision "
    "'not affected' with its justification"
)

PRACTICES = ("SM", "SR", "SD", "SI", "SVV", "DM", "SUM", "SG")
# A patch release's SUM records by aspect (IEC 62443-4-1 clause 10; SUM-3 is about dependent components).
SUM_RECORDS = {"qualification": "SUM-1", "documentation": "SUM-2", "delivery": "SUM-4"}
SUM_ASPECTS = tuple(SUM_RECORDS)
# Table 3 of 4-1: penetration testing needs at least an independent department; a policy may ask more.
PENETRATION_TEST_FLOOR = TesterIndependence.DEPARTMENT


class FuzzScope(enum.StrEnum):
    """Which of the product's interfaces need a fuzz campaign."""

    NETWORK = "network"  # every network interface
    ALL = "all"  # every interface (fieldbus, serial, USB too)


# --- the rules' parameters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordsInScope:
    """SM-12: every 4-1 requirement of these practices in scope (SM-5) has its process and accepted, unexpired
    records for the release."""

    enabled: bool = True
    waivable: bool = True
    practices: tuple[str, ...] = PRACTICES


@dataclass(frozen=True)
class ThreatModel:
    """SR-2: the threat model reviewed within `max_age_months`."""

    enabled: bool = True
    waivable: bool = True
    max_age_months: int = 12


@dataclass(frozen=True)
class CommitsReviewed:
    """SI-1: at least `minimum_percent` of the release's commits covered by a security code review."""

    enabled: bool = True
    waivable: bool = True
    minimum_percent: int = 90


@dataclass(frozen=True)
class Fuzzing:
    """SVV-3: an accepted fuzz campaign of at least `minimum_hours` for every interface of `interfaces`."""

    enabled: bool = True
    waivable: bool = True
    interfaces: FuzzScope = FuzzScope.NETWORK
    minimum_hours: float = 0.0


@dataclass(frozen=True)
class PenetrationTest:
    """SVV-4: an accepted penetration test by a tester of at least `minimum_independence`, whatever the target
    level, unless SVV-4 is scoped out (SM-5)."""

    enabled: bool = True
    waivable: bool = True
    minimum_independence: TesterIndependence = PENETRATION_TEST_FLOOR


@dataclass(frozen=True)
class SecurityLevel:
    """Achieved SL-C at or above the target for every FR, or (when allowed) an officer's risk acceptance."""

    enabled: bool = True
    waivable: bool = True
    allow_risk_acceptance: bool = True


@dataclass(frozen=True)
class SbomTriage:
    """A primary SBOM; every matched vulnerability decided, none "under investigation" longer than the limit."""

    enabled: bool = True
    waivable: bool = True
    max_under_investigation_days: int = 30


@dataclass(frozen=True)
class NoKnownExploitable:
    """CRA Annex I Part I (2)(a): no known exploitable vulnerability at any severity. Always on, never waived."""

    enabled: bool = True
    waivable: bool = False

    def __post_init__(self) -> None:
        if not self.enabled:
            raise Invalid.field(f"rules.{RuleId.NO_KNOWN_EXPLOITABLE}.enabled", CRA_2A_REFUSAL)
        if self.waivable:
            raise Invalid.field(f"rules.{RuleId.NO_KNOWN_EXPLOITABLE}.waivable", CRA_2A_REFUSAL)


@dataclass(frozen=True)
class OpenIssues:
    """SM-11: no open security issue with a CVSS score at or above `cvss_threshold` (or none) unless fixed,
    mitigated or accepted as residual risk."""

    enabled: bool = True
    waivable: bool = True
    cvss_threshold: float = 7.0


@dataclass(frozen=True)
class PatchRelease:
    """A patch release: its SUM records of `required_records`, and security fixes apart from features."""

    enabled: bool = True
    waivable: bool = True
    required_records: tuple[str, ...] = SUM_ASPECTS
    security_fixes_separate: bool = True


@dataclass(frozen=True)
class CraDuties:
    """CRA items present (support period, contact, CVD policy, Annex II, conformity file) and no overdue clock."""

    enabled: bool = True
    waivable: bool = True
    require_complete_file: bool = True
    no_overdue_clocks: bool = True


RuleParameters = (
    RecordsInScope
    | ThreatModel
    | CommitsReviewed
    | Fuzzing
    | PenetrationTest
    | SecurityLevel
    | SbomTriage
    | NoKnownExploitable
    | OpenIssues
    | PatchRelease
    | CraDuties
)


@dataclass(frozen=True)
class Policy:
    """A product's gate policy: one entry per rule (field name = `RuleId` value)."""

    records_in_scope: RecordsInScope = field(default_factory=RecordsInScope)
    threat_model: ThreatModel = field(default_factory=ThreatModel)
    commits_reviewed: CommitsReviewed = field(default_factory=CommitsReviewed)
    fuzzing: Fuzzing = field(default_factory=Fuzzing)
    penetration_test: PenetrationTest = field(default_factory=PenetrationTest)
    security_level: SecurityLevel = field(default_factory=SecurityLevel)
    sbom_triage: SbomTriage = field(default_factory=SbomTriage)
    no_known_exploitable: NoKnownExploitable = field(default_factory=NoKnownExploitable)
    open_issues: OpenIssues = field(default_factory=OpenIssues)
    patch_release: PatchRelease = field(default_factory=PatchRelease)
    cra_duties: CraDuties = field(default_factory=CraDuties)

    def rule(self, rule: RuleId) -> RuleParameters:
        """The entry of one rule."""
        entry: RuleParameters = getattr(self, rule.value)
        return entry

    def waivable(self, rule: RuleId) -> bool:
        """Whether a failing rule may be waived under this policy (never CRA Annex I Part I (2)(a))."""
        return rule not in UNWAIVABLE and self.rule(rule).waivable


# --- defaults ---------------------------------------------------------------------------------------------

# Stricter with the highest target level of any FR (docs/gates.md, "Defaults"). Levels 0 and 1 read as 1.
_COMMITS_PERCENT = {1: 80, 2: 90, 3: 100, 4: 100}
_THREAT_MODEL_MONTHS = {1: 12, 2: 12, 3: 6, 4: 6}
_FUZZ_HOURS = {1: 0.0, 2: 0.0, 3: 24.0, 4: 72.0}
_UNDER_INVESTIGATION_DAYS = {1: 30, 2: 30, 3: 14, 4: 7}
_CVSS_THRESHOLD = {1: 7.0, 2: 7.0, 3: 4.0, 4: 0.1}
# Devices (embedded, host, network) are fuzzed on every interface from SL-C 3: fieldbus, serial and USB
# ports are attack surface there; a software application's other interfaces are its host's.
_DEVICE_TYPES = frozenset({"EDR", "HDR", "NDR"})


def default_policy(component_type: str, target_sl: Mapping[str, int]) -> Policy:
    """The policy a product of `component_type` (SAR, EDR, HDR, NDR) with this target SL-C vector starts from."""
    errors = []
    if component_type not in COMPONENT_TYPES:
        errors.append(FieldError("component_type", f"one of {', '.join(COMPONENT_TYPES)}, not {component_type!r}"))
    for fr, level in target_sl.items():
        if fr not in FOUNDATIONAL_REQUIREMENTS:
            errors.append(
                FieldError(
                    f"target_sl.{fr}", f"not a foundational requirement ({', '.join(FOUNDATIONAL_REQUIREMENTS)})"
                )
            )
        elif isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 4:
            errors.append(FieldError(f"target_sl.{fr}", "a target level is 0 (none) to 4"))
    if errors:
        raise Invalid("cannot build a default gate policy", errors=errors)
    level = max([1, *target_sl.values()])
    return Policy(
        threat_model=ThreatModel(max_age_months=_THREAT_MODEL_MONTHS[level]),
        commits_reviewed=CommitsReviewed(minimum_percent=_COMMITS_PERCENT[level]),
        fuzzing=Fuzzing(
            interfaces=FuzzScope.ALL if component_type in _DEVICE_TYPES and level >= 3 else FuzzScope.NETWORK,
            minimum_hours=_FUZZ_HOURS[level],
        ),
        penetration_test=PenetrationTest(
            minimum_independence=TesterIndependence.ORGANISATION if level == 4 else PENETRATION_TEST_FLOOR
        ),
        sbom_triage=SbomTriage(max_under_investigation_days=_UNDER_INVESTIGATION_DAYS[level]),
        open_issues=OpenIssues(cvss_threshold=_CVSS_THRESHOLD[level]),
    )


# --- the YAML form: pydantic models of what a document may say --------------------------------------------

POLICY_FORMAT = "sdl-tracker/gate-policy"
POLICY_VERSION = 1
MAX_YAML_BYTES = 64 * 1024  # a full policy is under 2 KiB
MAX_YAML_DEPTH = 8  # a policy nests four deep (rules, rule, parameter, list item)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    enabled: bool
    waivable: bool


class _RecordsIn(_Entry):
    practices: list[Literal["SM", "SR", "SD", "SI", "SVV", "DM", "SUM", "SG"]] = Field(min_length=1, max_length=8)

    @field_validator("practices")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each practice at most once")
        return value


class _ThreatModelIn(_Entry):
    max_age_months: int = Field(ge=1, le=24)


class _CommitsIn(_Entry):
    minimum_percent: int = Field(ge=1, le=100)


class _FuzzingIn(_Entry):
    interfaces: Annotated[FuzzScope, Field(strict=False)]
    minimum_hours: float = Field(ge=0, le=10_000, allow_inf_nan=False)


class _PenTestIn(_Entry):
    minimum_independence: Annotated[TesterIndependence, Field(strict=False)]

    @field_validator("minimum_independence")
    @classmethod
    def _table_3(cls, value: TesterIndependence) -> TesterIndependence:
        if not value.meets(PENETRATION_TEST_FLOOR):
            raise ValueError(
                f"IEC 62443-4-1 Table 3 asks penetration testing of at least an {PENETRATION_TEST_FLOOR.value}; "
                f"{value.value} is below it"
            )
        return value


class _SecurityLevelIn(_Entry):
    allow_risk_acceptance: bool


class _SbomIn(_Entry):
    max_under_investigation_days: int = Field(ge=1, le=365)


class _NoExploitableIn(_Entry):
    @field_validator("enabled")
    @classmethod
    def _always_on(cls, value: bool) -> bool:
        if not value:
            raise ValueError(CRA_2A_REFUSAL)
        return value

    @field_validator("waivable")
    @classmethod
    def _never_waived(cls, value: bool) -> bool:
        if value:
            raise ValueError(CRA_2A_REFUSAL)
        return value


class _OpenIssuesIn(_Entry):
    cvss_threshold: float = Field(ge=0, le=10, allow_inf_nan=False)


class _PatchIn(_Entry):
    required_records: list[Literal["qualification", "documentation", "delivery"]] = Field(max_length=3)
    security_fixes_separate: bool

    @field_validator("required_records")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each record at most once")
        return value


class _CraIn(_Entry):
    require_complete_file: bool
    no_overdue_clocks: bool


class _RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    records_in_scope: _RecordsIn
    threat_model: _ThreatModelIn
    commits_reviewed: _CommitsIn
    fuzzing: _FuzzingIn
    penetration_test: _PenTestIn
    security_level: _SecurityLevelIn
    sbom_triage: _SbomIn
    no_known_exploitable: _NoExploitableIn
    open_issues: _OpenIssuesIn
    patch_release: _PatchIn
    cra_duties: _CraIn


class _PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    format: Literal["sdl-tracker/gate-policy"]
    version: Literal[1]
    rules: _RulesIn


def _policy_of(document: _PolicyIn) -> Policy:
    rules = document.rules
    return Policy(
        records_in_scope=RecordsInScope(
            rules.records_in_scope.enabled, rules.records_in_scope.waivable, tuple(rules.records_in_scope.practices)
        ),
        threat_model=ThreatModel(**rules.threat_model.model_dump()),
        commits_reviewed=CommitsReviewed(**rules.commits_reviewed.model_dump()),
        fuzzing=Fuzzing(**rules.fuzzing.model_dump()),
        penetration_test=PenetrationTest(**rules.penetration_test.model_dump()),
        security_level=SecurityLevel(**rules.security_level.model_dump()),
        sbom_triage=SbomTriage(**rules.sbom_triage.model_dump()),
        no_known_exploitable=NoKnownExploitable(),
        open_issues=OpenIssues(cvss_threshold=float(rules.open_issues.cvss_threshold), **_switches(rules.open_issues)),
        patch_release=PatchRelease(
            rules.patch_release.enabled,
            rules.patch_release.waivable,
            tuple(rules.patch_release.required_records),
            rules.patch_release.security_fixes_separate,
        ),
        cra_duties=CraDuties(**rules.cra_duties.model_dump()),
    )


def _switches(entry: _Entry) -> dict[str, bool]:
    return {"enabled": entry.enabled, "waivable": entry.waivable}


def policy_document(policy: Policy) -> dict[str, Any]:
    """The policy as the plain mapping its YAML (and digest) is written from, rules in `RuleId` order."""
    rules: dict[str, Any] = {}
    for rule in RuleId:
        entry = asdict(policy.rule(rule))
        rules[rule.value] = {
            key: (list(value) if isinstance(value, tuple) else str(value) if isinstance(value, enum.Enum) else value)
            for key, value in entry.items()
        }
    rules[RuleId.FUZZING]["minimum_hours"] = float(policy.fuzzing.minimum_hours)
    rules[RuleId.OPEN_ISSUES]["cvss_threshold"] = float(policy.open_issues.cvss_threshold)
    return {"format": POLICY_FORMAT, "version": POLICY_VERSION, "rules": rules}


def policy_to_yaml(policy: Policy) -> str:
    """The policy as a YAML document (block style, rules in order), which `policy_from_yaml` reads back."""
    return yaml.safe_dump(policy_document(policy), sort_keys=False, allow_unicode=True, default_flow_style=False)


def policy_digest(policy: Policy) -> str:
    """sha256 of the policy's canonical JSON: a stored result names the policy it was judged by."""
    canonical = json.dumps(policy_document(policy), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases (no expansion bombs, one reading of each value),
    duplicate keys (the last would silently win) or deep nesting (the composer recurses)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(
                None, None, "anchors and aliases (&, *) are not accepted in a gate policy", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.MarkedYAMLError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (list, dict)) or key in seen:
                raise yaml.MarkedYAMLError(None, None, f"key {key!r} repeated or not a plain key", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_error(message: str) -> Invalid:
    return Invalid.field("yaml", message)


def _load(text: str) -> Any:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_YAML_BYTES:
        raise _yaml_error(f"{size} bytes; a gate policy is at most {MAX_YAML_BYTES}")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader, stricter still)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _yaml_error(f"not valid YAML: {where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise _yaml_error(f"not valid YAML: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}") from None


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the mapping at `loc` accepts (for an "unknown key" message)."""
    model: type[BaseModel] = _PolicyIn
    for part in loc:
        info = model.model_fields.get(str(part))
        if info is None or not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)):
            return []
        model = info.annotation
    return list(model.model_fields)


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(tuple(err["loc"][:-1]))
        return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    if err["type"] == "missing":
        return "required"
    return str(err["msg"]).removeprefix("Value error, ")


def policy_from_document(data: Any) -> Policy:
    """A policy from its plain mapping (YAML or JSON read), else Invalid whose fields are the document's paths
    (`rules.commits_reviewed.minimum_percent`)."""
    if not isinstance(data, dict):
        raise Invalid.field("yaml", "the gate policy must be a mapping with format, version and rules")
    try:
        document = _PolicyIn.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(part) for part in err["loc"]) or "yaml", _message(err))
            for err in exc.errors(include_url=False)
        ]
        message = errors[0].message if len(errors) == 1 else "the gate policy is invalid"
        raise Invalid(message, errors=errors) from None
    return _policy_of(document)


def policy_from_yaml(text: str) -> Policy:
    """A policy from its YAML document, else Invalid whose fields are the YAML paths (`rules.fuzzing.enabled`)."""
    return policy_from_document(_load(text))
