"""Pure rules: versions, names, target vectors, release order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdl_tracker.errors import Invalid
from sdl_tracker.products.rules import (
    format_target_sl,
    name_problem,
    order_releases,
    parse_target_sl,
    previous_release,
    validate_target_sl,
    version_problem,
)

FRS = ("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7")


@dataclass(frozen=True)
class R:
    version: str
    id: int


@pytest.mark.parametrize("version", ["1.0", "4.2.0-rc1", "v2", "2026.11", "x" * 64, "build_7+meta"])
def test_acceptable_versions(version: str) -> None:
    assert version_problem(version) is None


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("", "required"),
        ("x" * 65, "at most 64"),
        ("1 0", "whitespace"),
        ("1.0\n", "whitespace"),
        ("1.0\x00", "control"),
        ("1.0\t", "whitespace"),
        ("1.\u200b0", "control"),
    ],
)
def test_unacceptable_versions(version: str, reason: str) -> None:
    problem = version_problem(version)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    ("name", "ok"), [("PLC", True), ("", False), (" PLC", False), ("a" * 121, False), ("P\x07", False)]
)
def test_names(name: str, ok: bool) -> None:
    assert (name_problem(name) is None) is ok


def test_single_level_applies_to_every_fr() -> None:
    assert parse_target_sl("3") == dict.fromkeys(FRS, 3)


def test_vector_form_case_insensitive_and_spaced() -> None:
    vector = parse_target_sl("fr1=3, FR2=2,FR3=1,FR4=4,FR5=2,FR6=1,FR7=3")
    assert vector == {"FR1": 3, "FR2": 2, "FR3": 1, "FR4": 4, "FR5": 2, "FR6": 1, "FR7": 3}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0", "1-4"),
        ("5", "1-4"),
        ("FR1=3", "FR2"),
        ("FR1=3,FR1=2", "twice"),
        ("FR8=1", "FR8=1"),
        ("FR1=x,FR2=1,FR3=1,FR4=1,FR5=1,FR6=1,FR7=1", "number"),
        ("three", "expected"),
    ],
)
def test_bad_target_levels_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_target_sl(text)
    assert fragment in caught.value.one_line()


def test_validate_rejects_booleans_and_unknown_keys() -> None:
    with pytest.raises(Invalid) as caught:
        validate_target_sl({**dict.fromkeys(FRS, 2), "FR1": True, "FR9": 2})
    fields = {e.field for e in caught.value.errors}
    assert fields == {"target_sl.FR1", "target_sl.FR9"}


@given(st.lists(st.integers(1, 4), min_size=7, max_size=7))
def test_format_and_parse_round_trip(levels: list[int]) -> None:
    vector = dict(zip(FRS, levels, strict=True))
    assert parse_target_sl(format_target_sl(vector)) == vector


def test_versions_order_by_semantics_not_text() -> None:
    releases = [R("1.10.0", 1), R("1.9.0", 2), R("1.10.0rc1", 3), R("2.0", 4), R("v1.2", 5)]
    assert [r.version for r in order_releases(releases)] == ["v1.2", "1.9.0", "1.10.0rc1", "1.10.0", "2.0"]


def test_unparseable_versions_follow_by_creation() -> None:
    releases = [R("beta-two", 5), R("1.0", 2), R("alpha", 3), R("0.9", 4)]
    assert [r.version for r in order_releases(releases)] == ["0.9", "1.0", "alpha", "beta-two"]


def test_previous_release() -> None:
    releases = [R("1.10", 1), R("1.9", 2), R("2.0", 3)]
    previous = previous_release(releases, "1.10")
    assert previous is not None and previous.version == "1.9"
    assert previous_release(releases, "1.9") is None
    assert previous_release(releases, "9.9") is None
