"""SPDX 2.2 and 2.3 documents, JSON and tag-value: what is read into component rows, what is refused (no database)."""

from __future__ import annotations

import contextlib
import copy
import json
import random
from typing import Any

import pytest

from sdl_tracker.sboms.document import read
from sdl_tracker.sboms.formats import Rejected, SbomContent, SbomFormat
from sdl_tracker.sboms.validation import check
from tests.sboms.builders import SPDX_FIXTURES, changed, dumps, spdx_json, spdx_tag_value


def content(raw: bytes) -> SbomContent:
    return read(check(raw))


def refusal(raw: bytes) -> str:
    with pytest.raises(Rejected) as refused:
        content(raw)
    exc = refused.value
    return " | ".join([exc.message, *map(str, exc.violations)])


def relate(document: dict[str, Any], element: str, kind: str, related: str) -> dict[str, Any]:
    result = copy.deepcopy(document)
    result["relationships"].append({"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related})
    return result


def test_a_real_spdx_2_3_json_sbom_reads_its_packages_edges_and_subject() -> None:
    """example11 of spdx/spdx-examples: a Rust server's source package described, three crates it depends on."""
    read_ = content((SPDX_FIXTURES / "example11-sbom.spdx.json").read_bytes())
    assert (read_.format, read_.spec_version, read_.warnings, read_.bom_version) == (SbomFormat.SPDX_JSON, "2.3", [], 1)
    assert read_.serial_number == "https://spdx.org/spdxdocs/k8s-releng-bom-7c6a33ab-bd76-4b06-b291-a850e0815b07"
    assert read_.subject is not None and read_.subject["name"] == "hello-server-src"
    assert read_.tools == [{"vendor": "", "name": "sigs.k8s.io/bom/pkg/spdx", "version": ""}]
    assert read_.timestamp is not None and read_.timestamp.isoformat() == "2022-11-03T07:10:10+00:00"
    assert [(c["name"], c["version"], c["purl"]) for c in read_.components] == [
        ("hyper", "0.14", "pkg:cargo/hyper@0.14"),
        ("tokio", "1.19.2", "pkg:cargo/tokio@1.19.2"),
        ("pretty_env_logger", "0.4.0", "pkg:cargo/pretty_env_logger@0.4.0"),
    ]
    hyper = read_.components[0]
    assert hyper["licenses"] == [{"id": "MIT"}] and hyper["hashes"][0]["alg"] == "SHA-256"
    # The subject's DEPENDS_ON edges, named by SPDXIDs; the file GENERATED_FROM the source is no edge.
    assert {ref for ref, _ in read_.dependencies} == {"SPDXRef-Package-hello-server-src"}
    assert len(read_.dependencies) == 3


@pytest.mark.parametrize(
    ("name", "spec", "components"),
    [
        ("example6-lib.spdx", "2.2", ["go", "go.fmt", "go.reflect", "go.strconv"]),
        ("examplemaven-0.0.1-enriched.spdx.json", "2.3", None),
    ],
)
def test_other_real_documents_are_accepted(name: str, spec: str, components: list[str] | None) -> None:
    read_ = content((SPDX_FIXTURES / name).read_bytes())
    assert read_.spec_version == spec and read_.warnings == []
    if components is not None:
        assert [c["name"] for c in read_.components] == components
    assert read_.components and read_.subject is not None


@pytest.mark.parametrize("version", ["SPDX-2.3", "SPDX-2.2"])
def test_json_and_tag_value_read_into_the_same_rows(version: str) -> None:
    document = spdx_json(version)
    from_json, from_tag_value = content(dumps(document)), content(spdx_tag_value(document))
    assert from_json.format is SbomFormat.SPDX_JSON and from_tag_value.format is SbomFormat.SPDX_TAG_VALUE
    assert from_json.spec_version == from_tag_value.spec_version == version.removeprefix("SPDX-")
    assert from_json.components == from_tag_value.components
    assert from_json.dependencies == from_tag_value.dependencies and from_json.subject == from_tag_value.subject


def test_packages_map_onto_the_cyclonedx_fields() -> None:
    read_ = content(dumps(spdx_json()))
    # The described firmware is the subject, not a component; the part comes after the package containing it.
    assert read_.subject == {
        "bom_ref": "SPDXRef-fw",
        "type": "firmware",
        "group": "",
        "name": "plc-firmware",
        "version": "4.2.0",
        "purl": "",
    }
    rows = {row["name"]: row for row in read_.components}
    assert [row["name"] for row in read_.components] == ["lib0", "lib0-part.bin", "lib1", "lib2"]
    assert (
        rows["lib0-part.bin"]["parent_position"] == rows["lib0"]["position"] and rows["lib0-part.bin"]["type"] == "file"
    )
    lib0, lib1 = rows["lib0"], rows["lib1"]
    assert lib0["supplier"] == "Example Corp"  # "Organization: " and the address are no part of the name
    assert lib0["cpe"] == "cpe:2.3:a:example:lib0:1.0.0:*:*:*:*:*:*:*" and lib0["group_name"] == ""
    assert lib0["hashes"] == [{"alg": "SHA-256", "content": "0" * 64}]
    # Concluded if asserted, else declared; a known id alone is an id, anything longer an expression.
    assert lib0["licenses"] == [{"expression": "Apache-2.0 OR MIT"}] and lib1["licenses"] == [{"id": "MIT"}]
    assert read_.dependencies == [
        ("SPDXRef-fw", "SPDXRef-lib0"),
        ("SPDXRef-fw", "SPDXRef-lib1"),
        ("SPDXRef-fw", "SPDXRef-lib2"),
        ("SPDXRef-lib0", "SPDXRef-lib1"),  # lib1 DEPENDENCY_OF lib0
        ("SPDXRef-lib1", "SPDXRef-lib2"),
    ]


def test_licences_checksums_and_references_in_their_other_forms() -> None:
    document = spdx_json()
    lib = document["packages"][2]
    lib.update(licenseConcluded="NONE", licenseDeclared="LicenseRef-vendor")
    lib["checksums"] = [
        {"algorithm": "SHA1", "checksumValue": "a" * 40},
        {"algorithm": "BLAKE2b-384", "checksumValue": "b" * 96},
        {"algorithm": "MD5", "checksumValue": "c" * 32},
    ]
    lib["externalRefs"] = [
        {
            "referenceCategory": "SECURITY",
            "referenceType": "cpe22Type",
            "referenceLocator": "cpe:/a:example:lib0:1.0.0",
        },
        {"referenceCategory": "OTHER", "referenceType": "purl", "referenceLocator": "pkg:generic/not-this@1"},
    ]
    document["hasExtractedLicensingInfos"] = [{"licenseId": "LicenseRef-vendor", "extractedText": "Vendor terms"}]
    row = content(dumps(document)).components[0]
    assert row["licenses"] == [{"name": "LicenseRef-vendor"}]  # NONE concluded is no licence: the declared one
    assert [h["alg"] for h in row["hashes"]] == ["SHA-1", "BLAKE2b-384", "MD5"]
    assert row["cpe"] == "cpe:/a:example:lib0:1.0.0" and row["purl"] == ""  # a purl only as a package manager's


def test_what_a_document_describes() -> None:
    several = relate(spdx_json(), "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-lib2")
    read_ = content(dumps(several))
    # Two described packages: each stays a component, the first names the SBOM.
    assert read_.subject is not None and read_.subject["name"] == "plc-firmware"
    assert [c["name"] for c in read_.components][:2] == ["plc-firmware", "lib0"]
    described_by = changed(spdx_json(), "relationships/0", {
        "spdxElementId": "SPDXRef-fw", "relationshipType": "DESCRIBED_BY", "relatedSpdxElement": "SPDXRef-DOCUMENT"
    })  # fmt: skip
    assert content(dumps(described_by)).subject == content(dumps(spdx_json())).subject
    nothing = changed(spdx_json(), "relationships/0", {
        "spdxElementId": "SPDXRef-fw", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-lib0"
    })  # fmt: skip
    undescribed = content(dumps(nothing))  # no DESCRIBES: no subject, every package a component
    assert undescribed.subject is None and len(undescribed.components) == 5
    file_only = spdx_json()
    file_only["files"] = [
        {
            "SPDXID": "SPDXRef-image",
            "fileName": "./image.bin",
            "checksums": [{"algorithm": "SHA1", "checksumValue": "d" * 40}],
        }
    ]
    file_only["relationships"][0]["relatedSpdxElement"] = "SPDXRef-image"
    read_ = content(dumps(file_only))
    assert read_.subject == {
        "bom_ref": "SPDXRef-image",
        "type": "file",
        "group": "",
        "name": "./image.bin",
        "version": "",
        "purl": "",
    }
    assert "plc-firmware" in [c["name"] for c in read_.components]


def test_nesting_loops_are_cut_and_long_chains_do_not_recurse() -> None:
    looped = relate(spdx_json(), "SPDXRef-lib0-part", "CONTAINS", "SPDXRef-lib0")
    rows = content(dumps(looped)).components
    # Packages outside the loop first, then the loop cut at its first package in document order.
    assert [(r["name"], r["parent_position"]) for r in rows] == [
        ("lib1", None),
        ("lib2", None),
        ("lib0-part.bin", None),
        ("lib0", 2),
    ]
    chain = spdx_json(packages=3000)
    chain["relationships"] += [
        {
            "spdxElementId": f"SPDXRef-lib{i}",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": f"SPDXRef-lib{i + 1}",
        }
        for i in range(2999)
    ]
    rows = content(dumps(chain)).components
    assert [r["parent_position"] for r in rows[:6]] == [None, 0, 0, 2, 3, 4] and len(rows) == 3001


def test_only_dependency_relationships_between_packages_are_edges() -> None:
    document = spdx_json(packages=2)
    document["relationships"] = document["relationships"][:1]  # DESCRIBES only
    document["externalDocumentRefs"] = [
        {
            "externalDocumentId": "DocumentRef-runtime",
            "spdxDocument": "https://example.com/spdx/runtime",
            "checksum": {"algorithm": "SHA1", "checksumValue": "e" * 40},
        }
    ]
    for element, kind, related in [
        ("SPDXRef-lib1", "RUNTIME_DEPENDENCY_OF", "SPDXRef-lib0"),  # lib0 depends on lib1 (Yocto's form)
        ("SPDXRef-lib1", "RUNTIME_DEPENDENCY_OF", "SPDXRef-lib0"),  # the same edge again
        ("SPDXRef-lib0", "BUILD_DEPENDENCY_OF", "SPDXRef-fw"),  # not shipped
        ("SPDXRef-lib0", "STATIC_LINK", "SPDXRef-fw"),
        ("SPDXRef-fw", "DEPENDS_ON", "DocumentRef-runtime:SPDXRef-libc"),  # in another document
        ("SPDXRef-fw", "DEPENDS_ON", "NOASSERTION"),
    ]:
        document = relate(document, element, kind, related)
    assert content(dumps(document)).dependencies == [("SPDXRef-lib0", "SPDXRef-lib1")]


def test_library_findings_are_format_warnings_named_by_spdxid() -> None:
    document = changed(spdx_json(), "packages/3/licenseConcluded", "NotALicence")
    checked = check(dumps(document))
    assert [w.path for w in checked.warnings] == ["SPDXRef-lib1"]
    assert "NotALicence" in checked.warnings[0].message
    assert content(dumps(document)).components[2]["licenses"] == [{"name": "NotALicence"}]


JSON_LD = {
    "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
    "@graph": [{"type": "SpdxDocument", "spdxId": "https://example.com/doc", "creationInfo": "_:ci"}],
}


def bad_documents() -> list[Any]:
    document = spdx_json()
    external = relate(document, "SPDXRef-fw", "DEPENDS_ON", "DocumentRef-nowhere:SPDXRef-x")
    return [
        pytest.param(b'{"spdxVersion": "SPDX-2.3", ', "not valid JSON", id="malformed-json"),
        pytest.param(b"SPDXVersion: SPDX-2.3\nthis is not a tag\n", "not valid SPDX-2.3 tag-value", id="tv-garbage"),
        pytest.param(b"SPDXVersion: SPDX-2.3\nPackageName: x\x00\n", "NUL character", id="tv-nul"),
        pytest.param(b"SPDXVersion: SPDX-2.3\nDocumentName: \xff\xfe\n", "not UTF-8", id="tv-not-utf8"),
        pytest.param(b"DataLicense: CC0-1.0\n", "unsupported SPDX version None", id="tv-no-version"),
        pytest.param(json.dumps(JSON_LD).encode(), "SPDX 3 (JSON-LD) is not supported", id="spdx-3"),
        pytest.param(
            dumps(changed(document, "spdxVersion", "SPDX-2.1")), "unsupported SPDX version 'SPDX-2.1'", id="2.1"
        ),
        pytest.param(dumps(changed(document, "spdxVersion", "SPDX-3.0")), "supported: SPDX-2.2 and SPDX-2.3", id="3.0"),
        pytest.param(dumps(changed(document, "packages", [])), "lists no packages", id="no-packages"),
        pytest.param(dumps(changed(document, "packages", ...)), "lists no packages", id="packages-missing"),
        pytest.param(
            dumps(changed(document, "packages/3/SPDXID", "SPDXRef-lib0")),
            "SPDXRef-lib0: this SPDXID is used more than once",
            id="duplicate-spdxid",
        ),
        pytest.param(
            dumps(relate(document, "SPDXRef-fw", "DEPENDS_ON", "SPDXRef-ghost")),
            "SPDXRef-fw DEPENDS_ON SPDXRef-ghost: 'SPDXRef-ghost' names no package, file or snippet",
            id="unknown-id",
        ),
        pytest.param(dumps(external), "'DocumentRef-nowhere' is no external document reference declared", id="docref"),
        pytest.param(dumps(changed(document, "packages/2", "lib0")), "not valid SPDX-2.3 JSON", id="package-a-string"),
        pytest.param(dumps(changed(document, "packages/2/name", ...)), "not valid SPDX-2.3 JSON", id="no-name"),
        pytest.param(dumps(changed(document, "relationships/1/relationshipType", "LIKES")), "LIKES", id="bad-type"),
        pytest.param(dumps(changed(document, "creationInfo/created", "yesterday")), "not valid", id="bad-date"),
        pytest.param(dumps(changed(document, "packages/2/name", "a\ud800")), "unpaired surrogate", id="surrogate"),
        pytest.param(dumps(changed(document, "relationships", "all")), "not valid SPDX-2.3 JSON", id="wrong-shape"),
    ]


@pytest.mark.parametrize(("raw", "reason"), bad_documents())
def test_bad_documents_are_refused_with_one_clear_reason(raw: bytes, reason: str) -> None:
    text = refusal(raw)
    assert reason in text, text
    assert "Traceback" not in text and len(text) < 5000


def test_spdx_tag_value_detection_skips_comments_and_blank_lines() -> None:
    raw = spdx_tag_value(spdx_json())
    assert content(b"\n# written by a test\n\n" + raw).format is SbomFormat.SPDX_TAG_VALUE
    assert content(b"\xef\xbb\xbf" + raw).format is SbomFormat.SPDX_TAG_VALUE


def test_random_damage_is_refused_or_read_never_a_crash() -> None:
    """spdx-tools is not written against hostile input: whatever a mutation does, the answer is Rejected or rows."""
    rng = random.Random(19)
    values: list[Any] = [None, 0, -1, 1.5, True, "", "NOASSERTION", "SPDXRef-lib0", [], {}, [1], {"a": 1}, "x" * 300]
    base = spdx_json()
    paths = _paths(base)
    for _ in range(400):
        document = copy.deepcopy(base)
        for path in rng.sample(paths, 2):
            with contextlib.suppress(LookupError, TypeError, ValueError):  # the path went with the first change
                document = changed(document, path, rng.choice([*values, ...]))
        with contextlib.suppress(Rejected):
            content(dumps(document))
    tag_value = spdx_tag_value(base).decode().splitlines()
    for _ in range(25):  # each tag-value parse builds the parser's tables (0.3 s)
        lines = list(tag_value)
        index = rng.randrange(len(lines))
        lines[index] = rng.choice(["", "PackageName:", "SPDXID: ", "Relationship: a b c d", lines[index][::-1], "x: y"])
        with contextlib.suppress(Rejected):
            content("\n".join(lines).encode())


def _paths(value: Any, prefix: str = "") -> list[str]:
    paths: list[str] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, item in items:
        path = f"{prefix}{key}"
        paths.append(path)
        paths += _paths(item, f"{path}/")
    return paths


def test_the_tag_value_parser_adds_the_same_contains_relationships_as_the_library() -> None:
    """Files listed after a package belong to it: the index that replaces the library's list scan adds the same
    relationships, once, the declared ones included."""
    from ply import yacc
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    from sdl_tracker.sboms.spdx import _TagValueParser

    files = "".join(
        f"FileName: ./f{i}\nSPDXID: SPDXRef-f{i}\nFileChecksum: SHA1: {i:040x}\n"
        + ("Relationship: SPDXRef-lib2 CONTAINS SPDXRef-f1\n" if i == 0 else "")
        for i in range(3)
    )
    text = spdx_tag_value(spdx_json()).decode() + "\n" + files
    theirs = Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger()).parse(text)
    ours = _TagValueParser().parse(text)
    assert ours.relationships == theirs.relationships
    contains = [
        (r.spdx_element_id, r.related_spdx_element_id)
        for r in ours.relationships
        if r.relationship_type.name == "CONTAINS"
    ]
    assert contains == [("SPDXRef-lib2", "SPDXRef-f0"), ("SPDXRef-lib2", "SPDXRef-f1"), ("SPDXRef-lib2", "SPDXRef-f2")]
