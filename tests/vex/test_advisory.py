"""CSAF 2.0 documents built from plain data: valid by construction, byte-stable, and bad input refused."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sdl_tracker.vex.advisory import (
    Advisory,
    AdvisoryError,
    Decision,
    Library,
    Note,
    NoteCategory,
    Profile,
    Publisher,
    Reference,
    Release,
    ReleaseRef,
    Remediation,
    RemediationCategory,
    Revision,
    Tracking,
    TrackingStatus,
    Vulnerability,
    VulnerabilityId,
    build,
    serialise,
)
from sdl_tracker.vex.rules import Justification, Status
from sdl_tracker.vex.validity import check

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
PLC = "PLC Controller"
OLD, CURRENT, FIXED = ReleaseRef(PLC, "2.0.0"), ReleaseRef(PLC, "2.1.0"), ReleaseRef(PLC, "2.1.1")
GATEWAY = ReleaseRef("Edge Gateway", "1.4")
OPENSSL = "pkg:generic/openssl@3.0.7"
ZLIB = "pkg:github/madler/zlib@1.2.13"
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
VECTOR_40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
VENDOR_FIX, NO_FIX_PLANNED = RemediationCategory.VENDOR_FIX, RemediationCategory.NO_FIX_PLANNED


def _releases() -> tuple[Release, ...]:
    return (
        Release(PLC, "2.1.1", vendor="Example Automation", cpe="cpe:2.3:o:example:plc_controller:2.1.1:*:*:*:*:*:*:*"),
        Release(PLC, "2.0.0", vendor="Example Automation", hardware_revisions=("B", "A")),
        Release(PLC, "2.1.0", vendor="Example Automation", hardware_revisions=("B",)),
        Release("Edge Gateway", "1.4", purl="pkg:generic/example/edge-gateway@1.4"),  # vendor: the publisher
    )


def _libraries() -> tuple[Library, ...]:
    return (Library(OPENSSL, (CURRENT, OLD)), Library(ZLIB, (GATEWAY,)))


def _not_affected(release: ReleaseRef, justification: Justification, component: str = "") -> Decision:
    return Decision(release, Status.NOT_AFFECTED, component, justification, impact=f"Not affected: {justification}.")


def _cases() -> tuple[Vulnerability, ...]:
    """Two cases: one in the firmware's own code, fixed in 2.1.1; one in OpenSSL, shipped in two releases."""
    own = Vulnerability(
        title="Authentication bypass in the web server",
        description="A crafted request reaches the configuration pages without a session.",
        cve="CVE-2026-10001",
        cwe=287,
        cvss_v31=VECTOR,
        cvss_v40=VECTOR_40,
        decisions=(
            Decision(OLD, Status.AFFECTED, action="Update to 2.1.1.", action_category=VENDOR_FIX),
            Decision(CURRENT, Status.AFFECTED, action="Update to 2.1.1.", action_category=VENDOR_FIX),
            Decision(FIXED, Status.FIXED),
            _not_affected(GATEWAY, Justification.COMPONENT_NOT_PRESENT),
        ),
        remediations=(
            Remediation(RemediationCategory.WORKAROUND, "Block TCP port 443 at the cell firewall.", (OLD, CURRENT)),
        ),
        references=(Reference("https://example.com/psirt/PSIRT-2026-0001", "Our advisory page"),),
    )
    library = Vulnerability(
        title="OpenSSL X.400 type confusion",
        description="A type confusion in X.400 address processing.",
        cve="CVE-2023-0286",
        cwe=843,
        cvss_v31="CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
        ids=(VulnerabilityId("Example Automation PSIRT", "PSIRT-2026-0002"),),
        decisions=(
            Decision(OLD, Status.AFFECTED, OPENSSL, action="Restrict CRL sources to the plant's own CA."),
            _not_affected(CURRENT, Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH, OPENSSL),
            Decision(FIXED, Status.UNDER_INVESTIGATION),
            _not_affected(GATEWAY, Justification.VULNERABLE_CODE_NOT_PRESENT, ZLIB),
        ),
        notes=(Note(NoteCategory.SUMMARY, "Only CRL processing reaches the flaw.", "Reach"),),
    )
    return own, library


def _every_justification() -> Vulnerability:
    """A case no release is affected by: each justification once (on releases and on the library)."""
    justifications = list(Justification)
    targets = [(OLD, ""), (CURRENT, ""), (FIXED, ""), (OLD, OPENSSL), (CURRENT, OPENSSL)]
    return Vulnerability(
        title="Not ours",
        description="A flaw in a driver none of our products load.",
        ids=(VulnerabilityId("Example Automation PSIRT", "PSIRT-2026-0003"),),
        decisions=tuple(
            _not_affected(release, justification, component)
            for (release, component), justification in zip(targets, justifications, strict=True)
        ),
    )


def _advisory(profile: Profile = Profile.VEX, **changes: Any) -> Advisory:
    advisory = Advisory(
        profile=profile,
        title="Example Automation PLC Controller: two vulnerabilities",
        publisher=Publisher("Example Automation", "https://example.com", contact_details="psirt@example.com"),
        tracking=Tracking(
            "EXA-2026-0001",
            TrackingStatus.FINAL,
            (Revision(1, T0, "Initial version."), Revision(2, T0 + timedelta(days=3), "OpenSSL case added.")),
        ),
        tlp="WHITE",
        releases=_releases(),
        libraries=_libraries(),
        vulnerabilities=_cases(),
        notes=(Note(NoteCategory.LEGAL_DISCLAIMER, "Provided as is.", "Terms of use"),),
        references=(Reference("https://example.com/csaf/2026/exa-2026-0001.json", "This document", self_link=True),),
    )
    return dataclasses.replace(advisory, **changes)


def _vulnerability(document: dict[str, Any], cve: str) -> dict[str, Any]:
    return next(item for item in document["vulnerabilities"] if item.get("cve") == cve)


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"vulnerabilities": (_every_justification(),)},
        {"vulnerabilities": (*_cases(), _every_justification())},
        {"tlp": "amber", "tracking": Tracking("EXA-2026-0002", TrackingStatus.DRAFT, (Revision(1, T0, "Draft."),))},
        {"tlp": "TLP:RED", "tracking": Tracking("EXA 2026/3", TrackingStatus.INTERIM, (Revision(1, T0, "Interim."),))},
        {"releases": _releases()[:1], "libraries": (), "vulnerabilities": (
            Vulnerability("Fixed", "Fixed in 2.1.1.", (Decision(FIXED, Status.FIXED),), cve="CVE-2026-10002"),
        )},
    ],
)  # fmt: skip
def test_built_documents_pass_the_schema_and_every_mandatory_test(profile: Profile, changes: dict[str, Any]) -> None:
    document = build(_advisory(profile, **changes))
    assert check(document) == []
    assert document["document"]["category"] == profile.value


def test_the_product_tree_is_vendor_product_version_with_libraries_related_to_the_releases_shipping_them() -> None:
    tree = build(_advisory())["product_tree"]
    vendors = {vendor["name"]: vendor for vendor in tree["branches"]}
    assert list(vendors) == ["Example Automation"]
    products = {product["name"]: product for product in vendors["Example Automation"]["branches"]}
    assert list(products) == ["Edge Gateway", "PLC Controller", "PLC Controller hardware"]
    versions = products[PLC]["branches"]
    assert [branch["name"] for branch in versions] == ["2.0.0", "2.1.0", "2.1.1"]  # version order
    assert versions[2]["product"] == {
        "name": "Example Automation PLC Controller 2.1.1",
        "product_id": "CSAFPID-R:PLC+Controller:2.1.1",
        "product_identification_helper": {"cpe": "cpe:2.3:o:example:plc_controller:2.1.1:*:*:*:*:*:*:*"},
    }
    gateway = products["Edge Gateway"]["branches"][0]["product"]
    assert gateway["product_identification_helper"] == {"purl": "pkg:generic/example/edge-gateway@1.4"}
    assert [branch["name"] for branch in products["PLC Controller hardware"]["branches"]] == ["A", "B"]
    assert tree["full_product_names"] == [
        {"name": "openssl 3.0.7", "product_id": "CSAFPID-L:pkg%3Ageneric/openssl@3.0.7",
         "product_identification_helper": {"purl": OPENSSL}},
        {"name": "madler/zlib 1.2.13", "product_id": "CSAFPID-L:pkg%3Agithub/madler/zlib@1.2.13",
         "product_identification_helper": {"purl": ZLIB}},
    ]  # fmt: skip
    components = [item for item in tree["relationships"] if item["category"] == "default_component_of"]
    assert {(item["product_reference"], item["relates_to_product_reference"]) for item in components} == {
        ("CSAFPID-L:pkg%3Ageneric/openssl@3.0.7", "CSAFPID-R:PLC+Controller:2.0.0"),
        ("CSAFPID-L:pkg%3Ageneric/openssl@3.0.7", "CSAFPID-R:PLC+Controller:2.1.0"),
        ("CSAFPID-L:pkg%3Agithub/madler/zlib@1.2.13", "CSAFPID-R:Edge+Gateway:1.4"),
    }
    installed = [item["full_product_name"]["name"] for item in tree["relationships"] if "on hardware" in str(item)]
    assert installed == [
        "Example Automation PLC Controller 2.0.0 on hardware A",
        "Example Automation PLC Controller 2.0.0 on hardware B",
        "Example Automation PLC Controller 2.1.0 on hardware B",
    ]


def test_a_library_decision_states_the_status_of_the_library_in_that_release() -> None:
    item = _vulnerability(build(_advisory()), "CVE-2023-0286")
    in_old = "CSAFPID-L:pkg%3Ageneric/openssl@3.0.7:in:PLC+Controller:2.0.0"
    in_current = "CSAFPID-L:pkg%3Ageneric/openssl@3.0.7:in:PLC+Controller:2.1.0"
    zlib_in_gateway = "CSAFPID-L:pkg%3Agithub/madler/zlib@1.2.13:in:Edge+Gateway:1.4"
    assert item["product_status"] == {
        "known_affected": [in_old],
        "known_not_affected": [in_current, zlib_in_gateway],
        "under_investigation": ["CSAFPID-R:PLC+Controller:2.1.1"],
    }
    assert item["flags"] == [
        {"label": "vulnerable_code_not_in_execute_path", "product_ids": [in_current]},
        {"label": "vulnerable_code_not_present", "product_ids": [zlib_in_gateway]},
    ]
    assert [threat["product_ids"] for threat in item["threats"]] == [[in_current], [zlib_in_gateway]]
    assert all(threat["category"] == "impact" for threat in item["threats"])
    assert item["remediations"] == [
        {"category": "mitigation", "details": "Restrict CRL sources to the plant's own CA.", "product_ids": [in_old]}
    ]
    assert item["ids"] == [{"system_name": "Example Automation PSIRT", "text": "PSIRT-2026-0002"}]


def test_scores_cwe_and_remediations_of_a_case() -> None:
    item = _vulnerability(build(_advisory()), "CVE-2026-10001")
    assert item["cwe"] == {"id": "CWE-287", "name": "Improper Authentication"}
    # Score and severity computed from the vector; v4.0 is not carried; scored: the affected and fixed releases.
    assert item["scores"] == [
        {
            "cvss_v3": {"version": "3.1", "vectorString": VECTOR, "baseScore": 9.8, "baseSeverity": "CRITICAL"},
            "products": [f"CSAFPID-R:PLC+Controller:{version}" for version in ("2.0.0", "2.1.0", "2.1.1")],
        }
    ]  # fmt: skip
    assert item["remediations"] == [
        {"category": "vendor_fix", "details": "Update to 2.1.1.",
         "product_ids": ["CSAFPID-R:PLC+Controller:2.0.0", "CSAFPID-R:PLC+Controller:2.1.0"]},
        {"category": "workaround", "details": "Block TCP port 443 at the cell firewall.",
         "product_ids": ["CSAFPID-R:PLC+Controller:2.0.0", "CSAFPID-R:PLC+Controller:2.1.0"]},
    ]  # fmt: skip
    assert item["product_status"]["fixed"] == ["CSAFPID-R:PLC+Controller:2.1.1"]


def test_tracking_uses_integer_versions_and_the_revisions_dates() -> None:
    document = build(_advisory(tlp="green"))["document"]
    assert document["distribution"] == {"tlp": {"label": "GREEN", "url": "https://www.first.org/tlp/"}}
    tracking = document["tracking"]
    assert tracking["version"] == "2"
    assert [entry["number"] for entry in tracking["revision_history"]] == ["1", "2"]
    assert tracking["initial_release_date"] == "2026-03-02T09:30:00.000Z"
    assert tracking["current_release_date"] == "2026-03-05T09:30:00.000Z"


def test_the_same_input_gives_the_same_bytes_whatever_the_order_it_came_in() -> None:
    advisory = _advisory()
    shuffled = dataclasses.replace(
        advisory,
        releases=tuple(reversed(advisory.releases)),
        libraries=tuple(reversed(advisory.libraries)),
        vulnerabilities=tuple(
            dataclasses.replace(item, decisions=tuple(reversed(item.decisions)))
            for item in reversed(advisory.vulnerabilities)
        ),
    )
    first = serialise(build(advisory))
    assert serialise(build(advisory)) == first
    assert serialise(build(shuffled)) == first
    assert json.loads(first) == build(advisory)
    assert first.endswith(b"}\n")
    # The same instant in another zone is the same document.
    berlin = timezone(timedelta(hours=1))
    revisions = tuple(dataclasses.replace(r, date=r.date.astimezone(berlin)) for r in advisory.tracking.revisions)
    moved = dataclasses.replace(advisory, tracking=dataclasses.replace(advisory.tracking, revisions=revisions))
    assert serialise(build(moved)) == first


def _with_decisions(*decisions: Decision, **changes: Any) -> Advisory:
    vulnerability = Vulnerability("A case", "What it is.", decisions, cve="CVE-2026-10009", **changes)
    return _advisory(vulnerabilities=(vulnerability,))


@pytest.mark.parametrize(
    ("advisory", "message"),
    [
        (_with_decisions(Decision(ReleaseRef(PLC, "9.9"), Status.FIXED)), "PLC Controller 9.9, which is not a release"),
        (_with_decisions(Decision(GATEWAY, Status.FIXED, component=OPENSSL)),
         "names component pkg:generic/openssl@3.0.7 in Edge Gateway 1.4, which is not a library"),
        (_advisory(libraries=(Library(OPENSSL, (ReleaseRef("Other", "1"),)),)), "Other 1, which is not a release"),
        (_with_decisions(Decision(FIXED, Status.FIXED), remediations=(
            Remediation(RemediationCategory.VENDOR_FIX, "Update.", (ReleaseRef(PLC, "3.0"),)),)),
         "PLC Controller 3.0, which is not a release"),
        (_with_decisions(Decision(OLD, Status.AFFECTED, action="Update."), cvss_v40=VECTOR_40),
         "only a CVSS v4.0 vector is given"),
        (_with_decisions(Decision(OLD, Status.NOT_AFFECTED, impact="Not reachable.")),
         "not affected needs a justification"),
        (_with_decisions(Decision(OLD, Status.AFFECTED, impact="Remote code execution.")), "affected needs an action"),
        (_advisory(tlp="CLEAR"), "TLP:CLEAR is not a CSAF 2.0 label"),
        (_advisory(tlp="AMBER+STRICT"), "is not a CSAF 2.0 label: use WHITE, GREEN, AMBER or RED"),
        (_with_decisions(Decision(OLD, Status.FIXED), Decision(OLD, Status.AFFECTED, action="Update.")),
         "is given twice"),
        (_with_decisions(Decision(OLD, Status.AFFECTED, action="None.", action_category=NO_FIX_PLANNED),
                         remediations=(Remediation(VENDOR_FIX, "Update.", (OLD,)),)),
         "has a vendor fix and also none available or no fix planned"),
        (_with_decisions(), "no decision states a product status"),
        (_with_decisions(Decision(OLD, Status.FIXED), cvss_v31="CVSS:3.1/AV:N"), "not a valid CVSS 3.1 vector"),
        (_with_decisions(Decision(OLD, Status.FIXED), cwe=999999), "CWE-999999 is not in the CWE list"),
        (_advisory(vulnerabilities=(_cases()[0], _cases()[0])), "CVE-2026-10001 is given for more than one"),
        (_advisory(vulnerabilities=(Vulnerability("No id", "x", (Decision(OLD, Status.FIXED),)),)),
         "a VEX vulnerability needs a CVE or another id"),
        (_advisory(tracking=Tracking("X", TrackingStatus.FINAL, (Revision(2, T0, "Second."),))), "count 1, 2, 3"),
        (_advisory(tracking=Tracking("X", TrackingStatus.FINAL, ())), "has no revision"),
        (_advisory(tracking=Tracking("X", TrackingStatus.FINAL, (Revision(1, T0, "a"), Revision(2, T0 - DAY, "b")))),
         "revision dates go backwards"),
        (_advisory(tracking=Tracking("X", TrackingStatus.FINAL, (Revision(1, datetime(2026, 1, 1), "a"),))),
         "has no time zone"),
        (_advisory(releases=(*_releases(), _releases()[0])), "is given twice"),
        (_advisory(libraries=(Library("openssl 3.0.7", (OLD,)),)), "is not a purl"),
    ],
)  # fmt: skip
def test_input_a_document_cannot_carry_is_refused_with_the_rule_named(advisory: Advisory, message: str) -> None:
    with pytest.raises(AdvisoryError, match=re.escape(message)) as refused:
        build(advisory)
    assert "\n" not in str(refused.value)


def test_versions_are_in_version_order_under_the_vendor_they_resolve_to() -> None:
    releases = (Release("Edge Gateway", "1.10"), Release("Edge Gateway", "1.9", vendor="Example Automation"))
    decisions = (Decision(ReleaseRef("Edge Gateway", "1.9"), Status.FIXED),)
    vulnerability = Vulnerability("Fixed", "Fixed in 1.9.", decisions, cve="CVE-2026-10003")
    document = build(_advisory(releases=releases, libraries=(), vulnerabilities=(vulnerability,)))
    (vendor,) = document["product_tree"]["branches"]
    (product,) = vendor["branches"]
    assert [branch["name"] for branch in product["branches"]] == ["1.9", "1.10"]
    assert check(document) == []


@pytest.mark.parametrize("profile", list(Profile))
def test_a_known_exploited_vulnerability_has_an_exploit_status_threat_after_its_impacts(profile: Profile) -> None:
    own, library = _cases()
    document = build(_advisory(profile, vulnerabilities=(dataclasses.replace(own, known_exploited=True), library)))
    assert check(document) == []
    threats = _vulnerability(document, "CVE-2026-10001")["threats"]
    assert [threat["category"] for threat in threats] == ["impact", "exploit_status"]
    assert "product_ids" not in threats[-1] and "Known Exploited Vulnerabilities" in threats[-1]["details"]
    assert all(t["category"] != "exploit_status" for t in _vulnerability(document, "CVE-2023-0286").get("threats", []))
