"""SBOM validation, complete and fast: detect the format, refuse unsafe or malformed input, check a
CycloneDX document against the schemas cyclonedx-python-lib ships (an SPDX one goes to `spdx`), and
tell structural violations (refused) from format-only ones (imported with a warning unless strict).

JSON runs through jsonschema-rs (a compiled validator, with format checks) on the library's strict
schemas: the library's own validator (python-jsonschema) took 80 s on a real 2 MB SBOM, mostly in its
IRI grammar parser and its quadratic `uniqueItems`; jsonschema-rs gives the same verdicts in
milliseconds (tests/sboms/test_agreement.py compares them). XML runs through libxml2 (lxml) on the
library's XSDs, as the library does, after a pre-pass that refuses any DOCTYPE or entity declaration.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import jsonschema_rs
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema._res import BOM_JSON_STRICT, BOM_XML, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from lxml import etree

from ..boundary import MAX_DOCUMENT_DEPTH, TooDeep, loads_json
from . import spdx
from .formats import (
    SUSPECT_ESCAPE,
    Checked,
    Rejected,
    SbomFormat,
    Violation,
    refuse_unstorable_strings,
    short,
)

SUPPORTED_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
XML_NAMESPACE = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom$")
# XSD datatypes whose JSON counterpart is a `format` (iri-reference, date-time, date): a bad value
# is a format-only violation in both encodings.
XML_FORMAT_TYPES = re.compile(
    r"is not a valid value of the atomic type 'xs:(anyURI|dateTime|date)'"
    # Every `url` with a local union type in the CycloneDX XSDs is xs:anyURI or a BOM-Link.
    r"|^Element '(\{[^}]*\})?url': .* is not a valid value of the local union type"
)
XML_NAMESPACE_PREFIX = re.compile(r"\{http://cyclonedx\.org/schema/[^}]*\}")
COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"PK": "zip", b"BZ": "bzip2", b"\xfd7zXZ": "xz", b"(\xb5/\xfd": "zstd"}
SCHEMA_PREFIX = "http://cyclonedx.org/schema/"
UNICODE_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def check(raw: bytes) -> Checked:
    """Detect the format and encoding, refuse unsafe or malformed input, validate the document: CycloneDX
    JSON or XML against its schema, SPDX 2.2 or 2.3 JSON or tag-value through spdx-tools."""
    for mark, encoding in UNICODE_BOMS.items():
        if raw.startswith(mark):
            raise Rejected(f"the file is {encoding}-encoded; save it as UTF-8")
    start = raw.lstrip()[:8]
    if start.startswith(b"\xef\xbb\xbf"):
        start = start[3:].lstrip()
    for magic, name in COMPRESSED_MAGIC.items():
        if start.startswith(magic):
            raise Rejected(f"the file is {name}-compressed; upload the uncompressed document")
    if start.startswith(b"{"):
        return _check_json(raw)
    if start.startswith(b"<"):
        return _check_xml(raw)
    if spdx.looks_like_tag_value(raw):
        return spdx.check_tag_value(raw)
    raise Rejected("the file is none of CycloneDX JSON or XML, SPDX JSON or SPDX tag-value")


# -- JSON ------------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _check_json(raw: bytes) -> Checked:
    try:
        document = loads_json(raw, max_depth=MAX_DOCUMENT_DEPTH, parse_constant=_refuse_constant)
    except TooDeep as exc:
        raise Rejected(f"not accepted: {exc} (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Rejected("not an SBOM: the JSON is not an object")
    if spdx.is_spdx_json(document):
        return spdx.check_json(document, raw)
    if document.get("bomFormat") != "CycloneDX":
        raise Rejected('not a CycloneDX document: "bomFormat" is not "CycloneDX"')
    version = _supported(document.get("specVersion"))
    if SUSPECT_ESCAPE.search(raw):
        refuse_unstorable_strings(document)
    return json_verdict(document, version)


def json_verdict(document: dict[str, Any], version: str) -> Checked:
    """Validate a parsed JSON document against the CycloneDX `version` schema: Rejected for a structural
    violation, else Checked with the format-only ones as warnings (exports validate what they built here)."""
    validator = _json_validator(version)
    try:
        if validator.is_valid(document):
            return Checked(SbomFormat.JSON, version, document, [])
        errors = list(validator.iter_errors(document))
    except ValueError as exc:  # jsonschema-rs: "Recursion limit reached"
        raise Rejected(f"not accepted: the JSON is nested too deeply ({exc})") from None
    structural: list[Any] = []
    warnings: list[Violation] = []
    for error in errors:
        causes = _format_causes(error)
        if all(isinstance(cause.kind, jsonschema_rs.ValidationErrorKind.Format) for cause in causes):
            warnings += map(_json_violation, causes)
        else:
            structural.append(error)
    if structural:
        raise Rejected.first_of(f"not valid CycloneDX {version} JSON", structural, _json_violation)
    return Checked(SbomFormat.JSON, version, document, warnings)


def _supported(version: object) -> str:
    if not isinstance(version, str) or version not in SUPPORTED_VERSIONS:
        supported = f"{SUPPORTED_VERSIONS[0]} to {SUPPORTED_VERSIONS[-1]}"
        raise Rejected(f"unsupported CycloneDX version {version!r} (supported: {supported})")
    return version


def _json_violation(error: Any) -> Violation:
    return Violation(_pointer(error.instance_path), short(_json_message(error)))


def _pointer(steps: Iterable[object]) -> str:
    return "".join(f"/{step}" for step in steps)


def _json_message(error: Any) -> str:
    """The validator's message, with a failed choice explained by its nearest branch and the offending
    object or array named rather than dumped (a whole components array, for a uniqueness error)."""
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.OneOfMultipleValid):
        return "matches more than one of the allowed forms, where exactly one is allowed"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.OneOfNotValid | jsonschema_rs.ValidationErrorKind.AnyOf):
        nearest = min(kind.context, key=len) if kind.context else []
        here = len(error.instance_path)
        details = "; ".join(f"{_pointer(e.instance_path[here:]) or '/'}: {_json_message(e)}" for e in nearest[:2])
        return "matches none of the allowed forms" + (f" (nearest: {details})" if details else "")
    text: str = error.message
    if isinstance(error.instance, dict | list) and text[:1] in "{[":
        for sort_keys in (True, False):  # jsonschema-rs prints objects with sorted keys
            dumped = json.dumps(error.instance, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
            if text.startswith(dumped):
                return ("the object" if isinstance(error.instance, dict) else "the array") + text[len(dumped) :]
    return text


def _format_causes(error: Any) -> list[Any]:
    """The format errors behind a failed oneOf or anyOf, from a branch that failed on formats alone (the
    value would fit that branch but for a format), else the error itself."""
    for branch in getattr(error.kind, "context", None) or []:
        causes = [cause for sub_error in branch for cause in _format_causes(sub_error)]
        if causes and all(isinstance(c.kind, jsonschema_rs.ValidationErrorKind.Format) for c in causes):
            return causes
    return [error]


@functools.cache
def _json_registry() -> Any:
    resources = []
    for path in (SPDX_JSON, JSF, CRYPTOGRAPHY_DEFS):
        resources.append((SCHEMA_PREFIX + Path(path).name, json.loads(Path(path).read_text())))
    return jsonschema_rs.Registry(resources)


@functools.cache
def _json_validator(version: str) -> Any:
    schema_file = BOM_JSON_STRICT[SchemaVersion.from_version(version)]
    assert schema_file is not None  # every supported version has a JSON schema
    schema = json.loads(Path(schema_file).read_text())
    # Formats are checked, as the library does: some oneOf choices hinge on them (a JSF signature's
    # algorithm is a known name or else a URI). "format": "string", unknown, is ignored as draft 7 says.
    return jsonschema_rs.Draft7Validator(
        schema, validate_formats=True, ignore_unknown_formats=True, registry=_json_registry()
    )


# -- XML -------------------------------------------------------------------------------------------


class _Discard:
    """An ElementTree parser target that builds nothing: the pre-pass only looks for declarations."""

    def close(self) -> None:
        """Nothing was built."""


def _refuse_declarations(raw: bytes) -> None:
    """Refuse any DOCTYPE, entity or external reference before the document is parsed for real."""
    parser = DefusedXMLParser(target=_Discard(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(raw)
        parser.close()
    except DefusedXmlException:
        raise Rejected("XML with a DOCTYPE or entity declarations is refused") from None
    except ParseError as exc:
        raise Rejected(f"not well-formed XML: {exc}") from None


def safe_parser() -> etree.XMLParser:
    # No DTD, no entities, no network; libxml2's default limits on depth and text size stay on.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def _check_xml(raw: bytes) -> Checked:
    _refuse_declarations(raw)
    try:
        root = etree.fromstring(raw, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise Rejected(f"not well-formed XML: {exc}") from None
    match = XML_NAMESPACE.match(root.tag) if isinstance(root.tag, str) else None
    if match is None:
        raise Rejected(f"not a CycloneDX document: the root element is {etree.QName(root).localname!r}")
    return xml_verdict(root, _supported(match.group(1)))


def xml_verdict(root: etree._Element, version: str) -> Checked:
    """Validate an XML tree against the CycloneDX `version` XSD: Rejected for a structural violation, else
    Checked with the format-only ones as warnings."""
    schema = _xml_schema(version)
    if schema.validate(root):
        return Checked(SbomFormat.XML, version, root, [])
    structural: list[Violation] = []
    warnings: list[Violation] = []
    for entry in schema.error_log:
        message = XML_NAMESPACE_PREFIX.sub("", entry.message)  # '{http://cyclonedx.org/...}name' -> 'name'
        violation = Violation(_xml_path(root, entry.path, entry.line), short(message))
        (warnings if XML_FORMAT_TYPES.search(entry.message) else structural).append(violation)
    if structural:
        raise Rejected.first_of(f"not valid CycloneDX {version} XML", structural)
    return Checked(SbomFormat.XML, version, root, warnings)


_per_thread = threading.local()


def _xml_schema(version: str) -> etree.XMLSchema:
    """This thread's compiled XSD: an lxml validator keeps its error log on itself, so threads never share one."""
    schemas: dict[str, etree.XMLSchema] = _per_thread.__dict__.setdefault("schemas", {})
    if version not in schemas:
        schema_file = BOM_XML[SchemaVersion.from_version(version)]
        assert schema_file is not None
        document = etree.parse(Path(schema_file).absolute().as_uri(), parser=safe_parser())
        schemas[version] = etree.XMLSchema(document)
    return schemas[version]


def _xml_path(root: etree._Element, path: str | None, line: int) -> str:
    """libxml2's `/*/*[2]` path as XPath with names: `/bom/components/component[2] (line 9)`."""
    steps = (path or "").strip("/").split("/")
    if not steps or steps[0] not in {"*", "*[1]"}:
        return f"line {line}"
    names = [etree.QName(root).localname]
    node = root
    for step in steps[1:]:
        index = int(step[2:-1]) if step.startswith("*[") else 1
        children = [c for c in node if isinstance(c.tag, str)]
        if index > len(children):
            return f"line {line}"
        node = children[index - 1]
        namesakes = [c for c in children if c.tag == node.tag]
        name = etree.QName(node).localname
        names.append(f"{name}[{namesakes.index(node) + 1}]" if len(namesakes) > 1 else name)
    return "/" + "/".join(names) + f" (line {line})"
