"""A release's components written as CycloneDX 1.6, JSON or XML, from plain rows: deterministic bytes.

Written here rather than through cyclonedx-python-lib's model: its serialiser is quadratic in the number of
dependencies (15-17 s for 10,000 components against 0.06 s for `json.dumps` of the same data), and its model
merges components that lack a bom-ref. The output is validated against the library's own 1.6 schemas before
anyone receives it (exports.py), so the schema stays the library's, not ours.

Deterministic: no timestamp, keys and rows in a fixed order, the tool named without a version. The serial
number is a UUIDv5 of the release and the content's SHA-256: the same content of the same release is the same
BOM, with the same serial, however often it is generated (docs/sboms.md says why this departs from "a new serial
per generated BOM"); the BOM version is given by the caller (raised when the content changes).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

SPEC_VERSION = "1.6"
XML_NAMESPACE = "http://cyclonedx.org/schema/bom/1.6"
# The namespace of the serial numbers this tracker derives (uuid5 of it and "<release id>:<content sha256>").
SERIAL_NAMESPACE = uuid.UUID("9c8a8d7e-3c0f-5b8e-9d1f-5d2a7e6c4b10")
TOOL_NAME = "sdl-tracker"
# Raised whenever the bytes written for the same rows change: kept exports of an earlier revision are then
# written afresh (exports.source_key).
WRITER_REVISION = 1
SUBJECT_TYPES = {"SAR": "application", "EDR": "device", "HDR": "device", "NDR": "device"}


@dataclass(frozen=True)
class ExportRows:
    """What a release's BOM is made of: plain rows read from its SBOM."""

    product: str
    component_type: str  # the product's IEC 62443-4-2 type (SAR, EDR, HDR, NDR)
    release: str
    subject: dict[str, Any] | None  # the SBOM's metadata.component as stored
    components: Sequence[dict[str, Any]]  # in document order: position, parent_position, bom_ref, type, ...
    dependencies: Sequence[tuple[str, str]]


def _ref(row: dict[str, Any]) -> str:
    """A component's bom-ref: its own, or one made from its position (references need one)."""
    return str(row["bom_ref"]) or f"component-{row['position']}"


def _component(row: dict[str, Any]) -> dict[str, Any]:
    """One component in the JSON form, without its children."""
    out: dict[str, Any] = {"type": row["type"] or "library", "bom-ref": _ref(row)}
    if row["supplier"]:
        out["supplier"] = {"name": row["supplier"]}
    if row["group_name"]:
        out["group"] = row["group_name"]
    out["name"] = row["name"]
    for key in ("version", "scope"):
        if row[key]:
            out[key] = row[key]
    if row["hashes"]:
        out["hashes"] = [{"alg": h["alg"], "content": h["content"]} for h in row["hashes"]]
    if row["licenses"]:
        out["licenses"] = [
            {"expression": item["expression"]} if "expression" in item else {"license": dict(item)}
            for item in row["licenses"]
        ]
    for key in ("cpe", "purl"):
        if row[key]:
            out[key] = row[key]
    return out


def _subject(rows: ExportRows) -> dict[str, Any]:
    """metadata.component: the SBOM's own subject, else the product at this release."""
    subject = rows.subject or {}
    out: dict[str, Any] = {"type": subject.get("type") or SUBJECT_TYPES.get(rows.component_type, "application")}
    if subject.get("bom_ref"):
        out["bom-ref"] = subject["bom_ref"]
    if subject.get("group"):
        out["group"] = subject["group"]
    out["name"] = subject.get("name") or rows.product
    out["version"] = subject.get("version") or rows.release
    if subject.get("purl"):
        out["purl"] = subject["purl"]
    return out


def bom_body(rows: ExportRows) -> dict[str, Any]:
    """The BOM's content in the JSON form: metadata, components and dependencies, each dict built in a fixed key
    order (so its JSON text is canonical); format, spec version, serial number and version go around it."""
    ordered = sorted(rows.components, key=lambda r: int(r["position"]))
    by_position: dict[int, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for row in ordered:
        item = _component(row)
        by_position[int(row["position"])] = item
        parent = row["parent_position"]
        if parent is not None and int(parent) in by_position:
            by_position[int(parent)].setdefault("components", []).append(item)
        else:
            top.append(item)
    subject = _subject(rows)
    known = {_ref(r) for r in ordered} | ({subject["bom-ref"]} if "bom-ref" in subject else set())
    edges: dict[str, list[str]] = {}
    for ref, depends_on in rows.dependencies:
        if ref in known and depends_on in known:  # a service's edges: services are not exported
            edges.setdefault(ref, []).append(depends_on)
    body: dict[str, Any] = {
        "metadata": {"tools": {"components": [{"type": "application", "name": TOOL_NAME}]}, "component": subject},
        "components": top,
    }
    if edges:
        body["dependencies"] = [{"ref": ref, "dependsOn": sorted(set(edges[ref]))} for ref in sorted(edges)]
    return body


def content_json(body: dict[str, Any]) -> bytes:
    """The content as compact UTF-8 JSON (json's C encoder: indenting would take the pure-Python one, 7x
    slower): the text the content digest covers and the JSON export carries."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def content_digest(content: bytes) -> str:
    """The SHA-256 of the content's JSON text: equal content, equal digest."""
    return hashlib.sha256(content).hexdigest()


def serial_number(release_id: int, digest: str) -> str:
    """The BOM's serial number: a UUIDv5 of the release and its content's digest."""
    return f"urn:uuid:{uuid.uuid5(SERIAL_NAMESPACE, f'{release_id}:{digest}')}"


def _head(serial: str, version: int) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": SPEC_VERSION, "serialNumber": serial, "version": version}


def json_document(body: dict[str, Any], serial: str, version: int) -> dict[str, Any]:
    """The BOM as a CycloneDX 1.6 JSON value (what is validated)."""
    return {**_head(serial, version), **body}


def json_bytes(content: bytes, serial: str, version: int) -> bytes:
    """The BOM as JSON text: the head, then the content's own text (content_json), encoded once."""
    head = json.dumps(_head(serial, version), separators=(",", ":")).encode()
    return head[:-1] + b"," + content[1:] + b"\n"


def _text(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>"


def _xml_component(out: list[str], item: dict[str, Any]) -> None:
    """One component and its children as XML text, its elements in the order the 1.6 XSD sets (text, not an
    lxml tree: a tree built element by element took as long as validating it)."""
    ref = f" bom-ref={quoteattr(item['bom-ref'])}" if "bom-ref" in item else ""
    out.append(f"<component type={quoteattr(item['type'])}{ref}>")
    if "supplier" in item:
        out.append(f"<supplier>{_text('name', item['supplier']['name'])}</supplier>")
    out.extend(_text(key, item[key]) for key in ("group", "name", "version", "scope") if key in item)
    if "hashes" in item:
        out.append("<hashes>")
        out.extend(f"<hash alg={quoteattr(h['alg'])}>{escape(h['content'])}</hash>" for h in item["hashes"])
        out.append("</hashes>")
    if "licenses" in item:
        out.append("<licenses>")
        for entry in item["licenses"]:
            if "expression" in entry:
                out.append(_text("expression", entry["expression"]))
            else:
                out.append("<license>" + "".join(_text(k, v) for k, v in entry["license"].items()) + "</license>")
        out.append("</licenses>")
    out.extend(_text(key, item[key]) for key in ("cpe", "purl") if key in item)
    if "components" in item:
        out.append("<components>")
        for child in item["components"]:
            _xml_component(out, child)
        out.append("</components>")
    out.append("</component>")


def xml_bytes(body: dict[str, Any], serial: str, version: int) -> bytes:
    """The BOM as CycloneDX 1.6 XML (UTF-8, with its declaration)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<bom xmlns={quoteattr(XML_NAMESPACE)} serialNumber={quoteattr(serial)} version="{int(version)}">',
        "<metadata><tools><components>",
    ]
    for tool in body["metadata"]["tools"]["components"]:
        out.append(f"<component type={quoteattr(tool['type'])}>{_text('name', tool['name'])}</component>")
    out.append("</components></tools>")
    _xml_component(out, body["metadata"]["component"])
    out.append("</metadata><components>")
    for item in body["components"]:
        _xml_component(out, item)
    out.append("</components>")
    if body.get("dependencies"):
        out.append("<dependencies>")
        for edge in body["dependencies"]:
            targets = "".join(f"<dependency ref={quoteattr(t)}/>" for t in edge["dependsOn"])
            out.append(f"<dependency ref={quoteattr(edge['ref'])}>{targets}</dependency>")
        out.append("</dependencies>")
    out.append("</bom>\n")
    return "".join(out).encode()
