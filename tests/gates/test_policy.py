"""The gate policy: defaults per component type and target SL-C, and its YAML form (no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.vocabulary import TesterIndependence as Independence
from sdl_tracker.gates.policy import (
    CRA_2A_REFUSAL,
    MAX_YAML_BYTES,
    CommitsReviewed,
    FuzzScope,
    NoKnownExploitable,
    OpenIssues,
    PatchRelease,
    Policy,
    RecordsInScope,
    RuleId,
    ThreatModel,
    default_policy,
    policy_digest,
    policy_from_document,
    policy_from_yaml,
    policy_to_yaml,
)


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


# --- defaults ------------------------------------------------------------------------------------------------


def test_defaults_get_stricter_with_the_highest_target_level() -> None:
    low = default_policy("SAR", {"FR1": 1, "FR2": 1})
    high = default_policy("SAR", {"FR1": 1, "FR2": 4})
    assert low.commits_reviewed.minimum_percent == 80 and high.commits_reviewed.minimum_percent == 100
    assert low.threat_model.max_age_months == 12 and high.threat_model.max_age_months == 6
    assert low.open_issues.cvss_threshold == 7.0 and high.open_issues.cvss_threshold == 0.1
    assert low.sbom_triage.max_under_investigation_days == 30 and high.sbom_triage.max_under_investigation_days == 7
    assert low.fuzzing.minimum_hours == 0 and high.fuzzing.minimum_hours == 72
    assert low.penetration_test.minimum_independence is Independence.DEPARTMENT
    assert high.penetration_test.minimum_independence is Independence.ORGANISATION


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_every_default_switches_every_rule_on_and_keeps_2a_unwaivable(level: int) -> None:
    policy = default_policy("NDR", {"FR1": level})
    assert all(policy.rule(rule).enabled for rule in RuleId)
    assert not policy.waivable(RuleId.NO_KNOWN_EXPLOITABLE)
    assert all(policy.waivable(rule) for rule in RuleId if rule is not RuleId.NO_KNOWN_EXPLOITABLE)


def test_devices_are_fuzzed_on_every_interface_from_level_3_applications_on_network_ones() -> None:
    assert default_policy("EDR", {"FR3": 3}).fuzzing.interfaces is FuzzScope.ALL
    assert default_policy("EDR", {"FR3": 2}).fuzzing.interfaces is FuzzScope.NETWORK
    assert default_policy("SAR", {"FR3": 4}).fuzzing.interfaces is FuzzScope.NETWORK


def test_an_empty_or_zero_target_reads_as_level_1() -> None:
    assert default_policy("HDR", {}) == default_policy("HDR", {"FR1": 0}) == default_policy("HDR", {"FR1": 1})


def test_default_policy_refuses_unknown_types_frs_and_levels() -> None:
    with pytest.raises(Invalid) as exc:
        default_policy("PLC", {"FR9": 2, "FR1": 5, "FR2": True})  # type: ignore[dict-item]
    assert set(_fields(exc)) == {"component_type", "target_sl.FR9", "target_sl.FR1", "target_sl.FR2"}


def test_the_2a_rule_cannot_be_switched_off_or_made_waivable_in_code() -> None:
    with pytest.raises(Invalid, match="cannot be switched off or waived"):
        NoKnownExploitable(enabled=False)
    with pytest.raises(Invalid, match="cannot be switched off or waived"):
        NoKnownExploitable(waivable=True)


def test_a_rule_the_policy_makes_unwaivable_is_not_waivable() -> None:
    policy = replace(Policy(), open_issues=OpenIssues(waivable=False))
    assert not policy.waivable(RuleId.OPEN_ISSUES) and policy.waivable(RuleId.FUZZING)


# --- YAML round trip -----------------------------------------------------------------------------------------


CUSTOM = replace(
    Policy(),
    records_in_scope=RecordsInScope(practices=("SM", "SVV")),
    threat_model=ThreatModel(enabled=False),
    commits_reviewed=CommitsReviewed(waivable=False, minimum_percent=1),
    open_issues=OpenIssues(cvss_threshold=0.0),
    patch_release=PatchRelease(required_records=(), security_fixes_separate=False),
)


@pytest.mark.parametrize(
    "policy",
    [Policy(), CUSTOM]
    + [default_policy(t, {"FR1": level}) for t in ("SAR", "EDR", "HDR", "NDR") for level in (1, 2, 3, 4)],
)
def test_yaml_round_trip_is_exact(policy: Policy) -> None:
    text = policy_to_yaml(policy)
    assert policy_from_yaml(text) == policy
    assert policy_to_yaml(policy_from_yaml(text)) == text


def test_the_yaml_names_its_format_and_lists_rules_in_order() -> None:
    text = policy_to_yaml(Policy())
    assert text.startswith("format: sdl-tracker/gate-policy\nversion: 1\nrules:\n  records_in_scope:\n")
    positions = [text.index(f"  {rule.value}:\n") for rule in RuleId]
    assert positions == sorted(positions)


def test_a_hand_written_policy_reads_and_integers_stand_for_floats() -> None:
    text = policy_to_yaml(Policy()).replace("cvss_threshold: 7.0", "cvss_threshold: 9").replace("# x", "")
    policy = policy_from_yaml("# a comment\n" + text)
    assert policy.open_issues.cvss_threshold == 9.0 and isinstance(policy.open_issues.cvss_threshold, float)


def test_policy_digest_is_stable_and_changes_with_any_parameter() -> None:
    assert policy_digest(Policy()) == policy_digest(policy_from_yaml(policy_to_yaml(Policy())))
    assert policy_digest(Policy()) != policy_digest(
        replace(Policy(), fuzzing=replace(Policy().fuzzing, minimum_hours=1))
    )


def test_policy_from_document_takes_the_same_mapping_as_json() -> None:
    import yaml

    document = yaml.safe_load(policy_to_yaml(CUSTOM))
    assert policy_from_document(document) == CUSTOM


# --- refused input -------------------------------------------------------------------------------------------

GOOD = policy_to_yaml(Policy())


def _edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("rules: [", "yaml", "not valid YAML: line 1"),
        ("rules:\n\tfuzzing: 1\n", "yaml", "not valid YAML"),
        ("- format\n- rules\n", "yaml", "must be a mapping"),
        ("just a string", "yaml", "must be a mapping"),
        ("", "yaml", "must be a mapping"),
        ("a: &x 1\nb: *x\n", "yaml", "anchors and aliases"),
        ("a: &x 1\n", "yaml", "anchors and aliases"),
        ("a: 1\na: 2\n", "yaml", "key 'a' repeated"),
        ("a: " + "[" * 20 + "]" * 20 + "\n", "yaml", "nested deeper than"),
        (GOOD + "owner: me\n", "owner", "unknown key (allowed: format, version, rules)"),
        (_edit("  cra_duties:\n", "  colour: {}\n  cra_duties:\n"), "rules.colour", "unknown key"),
        (
            _edit("    max_age_months: 12\n", "    max_age_months: 12\n    grace: 2\n"),
            "rules.threat_model.grace",
            "allowed: enabled, waivable, max_age_months",
        ),
        (
            _edit("    minimum_percent: 90\n", "    minimum_percent: 101\n"),
            "rules.commits_reviewed.minimum_percent",
            "less than or equal to 100",
        ),
        (
            _edit("    minimum_percent: 90\n", "    minimum_percent: '90'\n"),
            "rules.commits_reviewed.minimum_percent",
            "valid integer",
        ),
        (
            _edit("    minimum_percent: 90\n", "    minimum_percent: true\n"),
            "rules.commits_reviewed.minimum_percent",
            "valid integer",
        ),
        (_edit("    minimum_percent: 90\n", ""), "rules.commits_reviewed.minimum_percent", "required"),
        (
            _edit("    cvss_threshold: 7.0\n", "    cvss_threshold: .nan\n"),
            "rules.open_issues.cvss_threshold",
            "finite",
        ),
        (
            _edit("    cvss_threshold: 7.0\n", "    cvss_threshold: 10.5\n"),
            "rules.open_issues.cvss_threshold",
            "less than or equal to 10",
        ),
        (
            _edit("    interfaces: network\n", "    interfaces: some\n"),
            "rules.fuzzing.interfaces",
            "'network' or 'all'",
        ),
        (_edit("    - SG\n", "    - SM\n"), "rules.records_in_scope.practices", "each practice at most once"),
        (_edit("    - SG\n", "    - XX\n"), "rules.records_in_scope.practices.7", "Input should be"),
        (_edit("    - delivery\n", "    - invoicing\n"), "rules.patch_release.required_records.2", "Input should be"),
        (
            _edit("minimum_independence: independent-department", "minimum_independence: independent-person"),
            "rules.penetration_test.minimum_independence",
            "Table 3",
        ),
        (
            _edit("  no_known_exploitable:\n    enabled: true\n", "  no_known_exploitable:\n    enabled: false\n"),
            "rules.no_known_exploitable.enabled",
            CRA_2A_REFUSAL,
        ),
        (
            _edit(
                "  no_known_exploitable:\n    enabled: true\n    waivable: false\n",
                "  no_known_exploitable:\n    enabled: true\n    waivable: true\n",
            ),
            "rules.no_known_exploitable.waivable",
            CRA_2A_REFUSAL,
        ),
        (
            _edit("  no_known_exploitable:\n    enabled: true\n    waivable: false\n", ""),
            "rules.no_known_exploitable",
            "required",
        ),
        (_edit("format: sdl-tracker/gate-policy", "format: other"), "format", "sdl-tracker/gate-policy"),
        (_edit("version: 1", "version: 2"), "version", "1"),
        (_edit("version: 1", "version: '1'"), "version", "1"),
    ],
)
def test_bad_policies_are_refused_naming_the_yaml_path(text: str, field: str, words: str) -> None:
    with pytest.raises(Invalid) as exc:
        policy_from_yaml(text)
    assert field in _fields(exc), exc.value.errors
    assert words in _fields(exc)[field]


def test_a_policy_over_the_size_cap_is_refused_before_it_is_parsed() -> None:
    text = GOOD + "#" + "x" * MAX_YAML_BYTES + "\n"
    with pytest.raises(Invalid, match=f"at most {MAX_YAML_BYTES}"):
        policy_from_yaml(text)


def test_a_billion_laughs_document_is_refused_at_its_first_anchor() -> None:
    lol = 'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    with pytest.raises(Invalid, match="anchors and aliases"):
        policy_from_yaml(lol)


def test_python_tags_are_refused_by_the_safe_loader() -> None:
    with pytest.raises(Invalid, match="not valid YAML"):
        policy_from_yaml("a: !!python/object/apply:os.system ['true']\n")


def test_several_problems_are_reported_together() -> None:
    text = _edit("    minimum_percent: 90\n", "    minimum_percent: 0\n").replace(
        "    max_age_months: 12\n", "    max_age_months: 99\n"
    )
    with pytest.raises(Invalid) as exc:
        policy_from_yaml(text)
    assert exc.value.message == "the gate policy is invalid"
    assert {"rules.commits_reviewed.minimum_percent", "rules.threat_model.max_age_months"} <= set(_fields(exc))


def test_the_example_in_the_documentation_reads() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "gates.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    policy = policy_from_yaml(example)
    assert not policy.waivable(RuleId.OPEN_ISSUES) and policy.waivable(RuleId.FUZZING)
