"""The mandatory tests of CSAF 2.0 about profiles: 6.1.26 (a base document does not take a profile's name)
and the profile tests 6.1.27.1 to 6.1.27.11, each run only for the document categories it names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import csaf_json as cj

PROFILES = (
    "csaf_base",
    "csaf_security_incident_response",
    "csaf_informational_advisory",
    "csaf_security_advisory",
    "csaf_vex",
)
# 6.1.26: the names of the profiles other than CSAF Base, which a base document's category may not take.
_PROFILE_NAMES = ("Security incident response", "Informational Advisory", "Security Advisory", "VEX")


def _squeezed(text: str) -> str:
    return re.sub(r"[-\s_]", "", text).lower()


def rule_6_1_26(document: Mapping[str, Any]) -> cj.Found:
    """Prohibited document category name: a base document does not pass itself off as another profile."""
    category = cj.document_of(document).get("category")
    if not isinstance(category, str) or category in PROFILES:
        return
    taken = {_squeezed(name) for name in _PROFILE_NAMES} | {_squeezed(value) for value in PROFILES[1:]}
    if _squeezed(category) in taken:
        yield "/document/category", f"{category} is the name or value of a CSAF profile other than CSAF Base"
    elif category.lower().startswith("csaf_"):
        yield "/document/category", f"{category} starts with the prefix csaf_, which only the profiles use"


# -- 6.1.27: profiles -------------------------------------------------------------------------------


def _profile(document: Mapping[str, Any], *categories: str) -> bool:
    return cj.document_of(document).get("category") in categories


def rule_6_1_27_1(document: Mapping[str, Any]) -> cj.Found:
    """Document notes: a description, details, general or summary note."""
    if _profile(document, "csaf_informational_advisory", "csaf_security_incident_response"):
        categories = {
            cj.as_dict(note).get("category") for _, note in cj.items(cj.document_of(document).get("notes"), "")
        }
        if not categories & {"description", "details", "general", "summary"}:
            yield "/document/notes", "no document note of category description, details, general or summary"


def rule_6_1_27_2(document: Mapping[str, Any]) -> cj.Found:
    """Document references: at least one external reference."""
    if _profile(document, "csaf_informational_advisory", "csaf_security_incident_response"):
        references = cj.items(cj.document_of(document).get("references"), "")
        if not any(cj.as_dict(reference).get("category") == "external" for _, reference in references):
            yield "/document/references", "no document reference of category external"


def rule_6_1_27_3(document: Mapping[str, Any]) -> cj.Found:
    """Vulnerabilities: an informational advisory has none."""
    if _profile(document, "csaf_informational_advisory") and "vulnerabilities" in document:
        yield "/vulnerabilities", "an informational advisory has no vulnerabilities"


def rule_6_1_27_4(document: Mapping[str, Any]) -> cj.Found:
    """Product tree: a security advisory or VEX document has one."""
    if _profile(document, "csaf_security_advisory", "csaf_vex") and "product_tree" not in document:
        yield "/product_tree", "the profile needs a product tree"


def rule_6_1_27_5(document: Mapping[str, Any]) -> cj.Found:
    """Vulnerability notes: each vulnerability has notes."""
    if _profile(document, "csaf_security_advisory", "csaf_vex"):
        for where, vulnerability in cj.vulnerabilities(document):
            if "notes" not in vulnerability:
                yield f"{where}/notes", "the vulnerability has no notes"


def rule_6_1_27_6(document: Mapping[str, Any]) -> cj.Found:
    """Product status: each vulnerability of a security advisory has one."""
    if _profile(document, "csaf_security_advisory"):
        for where, vulnerability in cj.vulnerabilities(document):
            if "product_status" not in vulnerability:
                yield f"{where}/product_status", "the vulnerability has no product status"


def rule_6_1_27_7(document: Mapping[str, Any]) -> cj.Found:
    """VEX product status: fixed, known_affected, known_not_affected or under_investigation is given."""
    if _profile(document, "csaf_vex"):
        vex = ("fixed", "known_affected", "known_not_affected", "under_investigation")
        for where, vulnerability in cj.vulnerabilities(document):
            if not any(name in cj.as_dict(vulnerability.get("product_status")) for name in vex):
                yield f"{where}/product_status", f"none of {', '.join(vex)} is given"


def rule_6_1_27_8(document: Mapping[str, Any]) -> cj.Found:
    """Vulnerability id: a CVE or other ids."""
    if _profile(document, "csaf_vex"):
        for where, vulnerability in cj.vulnerabilities(document):
            if "cve" not in vulnerability and "ids" not in vulnerability:
                yield where, "the vulnerability has neither a cve nor ids"


def _unstated(document: Mapping[str, Any], status: str, key: str, category: str | None) -> cj.Found:
    """Products of a status that no flag, remediation or threat (of the category) names, directly or by group."""
    groups = cj.product_groups(document)
    for where, vulnerability in cj.vulnerabilities(document):
        stated: set[str] = set()
        for _, item in cj.statements(vulnerability, where, key):
            if category is None or item.get("category") == category:
                stated |= cj.covered(item, groups)
        for at, product in cj.statuses(vulnerability, where, status):
            if product not in stated:
                yield at, f"product {product} is {status} without {'an impact' if category else 'an action'} statement"


def rule_6_1_27_9(document: Mapping[str, Any]) -> cj.Found:
    """Impact statement: each known_not_affected product has a flag or an impact threat."""
    if _profile(document, "csaf_vex"):
        flagged = {at for at, _ in _unstated(document, "known_not_affected", "flags", None)}
        for at, message in _unstated(document, "known_not_affected", "threats", "impact"):
            if at in flagged:
                yield at, message


def rule_6_1_27_10(document: Mapping[str, Any]) -> cj.Found:
    """Action statement: each known_affected product has a remediation."""
    if _profile(document, "csaf_vex"):
        yield from _unstated(document, "known_affected", "remediations", None)


def rule_6_1_27_11(document: Mapping[str, Any]) -> cj.Found:
    """Vulnerabilities: a security advisory or VEX document has them."""
    if _profile(document, "csaf_security_advisory", "csaf_vex") and "vulnerabilities" not in document:
        yield "/vulnerabilities", "the profile needs vulnerabilities"
