"""The catalogs as the package ships them, parsed by the pure rules: counts, ids, levels, applicability."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from sdl_tracker.catalog.rules import (
    CatalogItem,
    CrScope,
    ItemKind,
    applies_to,
    cra_section_label,
    edition_differences,
    filter_items,
    parse_catalog,
    parse_mapping,
    required_at,
)
from sdl_tracker.catalog.services import packaged_document
from sdl_tracker.errors import Invalid

DOC_41 = packaged_document("iec62443-4-1.json")
DOC_42 = packaged_document("iec62443-4-2.json")
DOC_CRA = packaged_document("cra.json")
CAT_41 = parse_catalog(DOC_41)
CAT_42 = parse_catalog(DOC_42)
CAT_CRA = parse_catalog(DOC_CRA)


def of_kind(catalog: Any, kind: ItemKind) -> list[CatalogItem]:
    return [item for item in catalog.items if item.kind is kind]


def test_4_1_has_47_requirements_in_8_practices() -> None:
    requirements = of_kind(CAT_41, ItemKind.PROCESS_REQUIREMENT)
    assert len(requirements) == 47
    per_practice = Counter(item.practice for item in requirements)
    assert per_practice == {"SM": 13, "SR": 5, "SD": 4, "SI": 2, "SVV": 5, "DM": 6, "SUM": 5, "SG": 7}
    assert [p.ref for p in of_kind(CAT_41, ItemKind.PRACTICE)] == ["SM", "SR", "SD", "SI", "SVV", "DM", "SUM", "SG"]
    assert [m.ref for m in of_kind(CAT_41, ItemKind.MATURITY_LEVEL)] == ["ML1", "ML2", "ML3", "ML4"]
    assert requirements[0].ref == "SM-1" and requirements[-1].ref == "SG-7"
    assert {"SM-9", "SM-10", "SR-2", "SI-1", "SVV-3", "DM-4", "SUM-4"} <= {r.ref for r in requirements}
    assert (CAT_41.standard, CAT_41.edition) == ("IEC 62443-4-1", "2018")


def test_4_2_component_requirements_by_kind_and_fr() -> None:
    crs = of_kind(CAT_42, ItemKind.COMPONENT_REQUIREMENT)
    counts = DOC_42["counts"]  # the reference's own tally, made independently of this parser
    assert len(crs) == counts["CR_clause_headings"] == 58
    assert Counter(cr.cr_scope for cr in crs) == {
        CrScope.GENERAL: counts["CR_with_own_requirement"],
        CrScope.COMPONENT_SPECIFIC: counts["CR_stated_per_component_type"],
        CrScope.NONE: counts["CR_without_component_requirement"],
    }
    assert Counter(cr.fr for cr in crs) == counts["CR_per_FR"]
    assert {cr.ref for cr in crs if cr.cr_scope is CrScope.NONE} == {"CR 2.3", "CR 5.4", "CR 7.5"}
    assert [fr.ref for fr in of_kind(CAT_42, ItemKind.FOUNDATIONAL_REQUIREMENT)] == [f"FR{i}" for i in range(1, 8)]
    assert [c.ref for c in of_kind(CAT_42, ItemKind.CCSC)] == ["CCSC 1", "CCSC 2", "CCSC 3", "CCSC 4"]


def test_4_2_enhancements_and_component_type_items() -> None:
    counts = DOC_42["counts"]
    enhancements = of_kind(CAT_42, ItemKind.ENHANCEMENT)
    assert len([e for e in enhancements if e.component_type is None]) == counts["CR_requirement_enhancements"]
    type_items = of_kind(CAT_42, ItemKind.TYPE_REQUIREMENT)
    assert len(type_items) == counts["component_specific_requirements"]
    assert Counter(t.component_type for t in type_items) == counts["component_specific_per_type"]
    type_res = Counter(e.component_type for e in enhancements if e.component_type)
    assert type_res == counts["component_specific_REs_per_type"]
    assert len(enhancements) == counts["requirement_enhancements_total"]


def test_every_4_2_item_keeps_its_levels_from_the_source() -> None:
    """Each CR, RE and type item carries exactly the SL-C levels of the source document."""
    expected: dict[str, Any] = {}
    for cr in DOC_42["component_requirements"] + DOC_42["component_specific_requirements"]:
        expected[cr["id"]] = cr["sl_c"]
        for re_item in cr.get("requirement_enhancements", []):
            expected[re_item["id"]] = re_item["sl_c"]
    parsed = {
        i.ref: i
        for i in CAT_42.items
        if i.kind in {ItemKind.COMPONENT_REQUIREMENT, ItemKind.TYPE_REQUIREMENT, ItemKind.ENHANCEMENT}
    }
    assert set(parsed) == set(expected)
    for ref, levels in expected.items():
        assert parsed[ref].sl_c == (tuple(levels) if levels is not None else None), ref
    assert parsed["CR 1.1 RE(2)"].sl_c == (3, 4)
    assert parsed["EDR 2.4"].parent == "CR 2.4" and parsed["EDR 2.4 RE(1)"].parent == "EDR 2.4"


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_items_required_per_level_match_the_reference_tally(level: int) -> None:
    tally = DOC_42["counts"]["items_required_per_SL_C"][f"SL-C {level}"]
    items = CAT_42.items
    general = [i for i in items if i.kind is ItemKind.COMPONENT_REQUIREMENT and required_at(i, level)]
    cr_res = [i for i in items if i.kind is ItemKind.ENHANCEMENT and i.component_type is None and required_at(i, level)]
    assert (len(general), len(cr_res)) == (tally["CR_base"], tally["CR_RE"])
    for component_type in ("SAR", "EDR", "HDR", "NDR"):
        base = [
            i
            for i in items
            if i.kind is ItemKind.TYPE_REQUIREMENT and i.component_type == component_type and required_at(i, level)
        ]
        res = [
            i
            for i in items
            if i.kind is ItemKind.ENHANCEMENT and i.component_type == component_type and required_at(i, level)
        ]
        assert (len(base), len(res)) == (tally[f"{component_type}_base"], tally[f"{component_type}_RE"]), component_type


def test_cra_points() -> None:
    refs = [item.ref for item in CAT_CRA.items]
    part_i = [r for r in refs if r.startswith("I.")]
    assert part_i == ["I.1"] + [f"I.2{c}" for c in "abcdefghijklm"]
    assert [r for r in refs if r.startswith("II.")] == [f"II.{n}" for n in range(1, 9)]
    assert [r for r in refs if r.startswith("VII.")] == [f"VII.{n}" for n in range(1, 9)]
    assert [r for r in refs if r.startswith("AII.")] == [f"AII.{n}" for n in range(1, 10)]
    assert CAT_CRA.meta["article_14_clocks"]["actively_exploited_vulnerability"]["early_warning"]["hours"] == 24
    assert cra_section_label("I.2d") == "Annex I Part I (2d)"
    assert cra_section_label("AII.9") == "Annex II (9)"


def test_applicability_per_component_type() -> None:
    parents = {i.ref: i for i in CAT_42.items}
    edr = [i.ref for i in CAT_42.items if applies_to(i, "EDR", parents)]
    assert "CR 1.1" in edr and "CR 1.1 RE(1)" in edr
    assert "EDR 2.4" in edr and "EDR 2.4 RE(1)" in edr
    assert "CR 2.4" not in edr  # stated only per type: resolved to EDR 2.4
    assert "CR 2.3" not in edr  # no component-level requirement
    assert not any(ref.startswith(("SAR", "HDR", "NDR")) for ref in edr)
    ndr = {i.ref for i in CAT_42.items if applies_to(i, "NDR", parents)}
    assert {"NDR 1.6", "NDR 5.2", "NDR 5.2 RE(3)"} <= ndr


def test_filters() -> None:
    fr4_level1 = filter_items(CAT_42.items, fr="FR4", level=1, kind="component_requirement")
    assert all(i.fr == "FR4" and i.sl_c and min(i.sl_c) == 1 for i in fr4_level1) and fr4_level1
    assert [i.ref for i in filter_items(CAT_42.items, query="mobile code", component_type="SAR")] == [
        "SAR 2.4",
        "SAR 2.4 RE(1)",
    ]
    assert [i.ref for i in filter_items(CAT_41.items, practice="SI")] == ["SI", "SI-1", "SI-2"]
    assert filter_items(CAT_42.items, query="no such words") == []


def test_same_edition_with_a_changed_title_is_reported() -> None:
    changed = copy.deepcopy(DOC_42)
    changed["component_requirements"][0]["title"] = "Something else"
    problems = edition_differences(CAT_42.items, parse_catalog(changed).items)
    assert problems == ["CR 1.1: title changed from 'Human user identification and authentication' to 'Something else'"]
    assert edition_differences(CAT_42.items, parse_catalog(copy.deepcopy(DOC_42)).items) == []


def test_changed_levels_and_removed_items_are_reported() -> None:
    changed = copy.deepcopy(DOC_42)
    changed["component_requirements"][0]["sl_c"] = [2, 3, 4]
    del changed["component_requirements"][1]["requirement_enhancements"]
    problems = edition_differences(CAT_42.items, parse_catalog(changed).items)
    assert "CR 1.1: kind, parent or levels changed" in problems
    assert any(p.startswith("CR 1.2 RE(1): missing") for p in problems)


def _broken(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(doc)
    node = broken
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("doc", "path", "value", "field"),
    [
        (DOC_42, ["catalog"], "iec62443-9-9", "catalog"),
        (DOC_42, ["edition_id"], KeyError, "edition_id"),
        (DOC_42, ["published"], "2019", "published"),
        (DOC_42, ["component_requirements", 0, "sl_c"], [0, 5], "component_requirements[0].sl_c"),
        (DOC_42, ["component_requirements", 0, "kind"], "sometimes", "component_requirements[0].kind"),
        (DOC_42, ["component_requirements", 1, "id"], "CR 1.1", "items"),
        (
            DOC_42,
            ["component_specific_requirements", 0, "component_type"],
            "PLC",
            "component_specific_requirements[0].component_type",
        ),
        (DOC_41, ["requirements", 0, "practice"], "XX", "requirements[0].practice"),
        (DOC_41, ["requirements", 3, "title"], 7, "requirements[3].title"),
        (DOC_CRA, ["annex_i_part_i"], ["not", "a", "mapping"], "annex_i_part_i"),
    ],
)
def test_malformed_catalogs_are_refused_naming_the_place(
    doc: dict[str, Any], path: list[Any], value: Any, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        parse_catalog(_broken(doc, path, value))
    assert field in {e.field for e in caught.value.errors}


@pytest.mark.parametrize("doc", [None, [], "text", 3])
def test_not_an_object(doc: Any) -> None:
    with pytest.raises(Invalid):
        parse_catalog(doc)
    with pytest.raises(Invalid):
        parse_mapping(doc)


def test_mapping_rows_parse() -> None:
    mapping = parse_mapping(packaged_document("mapping-cra.json"))
    assert (mapping.name, mapping.version) == ("iec62443-to-cra-annex-i", "2026.1")
    by_ref = {(r.standard, r.ref): r for r in mapping.rows}
    assert "II.1" in by_ref[("IEC 62443-4-1", "SM-9")].targets
    assert "II.3" in by_ref[("IEC 62443-4-1", "SVV-3")].targets
    assert "I.2d" in by_ref[("IEC 62443-4-2", "CR 1.1")].targets
    assert "I.2f" in by_ref[("IEC 62443-4-2", "CR 3.4")].targets
    with pytest.raises(Invalid):
        parse_mapping(
            {
                **packaged_document("mapping-cra.json"),
                "rows": [{"standard": "x", "requirement": "y", "cra_points": [], "rationale": "a\nb"}],
            }
        )


def test_mapping_duplicates_are_refused() -> None:
    doc = packaged_document("mapping-cra.json")
    doubled_point = copy.deepcopy(doc)
    doubled_point["rows"][0]["cra_points"] = ["I.1", "I.1"]
    with pytest.raises(Invalid, match="listed twice"):
        parse_mapping(doubled_point)
    doubled_row = copy.deepcopy(doc)
    doubled_row["rows"].append(doubled_row["rows"][0])
    with pytest.raises(Invalid) as caught:
        parse_mapping(doubled_row)
    assert "IEC 62443-4-1 SM-1" in caught.value.one_line()
