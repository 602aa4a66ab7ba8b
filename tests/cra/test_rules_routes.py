"""The conformity routes each CRA category allows (Art. 32), what a declaration may record beside its route, the
standards it records as applied and what the file says of them, and the Annex II rules: pure, no database."""

from __future__ import annotations

from datetime import date

import pytest

from sdl_tracker.cra.rules import (
    ConformityRoute,
    RouteRules,
    allowed_routes,
    applied_62443,
    basis_problems,
    is_cited,
    month_and_year,
    names_version,
    notified_body_problems,
    other_standards,
    route_note,
    route_problems,
    serves_item,
    standards_statement,
    url_problem,
    user_information_suggestions,
    version_warning,
)

A, BC, H, SCHEME = (r.value for r in ConformityRoute)
NO_FACTS = RouteRules()
SCHEME_REQUIRED = RouteRules(critical_scheme_required=True)
CITED = RouteRules(cited_standards=("EN 40000-1-2:2026",))


@pytest.mark.parametrize(
    ("category", "facts", "routes"),
    [
        ("default", NO_FACTS, {A, BC, H, SCHEME}),
        ("important_class_i", NO_FACTS, {A, BC, H, SCHEME}),  # A only with a basis: route_problems
        ("important_class_ii", NO_FACTS, {BC, H, SCHEME}),
        ("critical", NO_FACTS, {BC, H, SCHEME}),  # no delegated act yet: as class II
        ("critical", SCHEME_REQUIRED, {SCHEME}),
        ("default", SCHEME_REQUIRED, {A, BC, H, SCHEME}),  # the setting binds critical products only
        ("important_class_ii", SCHEME_REQUIRED, {BC, H, SCHEME}),
        ("unknown", NO_FACTS, set()),
    ],
)
def test_each_category_allows_the_routes_of_article_32(category: str, facts: RouteRules, routes: set[str]) -> None:
    assert {r.value for r in allowed_routes(category, facts)} == routes


@pytest.mark.parametrize(
    ("category", "route", "basis", "reference", "facts", "field", "says"),
    [
        # Default category: module A or any stricter route.
        ("default", A, "", "", NO_FACTS, None, ""),
        ("default", BC, "", "", NO_FACTS, None, ""),
        ("default", SCHEME, "", "", NO_FACTS, None, ""),
        # Class I: module A only with a basis applied in full.
        ("important_class_i", A, "", "", NO_FACTS, "conformity_route", "only when a harmonised standard"),
        ("important_class_i", A, "harmonised_standard", "IEC 62443-4-2:2019", NO_FACTS, "presumption_basis_reference",
         "not a harmonised standard cited"),
        ("important_class_i", A, "harmonised_standard", "EN 40000-1-2:2026", NO_FACTS, "presumption_basis_reference",
         "none is cited yet"),
        ("important_class_i", A, "harmonised_standard", "en  40000-1-2:2026", CITED, None, ""),
        ("important_class_i", A, "common_specification", "", NO_FACTS, "presumption_basis_reference", "name the"),
        ("important_class_i", A, "common_specification", "CS 2027/1", NO_FACTS, None, ""),
        ("important_class_i", A, "certification_scheme", "EUCC", NO_FACTS, None, ""),
        ("important_class_i", A, "a feeling", "x", NO_FACTS, "presumption_basis", "unknown basis"),
        ("important_class_i", BC, "", "", NO_FACTS, None, ""),
        ("important_class_i", H, "", "", NO_FACTS, None, ""),
        ("important_class_i", SCHEME, "", "", NO_FACTS, None, ""),
        # Class II: B+C, H or a scheme; never module A, whatever is applied.
        ("important_class_ii", A, "", "", NO_FACTS, "conformity_route", "not open to an important product of class II"),
        ("important_class_ii", A, "harmonised_standard", "EN 40000-1-2:2026", CITED, "conformity_route", "Art. 32(3)"),
        ("important_class_ii", BC, "", "", NO_FACTS, None, ""),
        ("important_class_ii", H, "", "", NO_FACTS, None, ""),
        ("important_class_ii", SCHEME, "", "", NO_FACTS, None, ""),
        # Critical: the scheme where a delegated act requires one, else as class II.
        ("critical", A, "", "", NO_FACTS, "conformity_route", "is not open to a critical product"),
        ("critical", H, "", "", NO_FACTS, None, ""),
        ("critical", H, "", "", SCHEME_REQUIRED, "conformity_route", "delegated act requires"),
        ("critical", BC, "", "", SCHEME_REQUIRED, "conformity_route", "no other route is open"),
        ("critical", SCHEME, "", "", SCHEME_REQUIRED, None, ""),
        # Not chosen yet is no error (completeness reports it); nonsense is.
        ("important_class_ii", "", "", "", NO_FACTS, None, ""),
        ("default", "module_z", "", "", NO_FACTS, "conformity_route", "unknown route"),
        ("unknown", A, "", "", NO_FACTS, "conformity_route", "is no CRA category"),
    ],
)  # fmt: skip
def test_route_problems_follow_article_32(
    category: str, route: str, basis: str, reference: str, facts: RouteRules, field: str | None, says: str
) -> None:
    problems = route_problems(category, route, basis, reference, facts)
    if field is None:
        assert problems == []
    else:
        assert [p.field for p in problems] == [field]
        assert says in problems[0].message


def test_each_category_has_a_note_that_names_its_article() -> None:
    assert "Art. 32(1)" in route_note("default", NO_FACTS)
    assert "Art. 32(2)" in route_note("important_class_i", NO_FACTS)
    assert "Art. 32(3)" in route_note("important_class_ii", NO_FACTS)
    assert "No delegated act" in route_note("critical", NO_FACTS)
    assert "requires a European cybersecurity certification scheme" in route_note("critical", SCHEME_REQUIRED)


@pytest.mark.parametrize(
    ("category", "route", "basis", "reference", "field"),
    [
        ("important_class_i", A, "harmonised_standard", "EN 40000-1-2:2026", None),
        ("important_class_i", A, "", "", None),  # route_problems says module A needs one
        ("important_class_i", BC, "harmonised_standard", "EN 40000-1-2:2026", "presumption_basis"),
        ("default", A, "certification_scheme", "EUCC", "presumption_basis"),
        ("important_class_ii", H, "", "EN 40000-1-2:2026", "presumption_basis_reference"),
        ("critical", "", "common_specification", "", "presumption_basis"),
        ("default", A, "", "  ", None),
    ],
)
def test_a_presumption_basis_is_recorded_with_module_a_of_class_i_only(
    category: str, route: str, basis: str, reference: str, field: str | None
) -> None:
    problems = basis_problems(category, route, basis, reference)
    assert [p.field for p in problems] == ([field] if field else [])


@pytest.mark.parametrize(
    ("route", "name", "number", "fields"),
    [
        (BC, "TÜV Example", "0123", []),
        (H, "", "", []),
        (BC, "TÜV Example", "123", ["notified_body_number"]),
        (BC, "TÜV Example", "01234", ["notified_body_number"]),
        (H, "TÜV Example", "01a3", ["notified_body_number"]),
        (H, "TÜV Example", "٠١٢٣", ["notified_body_number"]),  # Arabic-Indic digits are no NANDO number
        (A, "TÜV Example", "", ["notified_body_name"]),
        (A, "", "0123", ["notified_body_number"]),
        (SCHEME, "TÜV Example", "0123", []),
    ],
)
def test_a_notified_body_has_four_digits_and_no_place_in_module_a(
    route: str, name: str, number: str, fields: list[str]
) -> None:
    assert [p.field for p in notified_body_problems(route, name, number)] == fields


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("", True),
        ("https://example.com/doc/plc-1.0.pdf", True),
        ("http://example.com", True),
        ("ftp://example.com/doc", False),
        ("javascript:alert(1)", False),
        ("https:///nohost", False),
        ("https://example.com/a b", False),
    ],
)
def test_the_declaration_address_is_an_http_url(url: str, ok: bool) -> None:
    assert (url_problem(url) is None) is ok


def test_other_standards_are_trimmed_and_kept_once_without_iec_62443() -> None:
    kept, errors = other_standards(["  EN 303 645 ", "", "en  303 645", "ETSI EN 303 645", "EN 303 645"])
    assert kept == ["EN 303 645", "ETSI EN 303 645"] and errors == []
    _, errors = other_standards(["IEC 62443-4-1:2018", "iec62443-4-2", "EN IEC 62443-4-2:2024"])
    assert [e.message[:20] for e in errors] == ["'IEC 62443-4-1:2018'", "'iec62443-4-2': IEC "]
    _, errors = other_standards(["EN 303 645\nISO 27001"])
    assert errors[0].field == "other_standards" and "one line" in errors[0].message
    _, errors = other_standards(["x" * 301])
    assert "at most 300 characters" in errors[0].message
    kept, errors = other_standards([f"ISO {n}" for n in range(41)])
    assert len(kept) == 41 and [e.message for e in errors] == ["at most 40 standards (41 given)"]
    assert other_standards([f"ISO {n}" for n in range(40)] * 2)[1] == []


def test_iec_62443_is_recorded_with_the_products_editions() -> None:
    assert applied_62443({"IEC 62443-4-1": "2018", "IEC 62443-4-2": "2019", "CRA": "2024/2847"}) == [
        "IEC 62443-4-1:2018",
        "IEC 62443-4-2:2019",
    ]
    assert applied_62443({}) == ["IEC 62443-4-1", "IEC 62443-4-2"]


def test_the_statement_says_iec_62443_gives_no_presumption_unless_cited() -> None:
    applied = ["IEC 62443-4-1:2018", "IEC 62443-4-2:2019"]
    day = date(2027, 3, 1)
    statement = standards_statement(applied, NO_FACTS, day)
    assert statement.startswith("As of 2027-03-01, IEC 62443-4-1:2018, IEC 62443-4-2:2019 are not harmonised standards")
    assert "give no presumption of conformity (Art. 27)" in statement and "Cited" not in statement
    cited = standards_statement(applied, RouteRules(cited_standards=("IEC 62443-4-2:2019",)), day)
    assert "IEC 62443-4-1:2018 is not a harmonised standard cited" in cited and "it is recorded as a solution" in cited
    assert cited.endswith("giving a presumption of conformity with the requirements it covers (Art. 27(1)): "
                          "IEC 62443-4-2:2019.")  # fmt: skip
    assert "are not" not in standards_statement(applied, RouteRules(cited_standards=tuple(applied)), day)
    assert standards_statement([], NO_FACTS, day) == ""


def test_a_cited_standard_is_matched_spacing_and_case_aside() -> None:
    assert is_cited(" en 40000-1-2:2026 ", ["EN  40000-1-2:2026"])
    assert not is_cited("EN 40000-1-2", ["EN 40000-1-2:2026"])


@pytest.mark.parametrize(
    ("item", "rationale", "serves"),
    [
        ("AII.8a", "they are the instructions for secure commissioning and use of Annex II point 8(a).", True),
        ("AII.8c", "they are the instructions for secure commissioning and use of Annex II point 8(a).", False),
        ("AII.8c", "it instructs how security updates are installed (Annex II point 8(c)).", True),
        ("AII.8f", "Instructions of 8(a) and 8(f).", True),
        ("AII.8b", "Guidance for users (Annex II point 8).", True),  # names no sub-point: serves every one
        ("AII.4", "anything (Annex II point 4)", True),
    ],
)
def test_a_mapping_row_to_point_8_serves_the_sub_points_it_names(item: str, rationale: str, serves: bool) -> None:
    assert serves_item(item, rationale) is serves


@pytest.mark.parametrize(
    ("text", "version", "named"),
    [
        ("PLC, embedded device, version 1.0", "1.0", True),
        ("PLC v1.0.", "1.0", True),
        ("PLC 1.0.1", "1.0", False),
        ("PLC 11.0", "1.0", False),
        ("PLC 1.0a", "1.0", False),
        ("PLC (2.0-rc1)", "2.0-rc1", True),
    ],
)
def test_an_identification_names_a_version_as_a_word(text: str, version: str, named: bool) -> None:
    assert names_version(text, version) is named


def test_an_identification_that_names_another_version_is_flagged() -> None:
    assert version_warning("PLC, version 1.0", "1.1") == (
        "the product's identification does not name this release's version (1.1)"
    )
    assert version_warning("PLC, version 1.1", "1.1") == "" and version_warning("  ", "1.1") == ""


def test_suggestions_come_from_what_the_tracker_knows() -> None:
    found = user_information_suggestions(
        vendor="Example Industrial",
        security_contact="psirt@example.com",
        cvd_policy_url="https://example.com/cvd",
        name="PLC",
        component_type="EDR",
        version="1.0",
        declaration_url="https://example.com/doc.pdf",
        support_ends=date(2031, 12, 31),
    )
    assert found == {
        "AII.1": "Example Industrial",
        "AII.2": "Report vulnerabilities to psirt@example.com. Our coordinated vulnerability disclosure policy: "
        "https://example.com/cvd",
        "AII.3": "PLC, embedded device (IEC 62443-4-2 EDR), version 1.0",
        "AII.6": "https://example.com/doc.pdf",
        "AII.7": "Security updates are provided until the end of the support period: December 2031.",
    }
    bare = user_information_suggestions(
        vendor="", security_contact="", cvd_policy_url="", name="App", component_type="SAR", version="2",
        declaration_url="", support_ends=None,
    )  # fmt: skip
    assert bare == {"AII.3": "App, software application (IEC 62443-4-2 SAR), version 2"}
    assert month_and_year(date(2030, 2, 1)) == "February 2030"
