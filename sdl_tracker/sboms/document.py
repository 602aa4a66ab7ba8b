"""What a validated SBOM holds: a CycloneDX document read from the document itself (JSON value or XML
tree), an SPDX one by `spdx`.

cyclonedx-python-lib's object model drops unknown fields and merges identical components that lack a
bom-ref, so rows are read here, straight from what the validator accepted, one dict per component.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from . import spdx
from .formats import MAX_BOM_VERSION, Checked, Rejected, SbomContent, SbomFormat, Violation, clip


def read(checked: Checked) -> SbomContent:
    """The content of a checked document; duplicate bom-refs or unknown dependency refs are Rejected."""
    if checked.format.standard == "SPDX":
        return spdx.read(checked)  # its references were checked with the document
    reader = _JsonReader(checked.document) if checked.format is SbomFormat.JSON else _XmlReader(checked.document)
    content = reader.content(checked)
    if not 1 <= content.bom_version <= MAX_BOM_VERSION:
        raise Rejected(f"the BOM version {content.bom_version} is outside 1 to {MAX_BOM_VERSION:,}")
    _check_references(reader)
    return content


def _check_references(reader: _Reader) -> None:
    problems: list[Violation] = []
    known: set[str] = set()
    for path, ref in reader.bom_refs:
        if ref in known:
            problems.append(Violation(path, f"bom-ref {ref!r} is used more than once"))
        known.add(ref)
    for path, ref in reader.dependency_refs:
        if ref not in known:
            problems.append(Violation(path, f"{ref!r} names no component or service in this SBOM"))
    if problems:
        raise Rejected.first_of("the SBOM's references are inconsistent", problems)


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # a format warning names it, or it falls outside year 1-9999 in UTC
        return None


def _row_identity(summary: dict[str, Any]) -> dict[str, Any]:
    # `group` is an SQL keyword; the column is group_name.
    summary["group_name"] = summary.pop("group")
    return summary


class _Reader(ABC):
    """Reads one encoding; collects bom-refs and dependency refs (with their paths) while reading."""

    def __init__(self) -> None:
        self.bom_refs: list[tuple[str, str]] = []
        self.dependency_refs: list[tuple[str, str]] = []

    @abstractmethod
    def content(self, checked: Checked) -> SbomContent:
        """The document's content."""


class _JsonReader(_Reader):
    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__()
        self.document = document

    def content(self, checked: Checked) -> SbomContent:
        doc = self.document
        metadata = doc.get("metadata") or {}
        subject = metadata.get("component")
        components: list[dict[str, Any]] = []
        if subject:
            self._refs_in_component(subject, "/metadata/component")
        self._components(doc.get("components") or [], "/components", None, components)
        services = self._services(doc.get("services") or [], "/services")
        return SbomContent(
            format=checked.format,
            spec_version=checked.spec_version,
            serial_number=clip(doc.get("serialNumber")),
            bom_version=int(doc.get("version", 1)),
            timestamp=_timestamp(metadata.get("timestamp")),
            subject=self._summary(subject) if subject else None,
            tools=self._tools(metadata.get("tools")),
            components=components,
            dependencies=self._dependencies(doc.get("dependencies") or []),
            services=services,
            warnings=checked.warnings,
        )

    def _refs_in_component(self, component: dict[str, Any], path: str) -> None:
        if "bom-ref" in component:
            self.bom_refs.append((f"{path}/bom-ref", component["bom-ref"]))
        for index, child in enumerate(component.get("components") or []):
            self._refs_in_component(child, f"{path}/components/{index}")

    @staticmethod
    def _summary(component: dict[str, Any]) -> dict[str, Any]:
        """What identifies a component: the subject's whole record, the first fields of a row."""
        return {
            "bom_ref": clip(component.get("bom-ref")),
            "type": component.get("type", ""),
            "group": clip(component.get("group")),
            "name": clip(component.get("name")),
            "version": clip(component.get("version")),
            "purl": clip(component.get("purl")),
        }

    def _components(
        self, items: list[dict[str, Any]], path: str, parent: int | None, out: list[dict[str, Any]]
    ) -> None:
        for index, item in enumerate(items):
            here = f"{path}/{index}"
            position = len(out)
            if "bom-ref" in item:
                self.bom_refs.append((f"{here}/bom-ref", item["bom-ref"]))
            supplier = item.get("supplier") or {}
            out.append(
                {
                    "position": position,
                    "parent_position": parent,
                    **_row_identity(self._summary(item)),
                    "cpe": clip(item.get("cpe")),
                    "scope": item.get("scope", ""),
                    "supplier": clip(supplier.get("name")),
                    "hashes": [{"alg": h["alg"], "content": h["content"]} for h in item.get("hashes") or []],
                    "licenses": self._licenses(item.get("licenses") or []),
                }
            )
            self._components(item.get("components") or [], f"{here}/components", position, out)

    @staticmethod
    def _licenses(items: list[dict[str, Any]]) -> list[dict[str, str]]:
        licenses = []
        for item in items:
            if "expression" in item:
                licenses.append({"expression": clip(item["expression"])})
                continue
            license_ = item.get("license") or {}
            key = "id" if "id" in license_ else "name"
            licenses.append({key: clip(license_.get(key))})
        return licenses

    def _services(self, items: list[dict[str, Any]], path: str) -> int:
        count = 0
        for index, item in enumerate(items):
            if "bom-ref" in item:
                self.bom_refs.append((f"{path}/{index}/bom-ref", item["bom-ref"]))
            count += 1 + self._services(item.get("services") or [], f"{path}/{index}/services")
        return count

    @staticmethod
    def _tools(tools: Any) -> list[dict[str, str]]:
        if isinstance(tools, dict):  # 1.5+: {"components": [...], "services": [...]}
            listed = [*(tools.get("components") or []), *(tools.get("services") or [])]
            return [
                {
                    "vendor": clip(t.get("group") or (t.get("publisher")) or (t.get("provider") or {}).get("name")),
                    "name": clip(t.get("name")),
                    "version": clip(t.get("version")),
                }
                for t in listed
            ]
        return [
            {"vendor": clip(t.get("vendor")), "name": clip(t.get("name")), "version": clip(t.get("version"))}
            for t in tools or []
        ]

    def _dependencies(self, items: list[dict[str, Any]]) -> list[tuple[str, str]]:
        edges: dict[tuple[str, str], None] = {}
        for index, item in enumerate(items):
            ref = item["ref"]
            self.dependency_refs.append((f"/dependencies/{index}/ref", ref))
            for key in ("dependsOn", "provides"):
                for target_index, target in enumerate(item.get(key) or []):
                    self.dependency_refs.append((f"/dependencies/{index}/{key}/{target_index}", target))
                    if key == "dependsOn":
                        edges[(ref, target)] = None
        return list(edges)


class _XmlReader(_Reader):
    def __init__(self, root: etree._Element) -> None:
        super().__init__()
        self.root = root
        self.ns = "{" + etree.QName(root).namespace + "}"

    def _child(self, element: etree._Element | None, name: str) -> etree._Element | None:
        return None if element is None else element.find(self.ns + name)

    def _text(self, element: etree._Element | None, name: str) -> str:
        child = self._child(element, name)
        return clip((child.text or "").strip()) if child is not None else ""

    def _children(self, element: etree._Element | None, *names: str) -> Iterator[etree._Element]:
        node = element
        for name in names[:-1]:
            node = self._child(node, name)
        if node is not None:
            yield from node.iterfind(self.ns + names[-1])

    def content(self, checked: Checked) -> SbomContent:
        root = self.root
        metadata = self._child(root, "metadata")
        subject = self._child(metadata, "component")
        components: list[dict[str, Any]] = []
        if subject is not None:
            self._refs_in_component(subject)
        self._components(self._child(root, "components"), None, components)
        return SbomContent(
            format=checked.format,
            spec_version=checked.spec_version,
            serial_number=clip(root.get("serialNumber")),
            bom_version=int(root.get("version", "1")),
            timestamp=_timestamp(self._text(metadata, "timestamp")),
            subject=self._summary(subject) if subject is not None else None,
            tools=self._tools(self._child(metadata, "tools")),
            components=components,
            dependencies=self._dependencies(),
            services=self._services(self._child(root, "services")),
            warnings=checked.warnings,
        )

    def _where(self, element: etree._Element) -> str:
        return f"line {element.sourceline}"

    def _refs_in_component(self, component: etree._Element) -> None:
        if component.get("bom-ref") is not None:
            self.bom_refs.append((self._where(component), component.get("bom-ref", "")))
        for child in self._children(component, "components", "component"):
            self._refs_in_component(child)

    def _summary(self, component: etree._Element) -> dict[str, Any]:
        """What identifies a component: the subject's whole record, the first fields of a row."""
        return {
            "bom_ref": clip(component.get("bom-ref")),
            "type": component.get("type", ""),
            "group": self._text(component, "group"),
            "name": self._text(component, "name"),
            "version": self._text(component, "version"),
            "purl": self._text(component, "purl"),
        }

    def _components(self, container: etree._Element | None, parent: int | None, out: list[dict[str, Any]]) -> None:
        if container is None:
            return
        for item in container.iterfind(self.ns + "component"):
            position = len(out)
            if item.get("bom-ref") is not None:
                self.bom_refs.append((self._where(item), item.get("bom-ref", "")))
            out.append(
                {
                    "position": position,
                    "parent_position": parent,
                    **_row_identity(self._summary(item)),
                    "cpe": self._text(item, "cpe"),
                    "scope": self._text(item, "scope"),
                    "supplier": self._text(self._child(item, "supplier"), "name"),
                    "hashes": [
                        {"alg": h.get("alg", ""), "content": (h.text or "").strip()}
                        for h in self._children(item, "hashes", "hash")
                    ],
                    "licenses": self._licenses(self._child(item, "licenses")),
                }
            )
            self._components(self._child(item, "components"), position, out)

    def _licenses(self, container: etree._Element | None) -> list[dict[str, str]]:
        licenses: list[dict[str, str]] = []
        if container is None:
            return licenses
        for child in container:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name == "expression":
                licenses.append({"expression": clip((child.text or "").strip())})
            elif name == "license":
                key = "id" if self._child(child, "id") is not None else "name"
                licenses.append({key: self._text(child, key)})
        return licenses

    def _services(self, container: etree._Element | None) -> int:
        count = 0
        if container is None:
            return count
        for item in container.iterfind(self.ns + "service"):
            if item.get("bom-ref") is not None:
                self.bom_refs.append((self._where(item), item.get("bom-ref", "")))
            count += 1 + self._services(self._child(item, "services"))
        return count

    def _tools(self, tools: etree._Element | None) -> list[dict[str, str]]:
        if tools is None:
            return []
        legacy = [
            {"vendor": self._text(t, "vendor"), "name": self._text(t, "name"), "version": self._text(t, "version")}
            for t in tools.iterfind(self.ns + "tool")
        ]
        modern = [
            {
                "vendor": self._text(t, "group") or self._text(t, "publisher"),
                "name": self._text(t, "name"),
                "version": self._text(t, "version"),
            }
            for t in (*self._children(tools, "components", "component"), *self._children(tools, "services", "service"))
        ]
        return legacy + modern

    def _dependencies(self) -> list[tuple[str, str]]:
        edges: dict[tuple[str, str], None] = {}

        def walk(element: etree._Element, parent: str | None) -> None:
            # 1.2+ nests <dependency ref="..."> elements: a child depends-on edge of its parent.
            for dependency in element.iterfind(self.ns + "dependency"):
                ref = dependency.get("ref", "")
                self.dependency_refs.append((self._where(dependency), ref))
                if parent is not None:
                    edges[(parent, ref)] = None
                walk(dependency, ref)
            for provided in element.iterfind(self.ns + "provides"):
                self.dependency_refs.append((self._where(provided), provided.get("ref", "")))

        container = self._child(self.root, "dependencies")
        if container is not None:
            walk(container, None)
        return list(edges)
