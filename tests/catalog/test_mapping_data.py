"""Pure data checks for the IEC 62443 -> CRA mapping, each shipped version (no database, no Flask)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "sdl_tracker" / "catalog" / "data"
MAPPING_FILES = ("mapping-cra.json", "mapping-cra-2026.2.json")

STD_41 = "IEC 62443-4-1"
STD_42 = "IEC 62443-4-2"
# One line; 2026.2's rows name up to four targets (Annex I, II and VII), each with its reason.
MAX_RATIONALE = 300


def _catalog_file(name):
    """The catalog copy the package ships."""
    return DATA / name


def _load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module", params=MAPPING_FILES)
def mapping(request):
    return _load(DATA / request.param)


@pytest.fixture(scope="module")
def rows(mapping):
    assert isinstance(mapping.get("rows"), list), "mapping has no 'rows' list"
    return mapping["rows"]


@pytest.fixture(scope="module")
def ids_41():
    return [r["id"] for r in _load(_catalog_file("iec62443-4-1.json"))["requirements"]]


@pytest.fixture(scope="module")
def crs_42():
    return _load(_catalog_file("iec62443-4-2.json"))["component_requirements"]


@pytest.fixture(scope="module")
def ids_42(crs_42):
    return [cr["id"] for cr in crs_42]


@pytest.fixture(scope="module")
def catalog_order(ids_41, ids_42):
    return [(STD_41, i) for i in ids_41] + [(STD_42, i) for i in ids_42]


@pytest.fixture(scope="module")
def annex_i_points():
    cra = _load(_catalog_file("cra.json"))
    points = {"I." + key for key in cra["annex_i_part_i"]}
    points |= {"II." + key for key in cra["annex_i_part_ii"]}
    return points


@pytest.fixture(scope="module")
def known_points(annex_i_points):
    """Every target in the CRA catalog's own ids: Annex I, Annex II items (AII.8) and Annex VII items (VII.3)."""
    cra = _load(_catalog_file("cra.json"))
    points = set(annex_i_points)
    points |= {"AII." + key for key in cra["annex_ii_user_information"]}
    points |= {"VII." + key for key in cra["annex_vii_technical_documentation"]}
    return points


def _key(row):
    return (row.get("standard"), row.get("requirement"))


def test_header(mapping):
    assert mapping.get("mapping") == "iec62443-to-cra-annex-i"
    assert isinstance(mapping.get("version"), str) and mapping["version"]
    assert set(mapping.get("source_editions", {})) == {STD_41, STD_42, "CRA"}
    assert isinstance(mapping.get("content_policy"), str) and mapping["content_policy"]


def test_catalog_sizes(ids_41, ids_42):
    assert len(ids_41) == 47, f"expected 47 IEC 62443-4-1 requirements, found {len(ids_41)}"
    assert len(ids_42) == 58, f"expected 58 IEC 62443-4-2 CRs, found {len(ids_42)}"


def test_known_point_ids(annex_i_points):
    expected = {"I.1"} | {"I.2" + c for c in "abcdefghijklm"} | {f"II.{n}" for n in range(1, 9)}
    assert annex_i_points == expected


def test_every_requirement_has_exactly_one_row(rows, catalog_order):
    counts = {}
    for row in rows:
        counts[_key(row)] = counts.get(_key(row), 0) + 1
    missing = [f"{std} {rid}" for std, rid in catalog_order if counts.get((std, rid), 0) == 0]
    duplicated = [f"{std} {rid} (x{counts[(std, rid)]})" for std, rid in catalog_order if counts.get((std, rid), 0) > 1]
    assert not missing, f"requirements without a mapping row: {missing}"
    assert not duplicated, f"requirements with more than one row: {duplicated}"


def test_no_row_names_unknown_requirement(rows, catalog_order):
    known = set(catalog_order)
    unknown = [f"{row.get('standard')!r} {row.get('requirement')!r}" for row in rows if _key(row) not in known]
    assert not unknown, f"rows naming unknown requirements: {unknown}"


def test_cra_points_are_known(rows, known_points):
    bad = []
    for row in rows:
        points = row.get("cra_points")
        if not isinstance(points, list):
            bad.append(f"{row.get('requirement')}: cra_points is not a list")
            continue
        if len(points) != len(set(points)):
            bad.append(f"{row.get('requirement')}: duplicate CRA points {points}")
        unknown = [p for p in points if p not in known_points]
        if unknown:
            bad.append(f"{row.get('requirement')}: unknown CRA points {unknown}")
    assert not bad, "invalid cra_points: " + "; ".join(bad)


def test_rationales_are_single_nonempty_lines(rows):
    bad = []
    for row in rows:
        text = row.get("rationale")
        rid = row.get("requirement")
        if not isinstance(text, str) or not text.strip():
            bad.append(f"{rid}: empty rationale")
        elif len(text.splitlines()) != 1 or "\n" in text or "\r" in text:
            bad.append(f"{rid}: rationale spans several lines")
        elif len(text) >= MAX_RATIONALE:
            bad.append(f"{rid}: rationale is {len(text)} chars (limit {MAX_RATIONALE})")
    assert not bad, "bad rationales: " + "; ".join(bad)


def test_empty_mappings_are_explained(rows):
    unexplained = [
        row.get("requirement")
        for row in rows
        if row.get("cra_points") == [] and not (isinstance(row.get("rationale"), str) and row["rationale"].strip())
    ]
    assert not unexplained, f"rows mapping to no CRA point without a rationale: {unexplained}"


def test_no_component_requirement_maps_to_nothing(rows, crs_42):
    """A CR with no component-level requirement has nothing to evidence on a component."""
    by_key = {_key(row): row for row in rows}
    bad = [
        cr["id"]
        for cr in crs_42
        if cr.get("kind") == "no_component_requirement"
        and by_key.get((STD_42, cr["id"]), {}).get("cra_points") not in ([], None)
    ]
    assert not bad, f"CRs without component requirement that map to CRA points: {bad}"


def test_rows_in_catalog_order(rows, catalog_order):
    position = {key: n for n, key in enumerate(catalog_order)}
    previous = None
    for row in rows:
        key = _key(row)
        if key not in position:
            continue  # reported by test_no_row_names_unknown_requirement
        if previous is not None:
            assert position[key] > position[previous], (
                f"row {key[0]} {key[1]} is out of catalog order (it follows {previous[0]} {previous[1]})"
            )
        previous = key


# --- 2026.2: the corrections, and the Annex II and Annex VII targets (issue 22) --------------------------------


def _rows_of(name):
    return {row["requirement"]: row for row in _load(DATA / name)["rows"]}


@pytest.fixture(scope="module")
def first():
    return _rows_of("mapping-cra.json")


@pytest.fixture(scope="module")
def second():
    return _rows_of("mapping-cra-2026.2.json")


def test_2026_1_maps_to_annex_i_only(first, annex_i_points):
    assert {p for row in first.values() for p in row["cra_points"]} <= annex_i_points


def test_2026_2_supersedes_2026_1():
    assert _load(DATA / "mapping-cra-2026.2.json")["supersedes"] == "2026.1"
    assert _load(DATA / "mapping-cra-2026.2.json")["version"] == "2026.2"


@pytest.mark.parametrize(
    ("ref", "added", "removed"),
    [
        ("CR 3.6", {"I.2h", "I.2k"}, {"I.2i"}),
        ("CR 7.4", {"I.2b"}, set()),
        ("CR 7.7", {"I.2b"}, set()),
        ("SVV-3", {"II.1"}, set()),
        ("SR-2", {"II.3"}, set()),
        ("SR-3", {"I.2b", "I.2m"}, set()),
    ],
)
def test_2026_2_corrections(first, second, ref, added, removed):
    assert added <= set(second[ref]["cra_points"]), ref
    assert not removed & set(second[ref]["cra_points"]), ref
    assert removed <= set(first[ref]["cra_points"]), ref  # what was corrected was there before
    # A correction only adds or moves targets named here: the row's other Annex I targets stay.
    annex_i = {p for p in second[ref]["cra_points"] if p.startswith(("I.", "II."))}
    assert annex_i == (set(first[ref]["cra_points"]) - removed) | added, ref


ANNEX_II = {
    "SR-1": ({"AII.4", "AII.5"}, None),
    "DM-1": ({"AII.2"}, None),
    "SG-1": ({"AII.8"}, "8(f)"),
    "SG-2": ({"AII.8"}, "8(f)"),
    "SG-3": ({"AII.8"}, "8(a)"),
    "SG-5": ({"AII.8"}, "8(a)"),
    "SG-6": ({"AII.8"}, "8(a)"),
    "SG-4": ({"AII.8"}, "8(d)"),
    "SUM-2": ({"AII.8"}, "8(c)"),
    "SUM-3": ({"AII.8"}, "8(c)"),
}
ANNEX_VII = {
    "SR-2": "VII.3",
    **dict.fromkeys(("SVV-1", "SVV-2", "SVV-3", "SVV-4"), "VII.6"),
    **dict.fromkeys(("DM-1", "DM-2", "DM-3", "DM-4", "DM-5", "SUM-4"), "VII.2"),
    "SM-9": "VII.8",
}


def test_2026_2_annex_ii_targets_name_their_sub_point(second):
    for ref, (targets, sub_point) in ANNEX_II.items():
        row = second[ref]
        assert {p for p in row["cra_points"] if p.startswith("AII.")} == targets, ref
        if sub_point:
            assert f"Annex II point {sub_point}" in row["rationale"], (ref, row["rationale"])
        for target in targets:
            assert f"Annex II point {target.removeprefix('AII.')}" in row["rationale"], (ref, target)
    others = {ref for ref, row in second.items() if any(p.startswith("AII.") for p in row["cra_points"])}
    assert others == set(ANNEX_II)


def test_2026_2_annex_vii_targets(second):
    for ref, target in ANNEX_VII.items():
        assert [p for p in second[ref]["cra_points"] if p.startswith("VII.")] == [target], ref
        assert f"Annex VII point {target.removeprefix('VII.')}" in second[ref]["rationale"], ref
    others = {ref for ref, row in second.items() if any(p.startswith("VII.") for p in row["cra_points"])}
    assert others == set(ANNEX_VII)


def test_2026_2_changes_nothing_else(first, second):
    """Apart from the corrections and the Annex II and VII targets, the rows' targets are 2026.1's."""
    corrected = {"CR 3.6", "CR 7.4", "CR 7.7", "SVV-3", "SR-2", "SR-3"}
    for ref, row in second.items():
        annex_i = [p for p in row["cra_points"] if p.startswith(("I.", "II."))]
        if ref not in corrected:
            assert annex_i == first[ref]["cra_points"], ref
