"""A release's Annex II user information and EU declaration of conformity data: the conformity route per category
(Art. 32) through the service and every door, what is refused and that nothing is written then, the documents an
item may name, the tracker's suggestions and the mapped requirements, the standards applied and what the file says
of them (changed by the settings), carrying both forward to a new release, who may record, and the audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.catalog.services import get_mapping
from sdl_tracker.cli import cli
from sdl_tracker.cra.declarations import (
    DeclarationInput,
    UserInformationInput,
    applied_standards,
    copy_forward,
    declaration,
    record_declaration,
    record_user_information,
    route_rules,
    standards_note,
    user_information,
)
from sdl_tracker.cra.models import Declaration, UserInformation
from sdl_tracker.cra.rules import USER_INFORMATION_REFS
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.products.models import Product, Release
from sdl_tracker.products.services import update_product
from sdl_tracker.products.signals import release_created
from tests.factories import (
    OPERATOR,
    ApiClient,
    attach,
    csrf_token,
    login,
    make_product,
    make_release,
    member,
    statements,
)

pytestmark = pytest.mark.db

OFFICER, DEVELOPER, AUDITOR, STRANGER = "so@plc.example", "dev@plc.example", "auditor@plc.example", "so@else.example"
PROBLEM = "application/problem+json"
DAY = date(2027, 3, 1)


@dataclass
class Plc:
    """The PLC (an important product of class I) and release 1.0, its people, and another product."""

    product: Product
    release: Release
    officer: Principal
    developer: Principal
    auditor: Principal
    stranger: Principal
    elsewhere: Product


@pytest.fixture
def plc(session: Session) -> Plc:
    product = make_product(
        session,
        "PLC",
        vendor="Example Industrial",
        security_contact="psirt@example.com",
        cvd_policy_url="https://example.com/cvd",
        support_period_end=date(2031, 12, 31),
        cra_category="important_class_i",
    )
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer", OFFICER)
    developer = member(session, product, "developer", DEVELOPER)
    auditor = member(session, product, "auditor", AUDITOR)
    elsewhere = make_product(session, "Elsewhere")
    make_release(session, elsewhere, "3.0")
    stranger = member(session, elsewhere, "security_officer", STRANGER)
    session.commit()
    return Plc(product, release, officer, developer, auditor, stranger, elsewhere)


@pytest.fixture
def carried() -> Iterator[None]:
    """copy_forward connected to release_created for the test (the app connects it; this does not rely on it)."""
    connected = id(copy_forward) in release_created.receivers
    release_created.connect(copy_forward, weak=False)
    yield
    if not connected:
        release_created.disconnect(copy_forward)


def written(session: Session) -> tuple[int, int, int]:
    """User information rows, declarations and CRA audit events."""
    session.expire_all()
    items = session.scalar(select(func.count()).select_from(UserInformation)) or 0
    declared = session.scalar(select(func.count()).select_from(Declaration)) or 0
    audited = session.scalar(select(func.count()).where(AuditEvent.action.startswith("cra:"))) or 0
    return items, declared, audited


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def set_category(session: Session, product: Product, category: str) -> None:
    update_product(session, OPERATOR, product.id, changes={"cra_category": category})


def refused(session: Session, call: Any) -> Invalid:
    """The Invalid a call raises, with whatever it wrote undone (as a door's rollback would)."""
    with pytest.raises(Invalid) as caught, session.begin_nested():
        call()
    return caught.value


# --- the conformity route, per category, through the service -----------------------------------------------------


@pytest.mark.parametrize(
    ("category", "data", "field"),
    [
        ("default", DeclarationInput(conformity_route="module_a"), None),
        ("important_class_i", DeclarationInput(conformity_route="module_a"), "conformity_route"),
        (
            "important_class_i",
            DeclarationInput(
                conformity_route="module_a",
                presumption_basis="harmonised_standard",
                presumption_basis_reference="IEC 62443-4-2:2019",
            ),
            "presumption_basis_reference",
        ),
        (
            "important_class_i",
            DeclarationInput(
                conformity_route="module_a",
                presumption_basis="certification_scheme",
                presumption_basis_reference="EUCC",
            ),
            None,
        ),
        ("important_class_i", DeclarationInput(conformity_route="module_b_c"), None),
        ("important_class_ii", DeclarationInput(conformity_route="module_a"), "conformity_route"),
        ("important_class_ii", DeclarationInput(conformity_route="module_h"), None),
        ("critical", DeclarationInput(conformity_route="module_a"), "conformity_route"),
        ("critical", DeclarationInput(conformity_route="module_h"), None),
        ("important_class_ii", DeclarationInput(conformity_route="module_q"), "conformity_route"),
    ],
)
def test_the_route_must_be_one_the_category_allows(
    session: Session, plc: Plc, category: str, data: DeclarationInput, field: str | None
) -> None:
    set_category(session, plc.product, category)
    before = written(session)
    if field is None:
        recorded = record_declaration(session, plc.officer, plc.release.id, data)
        assert recorded.conformity_route is not None and recorded.conformity_route.value == data.conformity_route
        return
    error = refused(session, lambda: record_declaration(session, plc.officer, plc.release.id, data))
    assert field in [e.field for e in error.errors]
    assert written(session) == before


@pytest.mark.parametrize("app_config", [{"CRA_CRITICAL_SCHEME_REQUIRED": True}])
def test_a_critical_product_needs_the_scheme_when_a_delegated_act_requires_one(session: Session, plc: Plc) -> None:
    assert route_rules(session).critical_scheme_required
    set_category(session, plc.product, "critical")
    error = refused(
        session,
        lambda: record_declaration(session, plc.officer, plc.release.id, DeclarationInput(conformity_route="module_h")),
    )
    assert error.errors[0].field == "conformity_route" and "delegated act requires" in error.errors[0].message
    recorded = record_declaration(session, plc.officer, plc.release.id, DeclarationInput(conformity_route="eu_scheme"))
    assert recorded.conformity_route is not None and recorded.conformity_route.value == "eu_scheme"


@pytest.mark.parametrize("app_config", [{"CRA_HARMONISED_STANDARDS": "EN 40000-1-2:2026; IEC 62443-4-2:2019"}])
def test_cited_standards_open_module_a_to_class_i_and_change_the_statement(session: Session, plc: Plc) -> None:
    data = DeclarationInput(
        conformity_route="module_a",
        presumption_basis="harmonised_standard",
        presumption_basis_reference="EN 40000-1-2:2026",
        other_standards=["EN 40000-1-2:2026"],
    )
    record_declaration(session, plc.officer, plc.release.id, data)
    note = standards_note(session, plc.auditor, plc.release.id, DAY)
    assert "IEC 62443-4-1:2018, EN 40000-1-2:2026" not in note
    assert note.startswith("As of 2027-03-01, IEC 62443-4-1:2018 is not a harmonised standard cited")
    assert note.endswith("(Art. 27(1)): IEC 62443-4-2:2019, EN 40000-1-2:2026.")


def test_the_file_says_iec_62443_is_not_a_cited_harmonised_standard(session: Session, plc: Plc) -> None:
    assert applied_standards(session, plc.auditor, plc.release.id) == ["IEC 62443-4-1:2018", "IEC 62443-4-2:2019"]
    note = standards_note(session, plc.auditor, plc.release.id, DAY)
    assert note.startswith(
        "As of 2027-03-01, IEC 62443-4-1:2018, IEC 62443-4-2:2019 are not harmonised standards cited in the Official "
        "Journal of the European Union"
    )
    assert "no presumption of conformity" in note
    record_declaration(session, plc.officer, plc.release.id, DeclarationInput(other_standards=["ETSI EN 303 645"]))
    assert applied_standards(session, plc.auditor, plc.release.id)[-1] == "ETSI EN 303 645"


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        (
            DeclarationInput(
                conformity_route="module_b_c",
                presumption_basis="common_specification",
                presumption_basis_reference="CS",
            ),
            "presumption_basis",
            "only with module A for an important product of class I",
        ),
        (DeclarationInput(conformity_route="module_h", notified_body_number="123"), "notified_body_number", "four"),
        (
            DeclarationInput(
                conformity_route="module_a",
                presumption_basis="certification_scheme",
                presumption_basis_reference="EUCC",
                notified_body_name="TÜV Example",
            ),
            "notified_body_name",
            "involves no notified body",
        ),
        (DeclarationInput(declaration_url="ftp://example.com/doc"), "declaration_url", "http(s) URL"),
        (DeclarationInput(other_standards=["IEC 62443-4-1:2018"]), "other_standards", "always recorded"),
        (DeclarationInput(other_standards=[f"ISO {n}" for n in range(41)]), "other_standards", "at most 40"),
        (DeclarationInput(manufacturer_name="x" * 301), "manufacturer_name", "at most 300"),
        (DeclarationInput(manufacturer_name="Example\nIndustrial"), "manufacturer_name", "single line"),
        (DeclarationInput(object_description="x" * 4001), "object_description", "at most 4,000"),
    ],
)
def test_bad_declaration_data_is_refused_and_nothing_written(
    session: Session, plc: Plc, data: DeclarationInput, field: str, says: str
) -> None:
    before = written(session)
    error = refused(session, lambda: record_declaration(session, plc.officer, plc.release.id, data))
    assert [e.field for e in error.errors] == [field]
    assert says in error.errors[0].message
    assert written(session) == before


def test_a_declaration_is_recorded_changed_and_audited_only_when_it_changes(session: Session, plc: Plc) -> None:
    assert declaration(session, plc.auditor, plc.release.id) is None
    data = DeclarationInput(
        manufacturer_name=" Example Industrial ",
        conformity_route="module_h",
        notified_body_name="TÜV Example",
        notified_body_number="0123",
        other_standards=["ETSI EN 303 645", " etsi en  303 645", ""],
        date_of_issue=DAY,
    )
    recorded = record_declaration(session, plc.officer, plc.release.id, data)
    assert recorded.manufacturer_name == "Example Industrial" and recorded.other_standards == ["ETSI EN 303 645"]
    assert recorded.updated_by == f"user:{OFFICER}"
    record_declaration(session, plc.officer, plc.release.id, data)  # the same again: nothing changes
    changed = DeclarationInput(**{**data.__dict__, "place_of_issue": "Berlin", "date_of_issue": None})
    record_declaration(session, plc.officer, plc.release.id, changed)
    first, second = events(session, "cra:declaration:record")
    assert first.details["created"] is True and first.details["conformity_route"] == {"old": "", "new": "module_h"}
    assert second.details == {
        "place_of_issue": {"old": "", "new": "Berlin"},
        "date_of_issue": {"old": "2027-03-01", "new": None},
    }
    assert first.product_id == plc.product.id and first.target_id == str(plc.release.id)


def test_non_officers_may_not_record_and_strangers_see_nothing(session: Session, plc: Plc) -> None:
    data = DeclarationInput(conformity_route="module_b_c")
    items = {"AII.1": UserInformationInput("Example Industrial")}
    for reader in (plc.developer, plc.auditor):
        with pytest.raises(Forbidden):
            record_declaration(session, reader, plc.release.id, data)
        with pytest.raises(Forbidden):
            record_user_information(session, reader, plc.release.id, items)
        assert len(user_information(session, reader, plc.release.id)) == len(USER_INFORMATION_REFS)
    for call in (
        lambda: record_declaration(session, plc.stranger, plc.release.id, data),
        lambda: record_user_information(session, plc.stranger, plc.release.id, items),
        lambda: user_information(session, plc.stranger, plc.release.id),
        lambda: declaration(session, plc.stranger, plc.release.id),
    ):
        with pytest.raises(NotFound):
            call()
    assert written(session)[:2] == (0, 0)


# --- user information -------------------------------------------------------------------------------------------


def test_every_item_is_listed_with_suggestions_from_what_the_tracker_knows(session: Session, plc: Plc) -> None:
    record_declaration(
        session, plc.officer, plc.release.id, DeclarationInput(declaration_url="https://example.com/doc/plc-1.0.pdf")
    )
    items = user_information(session, plc.developer, plc.release.id)
    assert [i.ref for i in items] == list(USER_INFORMATION_REFS)
    suggestions = {i.ref: i.suggestion for i in items if i.suggestion}
    assert suggestions == {
        "AII.1": "Example Industrial",
        "AII.2": "Report vulnerabilities to psirt@example.com. Our coordinated vulnerability disclosure policy: "
        "https://example.com/cvd",
        "AII.3": "PLC, embedded device (IEC 62443-4-2 EDR), version 1.0",
        "AII.6": "https://example.com/doc/plc-1.0.pdf",
        "AII.7": "Security updates are provided until the end of the support period: December 2031.",
    }
    assert not any(i.recorded for i in items) and written(session)[0] == 0  # suggestions are not stored


def test_items_are_recorded_checked_first_and_audited_once(session: Session, plc: Plc) -> None:
    guide = attach(session, OPERATOR, plc.product, "Hardening guide", requirements=("SG-3",))
    policy = attach(session, OPERATOR, None, "Disclosure policy", kind="process-document", requirements=("DM-1",))
    record_user_information(
        session,
        plc.officer,
        plc.release.id,
        {
            "AII.1": UserInformationInput("  Example Industrial, Musterstr. 1, Berlin  "),
            "AII.2": UserInformationInput("", policy.id),
            "AII.8a": UserInformationInput("See the hardening guide.", guide.id),
            "AII.9": UserInformationInput(""),  # nothing: nothing recorded
        },
    )
    shown = {i.ref: i for i in user_information(session, plc.auditor, plc.release.id)}
    assert shown["AII.1"].text == "Example Industrial, Musterstr. 1, Berlin"
    assert shown["AII.2"].evidence == (policy.id, "Disclosure policy", "submitted") and shown["AII.2"].text == ""
    assert shown["AII.8a"].recorded and not shown["AII.9"].recorded
    (event,) = events(session, "cra:user-information:record")
    assert sorted(event.details) == ["AII.1", "AII.2", "AII.8a"]
    assert event.details["AII.2"] == {"old": None, "new": {"text": "", "evidence_id": policy.id}}

    # Items not named stay; an unchanged one is untouched; an emptied one is removed; one event for the change.
    untouched = session.scalars(select(UserInformation).where(UserInformation.ref == "AII.1")).one().updated_at
    record_user_information(
        session,
        plc.officer,
        plc.release.id,
        {"AII.1": UserInformationInput("Example Industrial, Musterstr. 1, Berlin"), "AII.8a": UserInformationInput()},
    )
    session.expire_all()
    rows = {r.ref: r for r in session.scalars(select(UserInformation))}
    assert sorted(rows) == ["AII.1", "AII.2"] and rows["AII.1"].updated_at == untouched
    assert events(session, "cra:user-information:record")[-1].details == {
        "AII.8a": {"old": {"text": "See the hardening guide.", "evidence_id": guide.id}, "new": None}
    }
    record_user_information(session, plc.officer, plc.release.id, {"AII.2": UserInformationInput("", policy.id)})
    assert len(events(session, "cra:user-information:record")) == 2  # nothing changed: nothing audited


def test_text_from_a_page_and_from_the_api_is_the_same_text(session: Session, plc: Plc) -> None:
    page = {"AII.4": UserInformationInput("For PLCs.\r\nIn control cabinets.\r\n")}
    record_user_information(session, plc.officer, plc.release.id, page)
    record_user_information(
        session, plc.officer, plc.release.id, {"AII.4": UserInformationInput("For PLCs.\nIn control cabinets.")}
    )
    record_declaration(
        session, plc.officer, plc.release.id, DeclarationInput(manufacturer_address="Musterstr. 1\r\nBerlin")
    )
    record_declaration(
        session, plc.officer, plc.release.id, DeclarationInput(manufacturer_address="Musterstr. 1\nBerlin ")
    )
    assert user_information(session, plc.auditor, plc.release.id)[3].text == "For PLCs.\nIn control cabinets."
    assert len(events(session, "cra:user-information:record")) == len(events(session, "cra:declaration:record")) == 1


def test_bad_items_are_refused_all_at_once_and_nothing_written(session: Session, plc: Plc) -> None:
    theirs = attach(session, OPERATOR, plc.elsewhere, "Their guide")
    other_release = make_release(session, plc.product, "2.0")
    for_two = attach(session, OPERATOR, plc.product, "Notes of 2.0", releases=("2.0",))
    for_one = attach(session, OPERATOR, plc.product, "Notes of 1.0", releases=("1.0",))
    record_user_information(session, plc.officer, plc.release.id, {"AII.9": UserInformationInput("At /sbom.")})
    before = written(session)
    error = refused(
        session,
        lambda: record_user_information(
            session,
            plc.officer,
            plc.release.id,
            {
                "AII.1": UserInformationInput("fine"),
                "AII.9": UserInformationInput(""),  # would remove: refused with the rest
                "AII.10": UserInformationInput("no such item"),
                "AII.4": UserInformationInput("x" * 20_001),
                "AII.5": UserInformationInput("", theirs.id),
                "AII.7": UserInformationInput("", for_two.id),
                "AII.8b": UserInformationInput("", 2_000_000_000),
            },
        ),
    )
    assert {e.field: e.message for e in error.errors} == {
        "items.AII.10": "'AII.10' is not an Annex II item (one of: AII.1, AII.2, AII.3, AII.4, AII.5, AII.6, AII.7, "
        "AII.8a, AII.8b, AII.8c, AII.8d, AII.8e, AII.8f, AII.9)",
        "items.AII.4.text": "at most 20,000 characters",
        "items.AII.5.evidence_id": f"no evidence #{theirs.id}",  # the officer does not see the other product
        "items.AII.7.evidence_id": f"#{for_two.id} covers other releases of the product, not 1.0",
        "items.AII.8b.evidence_id": "no evidence #2000000000",
    }
    assert written(session) == before
    error = refused(  # an administrator sees both products: the evidence is the other one's
        session,
        lambda: record_user_information(
            session, OPERATOR, plc.release.id, {"AII.5": UserInformationInput("", theirs.id)}
        ),
    )
    assert error.errors[0].message == (
        f"#{theirs.id} is another product's evidence: name this product's or the organisation's"
    )
    assert written(session) == before
    with pytest.raises(NotFound):  # another product's officer does not learn the release exists
        record_user_information(session, plc.stranger, other_release.id, {"AII.1": UserInformationInput("x")})
    record_user_information(session, plc.officer, plc.release.id, {"AII.7": UserInformationInput("", for_one.id)})
    assert written(session)[0] == before[0] + 1


def test_the_mapped_requirements_follow_the_releases_pinned_mapping(app: Flask, session: Session, plc: Plc) -> None:
    guide = attach(session, OPERATOR, plc.product, "Hardening guide", requirements=("SG-3",))
    attach(session, OPERATOR, plc.product, "Update notes", requirements=("SUM-2",))
    items = {i.ref: i for i in user_information(session, plc.auditor, plc.release.id)}
    commissioning = {m.ref: m for m in items["AII.8a"].mapped}
    assert sorted(commissioning) == ["SG-3", "SG-5", "SG-6"]
    assert commissioning["SG-3"].evidence == ((guide.id, "Hardening guide"),)
    assert "8(a)" in commissioning["SG-3"].rationale and commissioning["SG-3"].standard == "IEC 62443-4-1"
    assert sorted(m.ref for m in items["AII.8c"].mapped) == ["SUM-2", "SUM-3"]
    assert [m.ref for m in items["AII.8d"].mapped] == ["SG-4"]
    assert sorted(m.ref for m in items["AII.8f"].mapped) == ["SG-1", "SG-2"]
    assert items["AII.8b"].mapped == () and items["AII.8e"].mapped == ()
    assert [m.ref for m in items["AII.2"].mapped] == ["DM-1"]

    # A few documents or many: the same number of statements.
    session.expire_all()
    with statements(app) as few:
        user_information(session, plc.auditor, plc.release.id)
    for n in range(6):
        attach(session, OPERATOR, plc.product, f"Guide {n}", requirements=("SG-3", "SG-5"))
    session.expire_all()
    with statements(app) as many:
        user_information(session, plc.auditor, plc.release.id)
    assert len(many) == len(few)

    # A release assessed with the first mapping version (no Annex II targets) offers none.
    plc.release.cra_mapping_id = get_mapping(session, "2026.1").id
    session.flush()
    assert all(i.mapped == () for i in user_information(session, plc.auditor, plc.release.id))


# --- carried forward to a new release -----------------------------------------------------------------------------


@pytest.mark.usefixtures("carried")
def test_a_new_release_starts_with_the_previous_ones_information_and_declaration(session: Session, plc: Plc) -> None:
    product_wide = attach(session, OPERATOR, plc.product, "Hardening guide", requirements=("SG-3",))
    only_one = attach(session, OPERATOR, plc.product, "Notes of 1.0", releases=("1.0",))
    record_user_information(
        session,
        plc.officer,
        plc.release.id,
        {
            "AII.3": UserInformationInput("PLC, version 1.0"),
            "AII.8a": UserInformationInput("", product_wide.id),
            "AII.8c": UserInformationInput("Install with the updater.", only_one.id),
            "AII.9": UserInformationInput("", only_one.id),
        },
    )
    data = DeclarationInput(
        manufacturer_name="Example Industrial",
        product_identification="PLC, version 1.0",
        conformity_route="module_b_c",
        other_standards=["ETSI EN 303 645"],
        date_of_issue=DAY,
    )
    record_declaration(session, plc.officer, plc.release.id, data)
    later = make_release(session, plc.product, "1.1")

    rows = {r.ref: r for r in session.scalars(select(UserInformation).where(UserInformation.release_id == later.id))}
    assert sorted(rows) == ["AII.3", "AII.8a", "AII.8c"]  # AII.9 named only 1.0's notes: nothing left of it
    assert rows["AII.8a"].evidence_id == product_wide.id and rows["AII.8c"].evidence_id is None
    assert rows["AII.8c"].text == "Install with the updater." and rows["AII.3"].updated_by == "copied from 1.0"
    copied = session.get(Declaration, later.id)
    assert copied is not None and copied.date_of_issue is None
    assert copied.conformity_route is not None and copied.conformity_route.value == "module_b_c"
    assert copied.other_standards == ["ETSI EN 303 645"] and copied.manufacturer_name == "Example Industrial"
    (event,) = events(session, "cra:declarations:copy")
    assert event.details == {
        "from": "1.0",
        "user_information": ["AII.3", "AII.8a", "AII.8c"],
        "documents_not_carried": ["AII.8c", "AII.9"],
        "declaration": True,
    }
    # The identification still names 1.0: kept as text, and flagged.
    shown = {i.ref: i for i in user_information(session, plc.auditor, later.id)}
    assert shown["AII.3"].warning == "the product's identification does not name this release's version (1.1)"
    assert shown["AII.1"].warning == "" and user_information(session, plc.auditor, plc.release.id)[2].warning == ""


@pytest.mark.usefixtures("carried")
def test_a_first_release_or_one_after_an_empty_file_copies_nothing(session: Session, plc: Plc) -> None:
    make_release(session, plc.product, "1.1")
    assert written(session) == (0, 0, 0)


# --- the doors ----------------------------------------------------------------------------------------------------


def test_the_api_shows_and_records_the_declaration(api: ApiClient, session: Session, plc: Plc) -> None:
    path = f"/api/v1/releases/{plc.release.id}/cra/declaration"
    reader = api.as_user(AUDITOR)
    empty = api.call("GET", path, reader).get_json()
    assert empty["recorded"] is False and empty["conformity_route"] is None and empty["other_standards"] == []
    assert empty["allowed_routes"] == ["module_a", "module_b_c", "module_h", "eu_scheme"]
    assert empty["applied_standards"] == ["IEC 62443-4-1:2018", "IEC 62443-4-2:2019"]
    assert "are not harmonised standards cited" in empty["standards_statement"]
    body = {
        "manufacturer_name": "Example Industrial",
        "product_identification": "PLC, version 1.0",
        "conformity_route": "module_h",
        "notified_body_name": "TÜV Example",
        "notified_body_number": "0123",
        "date_of_issue": "2027-03-01",
    }
    saved = api.call("PUT", path, api.as_user(OFFICER), json=body)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    shown = saved.get_json()
    assert shown["recorded"] and shown["conformity_route"] == "module_h" and shown["date_of_issue"] == "2027-03-01"
    assert shown["updated_by"].endswith(OFFICER) and shown["warnings"] == []
    assert api.call("GET", path, reader).get_json()["notified_body_number"] == "0123"
    assert api.call("PUT", path, api.as_user(DEVELOPER), json=body).status_code == 403
    assert api.call("GET", path, api.as_user(STRANGER)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"conformity_route": "module_a"}, "conformity_route", "module A is open to an important product of class I"),
        ({"conformity_route": "module_z"}, "conformity_route", "Input should be"),
        ({"conformity_route": "module_h", "notified_body_number": "12"}, "notified_body_number", "four digits"),
        ({"presumption_basis": "common_specification"}, "presumption_basis", "only with module A"),
        ({"other_standards": ["IEC 62443-4-2"]}, "other_standards", "always recorded"),
        ({"date_of_issue": 0}, "date_of_issue", "YYYY-MM-DD"),
        ({"signatory": "x"}, "signatory", "Extra inputs are not permitted"),
    ],
)
def test_refused_declarations_are_problems_naming_the_field(
    api: ApiClient, session: Session, plc: Plc, body: dict[str, Any], field: str, says: str
) -> None:
    before = written(session)
    response = api.call("PUT", f"/api/v1/releases/{plc.release.id}/cra/declaration", api.as_user(OFFICER), json=body)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert [e["field"] for e in problem["errors"]] == [field] and says in problem["errors"][0]["message"], problem
    assert written(session) == before


def test_the_api_shows_and_records_user_information(api: ApiClient, session: Session, plc: Plc) -> None:
    guide = attach(session, OPERATOR, plc.product, "Hardening guide", requirements=("SG-3",))
    theirs = attach(session, OPERATOR, plc.elsewhere, "Their guide")
    session.commit()
    path = f"/api/v1/releases/{plc.release.id}/cra/user-information"
    officer = api.as_user(OFFICER)
    shown = api.call("GET", path, api.as_user(DEVELOPER)).get_json()
    assert [i["ref"] for i in shown["items"]] == list(USER_INFORMATION_REFS) and shown["release"] == "1.0"
    first = shown["items"][0]
    assert first["suggestion"] == "Example Industrial" and first["recorded"] is False and first["document"] is None
    mapped = {m["ref"]: m for m in shown["items"][7]["mapped"]}  # AII.8a
    assert mapped["SG-3"]["documents"] == [{"id": guide.id, "title": "Hardening guide"}]
    body = {"items": {"AII.1": {"text": "Example Industrial"}, "AII.8a": {"evidence_id": guide.id}}}
    saved = api.call("PUT", path, officer, json=body)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    items = {i["ref"]: i for i in saved.get_json()["items"]}
    assert items["AII.1"]["text"] == "Example Industrial" and items["AII.1"]["recorded"]
    assert items["AII.8a"]["document"] == {"id": guide.id, "title": "Hardening guide", "state": "submitted"}
    # Items not named are left as they are; a refusal writes nothing.
    before = written(session)
    bad = api.call("PUT", path, officer, json={"items": {"AII.1": {"text": ""}, "AII.5": {"evidence_id": theirs.id}}})
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert [e["field"] for e in bad.get_json()["errors"]] == ["items.AII.5.evidence_id"]
    assert written(session) == before
    unknown = api.call("PUT", path, officer, json={"items": {"AII.8": {"text": "x"}}})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "items.AII.8"
    assert api.call("PUT", path, api.as_user(AUDITOR), json=body).status_code == 403
    assert api.call("GET", path, api.as_user(STRANGER)).status_code == 404


def test_the_user_information_page_starts_from_the_suggestions_and_saves(
    client: FlaskClient, session: Session, plc: Plc
) -> None:
    guide = attach(session, OPERATOR, plc.product, "Hardening guide", requirements=("SG-3",))
    theirs = attach(session, OPERATOR, plc.elsewhere, "Their guide")
    session.commit()
    path = f"/releases/{plc.release.id}/cra/user-information"
    login(client, OFFICER)
    page = client.get(path).get_data(as_text=True)
    assert '<label for="AII_1-text">Text of AII.1</label>' in page
    assert 'name="AII_1-text">\r\nExample Industrial</textarea>' in page
    assert 'name="AII_3-text">\r\nPLC, embedded device (IEC 62443-4-2 EDR), version 1.0</textarea>' in page
    assert f'<option value="{guide.id}">#{guide.id} Hardening guide (product, submitted)</option>' in page
    assert "Their guide" not in page and "SG-3" in page and "8(a)" in page
    form = {f"{ref.replace('.', '_')}-text": "" for ref in USER_INFORMATION_REFS}
    form |= {f"{ref.replace('.', '_')}-evidence_id": "" for ref in USER_INFORMATION_REFS}
    form |= {"AII_1-text": "Example Industrial", "AII_8a-evidence_id": str(guide.id)}
    token = csrf_token(client, path)
    before = written(session)
    bad = client.post(path, data={**form, "AII_5-evidence_id": str(theirs.id), "csrf_token": token})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and f'id="AII_5-evidence_id-errors"><li>no evidence #{theirs.id}</li>' in text
    assert written(session) == before
    saved = client.post(path, data={**form, "csrf_token": token})
    assert saved.status_code == 302
    rows = {r.ref: r for r in session.scalars(select(UserInformation))}
    assert sorted(rows) == ["AII.1", "AII.8a"] and rows["AII.8a"].evidence_id == guide.id

    reader = client.application.test_client()
    login(reader, AUDITOR)
    shown = reader.get(path).get_data(as_text=True)
    assert "Example Industrial" in shown and "<textarea" not in shown and "Hardening guide" in shown
    assert reader.post(path, data={**form, "csrf_token": csrf_token(reader, path)}).status_code == 403


def test_the_declaration_page_offers_the_allowed_routes_and_shows_refusals(
    client: FlaskClient, session: Session, plc: Plc
) -> None:
    set_category(session, plc.product, "important_class_ii")
    session.commit()
    path = f"/releases/{plc.release.id}/cra/declaration"
    login(client, OFFICER)
    page = client.get(path).get_data(as_text=True)
    assert '<option value="module_b_c">' in page and '<option value="module_a">' not in page
    assert "Art. 32(3)" in page and "IEC 62443-4-2:2019" in page and "are not harmonised standards cited" in page
    assert 'value="Example Industrial"' in page  # suggested from the product
    token = csrf_token(client, path)
    before = written(session)
    form = {"manufacturer_name": "Example Industrial", "conformity_route": "module_a", "csrf_token": token}
    refused_page = client.post(path, data=form)
    assert refused_page.status_code == 422
    assert "Module A: internal control is not open to an important product of class II" in refused_page.get_data(
        as_text=True
    )
    assert written(session) == before
    form |= {"conformity_route": "module_h", "other_standards": "ETSI EN 303 645\r\n\r\netsi en 303 645\r\n"}
    assert client.post(path, data=form).status_code == 302
    recorded = session.get(Declaration, plc.release.id)
    assert recorded is not None and recorded.other_standards == ["ETSI EN 303 645"]

    session.commit()
    reader = client.application.test_client()
    login(reader, DEVELOPER)
    shown = reader.get(path).get_data(as_text=True)
    assert "Module H: full quality assurance" in shown and "<select" not in shown and "ETSI EN 303 645" in shown


def test_the_command_line_shows_and_records_from_a_file(app: Flask, session: Session, plc: Plc, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    shown = runner.invoke(cli, ["cra", "declaration", "PLC", "1.0"])
    assert shown.exit_code == 0, shown.output
    assert (
        "1.0: no declaration data recorded" in shown.output and "IEC 62443-4-1:2018; IEC 62443-4-2:2019" in shown.output
    )
    source = tmp_path / "declaration.json"
    source.write_text(json.dumps({"manufacturer_name": "Example Industrial", "conformity_route": "module_b_c"}))
    recorded = runner.invoke(cli, ["cra", "declaration", "PLC", "1.0", "--file", str(source), "--json"])
    assert recorded.exit_code == 0, recorded.output
    assert json.loads(recorded.output)["conformity_route"] == "module_b_c"

    items = tmp_path / "items.json"
    items.write_text(json.dumps({"items": {"AII.1": {"text": "Example Industrial"}}}))
    saved = runner.invoke(cli, ["cra", "user-info", "PLC", "1.0", "--file", str(items), "--as", OFFICER])
    assert saved.exit_code == 0, saved.output
    lines = saved.output.splitlines()
    assert lines[0].split()[:2] == ["AII.1", "text"] and lines[3].split()[:2] == ["AII.4", "missing"]
    listed = json.loads(runner.invoke(cli, ["cra", "user-info", "PLC", "1.0", "--json"]).output)
    assert listed["items"][0]["text"] == "Example Industrial"


@pytest.mark.parametrize(
    ("command", "content", "starts"),
    [
        (
            "declaration",
            {"conformity_route": "module_a"},
            "error: the declaration was not recorded (conformity_route: ",
        ),
        ("declaration", {"conformity_route": "module_z"}, "error: "),
        ("declaration", "not json", "error: --file: "),
        ("user-info", {"items": {"AII.99": {"text": "x"}}}, "error: the user information was not recorded (items."),
        ("user-info", {"items": {"AII.1": {"text": "x"}}, "more": 1}, "error: "),
    ],
)
def test_command_line_refusals_are_one_line_exit_2_and_write_nothing(
    app: Flask, session: Session, plc: Plc, tmp_path: Path, command: str, content: Any, starts: str
) -> None:
    source = tmp_path / "input.json"
    source.write_text(content if isinstance(content, str) else json.dumps(content))
    before = written(session)
    result = app.test_cli_runner().invoke(cli, ["cra", command, "PLC", "1.0", "--file", str(source)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith(starts), result.output
    assert written(session) == before


def test_developers_are_refused_on_the_command_line(app: Flask, session: Session, plc: Plc, tmp_path: Path) -> None:
    source = tmp_path / "declaration.json"
    source.write_text(json.dumps({"conformity_route": "module_b_c"}))
    result = app.test_cli_runner().invoke(
        cli, ["cra", "declaration", "PLC", "1.0", "--file", str(source), "--as", DEVELOPER]
    )
    assert result.exit_code == 2 and result.output.startswith("error: a developer may not do this (cra:manage)")
