"""CVE and CWE ids: the CVE program's syntax, lookups in the packaged CWE list, and the refusals."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdl_tracker.psirt.vocabulary import (
    CweKind,
    VocabularyError,
    cwe_entry,
    cwe_label,
    cwe_list,
    cwe_name,
    parse_cve,
    parse_cwe,
)

XSS = "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"


# CVE ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CVE-1999-0001", "CVE-1999-0001"),  # the first year of the CVE list
        ("CVE-2024-3094", "CVE-2024-3094"),
        ("cve-2021-44228", "CVE-2021-44228"),  # normalised to upper case
        ("  CVE-2014-0160\n", "CVE-2014-0160"),  # surrounding space as pasted
        ("CVE-2024-0001", "CVE-2024-0001"),  # four digits with leading zeros
        ("CVE-2024-123456", "CVE-2024-123456"),  # more than four digits, as ids have had since 2014
        ("CVE-2024-1234567890123456789", "CVE-2024-1234567890123456789"),  # nineteen, the record format's longest
    ],
)
def test_cve_ids_by_the_cve_syntax_are_accepted_in_upper_case(text: str, expected: str) -> None:
    assert parse_cve(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CVE-2024-123",  # three digits
        "CVE-2024-12345678901234567890",  # twenty digits
        "CVE-24-1234",
        "CVE-2024",
        "CVE 2024 1234",
        "CVE-2024-1234a",
        "2024-1234",
        "GHSA-jfh8-c2jp-5v3q",
        "CVE-2024-\uff11\uff12\uff13\uff14",  # full-width digits are not ASCII digits
        "CVE-2024-1234\nCVE-2024-1235",
        "",
    ],
)
def test_malformed_cve_ids_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(VocabularyError, match="is not a CVE id: write CVE-YYYY-NNNN") as refused:
        parse_cve(text)
    assert "\n" not in str(refused.value)


def test_a_cve_year_before_1999_is_refused() -> None:
    with pytest.raises(VocabularyError, match=r"^CVE-1998-0001 names a year before 1999"):
        parse_cve("CVE-1998-0001")


def test_a_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(VocabularyError) as refused:
        parse_cve("CVE-" + "9" * 10_000)
    assert len(str(refused.value)) < 200


@given(st.text(max_size=40))
def test_any_text_is_a_cve_id_or_refused_with_one_line(text: str) -> None:
    try:
        assert parse_cve(parse_cve(text)) == parse_cve(text)
    except VocabularyError as refused:
        assert "\n" not in str(refused)


# The packaged CWE list


def test_the_packaged_list_is_cwe_4_20_with_every_kind() -> None:
    listed = cwe_list()
    assert (listed.version, listed.date) == ("4.20", "2026-04-30")
    kinds = [entry.kind for entry in listed.entries.values()]
    # MITRE's CWE 4.20: 969 weaknesses (25 of them deprecated), 422 categories, 59 views.
    assert (kinds.count(CweKind.WEAKNESS), kinds.count(CweKind.CATEGORY), kinds.count(CweKind.VIEW)) == (969, 422, 59)
    assert sum(entry.deprecated and entry.kind is CweKind.WEAKNESS for entry in listed.entries.values()) == 25


def test_the_data_file_carries_its_source_and_mitres_notice() -> None:
    text = resources.files("sdl_tracker.psirt").joinpath("data", "cwe.json").read_text(encoding="utf-8")
    header = json.loads(text)
    assert header["source_url"] == "https://cwe.mitre.org/data/xml/cwec_v4.20.xml.zip"
    assert header["terms_of_use"] == "https://cwe.mitre.org/about/termsofuse.html"
    assert "Copyright (c) 2006-2026, The MITRE Corporation" in header["notice"]
    assert "reproduce MITRE's copyright designation and this license" in header["notice"]
    assert header["generator"] == "scripts/cwe_list.py"


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (79, XSS),
        (89, "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"),
        (787, "Out-of-bounds Write"),
        (20, "Improper Input Validation"),
    ],
)
def test_well_known_weaknesses_have_their_names(number: int, name: str) -> None:
    assert cwe_name(number) == name
    assert cwe_label(number) == f"CWE-{number}: {name}"
    entry = cwe_entry(number)
    assert entry is not None and entry.kind is CweKind.WEAKNESS and not entry.deprecated


def test_the_label_of_cross_site_scripting() -> None:
    assert cwe_label(79) == f"CWE-79: {XSS}"


def test_a_category_and_a_view_are_listed_with_their_kind() -> None:
    configuration = cwe_entry(16)
    assert configuration is not None
    assert (configuration.name, configuration.kind, configuration.status) == ("Configuration", "category", "Obsolete")
    assert cwe_label(1000) == "CWE-1000: Research Concepts"
    assert cwe_entry(1000) is not None and cwe_entry(1000).kind is CweKind.VIEW  # type: ignore[union-attr]


def test_a_deprecated_entry_says_so() -> None:
    entry = cwe_entry(71)
    assert entry is not None and entry.deprecated and entry.kind is CweKind.WEAKNESS
    assert cwe_label(71) == "CWE-71: DEPRECATED: Apple '.DS_Store'"


def test_a_number_the_list_does_not_have() -> None:
    assert cwe_entry(99999) is None
    assert cwe_name(99999) is None
    with pytest.raises(VocabularyError, match=r"^CWE-99999 is not in the CWE list 4\.20: use an id it lists"):
        cwe_label(99999)


# CWE ids a case records


@pytest.mark.parametrize(("text", "expected"), [("CWE-79", 79), ("79", 79), ("cwe-787", 787), (" CWE-20 ", 20)])
def test_a_weakness_is_accepted_by_id_or_number(text: str, expected: int) -> None:
    assert parse_cwe(text) == expected


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("CWE-99999", r"^CWE-99999 is not in the CWE list 4\.20: use an id it lists \(https://cwe\.mitre\.org/"),
        ("0", r"^CWE-0 is not in the CWE list"),
        ("CWE-71", r"^CWE-71 is deprecated in the CWE list 4\.20 \(DEPRECATED: Apple '\.DS_Store'\)"),
        ("CWE-16", r"^CWE-16 is a category in the CWE list 4\.20 \(Configuration\), not a weakness"),
        ("CWE-1000", r"^CWE-1000 is a view in the CWE list 4\.20 \(Research Concepts\), not a weakness"),
        ("CWE79", r"is not a CWE id: write CWE-79 or 79"),
        ("CWE-", r"is not a CWE id"),
        ("CWE-7.9", r"is not a CWE id"),
        ("CWE-12345678", r"is not a CWE id"),  # beyond any id, refused before any number is made
        ("CVE-2024-3094", r"is not a CWE id"),
        ("", r"is not a CWE id"),
    ],
)
def test_what_a_case_cannot_record_is_refused_in_one_line(text: str, refusal: str) -> None:
    with pytest.raises(VocabularyError, match=refusal) as refused:
        parse_cwe(text)
    assert "\n" not in str(refused.value)


@given(st.text(max_size=20))
def test_any_text_is_a_listed_weakness_or_refused(text: str) -> None:
    try:
        number = parse_cwe(text)
    except VocabularyError as refused:
        assert "\n" not in str(refused)
    else:
        entry = cwe_entry(number)
        assert entry is not None and entry.kind is CweKind.WEAKNESS and not entry.deprecated
