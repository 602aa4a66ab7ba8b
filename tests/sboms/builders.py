"""CycloneDX documents written for the tests: small, valid, and easy to break one rule at a time."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "juice-shop-11.1.2-npm.cdx-1.4.json"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cyclonedx"


def json_bom(version: str = "1.6", components: int = 3, **overrides: Any) -> dict[str, Any]:
    """A firmware SBOM: a subject, `components` libraries in a chain of dependencies, one nested part."""
    items: list[dict[str, Any]] = [
        {
            "type": "library",
            "bom-ref": f"lib{i}",
            "group": "org.example",
            "name": f"lib{i}",
            "version": f"1.{i}.0",
            "purl": f"pkg:generic/org.example/lib{i}@1.{i}.0",
            "hashes": [{"alg": "SHA-256", "content": f"{i:064x}"}],
            "licenses": [{"license": {"id": "MIT"}}] if i % 2 else [{"expression": "Apache-2.0 OR MIT"}],
        }
        for i in range(components)
    ]
    if items:
        items[0]["components"] = [{"type": "file", "bom-ref": "lib0-part", "name": "lib0-part.bin", "version": "1"}]
    bom: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-10-01T12:00:00Z",
            "component": {"type": "firmware", "bom-ref": "fw", "name": "plc-firmware", "version": "4.2.0"},
        },
        "components": items,
        "dependencies": [{"ref": "fw", "dependsOn": [f"lib{i}" for i in range(components)]}]
        + [{"ref": f"lib{i}", "dependsOn": [f"lib{i + 1}"]} for i in range(components - 1)],
    }
    bom.update(overrides)
    return bom


def dumps(bom: dict[str, Any]) -> bytes:
    """The document as bytes."""
    return json.dumps(bom).encode()


def changed(bom: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with the value at `path` (`components/0/type`) replaced; `...` as value deletes it."""
    result = copy.deepcopy(bom)
    *parents, leaf = path.split("/")
    node: Any = result
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    key: Any = int(leaf) if isinstance(node, list) else leaf
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return result


def xml_bom(version: str = "1.6", extra_component: str = "") -> bytes:
    """A small XML SBOM with nested dependencies."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/{version}"
     serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="2">
  <metadata>
    <timestamp>2026-10-01T12:00:00Z</timestamp>
    <component type="firmware" bom-ref="fw"><name>plc-firmware</name><version>4.2.0</version></component>
  </metadata>
  <components>
    <component type="library" bom-ref="zlib">
      <supplier><name>zlib project</name></supplier>
      <group>net.zlib</group><name>zlib</name><version>1.3.1</version>
      <hashes><hash alg="SHA-256">{"a" * 64}</hash></hashes>
      <licenses><license><id>Zlib</id></license></licenses>
      <cpe>cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*</cpe>
      <purl>pkg:generic/zlib@1.3.1</purl>
      <components>
        <component type="file" bom-ref="zlib-h"><name>zlib.h</name><version>1.3.1</version></component>
      </components>
    </component>
    <component type="library" bom-ref="openssl">
      <name>openssl</name><version>3.0.13</version>
      <licenses><expression>Apache-2.0</expression></licenses>
      <purl>pkg:generic/openssl@3.0.13</purl>
    </component>{extra_component}
  </components>
  <dependencies>
    <dependency ref="fw"><dependency ref="zlib"/><dependency ref="openssl"/></dependency>
    <dependency ref="openssl"><dependency ref="zlib"/></dependency>
  </dependencies>
</bom>
""".encode()


SPDX_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "spdx"


def spdx_json(version: str = "SPDX-2.3", packages: int = 3) -> dict[str, Any]:
    """The firmware of `json_bom` as SPDX: the described firmware package, `packages` libraries in a chain of
    DEPENDS_ON, one part CONTAINED in lib0, licences concluded or only declared."""
    libraries: list[dict[str, Any]] = [
        {
            "SPDXID": f"SPDXRef-lib{i}",
            "name": f"lib{i}",
            "versionInfo": f"1.{i}.0",
            "downloadLocation": "NOASSERTION",
            "supplier": "Organization: Example Corp (security@example.com)",
            "checksums": [{"algorithm": "SHA256", "checksumValue": f"{i:064x}"}],
            "licenseConcluded": "MIT" if i % 2 else "NOASSERTION",
            "licenseDeclared": "NOASSERTION" if i % 2 else "Apache-2.0 OR MIT",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:generic/org.example/lib{i}@1.{i}.0",
                },
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe23Type",
                    "referenceLocator": f"cpe:2.3:a:example:lib{i}:1.{i}.0:*:*:*:*:*:*:*",
                },
            ],
        }
        for i in range(packages)
    ]
    firmware = {
        "SPDXID": "SPDXRef-fw",
        "name": "plc-firmware",
        "versionInfo": "4.2.0",
        "downloadLocation": "NOASSERTION",
        "primaryPackagePurpose": "FIRMWARE",
    }
    part = {"SPDXID": "SPDXRef-lib0-part", "name": "lib0-part.bin", "versionInfo": "1", "downloadLocation": "NONE"}
    if version == "SPDX-2.3":
        part["primaryPackagePurpose"] = "FILE"
    else:  # 2.2 has no primary purpose, and asks for every package's licences and copyright
        del firmware["primaryPackagePurpose"]
        for package in (firmware, part, *libraries):
            for key in ("licenseConcluded", "licenseDeclared", "copyrightText"):
                package.setdefault(key, "NOASSERTION")
    relationships = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-fw"},
        *(
            {"spdxElementId": "SPDXRef-fw", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": f"SPDXRef-lib{i}"}
            for i in range(packages)
        ),
        *(
            {
                "spdxElementId": f"SPDXRef-lib{i + 1}",
                "relationshipType": "DEPENDENCY_OF",
                "relatedSpdxElement": f"SPDXRef-lib{i}",
            }
            for i in range(packages - 1)
        ),
        {
            "spdxElementId": "SPDXRef-lib0-part",
            "relationshipType": "CONTAINED_BY",
            "relatedSpdxElement": "SPDXRef-lib0",
        },
    ]
    return {
        "spdxVersion": version,
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "plc-firmware-4.2.0",
        "documentNamespace": "https://example.com/spdx/plc-firmware-4.2.0-3e671687",
        "creationInfo": {
            "created": "2026-10-01T12:00:00Z",
            "creators": ["Tool: example-builder-1.0", "Organization: Example Corp"],
        },
        # The part comes first: nesting puts it after its container all the same.
        "packages": [part, firmware, *libraries],
        "relationships": relationships,
    }


def spdx_tag_value(document: dict[str, Any]) -> bytes:
    """The same document as tag-value, written by spdx-tools from its own reading of the JSON."""
    import io

    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document_to_stream

    text = io.StringIO()
    write_document_to_stream(JsonLikeDictParser().parse(copy.deepcopy(document)), text, validate=False)
    return text.getvalue().encode()
