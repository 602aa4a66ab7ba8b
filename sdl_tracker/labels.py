"""How stored words read for people: one vocabulary for every page and the command line's text.

The API, `--json` and CSV keep the stored values (`sbom`, `security_officer`, `not_applicable`); what people
read is the label (`SBOM`, `Security officer`, `Not applicable`). A stored word reads the same wherever it
appears, so the table is keyed by the word itself; a word it lacks reads with its separators as spaces and
a capital first letter, which is right for most (`design-review` -> `Design review`).
"""

from __future__ import annotations

import enum
import re
from typing import TypeVar

# Only the words the plain rule would get wrong or that people write otherwise.
WORDS: dict[str, str] = {
    # Evidence kinds (evidence.vocabulary.EvidenceKind).
    "sbom": "SBOM",
    "psirt-fix": "PSIRT fix",
    "fuzz-campaign": "Fuzz test campaign",
    "fuzz-run": "Fuzz test run",
    # Claims (claims.rules).
    "compensated": "Compensating countermeasure",
    # Products.
    "important_class_i": "Important, class I",
    "important_class_ii": "Important, class II",
    "usb": "USB",
    # Catalog item kinds (catalog.rules.ItemKind).
    "process_requirement": "Requirement",
    "ccsc": "Common constraint (CCSC)",
    "component_requirement": "Component requirement (CR)",
    "type_requirement": "Component-type requirement",
    "enhancement": "Requirement enhancement (RE)",
    "cra_annex_i_part_i": "Annex I Part I",
    "cra_annex_i_part_ii": "Annex I Part II",
    "cra_annex_vii": "Annex VII",
    "cra_annex_ii": "Annex II",
    # Why a commit's review does not count (gitlink.rules.NotReviewed).
    "no-review": "No review names it",
    "accepted-later": "Accepted after the date judged on",
    "review-not-accepted": "Review not accepted",
    "acceptor-is-author": "Acceptor is the author",
    "acceptor-unknown": "Acceptor unknown",
    "reviewer-is-author": "Reviewer is the author",
    "reviewer-unknown": "Reviewer is no known user",
    "not-a-code-review": "Not a code review",
    "review-names-another-change": "Review names another change",
    "author-not-verified": "Author not verified",
    # Field names of records (audit details) that the plain rule gets wrong.
    "target_sl": "Target SL-C",
    "sl_c": "SL-C",
    "cra_category": "CRA category",
    "cvd_policy_url": "CVD policy URL",
    "sha256": "SHA-256",
    "git_ref": "Git ref",
    "is_admin": "Administrator",
}
# A word that is already a name people write (`STRIDE`, `CycloneDX 1.5 JSON`) stays as it is.
_SEPARATORS = re.compile(r"[_-]+")


def label(value: object) -> str:
    """How a stored word (an enum member or its value) reads: `sbom` -> `SBOM`, `security_officer` ->
    `Security officer`; None reads as an empty string."""
    if value is None:
        return ""
    word = value.value if isinstance(value, enum.Enum) else value
    text = str(word)
    if text in WORDS:
        return WORDS[text]
    if not text or text != text.lower() or " " in text:
        return text  # a name (`STRIDE`, `attack trees`) or free text: as written
    spaced = _SEPARATORS.sub(" ", text).strip()
    return spaced[:1].upper() + spaced[1:]


E = TypeVar("E", bound=enum.Enum)


def labels(members: type[E]) -> dict[E, str]:
    """Every member of an enum with its label, in the enum's order (for choices and legends)."""
    return {member: label(member) for member in members}
