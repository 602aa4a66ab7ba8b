"""Our validation agrees with cyclonedx-python-lib's strict validators, which are slow but the reference.

The verdicts compared: the library accepts a document exactly when we accept it without a warning. The
documents: the CycloneDX project's own examples (tests/sboms/fixtures/cyclonedx, valid and invalid,
JSON and XML, spec 1.2 to 1.7), documents written here for every version, and random single-field
mutations of them (hypothesis). Where an RFC and the library's format checkers differ, the RFC wins
and the difference is pinned in test_known_differences_follow_the_rfcs.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from sdl_tracker.sboms.validation import SUPPORTED_VERSIONS, Rejected, SbomFormat, check
from tests.sboms.builders import FIXTURES, dumps, json_bom, xml_bom

MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())


@functools.cache
def _library(fmt: str, version: str) -> Any:
    schema = SchemaVersion.from_version(version)
    return JsonStrictValidator(schema) if fmt == "json" else XmlValidator(schema)


def library_accepts(raw: bytes, fmt: str, version: str) -> bool:
    """The library's strict validator's verdict."""
    return _library(fmt, version).validate_str(raw.decode()) is None


def our_verdict(raw: bytes) -> str:
    """valid, warnings (format-only violations) or invalid."""
    try:
        checked = check(raw)
    except Rejected:
        return "invalid"
    return "warnings" if checked.warnings else "valid"


def assert_agree(raw: bytes, fmt: str, version: str) -> None:
    ours = our_verdict(raw)
    assert (ours == "valid") == library_accepts(raw, fmt, version), f"ours: {ours}"


def test_the_fixture_set_covers_every_version_and_both_formats() -> None:
    kept = {(entry["spec_version"], entry["format"], entry["library_verdict"]) for entry in MANIFEST}
    for version in SUPPORTED_VERSIONS:
        for fmt in ("json", "xml"):
            assert (version, fmt, "valid") in kept, (version, fmt)
    assert any(verdict == "invalid" for _, _, verdict in kept)
    assert "Apache License 2.0" in (FIXTURES / "README.md").read_text()


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_cyclonedx_examples_get_the_library_verdict(entry: dict[str, str]) -> None:
    raw = (FIXTURES / entry["file"]).read_bytes()
    ours = our_verdict(raw)
    if entry["library_verdict"] == "valid":
        assert ours == "valid"
        assert check(raw).format is SbomFormat(entry["format"])
    else:
        assert ours in {"invalid", "warnings"}


def _mutations(bom: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    def edit(change: Any) -> dict[str, Any]:
        result = copy.deepcopy(bom)
        change(result)
        return result

    first = "components"
    return [
        ("enum", edit(lambda b: b[first][0].update(type="gadget"))),
        ("required", edit(lambda b: b[first][1].pop("name"))),
        ("unknown-property", edit(lambda b: b.update({"x-unknown": 1}))),
        ("type", edit(lambda b: b.update(version="one"))),
        ("date-time", edit(lambda b: b["metadata"].update(timestamp="yesterday"))),
        ("iri", edit(lambda b: b[first][1].update(externalReferences=[{"type": "vcs", "url": "git@h.example:o/r"}]))),
        ("pattern", edit(lambda b: b.update(serialNumber="urn:uuid:nope"))),
        ("hash", edit(lambda b: b[first][1]["hashes"][0].update(content="abc"))),
        ("unique-items", edit(lambda b: b[first].append(copy.deepcopy(b[first][1])))),
    ]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_written_documents_and_their_mutations_get_the_library_verdict(version: str) -> None:
    bom = json_bom(version)
    assert our_verdict(dumps(bom)) == "valid" and library_accepts(dumps(bom), "json", version)
    for name, mutated in _mutations(bom):
        raw = dumps(mutated)
        assert_agree(raw, "json", version)
        if name in {"enum", "required", "type", "unknown-property"}:  # these bite on every version
            assert our_verdict(raw) == "invalid", name
    xml = xml_bom(version)
    assert our_verdict(xml) == "valid" and library_accepts(xml, "xml", version)
    for name, old, new in [
        ("enum", b'type="library"', b'type="gadget"'),
        ("required", b"<name>openssl</name>", b""),
        ("unknown-element", b"<version>3.0.13</version>", b"<version>3.0.13</version><colour>red</colour>"),
        ("date-time", b"2026-10-01T12:00:00Z", b"yesterday"),
        (
            "uri",
            b"<purl>pkg:generic/openssl@3.0.13</purl>",
            b"<purl>pkg:generic/openssl@3.0.13</purl>"
            b'<externalReferences><reference type="vcs"><url>git@h.example:o/%zz</url></reference>'
            b"</externalReferences>",
        ),
        ("attribute-type", b'version="2"', b'version="two"'),
    ]:
        raw = xml.replace(old, new, 1)
        assert raw != xml, name
        assert_agree(raw, "xml", version)
        assert our_verdict(raw) != "valid", name


# Values a mutation may put anywhere: types, enumerations, formats and patterns the schemas check.
TRICKY = st.sampled_from(
    [
        "",
        "x",
        0,
        -1,
        1.5,
        True,
        None,
        [],
        {},
        [{}],
        "library",
        "SHA-256",
        "MIT",
        "https://example.com/a",
        "git@github.com:org/repo.git",
        "http://example.com/%zz",
        "a b",
        "2026-10-01T12:00:00Z",
        "2026-10-01",
        "2026-02-30T00:00:00Z",
        "ops@example.com",
        "not-an-email",
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "0" * 64,
    ]
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [prefix] + [p for key, value in node.items() for p in _paths(value, (*prefix, key))]
    if isinstance(node, list):
        return [prefix] + [p for index, value in enumerate(node) for p in _paths(value, (*prefix, index))]
    return [prefix]


BASE = json_bom("1.6", components=2)
BASE["metadata"]["authors"] = [
    {"name": "Build bot", "email": "build@example.com"},
    {"name": "Release bot", "email": "release@example.com"},
]
BASE["components"][1]["externalReferences"] = [{"type": "website", "url": "https://example.com"}]
PATHS = [path for path in _paths(BASE) if path and path != ("specVersion",) and path != ("bomFormat",)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=TRICKY, delete=st.booleans())
def test_random_mutations_get_the_library_verdict(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    bom = copy.deepcopy(BASE)
    node: Any = bom
    for step in path[:-1]:
        node = node[step]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    raw = dumps(bom)
    if not delete and path[-1] == "email" and isinstance(value, str) and "@" in value:
        # The library's e-mail check only looks for an "@"; ours parses the address (see below).
        assert library_accepts(raw, "json", "1.6") and our_verdict(raw) in {"valid", "warnings"}
    else:
        assert_agree(raw, "json", "1.6")


def test_known_differences_follow_the_rfcs() -> None:
    """The library's checkers refuse an IPv6 literal host (RFC 3987 allows it) and a leap second (RFC 3339
    allows it), and take anything with an "@" for an e-mail address (RFC 5321 does not); jsonschema-rs
    follows the RFCs. Only format checks differ, so at most a warning differs, never a refusal."""
    cases = {
        ("components", 1, "externalReferences", 0, "url"): ("http://[::1]/", "valid", False),
        ("metadata", "timestamp"): ("2026-12-31T23:59:60Z", "valid", False),
        ("metadata", "authors", 0, "email"): ("a@", "warnings", True),
        ("metadata", "authors", 1, "email"): ("git@github.com:org/repo.git", "warnings", True),
    }
    for path, (value, ours, library) in cases.items():
        bom = copy.deepcopy(BASE)
        node: Any = bom
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        raw = dumps(bom)
        assert (our_verdict(raw), library_accepts(raw, "json", "1.6")) == (ours, library), value


def test_fixture_manifest_names_files_that_exist() -> None:
    for entry in MANIFEST:
        assert Path(FIXTURES / entry["file"]).is_file(), entry["file"]
        assert entry["source"].startswith("CycloneDX/specification:")


XML_BASE = xml_bom("1.6")
# Places a mutation may replace in the XML document, and what it may put there.
XML_PLACES = [
    b'type="library"',
    b'bom-ref="zlib"',
    b'version="2"',
    b"<name>zlib</name>",
    b"<version>1.3.1</version>",
    b"<timestamp>2026-10-01T12:00:00Z</timestamp>",
    b'<hash alg="SHA-256">',
    b"<id>Zlib</id>",
    b"<purl>pkg:generic/openssl@3.0.13</purl>",
    b"<expression>Apache-2.0</expression>",
]
XML_VALUES = st.sampled_from(
    [
        b"",
        b'type="gadget"',
        b'version="-1"',
        b"<name></name>",
        b"<version>1</version><version>2</version>",
        b"<timestamp>2026-02-30T00:00:00Z</timestamp>",
        b"<timestamp>yesterday</timestamp>",
        b'<hash alg="SHA-256">',
        b'<hash alg="CRC32">',
        b"<id>Not-A-License</id>",
        b"<purl>git@github.com:org/repo.git</purl>",
        b"<url>http://example.com/%zz</url>",
        b"<colour>red</colour>",
    ]
)


@settings(max_examples=60, deadline=None)
@given(place=st.sampled_from(XML_PLACES), value=XML_VALUES)
def test_random_xml_mutations_get_the_library_verdict(place: bytes, value: bytes) -> None:
    raw = XML_BASE.replace(place, value, 1)
    try:
        library = library_accepts(raw, "xml", "1.6")
    except etree.XMLSyntaxError:  # the library raises where a mutation broke well-formedness
        library = False
    assert (our_verdict(raw) == "valid") == library
