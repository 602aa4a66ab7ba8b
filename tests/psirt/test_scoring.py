"""CVSS v3.1 and v4.0 vectors: FIRST's published example scores, normalisation, the breakdown, and the refusals."""

from __future__ import annotations

import pytest
from cvss import constants3, constants4
from hypothesis import given
from hypothesis import strategies as st

from sdl_tracker.psirt.scoring import MAX_VECTOR_LENGTH, Score, ScoringError, Severity, parse_vector

# FIRST, "Common Vulnerability Scoring System v3.1: Examples" (https://www.first.org/cvss/v3.1/examples):
# each example's CVSS v3.1 base vector and the base score published with it.
V3_1_EXAMPLES = [
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, Severity.MEDIUM),  # MySQL SQL injection, CVE-2013-0375
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, Severity.LOW),  # SSLv3 POODLE, CVE-2014-3566
    ("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2, Severity.MEDIUM),  # Tomcat XML parser, CVE-2009-0783
    ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, Severity.HIGH),  # Cisco IOS commands, CVE-2012-0384
    ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8, Severity.HIGH),  # Apple iWork DoS, CVE-2015-1098
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, Severity.HIGH),  # OpenSSL Heartbleed, CVE-2014-0160
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8, Severity.MEDIUM),  # DNS Kaminsky bug, CVE-2008-1447
    ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8, Severity.MEDIUM),  # Sophos login bypass, CVE-2014-2005
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8, Severity.MEDIUM),  # Joomla traversal, CVE-2010-0467
    ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3, Severity.CRITICAL),  # Juniper proxy ARP DoS, CVE-2013-6014
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 9.6, Severity.CRITICAL),  # Chrome sandbox bypass, CVE-2012-5376
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, Severity.MEDIUM),  # WordPress Mail plugin XSS, CVE-2017-5942
]

# FIRST, "Common Vulnerability Scoring System v4.0: Examples" (https://www.first.org/cvss/v4.0/examples):
# each example's vector and the CVSS-B (or CVSS-BT) score published with it.
V4_0_EXAMPLES = [
    ("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.3, "CVSS-B"),  # NGINX mp4, CVE-2022-41741
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.7, "CVSS-B"),  # Cisco FMC, CVE-2020-3549
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 5.2, "CVSS-BT"),  # the same, unreported
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N", 8.3, "CVSS-B"),  # OpenShift FIPS, CVE-2023-3089
    ("CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 4.6, "CVSS-B"),  # Adobe Reader CVE-2021-44714
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.1, "CVSS-B"),  # Zimbra XSS CVE-2022-24682
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 6.9, "CVSS-B"),  # Juniper EX4650 CVE-2022-22186
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0, "CVSS-B"),  # log4shell, CVE-2021-44228
]


@pytest.mark.parametrize(("vector", "score", "severity"), V3_1_EXAMPLES)
def test_firsts_v3_1_examples_score_as_published(vector: str, score: float, severity: Severity) -> None:
    scored = parse_vector(vector)
    assert (scored.version, scored.vector, scored.base_score, scored.severity) == ("3.1", vector, score, severity)
    assert scored.nomenclature is None


@pytest.mark.parametrize(("vector", "score", "nomenclature"), V4_0_EXAMPLES)
def test_firsts_v4_0_examples_score_as_published(vector: str, score: float, nomenclature: str) -> None:
    scored = parse_vector(vector)
    assert (scored.version, scored.vector, scored.base_score) == ("4.0", vector, score)
    assert scored.nomenclature == nomenclature


@pytest.mark.parametrize(
    ("vector", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", Severity.NONE),  # no impact scores 0.0
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Severity.CRITICAL),  # 10.0
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", Severity.NONE),
    ],
)
def test_the_ends_of_the_scale(vector: str, severity: Severity) -> None:
    scored = parse_vector(vector)
    assert scored.severity is severity
    assert scored.base_score == (0.0 if severity is Severity.NONE else 10.0)


def test_the_metrics_are_broken_down_by_name_for_display() -> None:
    scored = parse_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")
    assert scored.metrics == (
        ("Attack Vector", "Network"),
        ("Attack Complexity", "Low"),
        ("Privileges Required", "None"),
        ("User Interaction", "None"),
        ("Scope", "Unchanged"),
        ("Confidentiality", "High"),
        ("Integrity", "None"),
        ("Availability", "None"),
    )
    assert parse_vector(V4_0_EXAMPLES[2][0]).metrics[-1] == ("Exploit Maturity", "Unreported")


def test_a_vector_is_normalised_to_the_specifications_order_without_undefined_metrics() -> None:
    scored = parse_vector("  CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U/E:X/RL:O\n")
    assert scored.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/RL:O"
    assert scored.base_score == 9.8  # the base score, whatever temporal metrics come with it
    assert ("Remediation Level", "Official Fix") in scored.metrics


def test_v4_threat_and_environmental_metrics_name_the_score() -> None:
    base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert parse_vector(base + "/E:A").nomenclature == "CVSS-BT"
    assert parse_vector(base + "/MAV:L").nomenclature == "CVSS-BE"
    assert parse_vector(base + "/E:P/CR:L").nomenclature == "CVSS-BTE"
    supplemental = parse_vector(base + "/S:P/U:Clear")  # supplemental metrics change neither score nor name
    assert (supplemental.nomenclature, supplemental.base_score) == ("CVSS-B", parse_vector(base).base_score)
    assert supplemental.metrics[-2:] == (("Safety", "Present"), ("Provider Urgency", "Clear"))


def test_the_longest_vectors_fit_the_length_bound() -> None:
    for prefix, constants in (("CVSS:3.1/", constants3), ("CVSS:4.0/", constants4)):
        every_metric = "/".join(
            f"{metric}:{max(constants.METRICS_VALUE_NAMES[metric], key=len)}"
            for metric in constants.METRICS_ABBREVIATIONS
        )
        vector = prefix + every_metric
        assert len(vector) < 200 < MAX_VECTOR_LENGTH
        assert isinstance(parse_vector(vector), Score)


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("", r"^no CVSS vector given"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", r"^CVSS v2 vectors are not accepted"),
        ("(AV:N/AC:L/Au:N/C:C/I:C/A:C)", r"^CVSS v2 vectors are not accepted"),
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", r"^CVSS version 2\.0 is not accepted"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", r"^CVSS version 3\.0 is not accepted"),
        ("CVSS:5.0/AV:N", r"^CVSS version 5\.0 is not accepted"),
        ("CVSS:/AV:N", r"^CVSS version \(none\) is not accepted"),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", r"^a CVSS vector starts with its version"),
        ("cvss:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h", r"^write the prefix in upper case: CVSS:3\.1/"),
        ("CVSS:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h", r'Unknown metric "av"'),
        ("CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", r'Unknown value "n" in field "AV:n"'),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", r'^not a valid CVSS 3\.1 vector: Missing mandatory metrics "A"'),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H", r'Missing mandatory metrics "SC, SI, SA"'),
        ("CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", r'Duplicate metric "AV"'),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/SA:N", r'Duplicate metric "SA"'),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y", r'Unknown metric "XX"'),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:Q", r'Invalid metric value .*"S:Q"'),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/", r'trailing "/"'),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A", r'Malformed CVSS3 field "A"'),
        ("CVSS:3.1/AV:N AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", r"^a CVSS vector has only letters, digits and the separators"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\nCVSS:3.1/AV:N", r"has only letters, digits"),
        ("CVSS:3.1/" + "AV:N/" * 60, r"^CVSS vector of 309 characters: no valid vector is longer than 255"),
    ],
)
def test_what_is_not_a_v3_1_or_v4_0_vector_is_refused_in_one_line(text: str, refusal: str) -> None:
    with pytest.raises(ScoringError, match=refusal) as refused:
        parse_vector(text)
    assert "\n" not in str(refused.value)


@given(
    st.sampled_from(["CVSS:3.1/", "CVSS:4.0/", "cvss:4.0/", ""]),
    st.text(alphabet="ACEHILMNPRSTUVX:/ .3", max_size=120),
)
def test_any_text_is_scored_or_refused_with_a_scoring_error(prefix: str, rest: str) -> None:
    text = prefix + rest
    try:
        scored = parse_vector(text)
    except ScoringError as refused:
        assert "\n" not in str(refused)
    else:
        assert parse_vector(scored.vector) == scored
