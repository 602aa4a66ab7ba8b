"""Loading catalogs and mappings into the database: idempotent, editions side by side, complete mapping."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.catalog.models import CatalogEdition, CatalogMapping, Requirement, RequirementLink
from sdl_tracker.catalog.services import (
    RequirementFilter,
    current_editions,
    find_edition,
    load_catalog,
    load_mapping,
    load_packaged,
    packaged_document,
    requirement_view,
    search_requirements,
)
from sdl_tracker.errors import Conflict, Forbidden, Invalid
from sdl_tracker.products.services import set_product_edition, update_product
from tests.factories import OPERATOR, make_product, member


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _snapshot(session: Session) -> tuple[int, ...]:
    return tuple(_count(session, m) for m in (CatalogEdition, Requirement, CatalogMapping, RequirementLink, AuditEvent))


def amendment() -> dict[str, Any]:
    """A later edition of 4-2, as an amendment would bring it: a new id, a retitled CR, a new RE."""
    doc = copy.deepcopy(packaged_document("iec62443-4-2.json"))
    doc["edition_id"] = "2019+AMD1"
    doc["published"] = "2026-10"
    doc["title"] = "IEC 62443-4-2 with amendment 1 (draft)"
    doc["component_requirements"][0]["title"] = "Human user identification and authentication (amended)"
    doc["component_requirements"][0]["requirement_enhancements"].append(
        {"id": "CR 1.1 RE(3)", "title": "Phishing-resistant authentication", "sl_c": [4]}
    )
    return doc


def test_the_packaged_catalogs_are_loaded_once(session: Session) -> None:
    editions = {(e.standard, e.edition): e for e in session.scalars(select(CatalogEdition))}
    assert set(editions) == {("IEC 62443-4-1", "2018"), ("IEC 62443-4-2", "2019"), ("CRA", "2024/2847")}
    before = _snapshot(session)
    results = load_packaged(session, OPERATOR)
    assert [r.created for r in results] == [False] * 6
    assert _snapshot(session) == before  # loading again changes nothing, not even the audit log


def test_changed_title_in_the_same_edition_is_refused(session: Session) -> None:
    doc = copy.deepcopy(packaged_document("iec62443-4-1.json"))
    doc["requirements"][0]["title"] = "A different title"
    before = _snapshot(session)
    with pytest.raises(Conflict) as caught:
        load_catalog(session, OPERATOR, doc)
    assert "SM-1: title changed" in caught.value.message
    assert _snapshot(session) == before


def test_a_later_edition_loads_beside_the_current_one(session: Session) -> None:
    existing_product = make_product(session, "Before the amendment")
    result = load_catalog(session, OPERATOR, amendment())
    assert result.created and result.items == 149
    old = find_edition(session, "IEC 62443-4-2", "2019")
    new = find_edition(session, "IEC 62443-4-2", "2019+AMD1")
    assert old is not None and new is not None
    assert current_editions(session)["IEC 62443-4-2"].id == new.id
    old_cr = requirement_view(session, old, "CR 1.1").requirement
    assert old_cr.title == "Human user identification and authentication"  # old links still resolve
    assert [c.ref for c in requirement_view(session, new, "CR 1.1").children][-1] == "CR 1.1 RE(3)"
    assert existing_product.edition_names["IEC 62443-4-2"] == "2019"  # nobody is moved silently
    assert make_product(session, "After the amendment").edition_names["IEC 62443-4-2"] == "2019+AMD1"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "catalog:edition:load")).all()[-1]
    assert event.details["edition"] == "2019+AMD1"


def test_products_choose_their_editions(session: Session) -> None:
    load_catalog(session, OPERATOR, amendment())
    product = make_product(session)
    officer = member(session, product, "security_officer")
    set_product_edition(session, officer, product.id, standard="IEC 62443-4-2", edition="2019")
    assert product.edition_names == {"CRA": "2024/2847", "IEC 62443-4-1": "2018", "IEC 62443-4-2": "2019"}
    with pytest.raises(Invalid):
        set_product_edition(session, officer, product.id, standard="IEC 62443-4-2", edition="1999")
    update_product(session, officer, product.id, changes={"editions": {"IEC 62443-4-2": "2019+AMD1"}})
    assert product.edition_names["IEC 62443-4-2"] == "2019+AMD1"
    developer = member(session, product, "developer")
    with pytest.raises(Forbidden):
        set_product_edition(session, developer, product.id, standard="IEC 62443-4-2", edition="2019")


def test_only_administrators_load_catalogs(session: Session) -> None:
    officer = member(session, make_product(session), "security_officer")
    with pytest.raises(Forbidden):
        load_catalog(session, officer, amendment())


def test_the_mapping_is_complete_and_resolves(session: Session) -> None:
    edition_41 = find_edition(session, "IEC 62443-4-1", "2018")
    edition_42 = find_edition(session, "IEC 62443-4-2", "2019")
    cra = find_edition(session, "CRA", "2024/2847")
    assert edition_41 and edition_42 and cra
    sm9 = requirement_view(session, edition_41, "SM-9")
    assert "II.1" in {link.target.ref for link in sm9.supports if link.target}
    cr23 = requirement_view(session, edition_42, "CR 2.3")
    assert [link.target for link in cr23.supports] == [None] and cr23.supports[0].rationale
    sources = {link.source.ref for link in requirement_view(session, cra, "II.3").supported_by}
    assert "SVV-3" in sources
    mapped_sources = {link.source_id for link in session.scalars(select(RequirementLink))}
    must_map = session.scalars(
        select(Requirement).where(Requirement.kind.in_(["process_requirement", "component_requirement"]))
    )
    assert {r.id for r in must_map} <= mapped_sources


def _mapping(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(packaged_document("mapping-cra.json"))
    doc.update(changes)
    return doc


def test_mapping_errors_write_nothing(session: Session) -> None:
    before = _snapshot(session)
    incomplete = _mapping(version="2026.2")
    incomplete["rows"] = incomplete["rows"][1:]
    with pytest.raises(Invalid, match="not valid") as caught:
        load_mapping(session, OPERATOR, incomplete)
    assert "IEC 62443-4-1 SM-1" in caught.value.one_line()
    unknown = _mapping(version="2026.2")
    unknown["rows"][0]["cra_points"] = ["I.9z"]
    with pytest.raises(Invalid, match="not valid"):
        load_mapping(session, OPERATOR, unknown)
    unloaded = _mapping(
        version="2026.2", source_editions={"IEC 62443-4-1": "2030", "IEC 62443-4-2": "2019", "CRA": "2024/2847"}
    )
    with pytest.raises(Invalid, match="not loaded"):
        load_mapping(session, OPERATOR, unloaded)
    changed = _mapping()
    changed["rows"][0]["rationale"] = "A different reason."
    with pytest.raises(Conflict):
        load_mapping(session, OPERATOR, changed)
    assert _snapshot(session) == before


def test_a_new_mapping_version_becomes_the_one_shown(session: Session) -> None:
    newer = _mapping(version="2027.1")
    newer["rows"][0]["rationale"] = "Revised: the documented process is the basis of Annex I Part I (1)."
    assert load_mapping(session, OPERATOR, newer).created
    edition_41 = find_edition(session, "IEC 62443-4-1", "2018")
    assert edition_41 is not None
    assert requirement_view(session, edition_41, "SM-1").supports[0].rationale.startswith("Revised")


def test_search(session: Session) -> None:
    edition_42 = find_edition(session, "IEC 62443-4-2", "2019")
    assert edition_42 is not None
    rows = search_requirements(
        session, edition_42, RequirementFilter(component_type="EDR", level=1, kind="type_requirement")
    )
    assert len(rows) == 4  # the reference tally: four EDR items are required from SL-C 1
    assert all(r.component_type == "EDR" and r.sl_c and min(r.sl_c) == 1 for r in rows)
    text = search_requirements(session, edition_42, RequirementFilter(query="MOBILE CODE"))
    assert text[0].ref == "CR 2.4" and all("mobile code" in r.title.lower() for r in text)


def test_changed_metadata_in_the_same_edition_is_refused(session: Session) -> None:
    doc = copy.deepcopy(packaged_document("cra.json"))
    doc["article_14_clocks"]["actively_exploited_vulnerability"]["early_warning"]["hours"] = 48
    with pytest.raises(Conflict, match="metadata"):
        load_catalog(session, OPERATOR, doc)
