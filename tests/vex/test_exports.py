"""A release's VEX exported from the decision store as CycloneDX 1.6, OpenVEX 0.2.0 and CSAF 2.0 VEX: what goes
out (confirmed decisions only), that each document passes its schema (and CSAF every mandatory test), the same
bytes for the same decisions, the refusals, and the doors (service, API, page, command line)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid, NotFound
from sdl_tracker.evidence.services import Upload
from sdl_tracker.products.models import Release
from sdl_tracker.psirt.services import create_case
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.sboms.validation import json_verdict
from sdl_tracker.vex import validity
from sdl_tracker.vex.exports import ExportedVex, export_standing, release_vex
from sdl_tracker.vex.models import DecisionOrigin, VexDecision
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, ApiClient, login, make_product, make_release, member, statements
from tests.sboms.builders import dumps, json_bom

pytestmark = pytest.mark.db

OFFICER, STRANGER = "so@example.com", "other@example.com"
XZ, LOG4SHELL_GHSA, PYSEC = "CVE-2024-3094", "GHSA-jfh8-c2jp-5v3q", "PYSEC-2024-1"
SUBJECT_PURL = "pkg:generic/example/plc-firmware@2.0"
LIB = "pkg:generic/org.example/lib{}"  # the SBOM's libraries, lib0 1.0.0, lib1 1.1.0, lib2 1.2.0
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
FORMATS = ("cyclonedx", "openvex", "csaf")


def decide(
    session: Session,
    release: Release,
    vulnerability: str,
    status: str,
    component: str = "",
    *,
    origin: DecisionOrigin = DecisionOrigin.OFFICER,
    **fields: str,
) -> VexDecision:
    data = DecisionInput(status, **fields)
    return record_decision(session, OPERATOR, release.id, vulnerability, data, component=component, origin=origin)


@pytest.fixture
def plc(session: Session) -> Release:
    """PLC 2.0 (an SBOM whose subject has a purl) with a decision of each status and justification, on the product
    itself, on libraries the SBOM lists and on one it does not, on a case; one matched decision unconfirmed."""
    product = make_product(
        session,
        "PLC",
        vendor="Example Automation",
        cvd_policy_url="https://psirt.example.com/cvd-policy",
        security_contact="psirt@example.com",
    )
    release = make_release(session, product, "2.0")
    subject = {"type": "firmware", "bom-ref": "fw", "name": "plc-firmware", "version": "2.0", "purl": SUBJECT_PURL}
    bom = json_bom(metadata={"timestamp": "2026-10-01T12:00:00Z", "component": subject})
    import_sbom(session, OPERATOR, release.id, Upload("fw.json", "", io.BytesIO(dumps(bom))))
    member(session, product, "security_officer", OFFICER)
    elsewhere = make_product(session, "Elsewhere", vendor="Other", cvd_policy_url="https://other.example.org/")
    make_release(session, elsewhere, "1.0")
    member(session, elsewhere, "security_officer", STRANGER)
    xz = decide(session, release, XZ, "affected", action="Update to 2.0.1.")
    xz.vulnerability.cwe_ids = [506]
    xz.vulnerability.cvss_v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    xz.vulnerability.cvss_v40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    xz.vulnerability.known_exploited = True
    xz.vulnerability.description = "Malicious code in the xz upstream tarballs."
    for n, label in enumerate(JUSTIFICATIONS):
        decide(session, release, f"CVE-2025-000{n + 1}", "not_affected", LIB.format(1), justification=label)
    decide(
        session, release, "CVE-2025-0009", "not_affected", LIB.format(0),
        justification="inline_mitigations_already_exist", cdx_justification="protected_at_runtime",
        impact="The parser runs in a sandbox.",
    )  # fmt: skip
    log4shell = decide(session, release, LOG4SHELL_GHSA, "fixed", LIB.format(2))
    log4shell.vulnerability.aliases = ["CVE-2021-44228"]
    decide(session, release, PYSEC, "under_investigation", LIB.format(0))
    decide(session, release, "CVE-2025-0010", "not_affected", "pkg:npm/lodash", justification="component_not_present")
    case = create_case(
        session, OPERATOR, product.id, kind="vulnerability", title="Modbus frame overflow", source="researcher",
        received_at=datetime.now(UTC) - timedelta(days=1),
    )  # fmt: skip
    decide(session, release, case.reference, "not_affected", justification="vulnerable_code_not_in_execute_path")
    decide(session, release, "CVE-2025-0099", "under_investigation", LIB.format(2), origin=DecisionOrigin.MATCH)
    session.commit()
    return release


CONFIRMED = 11  # the fixture's confirmed decisions (one more is unconfirmed)


def export(session: Session, release: Release, fmt: str, **options: Any) -> ExportedVex:
    session.expire_all()
    return release_vex(session, OPERATOR, release.id, format=fmt, **options)


def openvex_validator() -> Any:
    schema = resources.files("sdl_tracker.vex").joinpath("data", "openvex_json_schema_0.2.0.json").read_text()
    return jsonschema_rs.validator_for(json.loads(schema), validate_formats=True)


# --- what goes out, validated -----------------------------------------------------------------------------------


def test_the_cyclonedx_vex_states_each_confirmed_decision_and_passes_the_schema(session: Session, plc: Release) -> None:
    exported = export(session, plc, "cyclonedx")
    assert (exported.statements, exported.left_out) == (CONFIRMED, 1)
    assert exported.media_type.startswith("application/vnd.cyclonedx+json")
    assert exported.filename == "PLC-2.0.vex.cdx.json"
    document = json.loads(exported.data)
    assert json_verdict(document, "1.6").warnings == []
    entries = document["vulnerabilities"]
    assert len(entries) == CONFIRMED and "CVE-2025-0099" not in exported.data.decode()
    assert document["metadata"]["component"]["purl"] == SUBJECT_PURL
    assert document["metadata"]["manufacturer"] == {
        "name": "Example Automation",
        "url": ["https://psirt.example.com"],
        "contact": [{"email": "psirt@example.com"}],
    }
    by_id = {entry["id"]: entry for entry in entries}
    xz = by_id[XZ]
    assert xz["affects"] == [{"ref": "fw"}] and xz["analysis"]["state"] == "exploitable"
    assert xz["recommendation"] == "Update to 2.0.1." and xz["cwes"] == [506]
    assert [rating["method"] for rating in xz["ratings"]] == ["CVSSv31", "CVSSv4"]
    assert {"name": "sdl-tracker:vex:known-exploited", "value": "true"} in xz["properties"]
    assert by_id["CVE-2025-0009"]["analysis"]["justification"] == "protected_at_runtime"
    assert by_id[PYSEC]["source"] == {"name": "OSV", "url": "https://osv.dev/vulnerability/PYSEC-2024-1"}
    assert by_id[LOG4SHELL_GHSA]["references"][0]["id"] == "CVE-2021-44228"
    components = {component["bom-ref"]: component for component in document["components"]}
    # A library the SBOM lists, by its bom-ref and version there; one it does not, by the decision's purl.
    assert components["lib2"]["purl"] == "pkg:generic/org.example/lib2@1.2.0"
    assert components["pkg:npm/lodash"] == {"type": "library", "bom-ref": "pkg:npm/lodash", "name": "lodash",
                                            "purl": "pkg:npm/lodash"}  # fmt: skip
    newest = max(d.decided_at for d in session.query(VexDecision).filter_by(release_id=plc.id, confirmed=True))
    assert document["metadata"]["timestamp"] == newest.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert document["version"] == 1


def test_the_openvex_document_names_the_release_by_purl_and_passes_its_schema(session: Session, plc: Release) -> None:
    exported = export(session, plc, "openvex")
    assert (exported.media_type, exported.filename) == ("application/json", "PLC-2.0.openvex.json")
    document = json.loads(exported.data)
    assert list(openvex_validator().iter_errors(document)) == []
    assert document["author"] == "Example Automation" and len(document["statements"]) == CONFIRMED
    statuses = {s["status"] for s in document["statements"]}
    assert statuses == {"affected", "not_affected", "fixed", "under_investigation"}
    assert {s.get("justification") for s in document["statements"]} - {None} == set(JUSTIFICATIONS)
    fixed = next(s for s in document["statements"] if s["vulnerability"]["name"] == LOG4SHELL_GHSA)
    assert fixed["products"] == [
        {"@id": SUBJECT_PURL, "subcomponents": [{"@id": "pkg:generic/org.example/lib2@1.2.0"}]}
    ]


def test_the_csaf_vex_passes_every_mandatory_test_with_the_libraries_tied_to_the_release(
    session: Session, plc: Release
) -> None:
    exported = export(session, plc, "csaf")
    assert (exported.media_type, exported.filename) == ("application/json", "vex-plc-2_0.json")
    document = json.loads(exported.data)
    assert validity.check(document) == []
    meta = document["document"]
    assert meta["category"] == "csaf_vex" and meta["distribution"]["tlp"]["label"] == "WHITE"
    assert meta["publisher"] == {
        "category": "vendor",
        "contact_details": "psirt@example.com",
        "name": "Example Automation",
        "namespace": "https://psirt.example.com",
    }
    tracking = meta["tracking"]
    assert (tracking["id"], tracking["status"], tracking["version"]) == ("VEX-PLC-2.0", "interim", "1")
    assert validity.file_name(tracking["id"]) == exported.filename
    # One item per vulnerability decided on (nine CVEs, the GHSA, the OSV id and the case).
    items = document["vulnerabilities"]
    assert len(items) == 11
    relationships = document["product_tree"]["relationships"]
    assert {r["category"] for r in relationships} == {"default_component_of"}
    assert {r["product_reference"] for r in relationships} == {
        "CSAFPID-L:pkg%3Agen" + f"eric/org.example/lib{n}@1.{n}.0" for n in range(3)
    } | {"CSAFPID-L:pkg%3Anpm/lodash"}
    xz = next(item for item in items if item.get("cve") == XZ)
    assert xz["product_status"] == {"known_affected": ["CSAFPID-R:PLC:2.0"]}
    assert any(t["category"] == "exploit_status" for t in xz["threats"])
    assert xz["scores"][0]["cvss_v3"]["baseScore"] == 10.0
    assert any(note.get("title") == "CVSS v4.0" for note in xz["notes"]) and xz["cwe"]["id"] == "CWE-506"
    ghsa = next(item for item in items if item.get("cve") == "CVE-2021-44228")
    assert ghsa["ids"] == [{"system_name": "GitHub Security Advisories", "text": LOG4SHELL_GHSA}]
    case = next(item for item in items if item["title"].startswith("PSIRT-"))
    assert case["ids"] == [{"system_name": "Example Automation PSIRT", "text": case["title"]}] and "cve" not in case
    amber = json.loads(export(session, plc, "csaf", tlp="amber").data)
    assert amber["document"]["distribution"]["tlp"]["label"] == "AMBER" and validity.check(amber) == []


# --- the same bytes ---------------------------------------------------------------------------------------------


def test_the_same_decisions_give_the_same_bytes_whatever_else_changes(session: Session, plc: Release) -> None:
    first = {fmt: export(session, plc, fmt).data for fmt in FORMATS}
    assert {fmt: export(session, plc, fmt).data for fmt in FORMATS} == first
    make_release(session, plc.product, "2.1")  # carries the decisions forward, unconfirmed
    decide(session, plc, "CVE-2025-0098", "under_investigation", LIB.format(1), origin=DecisionOrigin.MATCH)
    elsewhere = session.query(Release).filter_by(version="1.0").one()
    decide(session, elsewhere, XZ, "fixed")
    session.commit()
    again = {fmt: export(session, plc, fmt) for fmt in FORMATS}
    assert {fmt: exported.data for fmt, exported in again.items()} == first
    assert again["csaf"].left_out == 2
    decide(session, plc, "CVE-2025-0097", "fixed", LIB.format(1))
    session.commit()
    assert all(export(session, plc, fmt).data != first[fmt] for fmt in FORMATS)


def test_an_export_reads_as_many_statements_for_many_decisions_as_for_few(
    app: Flask, session: Session, plc: Release
) -> None:
    product = plc.product
    few_release = make_release(session, product, "3.0")
    session.query(VexDecision).filter_by(release_id=few_release.id).delete()
    decide(session, few_release, XZ, "fixed", LIB.format(0))
    session.commit()
    counts = []
    for release in (few_release, plc):
        session.expire_all()
        with statements(app) as seen:
            release_vex(session, OPERATOR, release.id, format="cyclonedx")
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


# --- refusals ---------------------------------------------------------------------------------------------------


def test_a_release_without_a_confirmed_decision_is_refused_saying_how_many_wait(session: Session, plc: Release) -> None:
    later = make_release(session, plc.product, "3.0")  # twelve decisions carried forward, none confirmed
    session.commit()
    with pytest.raises(Invalid) as refused:
        export(session, later, "cyclonedx")
    assert refused.value.one_line() == (
        "decisions: PLC 3.0 has no confirmed VEX decision to state "
        "(12 unconfirmed, or about an embargoed case or an exercise)"
    )
    assert export_standing(session, OPERATOR, later.id).statements == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"vendor": ""}, "vendor: Bare has no vendor: fill in the product's vendor (the documents' publisher)"),
        (
            {"cvd_policy_url": ""},
            "cvd_policy_url: Bare has no CVD policy URL: fill in the product's CVD policy URL (its origin, "
            "https://host, is the publisher's namespace)",
        ),
    ],
)
def test_a_product_without_a_publisher_is_refused_naming_the_field_to_fill(
    session: Session, fields: dict[str, str], message: str
) -> None:
    values = {"vendor": "Bare Systems", "cvd_policy_url": "https://bare.example.com/cvd", **fields}
    release = make_release(session, make_product(session, "Bare", **values), "1.0")
    decide(session, release, XZ, "fixed")
    with pytest.raises(Invalid) as refused:
        export(session, release, "csaf")
    assert refused.value.one_line() == message
    assert export_standing(session, OPERATOR, release.id).refusal == message.partition(": ")[2]


def test_bad_formats_tlps_and_an_openvex_release_without_purl_are_refused(session: Session, plc: Release) -> None:
    for fmt, options, message in (
        ("spdx", {}, "format: format is one of cyclonedx, openvex, csaf"),
        ("openvex", {"tlp": "WHITE"}, "tlp: a TLP label is given to a CSAF document only"),
        ("csaf", {"tlp": "CLEAR"}, "CSAF 2.0 VEX: TLP:CLEAR is not a CSAF 2.0 label"),
    ):
        with pytest.raises(Invalid) as refused:
            export(session, plc, fmt, **options)
        assert refused.value.one_line().startswith(message), refused.value.one_line()
    bare = make_release(session, plc.product, "0.9")  # no SBOM: no purl for the release
    decide(session, bare, XZ, "fixed")
    with pytest.raises(Invalid) as refused:
        export(session, bare, "openvex")
    assert refused.value.one_line() == (
        "purl: OpenVEX names a release by purl or CPE, and PLC 0.9 has neither: "
        "import a primary SBOM whose subject (metadata.component) has a purl"
    )
    assert json.loads(export(session, bare, "cyclonedx").data)["metadata"]["component"]["bom-ref"] == "PLC@0.9"


def test_unknown_and_other_products_releases_are_not_found(session: Session, plc: Release) -> None:
    stranger = member(session, make_product(session, "Third"), "security_officer")
    with pytest.raises(NotFound):
        release_vex(session, stranger, plc.id, format="csaf")
    with pytest.raises(NotFound):
        release_vex(session, OPERATOR, 999_999, format="csaf")


# --- the doors --------------------------------------------------------------------------------------------------


def test_the_api_serves_each_format_as_an_attachment_and_refusals_as_problems(
    api: ApiClient, session: Session, plc: Release
) -> None:
    token = api.as_user(OFFICER)
    for fmt, media_type, filename in (
        ("cyclonedx", "application/vnd.cyclonedx+json", "PLC-2.0.vex.cdx.json"),
        ("openvex", "application/json", "PLC-2.0.openvex.json"),
        ("csaf", "application/json", "vex-plc-2_0.json"),
    ):
        response = api.call("GET", f"/api/v1/releases/{plc.id}/vex?format={fmt}", token)
        assert response.status_code == 200 and response.mimetype == media_type
        assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{filename}"')
        assert (response.headers["X-VEX-Statements"], response.headers["X-VEX-Left-Out"]) == (str(CONFIRMED), "1")
        assert response.get_data() == export(session, plc, fmt).data
    assert api.call("GET", f"/api/v1/releases/{plc.id}/vex?format=csaf&tlp=RED", token).status_code == 200
    bad = api.call("GET", f"/api/v1/releases/{plc.id}/vex?format=xml", token)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    missing = api.call("GET", f"/api/v1/releases/{plc.id}/vex", token)
    assert missing.status_code == 422 and "format" in missing.get_json()["detail"]
    other = api.call("GET", f"/api/v1/releases/{plc.id}/vex?format=csaf", api.as_user(STRANGER))
    assert other.status_code == 404
    assert api.call("GET", "/api/v1/releases/999999/vex?format=csaf", token).status_code == 404


def test_the_page_links_each_format_and_says_what_is_left_out(
    client: FlaskClient, session: Session, plc: Release
) -> None:
    login(client, OFFICER)
    page = client.get(f"/releases/{plc.id}/vex").get_data(as_text=True)
    assert "The 11 confirmed decisions are published as statements; 1 unconfirmed decision is left out" in page
    for fmt in FORMATS:
        assert f"/releases/{plc.id}/vex/export?format={fmt}" in page
    download = client.get(f"/releases/{plc.id}/vex/export?format=cyclonedx")
    assert download.status_code == 200 and download.mimetype == "application/vnd.cyclonedx+json"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="PLC-2.0.vex.cdx.json"')
    assert download.get_data() == export(session, plc, "cyclonedx").data
    amber = client.get(f"/releases/{plc.id}/vex/export?format=csaf&tlp=AMBER")
    assert json.loads(amber.get_data())["document"]["distribution"]["tlp"]["label"] == "AMBER"
    refused = client.get(f"/releases/{plc.id}/vex/export?format=pdf", follow_redirects=True)
    assert refused.status_code == 200 and "format is one of cyclonedx, openvex, csaf" in refused.get_data(as_text=True)
    plc.product.vendor = ""
    session.commit()
    blocked = client.get(f"/releases/{plc.id}/vex").get_data(as_text=True)
    assert (
        "Not exportable yet: PLC has no vendor: fill in the product&#39;s vendor (the documents&#39; publisher)."
        in blocked
    )
    assert "/vex/export?format=" not in blocked


def test_the_command_line_writes_the_document_and_refuses_in_one_line(
    app: Flask, session: Session, plc: Release, tmp_path: Any
) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "plc.csaf.json"
    written = runner.invoke(cli, ["vex", "export", "PLC", "2.0", "--format", "csaf", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_bytes() == export(session, plc, "csaf").data
    assert written.stderr == "CSAF 2.0 VEX: 11 confirmed decisions; 1 unconfirmed left out\n"
    printed = runner.invoke(cli, ["vex", "export", "PLC", "2.0", "--format", "openvex", "--as", OFFICER])
    assert printed.exit_code == 0 and printed.stdout_bytes == export(session, plc, "openvex").data
    for arguments, message in (
        (["PLC", "2.0", "--format", "openvex", "--tlp", "RED"], "error: tlp: a TLP label is given to a CSAF"),
        (["PLC", "9.9", "--format", "csaf"], "error: PLC has no release '9.9'"),
        (["PLC", "2.0", "--format", "spdx"], "error: invalid value for '--format'"),
        (["PLC", "2.0", "--format", "csaf", "--as", STRANGER], "error: no product named 'PLC'"),
    ):
        refused = runner.invoke(cli, ["vex", "export", *arguments])
        assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
        assert refused.output.lower().startswith(message.lower()), refused.output
