"""Stored words read as people write them, the same on every page and in the commands' text."""

from __future__ import annotations

import enum

from sdl_tracker.auth import Role
from sdl_tracker.catalog.rules import foundational_requirements, fr_label, fr_name, vector_text
from sdl_tracker.claims.rules import ClaimStatus
from sdl_tracker.evidence.vocabulary import EvidenceKind, ReviewState
from sdl_tracker.labels import WORDS, label, labels
from sdl_tracker.products.models import CraCategory, InterfaceKind


def test_words_read_as_people_write_them() -> None:
    assert label(EvidenceKind.SBOM) == "SBOM"
    assert label("threat-model") == "Threat model"
    assert label(EvidenceKind.CODE_REVIEW) == "Code review"
    assert label(EvidenceKind.PSIRT_FIX) == "PSIRT fix"
    assert label(Role.SECURITY_OFFICER) == "Security officer"
    assert label(ClaimStatus.NOT_APPLICABLE) == "Not applicable"
    assert label(ReviewState.SUBMITTED) == "Submitted"
    assert label(CraCategory.IMPORTANT_CLASS_I) == "Important, class I"
    assert label(InterfaceKind.USB) == "USB"
    assert label("STRIDE") == "STRIDE" and label(None) == "" and label(3) == "3"


def test_every_label_is_one_a_person_would_write() -> None:
    kinds = labels(EvidenceKind)
    assert list(kinds) == list(EvidenceKind)
    for text in kinds.values():
        assert "_" not in text and "-" not in text.split()[0] and text[0].isupper()
    assert all(text.strip() == text and text for text in WORDS.values())


def test_the_table_names_only_words_the_tracker_stores() -> None:
    import sdl_tracker.catalog.rules as catalog_rules
    import sdl_tracker.gitlink.rules as gitlink_rules

    stored = {
        member.value
        for module in (catalog_rules, gitlink_rules)
        for enum_type in vars(module).values()
        if isinstance(enum_type, type) and issubclass(enum_type, enum.Enum)
        for member in enum_type
    }
    stored |= {m.value for e in (EvidenceKind, ClaimStatus, CraCategory, InterfaceKind) for m in e}
    field_names = {"target_sl", "sl_c", "cra_category", "cvd_policy_url", "sha256", "git_ref", "is_admin"}
    assert set(WORDS) - stored - field_names == set()


def test_sl_c_vectors_name_each_foundational_requirement() -> None:
    frs = foundational_requirements()
    assert [fr.id for fr in frs] == [f"FR{n}" for n in range(1, 8)]
    assert frs[0].abbrev == "IAC" and frs[0].name == "Identification and authentication control"
    assert fr_label("FR2") == "FR2 UC" and fr_name("FR7") == "Resource availability"
    assert fr_label("FR9") == "FR9"
    assert vector_text({"FR1": 3, "FR2": 2, "FR3": None}) == "FR1 IAC 3, FR2 UC 2, FR3 SI -"
