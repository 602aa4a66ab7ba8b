"""A release's VEX as CycloneDX 1.6 and OpenVEX: every status and justification, valid, byte-stable, refused
when a format could not carry it."""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import jsonschema
import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from sdl_tracker.psirt.scoring import parse_vector
from sdl_tracker.vex import statements as module
from sdl_tracker.vex.rules import (
    CDX_STATE_OF_STATUS,
    DEFAULT_CDX_OF_LABEL,
    JUSTIFICATION_PROPERTY,
    LABEL_OF_CDX,
    CdxJustification,
    Justification,
    Status,
)
from sdl_tracker.vex.statements import (
    KNOWN_EXPLOITED_PROPERTY,
    OPENVEX_CONTEXT,
    CdxResponse,
    Component,
    Decision,
    DocumentInvalid,
    Publisher,
    Release,
    Source,
    Statement,
    VexError,
    Vulnerability,
    cyclonedx_vex,
    openvex,
    serialise,
)

ISSUED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
DECIDED = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
PUBLISHER = Publisher("Example Automation AG PSIRT", "https://psirt.example.com", "psirt@example.com")

RELEASES = {
    "firmware with purl and CPE 2.3": Release(
        "Example Automation AG",
        "PLC-9000 firmware",
        "4.2.0",
        "plc-9000@4.2.0",
        PUBLISHER,
        ISSUED,
        purl="pkg:generic/example/plc-9000-firmware@4.2.0",
        cpe="cpe:2.3:o:example:plc-9000_firmware:4.2.0:*:*:*:*:*:*:*",
        component_type="EDR",
    ),
    "application with purl only": Release(
        "Example Automation AG",
        "Engineering Studio",
        "2027.1",
        "studio-2027.1",
        Publisher("Example PSIRT"),
        datetime(2027, 1, 15, 10, 0, tzinfo=timezone(timedelta(hours=1))),
        purl="pkg:generic/example/engineering-studio@2027.1",
        document_version=3,
    ),
    "switch with CPE 2.2 only": Release(
        "Example Networks GmbH",
        "IS-24 managed switch",
        "1.0.7",
        "is-24-1.0.7",
        PUBLISHER,
        ISSUED,
        cpe="cpe:/h:example:is-24:1.0.7",
        component_type="NDR",
    ),
}

XZ = Vulnerability(
    "CVE-2024-3094",
    aliases=("GHSA-rxwq-x6h5-x525", "PSIRT-2026-0001"),
    description="Malicious code in the xz release tarballs.",
    cwes=(506,),
    cvss_v31="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    cvss_v40=V40,
    known_exploited=True,
    advisories=("https://psirt.example.com/advisories/PSIRT-2026-0001",),
)
OWN = Vulnerability("PSIRT-2026-0002", description="Unauthenticated reboot over Modbus/TCP.", cwes=(306,), cvss_v31=V31)
OPENSSL = Vulnerability("CVE-2023-0286", description="X.400 address type confusion.", cwes=(843,), cvss_v40=V40)
LIBXML = Vulnerability("GHSA-7v7r-7xfr-3v3c", aliases=("CVE-2024-25062",))
XZ_LIB = Component("liblzma", "5.6.0", "pkg:generic/xz/liblzma@5.6.0")
OPENSSL_LIB = Component("openssl", "3.0.7", "pkg:generic/openssl@3.0.7", bom_ref="openssl-3.0.7")
LIBXML_LIB = Component("libxml2", "2.11.5", "pkg:generic/libxml2@2.11.5")


def _decision(status: Status, **fields: Any) -> Decision:
    if status is Status.AFFECTED:
        fields.setdefault("action", "Update to the next release; until then block TCP port 502 at the cell firewall.")
    return Decision(status, DECIDED, **fields)


def _every_decision() -> list[Statement]:
    """Every status, every label (with the default CycloneDX value), every CycloneDX value, product-level too."""
    out = [
        Statement(
            OWN, None, _decision(Status.AFFECTED, responses=(CdxResponse.UPDATE, CdxResponse.WORKAROUND_AVAILABLE))
        ),
        Statement(XZ, None, _decision(Status.FIXED, impact="The 4.2.0 image ships xz 5.4.6.")),
        Statement(OPENSSL, OPENSSL_LIB, _decision(Status.UNDER_INVESTIGATION)),
        Statement(LIBXML, LIBXML_LIB, _decision(Status.AFFECTED, impact="Crafted project files crash the import.")),
    ]
    components = [
        Component(f"lib{n}", "1.0", f"pkg:generic/lib{n}@1.0")
        for n in range(len(Justification) + len(CdxJustification))
    ]
    for label, component in zip(Justification, components, strict=False):
        out.append(Statement(XZ, component, _decision(Status.NOT_AFFECTED, justification=label)))
    for cdx, component in zip(CdxJustification, components[len(Justification) :], strict=True):
        decision = _decision(
            Status.NOT_AFFECTED, justification=LABEL_OF_CDX[cdx], cdx_justification=cdx, impact=f"Because {cdx.value}."
        )
        out.append(Statement(OPENSSL, component, decision))
    out.append(Statement(XZ, XZ_LIB, _decision(Status.NOT_AFFECTED, justification=Justification.COMPONENT_NOT_PRESENT)))
    return out


@functools.cache
def _library_validator() -> JsonStrictValidator:
    return JsonStrictValidator(SchemaVersion.V1_6)


@functools.cache
def _openvex_validator() -> Any:
    text = resources.files("sdl_tracker.vex").joinpath("data", "openvex_json_schema_0.2.0.json").read_text()
    return jsonschema.Draft202012Validator(
        json.loads(text), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


# -- both formats, every status and justification -----------------------------------------------------------


@pytest.mark.parametrize("name", RELEASES)
def test_every_status_and_justification_passes_both_schemas(name: str) -> None:
    release, statements = RELEASES[name], _every_decision()
    cdx, vex = cyclonedx_vex(release, statements), openvex(release, statements)
    assert len(cdx["vulnerabilities"]) == len(vex["statements"]) == len(statements)
    assert {v["analysis"]["state"] for v in cdx["vulnerabilities"]} == {s.value for s in CDX_STATE_OF_STATUS.values()}
    assert {s["status"] for s in vex["statements"]} == set(Status)
    assert {s.get("justification") for s in vex["statements"]} == set(Justification) | {None}
    cdx_values = {v["analysis"].get("justification") for v in cdx["vulnerabilities"]}
    assert cdx_values == set(CdxJustification) | {None}


def test_the_other_validators_agree() -> None:
    """cyclonedx-python-lib's strict validator and python-jsonschema on OpenVEX's schema accept them too."""
    release, statements = RELEASES["firmware with purl and CPE 2.3"], _every_decision()
    assert _library_validator().validate_str(serialise(cyclonedx_vex(release, statements)).decode()) is None
    _openvex_validator().validate(json.loads(serialise(openvex(release, statements))))


def test_cyclonedx_carries_the_release_components_and_each_decision() -> None:
    release = RELEASES["firmware with purl and CPE 2.3"]
    statements = _every_decision()
    cdx = cyclonedx_vex(release, statements)
    assert (cdx["bomFormat"], cdx["specVersion"], cdx["version"]) == ("CycloneDX", "1.6", 1)
    subject = cdx["metadata"]["component"]
    assert subject == {
        "type": "device",
        "bom-ref": "plc-9000@4.2.0",
        "manufacturer": {"name": "Example Automation AG"},
        "name": "PLC-9000 firmware",
        "version": "4.2.0",
        "cpe": release.cpe,
        "purl": release.purl,
    }
    assert cdx["metadata"]["timestamp"] == "2026-12-01T09:30:00Z"
    assert cdx["metadata"]["manufacturer"]["name"] == PUBLISHER.name
    # Only the components named, once each, sorted by bom-ref.
    refs = [c["bom-ref"] for c in cdx["components"]]
    assert refs == sorted({s.component.ref for s in statements if s.component})
    assert "openssl-3.0.7" in refs and XZ_LIB.purl in refs  # a component's own bom-ref, else its purl
    by_key = {(v["id"], v["affects"][0]["ref"]): v for v in cdx["vulnerabilities"]}
    for statement in statements:
        ref = statement.component.ref if statement.component else release.bom_ref
        entry = by_key[(statement.vulnerability.id, ref)]
        decision, analysis = statement.decision, entry["analysis"]
        assert analysis["state"] == CDX_STATE_OF_STATUS[decision.status]
        assert analysis["lastUpdated"] == "2026-11-30T08:00:00Z"
        assert analysis.get("detail", "") == decision.impact
        assert entry.get("recommendation", "") == decision.action
        properties = {p["name"]: p["value"] for p in entry.get("properties", [])}
        if decision.justification is None:
            assert "justification" not in analysis and JUSTIFICATION_PROPERTY not in properties
        else:
            # The officer's CycloneDX value, else the label's default; the exact label as a property.
            expected = decision.cdx_justification or DEFAULT_CDX_OF_LABEL[decision.justification]
            assert analysis["justification"] == expected
            assert properties[JUSTIFICATION_PROPERTY] == decision.justification
        assert (properties.get(KNOWN_EXPLOITED_PROPERTY) == "true") is statement.vulnerability.known_exploited


def test_cyclonedx_component_not_present_exports_as_code_not_present_with_the_label_beside_it() -> None:
    statement = Statement(XZ, XZ_LIB, _decision(Status.NOT_AFFECTED, justification=Justification.COMPONENT_NOT_PRESENT))
    (entry,) = cyclonedx_vex(RELEASES["switch with CPE 2.2 only"], [statement])["vulnerabilities"]
    assert entry["analysis"]["justification"] == "code_not_present"
    assert entry["properties"][0] == {"name": JUSTIFICATION_PROPERTY, "value": "component_not_present"}


def test_cyclonedx_ratings_scores_cwes_sources_and_references() -> None:
    release = RELEASES["application with purl only"]
    cdx = cyclonedx_vex(release, [Statement(XZ, XZ_LIB, _decision(Status.UNDER_INVESTIGATION))])
    (entry,) = cdx["vulnerabilities"]
    v31, v40 = parse_vector(XZ.cvss_v31), parse_vector(XZ.cvss_v40)
    assert entry["ratings"] == [
        {"method": "CVSSv31", "score": v31.base_score, "severity": "critical", "vector": v31.vector},
        {"method": "CVSSv4", "score": v40.base_score, "severity": v40.severity.lower(), "vector": v40.vector},
    ]
    assert entry["cwes"] == [506]
    assert entry["source"] == {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-3094"}
    assert entry["references"] == [
        {
            "id": "GHSA-rxwq-x6h5-x525",
            "source": {"name": "GitHub Advisories", "url": "https://github.com/advisories/GHSA-rxwq-x6h5-x525"},
        },
        {"id": "PSIRT-2026-0001", "source": {"name": "Example PSIRT"}},
    ]
    assert entry["advisories"] == [{"url": XZ.advisories[0]}]
    assert entry["analysis"] == {"state": "in_triage", "lastUpdated": "2026-11-30T08:00:00Z"}
    # An identifier of neither known scheme is the publisher's; a given source wins.
    osv = dataclasses.replace(LIBXML, id="GO-2024-2527", aliases=(), source=Source("Go Vulnerability Database"))
    go, own = cyclonedx_vex(  # in order of id
        release,
        [Statement(OWN, None, _decision(Status.FIXED)), Statement(osv, LIBXML_LIB, _decision(Status.FIXED))],
    )["vulnerabilities"]
    assert own["source"] == {"name": "Example PSIRT"} and go["source"] == {"name": "Go Vulnerability Database"}
    assert cdx["version"] == 3 and cdx["metadata"]["timestamp"] == "2027-01-15T09:00:00Z"  # in UTC


def test_cyclonedx_without_statements_is_a_valid_empty_vex() -> None:
    cdx = cyclonedx_vex(RELEASES["application with purl only"], [])
    assert cdx["components"] == [] and cdx["vulnerabilities"] == []
    assert _library_validator().validate_str(serialise(cdx).decode()) is None


def test_cyclonedx_python_lib_loads_our_vex() -> None:
    release, statements = RELEASES["firmware with purl and CPE 2.3"], _every_decision()
    bom = Bom.from_json(cyclonedx_vex(release, statements))  # type: ignore[attr-defined]
    assert bom.metadata.component is not None and bom.metadata.component.bom_ref.value == release.bom_ref
    assert {c.bom_ref.value for c in bom.components} == {s.component.ref for s in statements if s.component}
    loaded = set()
    for vulnerability in bom.vulnerabilities:
        analysis = vulnerability.analysis
        (affects,) = vulnerability.affects
        label = next((p.value for p in vulnerability.properties if p.name == JUSTIFICATION_PROPERTY), None)
        justification = analysis.justification.value if analysis.justification else None
        loaded.add((vulnerability.id, affects.ref, analysis.state.value, justification, label, analysis.detail))
    expected = {
        (
            s.vulnerability.id,
            s.component.ref if s.component else release.bom_ref,
            CDX_STATE_OF_STATUS[s.decision.status].value,
            (s.decision.cdx_justification or DEFAULT_CDX_OF_LABEL[s.decision.justification]).value
            if s.decision.justification
            else None,
            s.decision.justification.value if s.decision.justification else None,
            s.decision.impact or None,
        )
        for s in statements
    }
    assert loaded == expected


def test_openvex_carries_the_product_subcomponents_and_each_decision() -> None:
    release = RELEASES["firmware with purl and CPE 2.3"]
    statements = _every_decision()
    vex = openvex(release, statements)
    assert vex["@context"] == OPENVEX_CONTEXT == "https://openvex.dev/ns/v0.2.0"
    assert (vex["author"], vex["role"], vex["version"]) == (PUBLISHER.name, "vendor", 1)
    assert vex["timestamp"] == "2026-12-01T09:30:00Z"
    product = {"@id": release.purl, "identifiers": {"cpe23": release.cpe, "purl": release.purl}}
    for out, statement in zip(vex["statements"], sorted(statements, key=_order), strict=True):
        decision = statement.decision
        assert out["vulnerability"]["name"] == statement.vulnerability.id
        expected = dict(product)
        if statement.component:
            expected["subcomponents"] = [{"@id": statement.component.purl}]
        assert out["products"] == [expected]
        assert out["status"] == decision.status
        assert out.get("justification") == decision.justification
        assert out.get("impact_statement", "") == decision.impact
        assert out.get("action_statement", "") == decision.action
        assert out["timestamp"] == "2026-11-30T08:00:00Z"
        assert ("action_statement_timestamp" in out) is bool(decision.action)
    first_xz = next(s for s in vex["statements"] if s["vulnerability"]["name"] == "CVE-2024-3094")
    assert first_xz["vulnerability"] == {
        "name": "CVE-2024-3094",
        "description": XZ.description,
        "aliases": ["GHSA-rxwq-x6h5-x525", "PSIRT-2026-0001"],
    }


def test_openvex_names_a_product_without_purl_by_its_cpe() -> None:
    vex = openvex(RELEASES["switch with CPE 2.2 only"], [Statement(OWN, None, _decision(Status.FIXED))])
    assert vex["statements"][0]["products"] == [{"identifiers": {"cpe22": "cpe:/h:example:is-24:1.0.7"}}]


def _order(statement: Statement) -> tuple[str, str]:
    return (statement.vulnerability.id, statement.component.ref if statement.component else "")


# -- byte stability -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [cyclonedx_vex, openvex])
def test_the_same_input_gives_the_same_bytes_in_any_order(build: Any) -> None:
    release, statements = RELEASES["firmware with purl and CPE 2.3"], _every_decision()
    first = serialise(build(release, statements))
    shuffled = list(statements)
    random.Random(7).shuffle(shuffled)
    assert serialise(build(release, shuffled)) == first
    assert first.endswith(b"}\n") and json.loads(first) == build(release, statements)


@pytest.mark.parametrize(("build", "key"), [(cyclonedx_vex, "serialNumber"), (openvex, "@id")])
def test_the_identifier_is_derived_from_the_content(build: Any, key: str) -> None:
    release, statements = RELEASES["firmware with purl and CPE 2.3"], _every_decision()
    identifier = build(release, statements)[key]
    assert identifier.startswith("urn:uuid:") and build(release, statements)[key] == identifier
    changed = [*statements[:-1], dataclasses.replace(statements[-1], decision=_decision(Status.UNDER_INVESTIGATION))]
    assert build(release, changed)[key] != identifier
    assert build(dataclasses.replace(release, timestamp=ISSUED + timedelta(days=1)), statements)[key] != identifier
    assert build(dataclasses.replace(release, document_version=2), statements)[key] != identifier
    # The two formats never share an identifier.
    assert cyclonedx_vex(release, statements)["serialNumber"] != openvex(release, statements)["@id"]


# -- refusals -----------------------------------------------------------------------------------------------

NOT_AFFECTED = _decision(Status.NOT_AFFECTED, justification=Justification.VULNERABLE_CODE_NOT_PRESENT)
RELEASE = RELEASES["firmware with purl and CPE 2.3"]


def _refusals() -> list[Any]:
    fine = Statement(XZ, XZ_LIB, NOT_AFFECTED)
    naive = datetime(2026, 11, 30, 8, 0)  # the refused input: no zone
    cases = {
        "not affected without justification": (
            [dataclasses.replace(fine, decision=Decision(Status.NOT_AFFECTED, DECIDED, impact="not reachable"))],
            "CVE-2024-3094 in pkg:generic/xz/liblzma@5.6.0: not affected needs a justification",
        ),
        "affected without action": (
            [dataclasses.replace(fine, decision=Decision(Status.AFFECTED, DECIDED, impact="reachable"))],
            "affected needs an action statement",
        ),
        "CycloneDX value under another label": (
            [
                dataclasses.replace(
                    fine,
                    decision=dataclasses.replace(NOT_AFFECTED, cdx_justification=CdxJustification.PROTECTED_AT_RUNTIME),
                )
            ],
            "protected_at_runtime falls under inline_mitigations_already_exist",
        ),
        "justification on fixed": (
            [dataclasses.replace(fine, decision=dataclasses.replace(NOT_AFFECTED, status=Status.FIXED))],
            "only a not-affected decision takes a justification",
        ),
        "naive decision time": (
            [dataclasses.replace(fine, decision=dataclasses.replace(NOT_AFFECTED, decided_at=naive))],
            "the decision's time has no time zone",
        ),
        "two statements on one component": ([fine, fine], "has two statements"),
        "vulnerability described two ways": (
            [fine, Statement(dataclasses.replace(XZ, description="other"), None, NOT_AFFECTED)],
            "CVE-2024-3094 is described two ways",
        ),
        "two components with one bom-ref": (
            [fine, Statement(OWN, dataclasses.replace(XZ_LIB, version="5.6.1"), NOT_AFFECTED)],
            "two components have the bom-ref 'pkg:generic/xz/liblzma@5.6.0'",
        ),
        "component with the release's bom-ref": (
            [Statement(XZ, Component("x", bom_ref=RELEASE.bom_ref), NOT_AFFECTED)],
            "the component's bom-ref is the release's",
        ),
        "component that is no purl": (
            [Statement(XZ, Component("x", "1", "generic/x@1"), NOT_AFFECTED)],
            "'generic/x@1' is not a purl",
        ),
        "v4.0 vector in the v3.1 slot": (
            [Statement(dataclasses.replace(XZ, cvss_v31=V40), None, NOT_AFFECTED)],
            "CVE-2024-3094: the CVSS v3.1 vector is a 4.0 vector",
        ),
        "v3.1 vector in the v4.0 slot": (
            [Statement(dataclasses.replace(XZ, cvss_v40=V31), None, NOT_AFFECTED)],
            "the CVSS v4.0 vector is a 3.1 vector",
        ),
        "vector that does not parse": (
            [Statement(dataclasses.replace(XZ, cvss_v31="CVSS:3.1/AV:N"), None, NOT_AFFECTED)],
            "CVE-2024-3094: not a valid CVSS 3.1 vector",
        ),
        "CWE not in MITRE's list": (
            [Statement(dataclasses.replace(XZ, cwes=(99999,)), None, NOT_AFFECTED)],
            "CWE-99999 is not in MITRE's CWE list",
        ),
        "CVE id in lower case": (
            [Statement(dataclasses.replace(XZ, id="cve-2024-3094"), None, NOT_AFFECTED)],
            "write the CVE id 'cve-2024-3094' as CVE-2024-3094",
        ),
        "alias that is no CVE id": (
            [Statement(dataclasses.replace(XZ, aliases=("CVE-24-1",)), None, NOT_AFFECTED)],
            "is not a CVE id",
        ),
        "advisory that is no URL": (
            [Statement(dataclasses.replace(XZ, advisories=("psirt.example.com/a",)), None, NOT_AFFECTED)],
            "the advisory 'psirt.example.com/a' is no http(s) URL",
        ),
    }
    return [pytest.param(statements, message, id=name) for name, (statements, message) in cases.items()]


@pytest.mark.parametrize("build", [cyclonedx_vex, openvex])
@pytest.mark.parametrize(("statements", "message"), _refusals())
def test_input_neither_format_can_carry_is_refused_in_one_line(build: Any, statements: Any, message: str) -> None:
    with pytest.raises(VexError) as raised:
        build(RELEASE, statements)
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timestamp": datetime(2026, 12, 1)}, "the document's timestamp has no time zone"),
        ({"bom_ref": ""}, "the release needs a bom-ref"),
        ({"bom_ref": "urn:cdx:x/1#a"}, "the release needs a bom-ref that is no BOM-Link (urn:cdx:)"),
        ({"product": " "}, "the release needs its vendor, product name and version"),
        ({"purl": "example"}, "the release: 'example' is not a purl"),
        ({"cpe": "example:plc"}, "the release's CPE 'example:plc' starts neither cpe:2.3: nor cpe:/"),
        ({"document_version": 0}, "the document version is a whole number from 1"),
        ({"publisher": Publisher("")}, "the publisher needs a name"),
        ({"publisher": Publisher("P", contact="psirt")}, "the publisher's contact 'psirt' is no e-mail address"),
        ({"publisher": Publisher("P", namespace="example.com")}, "the publisher's namespace 'example.com' is no"),
    ],
)
@pytest.mark.parametrize("build", [cyclonedx_vex, openvex])
def test_a_release_that_cannot_be_described_is_refused(build: Any, change: dict[str, Any], message: str) -> None:
    with pytest.raises(VexError, match="^" + re.escape(message)):
        build(dataclasses.replace(RELEASE, **change), [Statement(XZ, XZ_LIB, NOT_AFFECTED)])


def test_openvex_refuses_what_only_it_cannot_carry() -> None:
    without_purl = Statement(XZ, Component("liblzma", "5.6.0"), NOT_AFFECTED)
    cyclonedx_vex(RELEASE, [without_purl])  # CycloneDX names it by its bom-ref
    with pytest.raises(VexError, match=r"^CVE-2024-3094 in liblzma@5.6.0: OpenVEX names a component by its purl"):
        openvex(RELEASE, [without_purl])
    unnamed = dataclasses.replace(RELEASE, purl=None, cpe=None)
    cyclonedx_vex(unnamed, [without_purl])
    with pytest.raises(VexError, match=r"^OpenVEX names the product by purl or CPE: the release has neither$"):
        openvex(unnamed, [Statement(OWN, None, _decision(Status.FIXED))])
    with pytest.raises(VexError, match=r"^an OpenVEX document needs at least one statement$"):
        openvex(RELEASE, [])


def test_a_generated_document_failing_its_schema_is_an_error_naming_the_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    statements = [Statement(XZ, XZ_LIB, NOT_AFFECTED)]
    monkeypatch.setattr(module, "_cdx_component", lambda c: {"type": "gadget", "name": c.name})
    with pytest.raises(DocumentInvalid, match=r"^the CycloneDX VEX fails the 1.6 schema: /components/0/type: "):
        cyclonedx_vex(RELEASE, statements)
    monkeypatch.setattr(module, "OPENVEX_CONTEXT", "not a uri")
    with pytest.raises(DocumentInvalid, match=r'^the OpenVEX document fails its schema: /@context: "not a uri" is not'):
        openvex(RELEASE, statements)
