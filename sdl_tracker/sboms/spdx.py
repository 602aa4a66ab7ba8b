"""SPDX 2.2 and 2.3, JSON and tag-value, through spdx-tools (the SPDX project's own library): refuse what is
not SPDX 2.x or is malformed, check references, and read packages into the same rows as CycloneDX components.

The library parses (types, required fields, enumerations, actors, checksums, licence expressions) and its
checks of each package and of the creation info give the format-only warnings. Its whole-document
validator is not used: it rebuilds the list of every SPDXID for each relationship (60 s for 10,000
packages here); the document-wide rules (unique SPDXIDs, relationships naming known elements) are
checked below in one pass, and refused. Files and snippets are checked for their ids only: they are
not imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from license_expression import LicenseSymbol
from ply import yacc
from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.model import (
    ChecksumAlgorithm,
    Document,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
    SpdxNone,
)
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.parser.tagvalue import parser as tag_value_parser
from spdx_tools.spdx.parser.tagvalue.parser import Parser
from spdx_tools.spdx.validation.creation_info_validator import validate_creation_info
from spdx_tools.spdx.validation.extracted_licensing_info_validator import validate_extracted_licensing_infos
from spdx_tools.spdx.validation.license_expression_validator import (
    validate_license_expression,
    validate_license_expressions,
)
from spdx_tools.spdx.validation.package_validator import validate_package
from spdx_tools.spdx.validation.validation_message import ValidationMessage

from .formats import (
    SUSPECT_ESCAPE,
    Checked,
    Rejected,
    SbomContent,
    SbomFormat,
    Violation,
    clip,
    refuse_unstorable_strings,
    short,
)

SUPPORTED_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
DOCUMENT = "document"  # the path of a violation that names no element
# The first line of a tag-value document (comments and blank lines aside) is one of its document tags.
TAG_VALUE_START = re.compile(rb"(SPDXVersion|DataLicense|SPDXID|DocumentName|DocumentNamespace)[ \t]*:")
TAG_VALUE_VERSION = re.compile(r"^[ \t]*SPDXVersion[ \t]*:[ \t]*(\S*)", re.MULTILINE)
EXTERNAL_ID = re.compile(r"^(DocumentRef-[^:]+):(.+)$")
# SPDX checksum algorithms under CycloneDX's names, so the diff compares hashes across the two standards.
HASH_NAMES = {
    ChecksumAlgorithm.SHA1: "SHA-1",
    ChecksumAlgorithm.SHA224: "SHA-224",
    ChecksumAlgorithm.SHA256: "SHA-256",
    ChecksumAlgorithm.SHA384: "SHA-384",
    ChecksumAlgorithm.SHA512: "SHA-512",
    ChecksumAlgorithm.SHA3_256: "SHA3-256",
    ChecksumAlgorithm.SHA3_384: "SHA3-384",
    ChecksumAlgorithm.SHA3_512: "SHA3-512",
    ChecksumAlgorithm.BLAKE2B_256: "BLAKE2b-256",
    ChecksumAlgorithm.BLAKE2B_384: "BLAKE2b-384",
    ChecksumAlgorithm.BLAKE2B_512: "BLAKE2b-512",
    ChecksumAlgorithm.BLAKE3: "BLAKE3",
    ChecksumAlgorithm.MD2: "MD2",
    ChecksumAlgorithm.MD4: "MD4",
    ChecksumAlgorithm.MD5: "MD5",
    ChecksumAlgorithm.MD6: "MD6",
    ChecksumAlgorithm.ADLER32: "ADLER32",
}
# A package's primary purpose as a CycloneDX component type; source, archive, install, other and none are
# read as "library", as SPDX-to-CycloneDX converters do.
COMPONENT_TYPES = {
    PackagePurpose.APPLICATION: "application",
    PackagePurpose.FRAMEWORK: "framework",
    PackagePurpose.LIBRARY: "library",
    PackagePurpose.CONTAINER: "container",
    PackagePurpose.OPERATING_SYSTEM: "operating-system",
    PackagePurpose.DEVICE: "device",
    PackagePurpose.FIRMWARE: "firmware",
    PackagePurpose.FILE: "file",
}
# Relationships that are dependency edges, and whether the edge runs from the element (A depends on B) or
# from the related element (B depends on A). Build, development, test and optional dependencies are not
# what the product ships, and the link relationships are written both ways round in practice: not edges.
EDGES = {
    RelationshipType.DEPENDS_ON: False,
    RelationshipType.DEPENDENCY_OF: True,
    RelationshipType.RUNTIME_DEPENDENCY_OF: True,  # what Yocto writes for a package's runtime dependencies
}
NO_ELEMENT = (SpdxNone(), SpdxNoAssertion())


# -- Detecting and parsing --------------------------------------------------------------------------------


def looks_like_tag_value(raw: bytes) -> bool:
    """Whether the first line that is neither blank nor a comment is an SPDX document tag."""
    for line in raw.removeprefix(b"\xef\xbb\xbf")[:65536].splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(b"#"):
            return TAG_VALUE_START.match(stripped) is not None
    return False


def is_spdx_json(document: dict[str, Any]) -> bool:
    """Whether a JSON object claims to be SPDX (2.x by its `spdxVersion`, 3 by its JSON-LD context)."""
    return "spdxVersion" in document or _is_spdx3(document)


def _is_spdx3(document: dict[str, Any]) -> bool:
    return "@context" in document and "spdx" in str(document["@context"]).lower()


def _supported(version: object) -> str:
    if not isinstance(version, str) or version not in SUPPORTED_VERSIONS:
        raise Rejected(f"unsupported SPDX version {version!r} (supported: SPDX-2.2 and SPDX-2.3)")
    return version


def check_json(document: dict[str, Any], raw: bytes) -> Checked:
    """Parse and check an SPDX 2.2 or 2.3 JSON document (the JSON already loaded with the depth limit)."""
    if _is_spdx3(document):
        raise Rejected(
            "SPDX 3 (JSON-LD) is not supported: export SPDX 2.3 JSON or tag-value, or CycloneDX, from the tool"
        )
    version = _supported(document.get("spdxVersion"))
    if SUSPECT_ESCAPE.search(raw):
        refuse_unstorable_strings(document)
    parsed = _parse(lambda: JsonLikeDictParser().parse(document), f"{version} JSON")
    return _checked(SbomFormat.SPDX_JSON, parsed)


def check_tag_value(raw: bytes) -> Checked:
    """Parse and check an SPDX 2.2 or 2.3 tag-value document."""
    try:
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not valid SPDX tag-value: the text is not UTF-8 ({exc})") from None
    if "\x00" in text:
        raise Rejected("not accepted: the text holds a NUL character, which cannot be stored")
    found = TAG_VALUE_VERSION.search(text)
    version = _supported(found.group(1) if found else None)
    parser = _TagValueParser()
    parsed = _parse(lambda: parser.parse(text), f"{version} tag-value")
    return _checked(SbomFormat.SPDX_TAG_VALUE, parsed)


# spdx-tools 0.8's tag-value parser builds a new licence list and matcher for each licence expression
# (0.15 s each: 2,000 packages took 300 s); its JSON parser shares one. Its function is looked up when
# called, so the shared one serves every tag-value parse; it answers the same.
tag_value_parser.get_spdx_licensing = lambda: spdx_licensing


class _TagValueParser(Parser):
    """spdx-tools' tag-value parser, with the CONTAINS relationship it adds for each file listed after a package
    looked up in an index, not in the list of every relationship so far (quadratic in files: the library's
    issue 891). No parse tables written into site-packages, no grammar report on stderr: each parse builds
    its tables in memory (0.3 s here), as the library's parser binds them to its per-document state."""

    def __init__(self) -> None:
        self._relationships: set[tuple[Any, ...]] = set()
        self._indexed = 0
        super().__init__(write_tables=False, debug=False, errorlog=yacc.NullLogger())

    def check_for_preceding_package_and_build_contains_relationship(self) -> None:
        """As the library's: the file belongs to the package before it, unless that relationship is there."""
        packages = self.elements_built.get("packages")
        if not packages:  # no package before the file, or one that failed to parse: the library's answer
            super().check_for_preceding_package_and_build_contains_relationship()
            return
        relationships = self.elements_built.setdefault("relationships", [])
        for relationship in relationships[self._indexed :]:
            self._relationships.add(_relationship_key(relationship))
        self._indexed = len(relationships)
        contains = Relationship(packages[-1].spdx_id, RelationshipType.CONTAINS, self.current_element["spdx_id"])
        if _relationship_key(contains) not in self._relationships:
            relationships.append(contains)


def _relationship_key(relationship: Relationship) -> tuple[Any, ...]:
    # What the library's equality compares; NONE and NOASSERTION by their text.
    related = relationship.related_spdx_element_id
    return (relationship.spdx_element_id, relationship.relationship_type, str(related), relationship.comment)


def _parse(parse: Callable[[], Document], what: str) -> Document:
    try:
        return parse()
    except SPDXParsingError as exc:
        messages = [Violation(DOCUMENT, short(str(m))) for m in _flatten(exc.get_messages())]
        raise Rejected.first_of(f"not valid {what}", messages) from None
    # The library is not written against hostile input: a value of an unexpected shape (a list where an
    # object belongs) can surface as one of these rather than as a parsing error. Refused all the same.
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        raise Rejected(f"not valid {what}: {short(str(exc) or type(exc).__name__)}") from None


def _flatten(messages: Iterable[Any]) -> Iterable[str]:
    for message in messages:
        if isinstance(message, list | tuple):
            yield from _flatten(message)
        else:
            yield str(message)


# -- Checking --------------------------------------------------------------------------------------------


def _checked(format: SbomFormat, document: Document) -> Checked:
    version = _supported(document.creation_info.spdx_version)
    if not document.packages:
        raise Rejected("not accepted: the SPDX document lists no packages, so it has no components to import")
    _check_references(document)
    return Checked(format, version.removeprefix("SPDX-"), document, _warnings(document, version))


def _check_references(document: Document) -> None:
    """SPDXIDs are unique, and every relationship names an element of the document or of a document it
    declares as an external reference (NONE and NOASSERTION aside)."""
    problems: list[Violation] = []
    known: set[str] = set()
    elements: list[Any] = [document.creation_info, *document.packages, *document.files, *document.snippets]
    for spdx_id in (element.spdx_id for element in elements):
        if spdx_id in known:
            problems.append(Violation(spdx_id, "this SPDXID is used more than once"))
        known.add(spdx_id)
    external = {ref.document_ref_id for ref in document.creation_info.external_document_refs}
    for relationship in document.relationships:
        where = _relationship_path(relationship.spdx_element_id, relationship.relationship_type, relationship)
        for end in (relationship.spdx_element_id, relationship.related_spdx_element_id):
            if end in NO_ELEMENT or end in known:
                continue
            outside = EXTERNAL_ID.match(str(end))
            if outside is None:
                problems.append(Violation(where, f"{end!r} names no package, file or snippet in this document"))
            elif outside.group(1) not in external:
                problems.append(Violation(where, f"{outside.group(1)!r} is no external document reference declared"))
    if problems:
        raise Rejected.first_of("the SPDX document's references are inconsistent", problems)


def _relationship_path(element: str, kind: RelationshipType, relationship: Any) -> str:
    return f"{element} {kind.name} {relationship.related_spdx_element_id}"


def _warnings(document: Document, version: str) -> list[Violation]:
    """The library's checks of the creation info, each package and the extracted licences: format-only."""
    messages: list[ValidationMessage] = list(validate_creation_info(document.creation_info, version))
    for package in document.packages:
        messages += validate_package(package, version)
        for expression in (package.license_concluded, package.license_declared):
            messages += validate_license_expression(expression, document, package.spdx_id)
        if package.files_analyzed and package.license_info_from_files:
            messages += validate_license_expressions(package.license_info_from_files, document, package.spdx_id)
    messages += validate_extracted_licensing_infos(document.extracted_licensing_info)
    return [
        Violation(m.context.spdx_id or m.context.parent_id or DOCUMENT, short(m.validation_message)) for m in messages
    ]


# -- Reading ---------------------------------------------------------------------------------------------


def read(checked: Checked) -> SbomContent:
    """The content of a checked SPDX document: its packages as components (the one package it describes,
    if it describes one, as the subject), CONTAINS as nesting and dependency relationships as edges."""
    document: Document = checked.document
    info = document.creation_info
    packages = {package.spdx_id: package for package in document.packages}
    described = _described(document)
    described_packages = [spdx_id for spdx_id in described if spdx_id in packages]
    subject = _subject(document, described, packages)
    # Like CycloneDX's metadata.component, the one package the document is about is no component of itself.
    omitted = described_packages[0] if len(described_packages) == 1 else None
    rows = [package for package in document.packages if package.spdx_id != omitted]
    return SbomContent(
        format=checked.format,
        spec_version=checked.spec_version,
        serial_number=clip(info.document_namespace),
        bom_version=1,  # SPDX 2 has no document version: a new one is a new namespace
        timestamp=info.created.replace(tzinfo=UTC) if info.created.tzinfo is None else info.created.astimezone(UTC),
        subject=subject,
        tools=[
            {"vendor": "", "name": clip(actor.name), "version": ""}
            for actor in info.creators
            if actor.actor_type.name == "TOOL"
        ],
        components=_components(rows, document),
        dependencies=_dependencies(document, set(packages)),
        services=0,
        warnings=checked.warnings,
    )


def _described(document: Document) -> list[str]:
    """The SPDXIDs the document describes (DESCRIBES and DESCRIBED_BY; JSON's documentDescribes is read as
    DESCRIBES by the library), in document order, each once."""
    own = document.creation_info.spdx_id
    found: dict[str, None] = {}
    for relationship in document.relationships:
        target = relationship.related_spdx_element_id
        if relationship.relationship_type is RelationshipType.DESCRIBES and relationship.spdx_element_id == own:
            if isinstance(target, str):
                found[target] = None
        elif relationship.relationship_type is RelationshipType.DESCRIBED_BY and target == own:
            found[relationship.spdx_element_id] = None
    return list(found)


def _subject(document: Document, described: list[str], packages: dict[str, Package]) -> dict[str, Any] | None:
    """What the SBOM describes: the first described package, else the first described file."""
    for spdx_id in described:
        if spdx_id in packages:
            return _summary(packages[spdx_id])
    files = {file.spdx_id: file for file in document.files}
    for spdx_id in described:
        if spdx_id in files:
            file = files[spdx_id]
            return {
                "bom_ref": clip(spdx_id),
                "type": "file",
                "group": "",
                "name": clip(file.name),
                "version": "",
                "purl": "",
            }
    return None


def _summary(package: Package) -> dict[str, Any]:
    return {
        "bom_ref": clip(package.spdx_id),
        "type": COMPONENT_TYPES.get(package.primary_package_purpose, "library"),  # type: ignore[arg-type]
        "group": "",
        "name": clip(package.name),
        "version": clip(package.version),
        "purl": clip(_reference(package, ExternalPackageRefCategory.PACKAGE_MANAGER, ("purl",))),
    }


def _reference(package: Package, category: ExternalPackageRefCategory, types: tuple[str, ...]) -> str | None:
    """The locator of the package's first external reference of the category, by the first type that has one."""
    for kind in types:
        for reference in package.external_references:
            if reference.category is category and reference.reference_type == kind:
                return reference.locator
    return None


def _components(rows: list[Package], document: Document) -> list[dict[str, Any]]:
    """One row per package, each after the package that CONTAINS it (its first container in document order)."""
    ids = {package.spdx_id for package in rows}
    parent: dict[str, str] = {}
    for relationship in document.relationships:
        kind, element, related = (
            relationship.relationship_type,
            relationship.spdx_element_id,
            relationship.related_spdx_element_id,
        )
        if kind is RelationshipType.CONTAINED_BY:
            element, related = related, element  # type: ignore[assignment]
        elif kind is not RelationshipType.CONTAINS:
            continue
        if isinstance(related, str) and element in ids and related in ids and element != related:
            parent.setdefault(related, element)
    children: dict[str | None, list[Package]] = {}
    for package in rows:
        children.setdefault(parent.get(package.spdx_id), []).append(package)
    out: list[dict[str, Any]] = []
    placed: dict[str, int] = {}
    # Roots first, then whatever a loop of containers left unplaced, as a root: a loop is cut, never followed.
    for start in [*children.get(None, []), *rows]:
        if start.spdx_id in placed:
            continue
        stack: list[tuple[Package, int | None]] = [(start, None)]
        while stack:  # depth first without recursion: a chain of 10,000 containers is no stack overflow
            package, parent_position = stack.pop()
            if package.spdx_id in placed:
                continue
            placed[package.spdx_id] = len(out)
            out.append(_row(package, len(out), parent_position))
            stack.extend((child, placed[package.spdx_id]) for child in reversed(children.get(package.spdx_id, [])))
    return out


def _row(package: Package, position: int, parent_position: int | None) -> dict[str, Any]:
    summary = _summary(package)
    supplier = package.supplier
    return {
        "position": position,
        "parent_position": parent_position,
        "bom_ref": summary["bom_ref"],
        "type": summary["type"],
        "group_name": "",
        "name": summary["name"],
        "version": summary["version"],
        "purl": summary["purl"],
        "cpe": clip(_reference(package, ExternalPackageRefCategory.SECURITY, ("cpe23Type", "cpe22Type"))),
        "scope": "",
        # The actor's name: "Organization: " or "Person: " and the e-mail address are not part of it.
        "supplier": clip(supplier.name) if supplier is not None and not isinstance(supplier, SpdxNoAssertion) else "",
        "hashes": [{"alg": HASH_NAMES[c.algorithm], "content": clip(c.value)} for c in package.checksums],
        "licenses": _licenses(package),
    }


def _licenses(package: Package) -> list[dict[str, str]]:
    """The concluded licence, else the declared one (NONE and NOASSERTION are none): a known SPDX licence id
    alone as an `id`, another single name as a `name`, anything else as an `expression`."""
    for expression in (package.license_concluded, package.license_declared):
        if expression is None or isinstance(expression, SpdxNone | SpdxNoAssertion):
            continue
        text = clip(expression.render() if hasattr(expression, "render") else expression)
        if isinstance(expression, LicenseSymbol) and not getattr(expression, "is_exception", False):
            known = not spdx_licensing.validate(text).invalid_symbols and not text.startswith("LicenseRef-")
            return [{"id": text}] if known else [{"name": text}]
        return [{"expression": text}]
    return []


def _dependencies(document: Document, packages: set[str]) -> list[tuple[str, str]]:
    """Dependency edges between the document's packages (the subject included), each once, as (ref, depends on)."""
    edges: dict[tuple[str, str], None] = {}
    for relationship in document.relationships:
        reverse = EDGES.get(relationship.relationship_type)
        element, related = relationship.spdx_element_id, relationship.related_spdx_element_id
        if reverse is None or not isinstance(related, str) or element not in packages or related not in packages:
            continue  # a file, an element of another document, NONE or NOASSERTION: no edge between components
        edge = (related, element) if reverse else (element, related)
        edges[edge] = None
    return list(edges)
