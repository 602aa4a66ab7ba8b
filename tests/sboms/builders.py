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
