"""CSAF 2.0 validity: the OASIS schema and every mandatory test, proven on the TC's own examples."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdl_tracker.vex import validity
from sdl_tracker.vex.validity import Failure, check, file_name

EXAMPLES = Path(__file__).parent / "data" / "csaf-mandatory"
PUBLISHED = Path(__file__).parent / "data" / "csaf-examples"
# Section 6.1 of CSAF 2.0: 6.1.1 to 6.1.33, with 6.1.27 made of the eleven profile tests.
SPECIFIED = [
    *(f"6.1.{n}" for n in range(1, 27)),
    *(f"6.1.27.{n}" for n in range(1, 12)),
    *(f"6.1.{n}" for n in range(28, 34)),
]


@cache
def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


def _mandatory_cases() -> list[dict[str, Any]]:
    index = json.loads((EXAMPLES / "testcases.json").read_text(encoding="utf-8"))
    return [test for test in index["tests"] if test["group"] == "mandatory"]


def _examples(kind: str) -> list[tuple[str, str]]:
    return [
        (test["id"], entry["name"].removeprefix("mandatory/"))
        for test in _mandatory_cases()
        for entry in test.get(kind, [])
    ]


def _tests(document: dict[str, Any]) -> set[str]:
    return {failure.test for failure in check(document)}


def _minimal(**changes: Any) -> dict[str, Any]:
    """A valid csaf_base document, changed."""
    document = copy.deepcopy(_example("oasis_csaf_tc-csaf_2_0-2021-6-1-01-11.json"))
    document.update(changes)
    return document


def _scored(cvss: dict[str, Any], key: str = "cvss_v3") -> dict[str, Any]:
    """A valid document whose one vulnerability has one score, this CVSS object."""
    document = copy.deepcopy(_example("oasis_csaf_tc-csaf_2_0-2021-6-1-09-11.json"))
    document["vulnerabilities"][0]["scores"] = [{"products": ["CSAFPID-9080700"], key: cvss}]
    return document


def test_every_mandatory_test_is_implemented_and_has_the_tcs_examples() -> None:
    assert list(validity.MANDATORY_TESTS) == SPECIFIED
    assert sorted(test["id"] for test in _mandatory_cases()) == sorted(SPECIFIED)
    assert all(test.get("failures") for test in _mandatory_cases())


@pytest.mark.parametrize(("test", "name"), _examples("failures"))
def test_each_invalid_example_fails_its_test(test: str, name: str) -> None:
    assert test in _tests(_example(name))


@pytest.mark.parametrize(("test", "name"), _examples("valid"))
def test_each_valid_example_passes_every_test(test: str, name: str) -> None:
    assert check(_example(name)) == []


@pytest.mark.parametrize("path", sorted(PUBLISHED.glob("*.json")), ids=lambda path: path.name)
def test_the_specifications_example_advisories_and_vex_documents_pass(path: Path) -> None:
    assert check(json.loads(path.read_text(encoding="utf-8"))) == []


def test_failures_name_the_test_the_place_and_what_is_wrong_in_one_line() -> None:
    failures = check(_example("oasis_csaf_tc-csaf_2_0-2021-6-1-27-09-01.json"))
    assert failures == [
        Failure(
            "6.1.27.9",
            "/vulnerabilities/0/product_status/known_not_affected/2",
            "product CSAFPID-9080702 is known_not_affected without an impact statement",
        )
    ]
    assert str(failures[0]).startswith("6.1.27.9 at /vulnerabilities/0/product_status/known_not_affected/2: ")


def test_the_schema_is_checked_offline_with_the_cvss_schemas_it_refers_to() -> None:
    # A cvss_v3 without baseSeverity breaks the FIRST schema the CSAF schema refers to by URL.
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    document = _scored({"version": "3.1", "vectorString": vector, "baseScore": 9.8})
    failures = check(document)
    assert {failure.test for failure in failures} == {"schema", "6.1.8"}
    assert all(failure.path.startswith("/vulnerabilities/0/scores/0/cvss_v3") for failure in failures)
    assert _tests(_minimal(document={"category": "csaf_base"})) == {"schema"}


@pytest.mark.parametrize(
    ("cvss", "key", "failed"),
    [
        # 6.1.9: scores and severities are the library's computation of the vector.
        ({"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U",
          "baseScore": 9.8, "baseSeverity": "CRITICAL", "temporalScore": 9.0, "temporalSeverity": "CRITICAL"},
         "cvss_v3", set()),
        ({"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U",
          "baseScore": 9.8, "baseSeverity": "CRITICAL", "temporalScore": 9.8}, "cvss_v3", {"6.1.9"}),
        ({"version": "3.0", "vectorString": "CVSS:3.0/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H",
          "baseScore": 6.5, "baseSeverity": "HIGH"}, "cvss_v3", {"6.1.9"}),
        ({"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P/E:U", "baseScore": 7.5, "temporalScore": 6.4},
         "cvss_v2", set()),
        ({"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "baseScore": 7.2}, "cvss_v2", {"6.1.9"}),
        # 6.1.10: a metric property agrees with the vector; one the vector leaves out may be NOT_DEFINED.
        ({"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8,
          "baseSeverity": "CRITICAL", "attackVector": "NETWORK", "exploitCodeMaturity": "NOT_DEFINED",
          "modifiedAttackVector": "NOT_DEFINED"}, "cvss_v3", set()),
        ({"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8,
          "baseSeverity": "CRITICAL", "attackVector": "ADJACENT_NETWORK"}, "cvss_v3", {"6.1.10"}),
        ({"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:H", "baseScore": 9.8,
          "baseSeverity": "CRITICAL", "exploitCodeMaturity": "NOT_DEFINED"}, "cvss_v3", {"6.1.10"}),
        ({"version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "baseScore": 7.5,
          "accessVector": "LOCAL"}, "cvss_v2", {"6.1.10"}),
    ],
)  # fmt: skip
def test_cvss_scores_and_metrics_agree_with_the_vector(cvss: dict[str, Any], key: str, failed: set[str]) -> None:
    assert _tests(_scored(cvss, key)) == failed


@pytest.mark.parametrize(
    ("category", "failed"),
    [
        *[(value, {"6.1.26"}) for value in ("Csaf_a", "Informational Advisory", "security-incident-response",
                                            "Security      Advisory", "veX", "V_eX")],
        ("csaf_base", set()),
        ("csaf_vex", {"6.1.27.11"}),  # a profile's own tests apply instead (this one has no vulnerabilities)
        ("generic_csaf", set()),
    ],
)  # fmt: skip
def test_a_base_document_does_not_take_a_profiles_name(category: str, failed: set[str]) -> None:
    document = _minimal()
    document["document"]["category"] = category
    assert _tests(document) == failed


@pytest.mark.parametrize(
    ("lang", "failed"),
    [("en", set()), ("EN-us", set()), ("de-CH-1996", set()), ("EZ", {"6.1.12"}), ("xx-XX", {"6.1.12"})],
)
def test_language_tags_are_valid_and_registered(lang: str, failed: set[str]) -> None:
    document = _minimal()
    document["document"]["lang"] = lang
    assert _tests(document) == failed


@pytest.mark.parametrize(
    ("version", "failed"),
    [("4.2", False), ("after-eight", False), ("all", True), ("<=4.1", True), ("4.1 and earlier", True)],
)
def test_a_product_version_reads_as_a_range_by_its_operators_and_words(version: str, failed: bool) -> None:
    document = copy.deepcopy(_example("oasis_csaf_tc-csaf_2_0-2021-6-1-31-12.json"))
    document["product_tree"]["branches"][0]["branches"][0]["branches"][0]["name"] = version
    assert ("6.1.31" in _tests(document)) is failed


def test_a_circle_through_several_relationships_is_found() -> None:
    document = _minimal()
    document["product_tree"] = {
        "full_product_names": [{"product_id": "A", "name": "A"}],
        "relationships": [
            {"category": "installed_on", "product_reference": "A", "relates_to_product_reference": "C",
             "full_product_name": {"product_id": "B", "name": "B"}},
            {"category": "installed_on", "product_reference": "B", "relates_to_product_reference": "A",
             "full_product_name": {"product_id": "C", "name": "C"}},
        ],
    }  # fmt: skip
    failures = [failure for failure in check(document) if failure.test == "6.1.3"]
    assert [failure.path for failure in failures] == [
        "/product_tree/relationships/0/full_product_name/product_id",
        "/product_tree/relationships/1/full_product_name/product_id",
    ]


def test_revision_history_dates_are_compared_as_instants() -> None:
    document = _minimal()
    tracking = document["document"]["tracking"]
    # 10:30 in Berlin (+02:00) is before 09:00 UTC: version 1 comes first in date order.
    tracking["revision_history"] = [
        {"date": "2021-07-21T09:00:00.000Z", "number": "2", "summary": "Second."},
        {"date": "2021-07-21T10:30:00.000+02:00", "number": "1", "summary": "First."},
    ]
    tracking["version"] = "2"
    assert _tests(document) == set()


@pytest.mark.parametrize(
    ("tracking_id", "expected"),
    [
        ("cisco-sa-20190513-secureboot", "cisco-sa-20190513-secureboot.json"),
        ("Example Company - 2019-YH3234", "example_company_-_2019-yh3234.json"),
        ("RHBA-2019:0024", "rhba-2019_0024.json"),
        ("2022_#01-A", "2022_01-a.json"),
    ],
)
def test_file_names_follow_section_5_1(tracking_id: str, expected: str) -> None:
    assert file_name(tracking_id) == expected


def test_every_oasis_example_is_named_by_section_5_1() -> None:
    for path in EXAMPLES.glob("oasis_*.json"):
        assert file_name(_example(path.name)["document"]["tracking"]["id"]) == path.name


def test_an_empty_tracking_id_has_no_file_name() -> None:
    with pytest.raises(ValueError, match="not empty"):
        file_name(" ")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from([
        "document", "product_tree", "vulnerabilities", "branches", "product", "product_id", "relationships",
        "full_product_name", "product_reference", "product_status", "known_affected", "scores", "cvss_v3",
        "cvss_v2", "version", "vectorString", "baseScore", "flags", "group_ids", "product_ids", "tracking",
        "revision_history", "number", "date", "status", "category", "cwe", "id", "name", "lang",
    ]), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(JSON)
def test_any_json_gets_a_verdict_never_an_exception(value: Any) -> None:
    document = value if isinstance(value, dict) else {"document": value}
    assert all(isinstance(failure, Failure) for failure in check(document))
