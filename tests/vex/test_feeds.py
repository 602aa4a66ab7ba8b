"""Vulnerability data read in: OSV (file, list, export zip), the KEV catalog, CSAF and CycloneDX VEX, and the
one-line refusal of everything else. Data: tests/vex/data/feeds (README says where each file comes from)."""

from __future__ import annotations

import copy
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.vex.feeds import (
    DEFAULT_LIMITS,
    FeedError,
    FeedFormat,
    KevCatalog,
    Limits,
    OsvFeed,
    SupplierVex,
    detect_format,
    read_feed,
)
from sdl_tracker.vex.rules import JUSTIFICATION_PROPERTY, CdxJustification, Justification, Status

DATA = Path(__file__).parent / "data" / "feeds"
OSV_FILES = sorted(DATA.glob("osv-*.json"))


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def loaded(name: str) -> Any:
    return json.loads(raw(name))


def dumped(document: Any) -> bytes:
    return json.dumps(document).encode()


def supplier(data: bytes) -> SupplierVex:
    feed = read_feed(data)
    assert isinstance(feed, SupplierVex)
    return feed


def osv(data: bytes, limits: Limits = DEFAULT_LIMITS) -> OsvFeed:
    feed = read_feed(data, limits)
    assert isinstance(feed, OsvFeed)
    return feed


def refused(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(FeedError) as caught:
        read_feed(data, limits)
    message = str(caught.value)
    assert "\n" not in message and message
    return message


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("osv-GHSA-jfh8-c2jp-5v3q.json", FeedFormat.OSV),
        ("osv-OSV-2023-162.json", FeedFormat.OSV),
        ("kev-trimmed.json", FeedFormat.KEV),
        ("csaf-vex-sec-vex-2022-0001.json", FeedFormat.CSAF),
        ("csaf-rhsa-2022_0011.json", FeedFormat.CSAF),
        ("cyclonedx-vex.json", FeedFormat.CYCLONEDX),
    ],
)
def test_the_format_is_told_by_content(name: str, kind: FeedFormat) -> None:
    assert detect_format(raw(name)) is kind
    assert read_feed(raw(name)).format is kind


# -- OSV


def test_a_ghsa_record_keeps_ids_cwes_vectors_and_ranges() -> None:
    (record,) = osv(raw("osv-GHSA-jfh8-c2jp-5v3q.json")).records
    assert record.id == "GHSA-jfh8-c2jp-5v3q"
    assert record.cve_ids == ("CVE-2021-44228",)
    assert record.ids == ("GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228")
    assert record.modified == datetime(2022, 3, 25, 20, 56, 18, tzinfo=UTC)
    assert record.withdrawn is None
    assert record.summary == "Remote code injection in Log4j"
    assert record.cwe_ids == ("CWE-20", "CWE-400", "CWE-502", "CWE-917")
    assert record.vector("3.1") == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert record.vector("4.0") == ""
    assert [(a.ecosystem, a.name) for a in record.affected] == [("Maven", "org.apache.logging.log4j:log4j-core")] * 3
    first = record.affected[0].ranges[0]
    assert first.type == "ECOSYSTEM"
    assert [(e.kind, e.version) for e in first.events] == [("introduced", "2.13.0"), ("fixed", "2.15.0")]


def test_semver_git_and_last_affected_records_read() -> None:
    (go,) = osv(raw("osv-GO-2021-0113.json")).records
    assert go.affected[0].ranges[0].type == "SEMVER"
    assert go.modified.year == 1  # the Go database's "never modified"
    assert go.cve_ids == ("CVE-2021-38561",)
    (fuzz,) = osv(raw("osv-OSV-2023-162.json")).records
    assert fuzz.affected[0].purl == "pkg:generic/libxml2"
    assert fuzz.affected[0].ranges[0].repo == "https://gitlab.gnome.org/GNOME/libxml2.git"
    (py,) = osv(raw("osv-GHSA-w596-4wvx-j9j6.json")).records
    assert [e.kind for e in py.affected[0].ranges[0].events] == ["introduced", "last_affected"]


def test_cvss_v4_and_withdrawn_are_kept() -> None:
    document = loaded("osv-GHSA-35jh-r3h4-6jhm.json")
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    v2 = "AV:N/AC:L/Au:N/C:P/I:P/A:P"
    document["severity"] += [{"type": "CVSS_V4", "score": v4}, {"type": "CVSS_V2", "score": v2}]
    document["withdrawn"] = "2024-01-02T03:04:05Z"
    (record,) = osv(dumped(document)).records
    assert record.vector("4.0") == v4
    assert [s.type for s in record.severity] == ["CVSS_V3", "CVSS_V4"]  # v2 is not kept
    assert record.withdrawn == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_json_list_of_records() -> None:
    records = [json.loads(path.read_bytes()) for path in OSV_FILES]
    feed = osv(dumped(records))
    assert feed.format is FeedFormat.OSV_LIST
    assert [r.id for r in feed.records] == [r["id"] for r in records]


def _zip(path: Path, members: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path.read_bytes()


def test_an_ecosystem_export_zip(tmp_path: Path) -> None:
    members = {path.name: path.read_bytes() for path in OSV_FILES}
    data = _zip(tmp_path / "all.zip", {**members, "README.txt": b"not a record", "folder/": b""})
    feed = osv(data)
    assert feed.format is FeedFormat.OSV_ZIP
    assert detect_format(data) is FeedFormat.OSV_ZIP
    assert sorted(r.id for r in feed.records) == sorted(json.loads(c)["id"] for c in members.values())


def test_zip_bombs_and_bad_members_are_refused(tmp_path: Path) -> None:
    record = raw("osv-GO-2021-0113.json")
    # 5 MiB of spaces deflate to a few kilobytes: the member is refused by what it inflates to.
    bomb = _zip(tmp_path / "bomb.zip", {"GO-1.json": record[:-2] + b" " * (5 * 1024 * 1024) + b"}\n"})
    assert len(bomb) < 100_000
    assert "inflates past 4194304 bytes" in refused(bomb)
    many = _zip(tmp_path / "many.zip", {f"GO-{n}.json": record for n in range(4)})
    assert "holds 4 members, more than the 3" in refused(many, Limits(max_members=3))
    assert "the zip inflates past" in refused(many, Limits(max_total=3 * len(record)))
    assert "more than the 1000 accepted" in refused(many, Limits(max_zip=1000))
    broken = _zip(tmp_path / "broken.zip", {"GO-1.json": b'{"id": "GO-1",'})
    assert refused(broken).startswith("zip member GO-1.json is not valid JSON")
    other = _zip(tmp_path / "other.zip", {"kev.json": raw("kev-trimmed.json")})
    assert "zip member kev.json is not an OSV record" in refused(other)
    assert "cannot be read" in refused(b"PK\x03\x04 not really a zip")


def test_osv_refusals_name_the_record_and_field() -> None:
    document = loaded("osv-GHSA-35jh-r3h4-6jhm.json")
    assert "'modified' is missing" in refused(dumped({**document, "modified": ""}))
    assert "'modified' is not a date and time" in refused(dumped({**document, "modified": "yesterday"}))
    assert "'aliases' holds something other than text" in refused(dumped({**document, "aliases": [1]}))
    two = copy.deepcopy(document)
    two["affected"][0]["ranges"][0]["events"][0] = {"introduced": "0", "fixed": "1"}
    message = refused(dumped(two))
    assert message.startswith("OSV record GHSA-35jh-r3h4-6jhm, affected[0], ranges[0], events[0]: an event is one")
    typed = copy.deepcopy(document)
    typed["affected"][0]["ranges"][0]["type"] = None
    assert "ranges[0]: 'type' is missing" in refused(dumped(typed))


# -- KEV


def test_the_kev_catalog() -> None:
    catalog = read_feed(raw("kev-trimmed.json"))
    assert isinstance(catalog, KevCatalog)
    assert catalog.version == "2025.08.25"
    assert catalog.cve_ids == {"CVE-2021-44228", "CVE-2021-45046", "CVE-2025-48384"}
    log4shell = next(e for e in catalog.entries if e.cve_id == "CVE-2021-44228")
    assert (log4shell.vendor, log4shell.product, log4shell.ransomware) == ("Apache", "Log4j2", "Known")
    assert (log4shell.date_added, log4shell.due_date) == (date(2021, 12, 10), date(2021, 12, 24))
    assert log4shell.cwes == ("CWE-20", "CWE-400", "CWE-502")


def test_kev_refusals() -> None:
    catalog = loaded("kev-trimmed.json")
    catalog["vulnerabilities"][0]["cveID"] = ""
    assert "vulnerabilities[0]: 'cveID' is missing" in refused(dumped(catalog))
    catalog = loaded("kev-trimmed.json")
    catalog["vulnerabilities"][1]["dateAdded"] = "12/10/2021"
    assert "vulnerabilities[1]: 'dateAdded' is not a date" in refused(dumped(catalog))


# -- CSAF


def test_csaf_vex_flags_threats_and_a_version_range() -> None:
    vex = supplier(raw("csaf-vex-sec-vex-2022-0001.json"))
    assert (vex.document_id, vex.version, vex.publisher) == ("SEC-VEX-2022-0001", "1", "Secvisogram")
    assert [s.vulnerability for s in vex.statements] == ["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"]
    first = vex.statements[0]
    assert first.status is Status.NOT_AFFECTED
    assert first.justification is Justification.COMPONENT_NOT_PRESENT
    assert first.impact == "Secvisogram is written in JavaScript. No Java is included."
    assert (first.purl, first.version, first.versions) == ("", "", "<=1.14.0")  # the example names no purl
    assert first.product == "CSAFPID-0001 Secvisogram <=1.14.0"


def test_csaf_statuses_and_remediations_become_actions() -> None:
    vex = supplier(raw("csaf-vex-2022-evd-uc-03-ms-001.json"))
    by_cve = {s.vulnerability: s for s in vex.statements}
    assert by_cve["CVE-2020-11896"].status is Status.UNDER_INVESTIGATION
    assert by_cve["CVE-2020-11897"].status is Status.NOT_AFFECTED
    assert by_cve["CVE-2020-11897"].impact == "IPv6 is not supported and code is not present."
    affected = by_cve["CVE-2020-11898"]
    assert affected.status is Status.AFFECTED
    assert affected.action == "We are working to integrate the upstream patches in our code."
    assert {s.version for s in vex.statements} == {"17.4"}  # from the product_version branch
    assert {s.status for s in vex.statements} == set(Status)


def test_csaf_purls_from_helpers_and_relationships() -> None:
    document = loaded("csaf-vex-2022-evd-uc-03-ms-001.json")
    leaf = document["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"]
    leaf["product_identification_helper"] = {"purl": "pkg:generic/example/ghi"}
    vex = supplier(dumped(document))
    assert {(s.purl, s.version) for s in vex.statements} == {("pkg:generic/example/ghi", "17.4")}

    # Red Hat's current CSAF gives purls; the 2022 example in the specification's repository does not yet.
    rhsa = loaded("csaf-rhsa-2022_0011.json")
    families = rhsa["product_tree"]["branches"][0]["branches"]
    families[0]["branches"][0]["product"]["product_identification_helper"] = {"purl": "pkg:generic/redhat/rhel@7.6"}
    telnet = families[2]["branches"][0]["product"]
    assert telnet["product_id"] == "telnet-1:0.17-65.el7_6.x86_64"
    telnet["product_identification_helper"] = {"purl": "pkg:rpm/redhat/telnet@0.17-65.el7_6?arch=x86_64&epoch=1"}
    statements = supplier(dumped(rhsa)).statements
    (found,) = [s for s in statements if s.product.startswith("7Server-7.6.AUS:telnet-1:0.17-65.el7_6.x86_64")]
    assert found.status is Status.FIXED
    assert found.purl == "pkg:rpm/redhat/telnet@0.17-65.el7_6?arch=x86_64&epoch=1"
    assert (found.version, found.within) == ("0.17-65.el7_6", "pkg:generic/redhat/rhel@7.6")
    assert found.aliases == ("https://bugzilla.redhat.com/show_bug.cgi?id=1811673",)


def test_csaf_refusals() -> None:
    document = loaded("csaf-vex-sec-vex-2022-0001.json")
    document["vulnerabilities"][0]["product_status"]["known_not_affected"] = ["CSAFPID-9999"]
    assert "product id CSAFPID-9999 is not defined in the product tree" in refused(dumped(document))
    document = loaded("csaf-vex-sec-vex-2022-0001.json")
    document["vulnerabilities"][0]["flags"][0]["label"] = "not_vulnerable"
    assert "flag label 'not_vulnerable' is none of CSAF's five" in refused(dumped(document))
    document = loaded("csaf-vex-sec-vex-2022-0001.json")
    del document["vulnerabilities"][2]["cve"]
    assert "vulnerabilities[2]: it names no CVE and no ids" in refused(dumped(document))
    document["document"]["csaf_version"] = "2.1"
    assert refused(dumped(document)) == "CSAF version '2.1' is not read (only 2.0)"
    rhsa = loaded("csaf-rhsa-2022_0011.json")
    rhsa["product_tree"]["relationships"][0]["relates_to_product_reference"] = "nowhere"
    assert "relationships[0]: it refers to a product id the product tree does not define" in refused(dumped(rhsa))


# -- CycloneDX


def test_cyclonedx_vex_resolves_a_bom_link_to_its_purl() -> None:
    vex = supplier(raw("cyclonedx-vex.json"))
    (statement,) = vex.statements
    assert statement.vulnerability == "CVE-2020-25649"
    assert statement.aliases == ("SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302",)
    assert statement.purl == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"
    assert statement.version == "2.10.0"
    assert statement.status is Status.NOT_AFFECTED
    assert statement.justification is Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH
    assert statement.cdx_justification is CdxJustification.CODE_NOT_REACHABLE
    assert statement.impact.startswith("Automated dataflow analysis")
    assert statement.action == ""  # only an affected statement carries one


def test_cyclonedx_versions_become_one_statement_each() -> None:
    vex = supplier(raw("cyclonedx-vex-versions.json"))
    assert len(vex.statements) == 13
    assert {s.product for s in vex.statements} == {"acme-product"}
    assert {s.purl for s in vex.statements} == {""}  # the subject has no purl: nothing to match
    assert vex.statements[0].version == "2.2.0"
    assert {s.status for s in vex.statements} == {Status.NOT_AFFECTED}


def _cdx(vulnerability: dict[str, Any], **extra: Any) -> bytes:
    base = loaded("cyclonedx-vex.json")
    return dumped({**base, **extra, "vulnerabilities": [{**base["vulnerabilities"][0], **vulnerability}]})


def test_cyclonedx_label_property_takes_precedence() -> None:
    analysis = {"state": "not_affected", "justification": "code_not_present"}
    prop = [{"name": JUSTIFICATION_PROPERTY, "value": "component_not_present"}]
    (statement,) = supplier(_cdx({"analysis": analysis, "properties": prop})).statements
    assert statement.justification is Justification.COMPONENT_NOT_PRESENT
    assert statement.cdx_justification is None  # code_not_present falls under another label
    (plain,) = supplier(_cdx({"analysis": analysis})).statements
    assert plain.justification is Justification.VULNERABLE_CODE_NOT_PRESENT
    assert plain.cdx_justification is CdxJustification.CODE_NOT_PRESENT
    bad = [{"name": JUSTIFICATION_PROPERTY, "value": "nope"}]
    assert "is none of the five labels" in refused(_cdx({"analysis": analysis, "properties": bad}))


def test_cyclonedx_states_refs_and_actions() -> None:
    component = {
        "type": "library",
        "bom-ref": "jd",
        "name": "jackson-databind",
        "version": "2.10.0",
        "purl": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0",
    }
    exploitable = {
        "analysis": {"state": "exploitable", "response": ["update"]},
        "affects": [{"ref": "jd"}, {"ref": "pkg:npm/lodash@4.17.20"}, {"ref": "urn:cdx:f0/1#elsewhere"}],
    }
    statements = supplier(_cdx(exploitable, components=[component])).statements
    assert [(s.purl, s.version, s.status) for s in statements] == [
        (component["purl"], "2.10.0", Status.AFFECTED),
        ("pkg:npm/lodash@4.17.20", "4.17.20", Status.AFFECTED),
        ("", "", Status.AFFECTED),  # a BOM-Link into a document we do not have
    ]
    assert statements[0].action.startswith("Upgrade com.fasterxml.jackson.core:jackson-databind")  # recommendation
    (false_positive,) = supplier(_cdx({"analysis": {"state": "false_positive"}})).statements
    assert false_positive.status is Status.NOT_AFFECTED
    assert false_positive.justification is Justification.VULNERABLE_CODE_NOT_PRESENT
    (untriaged,) = supplier(_cdx({"analysis": {}})).statements
    assert untriaged.status is Status.UNDER_INVESTIGATION


def test_cyclonedx_refusals() -> None:
    assert "not valid CycloneDX 1.4 JSON" in refused(_cdx({"analysis": {"state": "bogus"}}))
    assert "CycloneDX '1.3' is not read as VEX" in refused(_cdx({}, specVersion="1.3"))
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}
    assert "lists no vulnerabilities: an SBOM, not a VEX" in refused(dumped(sbom))


# -- Everything else


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"id": "GHSA-1", "modified": ', "the file is not valid JSON"),
        (b"[]", "an empty JSON list"),
        (b'[{"cveID": "CVE-2021-44228"}]', "not of OSV records"),
        (b'"text"', "neither an object nor a list"),
        (b'{"hello": "world"}', "not vulnerability data"),
        (b'{"spdxVersion": "SPDX-2.3"}', "an SPDX document holds no vulnerability statements"),
        (b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}', "an OpenVEX document is not read"),
        (b'{"bomFormat": "SPDX"}', 'not "CycloneDX"'),
        (b"\x1f\x8b\x08\x00", "the file is compressed"),
        (b'{"id": "GHSA-1", "modified": NaN}', "NaN is not a JSON value"),
        (b'{"id": "GHSA-\\u0000", "modified": "2024-01-01T00:00:00Z"}', "holds a NUL or a lone surrogate"),
        (b"[" * 200 + b"]" * 200, "nested deeper than 128 levels"),
    ],
)
def test_everything_else_is_refused_in_one_line(data: bytes, expected: str) -> None:
    assert expected in refused(data)


def test_oversize_json_is_refused_before_parsing() -> None:
    assert refused(raw("kev-trimmed.json"), Limits(max_json=1000)).startswith("the file has ")
