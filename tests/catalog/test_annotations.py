"""The annotation document: the project's reading of the standards, loaded and versioned beside the catalogs."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.catalog.models import CatalogAnnotationSet, RequirementAnnotation
from sdl_tracker.catalog.rules import (
    INDEPENDENCE_LEVELS,
    CatalogItem,
    ItemKind,
    RecordScope,
    annotation_of,
    parse_annotations,
)
from sdl_tracker.catalog.services import annotations_for, load_annotations, packaged_document
from sdl_tracker.errors import Conflict, Invalid
from sdl_tracker.evidence import vocabulary
from sdl_tracker.evidence.vocabulary import EvidenceKind
from tests.factories import OPERATOR


def test_every_4_1_requirement_is_annotated_with_its_clause_and_record_scope(session: Session) -> None:
    process = annotations_for(session, "IEC 62443-4-1")
    assert len(process) == 47
    assert process["SM-1"].clause == "5.2" and process["SG-7"].clause == "12.8" and process["SVV-4"].clause == "9.5"
    assert process["SR-2"].record_scope is RecordScope.RELEASE
    assert process["SM-4"].record_scope is RecordScope.ORGANISATION
    assert [ref for ref, a in process.items() if a.event_driven] == ["DM-1", "DM-2", "DM-3", "DM-4", "DM-5"]
    assert process["SVV-4"].min_tester_independence == "independent-department"
    # An SBOM is a record of SM-9 (externally provided components), not of SM-10 (custom suppliers).
    assert "sbom" in process["SM-9"].record_kinds and "sbom" not in process["SM-10"].record_kinds


def test_record_kinds_and_independence_levels_are_the_evidence_vocabulary(session: Session) -> None:
    kinds = {kind.value for kind in EvidenceKind}
    for annotation in annotations_for(session, "IEC 62443-4-1").values():
        assert set(annotation.record_kinds) <= kinds, annotation.ref
        assert "process-document" not in annotation.record_kinds  # a process never stands in for its records
    assert tuple(level.value for level in vocabulary.TesterIndependence) == INDEPENDENCE_LEVELS


def test_conditional_4_2_items_state_their_condition_and_enhancements_inherit_it(session: Session) -> None:
    component = annotations_for(session, "IEC 62443-4-2")
    assert component["CR 2.2"].conditional and "wireless" in component["CR 2.2"].condition
    assert "CR 1.1" not in component  # human user authentication is never conditional
    items = {
        "CR 1.7": CatalogItem("CR 1.7", "Strength of password-based authentication", ItemKind.COMPONENT_REQUIREMENT),
        "CR 1.7 RE(1)": CatalogItem("CR 1.7 RE(1)", "x", ItemKind.ENHANCEMENT, parent="CR 1.7"),
        "CR 1.1 RE(1)": CatalogItem("CR 1.1 RE(1)", "x", ItemKind.ENHANCEMENT, parent="CR 1.1"),
        "CR 1.1": CatalogItem("CR 1.1", "x", ItemKind.COMPONENT_REQUIREMENT),
    }
    assert annotation_of("CR 1.7 RE(1)", items, component).conditional
    assert not annotation_of("CR 1.1 RE(1)", items, component).conditional


def test_loading_the_same_annotations_again_changes_nothing_and_changed_content_is_refused(session: Session) -> None:
    document = packaged_document("annotations.json")
    assert not load_annotations(session, OPERATOR, document).created
    changed = copy.deepcopy(document)
    changed["process_requirements"][0]["record_scope"] = "release"
    with pytest.raises(Conflict):
        load_annotations(session, OPERATOR, changed)
    assert session.scalar(select(func.count()).select_from(CatalogAnnotationSet)) == 1


def test_a_new_version_replaces_the_reading_without_touching_the_catalog(session: Session) -> None:
    document = copy.deepcopy(packaged_document("annotations.json"))
    document["version"] = "2027.1"
    document["process_requirements"][0]["record_scope"] = "release"
    assert load_annotations(session, OPERATOR, document).created
    assert annotations_for(session, "IEC 62443-4-1")["SM-1"].record_scope is RecordScope.RELEASE
    assert session.scalar(select(func.count()).select_from(RequirementAnnotation)) == 2 * (47 + 17)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["process_requirements"].pop(0), "no annotation for: SM-1"),
        (lambda d: d["process_requirements"][0].update(record_scope="team"), "unknown record scope"),
        (lambda d: d["process_requirements"][0].update(clause="five"), "clause number"),
        (lambda d: d["component_items"][0].update(requirement="CR 9.9"), "unknown IEC 62443-4-2 item CR 9.9"),
        (lambda d: d["component_items"][0].update(condition=""), "states its condition"),
        (lambda d: d["process_requirements"][4].update(min_tester_independence="friend"), "unknown independence"),
    ],
)
def test_a_bad_annotation_document_is_refused_naming_the_problem(session: Session, change, message) -> None:  # type: ignore[no-untyped-def]
    document = copy.deepcopy(packaged_document("annotations.json"))
    document["version"] = "2027.1"
    change(document)
    with pytest.raises(Invalid) as caught:
        parse_annotations(document)
        load_annotations(session, OPERATOR, document)
    assert message in caught.value.one_line()
    assert session.scalar(select(func.count()).select_from(CatalogAnnotationSet)) == 1
