"""Pure catalog logic: documents to items, edition comparison, applicability to a component type."""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..errors import Invalid

FOUNDATIONAL_REQUIREMENTS = ("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7")
COMPONENT_TYPES = ("SAR", "EDR", "HDR", "NDR")
SL_LEVELS = (1, 2, 3, 4)


@dataclass(frozen=True)
class FoundationalRequirement:
    """One of the seven foundational requirements of IEC 62443-4-2: `FR1`, `IAC`, its name."""

    id: str
    abbrev: str
    name: str


@functools.cache
def foundational_requirements() -> tuple[FoundationalRequirement, ...]:
    """The seven FRs with their abbreviations and names, as the packaged 4-2 catalog states them."""
    text = resources.files("sdl_tracker.catalog").joinpath("data", "iec62443-4-2.json").read_text(encoding="utf-8")
    found = {
        fr["id"]: FoundationalRequirement(fr["id"], fr["abbrev"], fr["name"])
        for fr in json.loads(text)["foundational_requirements"]
    }
    return tuple(found[fr] for fr in FOUNDATIONAL_REQUIREMENTS)


def fr_label(fr_id: str) -> str:
    """`FR1` -> `FR1 IAC` (anything else as it is)."""
    named = {fr.id: fr for fr in foundational_requirements()}.get(fr_id)
    return f"{named.id} {named.abbrev}" if named else fr_id


def fr_name(fr_id: str) -> str:
    """`FR1` -> `Identification and authentication control` (anything else as it is)."""
    named = {fr.id: fr for fr in foundational_requirements()}.get(fr_id)
    return named.name if named else fr_id


def vector_text(vector: Mapping[str, int | None]) -> str:
    """An SL-C vector as people read it: `FR1 IAC 3, FR2 UC 2, ...` (a level not given reads `-`)."""
    return ", ".join(
        f"{fr.id} {fr.abbrev} {vector.get(fr.id) if vector.get(fr.id) is not None else '-'}"
        for fr in foundational_requirements()
        if fr.id in vector
    )


class ItemKind(enum.StrEnum):
    """What a catalog item is."""

    PRACTICE = "practice"  # 4-1 practice (SM, SR, ...)
    PROCESS_REQUIREMENT = "process_requirement"  # 4-1 requirement (SM-1, ...)
    MATURITY_LEVEL = "maturity_level"  # 4-1 ML1..ML4
    FOUNDATIONAL_REQUIREMENT = "foundational_requirement"  # 4-2 FR1..FR7
    CCSC = "ccsc"  # 4-2 common component security constraint
    COMPONENT_REQUIREMENT = "component_requirement"  # 4-2 CR n.m
    TYPE_REQUIREMENT = "type_requirement"  # 4-2 SAR/EDR/HDR/NDR n.m
    ENHANCEMENT = "enhancement"  # 4-2 RE(k) of a CR or of a type requirement
    CRA_ANNEX_I_PART_I = "cra_annex_i_part_i"
    CRA_ANNEX_I_PART_II = "cra_annex_i_part_ii"
    CRA_ANNEX_VII = "cra_annex_vii"
    CRA_ANNEX_II = "cra_annex_ii"


class CrScope(enum.StrEnum):
    """How IEC 62443-4-2 states a CR."""

    GENERAL = "general"  # its own requirement, for every component type
    COMPONENT_SPECIFIC = "component_specific"  # stated only per component type (see applies_via)
    NONE = "no_component_requirement"  # no requirement at component level


# CRA points carry the annex in their id; these prefixes are what the mapping file uses.
CRA_SECTIONS = (
    ("annex_i_part_i", "I.", ItemKind.CRA_ANNEX_I_PART_I, "Annex I Part I"),
    ("annex_i_part_ii", "II.", ItemKind.CRA_ANNEX_I_PART_II, "Annex I Part II"),
    ("annex_vii_technical_documentation", "VII.", ItemKind.CRA_ANNEX_VII, "Annex VII"),
    ("annex_ii_user_information", "AII.", ItemKind.CRA_ANNEX_II, "Annex II"),
)


@dataclass(frozen=True)
class CatalogItem:
    """One row of a catalog: a requirement, enhancement, practice, FR or CRA point."""

    ref: str
    title: str
    kind: ItemKind
    parent: str | None = None
    practice: str | None = None
    fr: str | None = None
    component_type: str | None = None
    sl_c: tuple[int, ...] | None = None
    applies_via: tuple[str, ...] = ()
    cr_scope: CrScope | None = None
    confidence: str | None = None

    def comparable(self) -> tuple[Any, ...]:
        """Everything an edition fixes about the item (its position aside)."""
        return (
            self.title,
            self.kind,
            self.parent,
            self.practice,
            self.fr,
            self.component_type,
            self.sl_c,
            self.applies_via,
            self.cr_scope,
        )


@dataclass(frozen=True)
class CatalogDocument:
    """A parsed catalog edition."""

    catalog: str
    standard: str
    edition: str
    title: str
    published: str
    items: tuple[CatalogItem, ...]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingRow:
    """One source requirement and the CRA points it supports (none: `targets` is empty)."""

    standard: str
    ref: str
    targets: tuple[str, ...]
    rationale: str


@dataclass(frozen=True)
class MappingDocument:
    """A parsed mapping between catalogs."""

    name: str
    version: str
    source_editions: dict[str, str]
    target_standard: str
    rows: tuple[MappingRow, ...]


def _require(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    value = doc.get(key)
    if not isinstance(value, kind):
        names = {"str": "a string", "list": "a list", "dict": "an object", "int": "a number"}
        kinds = (kind,) if isinstance(kind, type) else kind
        expected = " or ".join(names.get(k.__name__, k.__name__) for k in kinds)
        raise Invalid.field(f"{where}{key}", f"expected {expected}" + ("" if key in doc else ", which is missing"))
    return value


def _levels(raw: Any, where: str) -> tuple[int, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or any(isinstance(v, bool) or v not in SL_LEVELS for v in raw):
        raise Invalid.field(where, "sl_c must be a list of levels 1-4 or null")
    return tuple(sorted(raw))


def parse_catalog(doc: Any) -> CatalogDocument:
    """Turn a catalog document (package data or a new edition) into items; Invalid on bad structure."""
    if not isinstance(doc, dict):
        raise Invalid("a catalog document is a JSON object")
    catalog = _require(doc, "catalog", str)
    parsers = {"iec62443-4-1": _parse_4_1, "iec62443-4-2": _parse_4_2, "cra": _parse_cra}
    if catalog not in parsers:
        raise Invalid.field("catalog", f"unknown catalog {catalog!r} (one of: {', '.join(parsers)})")
    header = {key: _require(doc, key, str) for key in ("standard", "edition_id", "title", "published")}
    if not re.fullmatch(r"\d{4}-\d{2}", header["published"]):
        raise Invalid.field("published", "expected YYYY-MM")
    items, meta = parsers[catalog](doc)
    refs = [item.ref for item in items]
    duplicates = sorted({ref for ref in refs if refs.count(ref) > 1})
    if duplicates:
        raise Invalid.field("items", f"duplicate ids: {', '.join(duplicates)}")
    known = set(refs)
    dangling = sorted(item.ref for item in items if item.parent and item.parent not in known)
    if dangling:
        raise Invalid.field("items", f"parents missing for: {', '.join(dangling)}")
    return CatalogDocument(
        catalog=catalog,
        standard=header["standard"],
        edition=header["edition_id"],
        title=header["title"],
        published=header["published"],
        items=tuple(items),
        meta=meta,
    )


def _parse_4_1(doc: dict[str, Any]) -> tuple[list[CatalogItem], dict[str, Any]]:
    items: list[CatalogItem] = []
    for index, level in enumerate(_require(doc, "maturity_levels", list)):
        where = f"maturity_levels[{index}]."
        items.append(
            CatalogItem(_require(level, "id", str, where), _require(level, "name", str, where), ItemKind.MATURITY_LEVEL)
        )
    practices = _require(doc, "practices", list)
    for index, practice in enumerate(practices):
        where = f"practices[{index}]."
        ref = _require(practice, "id", str, where)
        items.append(CatalogItem(ref, _require(practice, "name", str, where), ItemKind.PRACTICE, practice=ref))
    practice_ids = {p["id"] for p in practices}
    for index, requirement in enumerate(_require(doc, "requirements", list)):
        where = f"requirements[{index}]."
        practice = _require(requirement, "practice", str, where)
        if practice not in practice_ids:
            raise Invalid.field(f"{where}practice", f"unknown practice {practice!r}")
        items.append(
            CatalogItem(
                _require(requirement, "id", str, where),
                _require(requirement, "title", str, where),
                ItemKind.PROCESS_REQUIREMENT,
                parent=practice,
                practice=practice,
            )
        )
    return items, {"content_policy": doc.get("content_policy", "")}


def _enhancements(parent: CatalogItem, raw: Any, where: str) -> list[CatalogItem]:
    items = []
    for index, re_item in enumerate(raw or []):
        at = f"{where}requirement_enhancements[{index}]."
        items.append(
            CatalogItem(
                _require(re_item, "id", str, at),
                _require(re_item, "title", str, at),
                ItemKind.ENHANCEMENT,
                parent=parent.ref,
                fr=parent.fr,
                component_type=parent.component_type,
                sl_c=_levels(re_item.get("sl_c"), f"{at}sl_c"),
                confidence=re_item.get("confidence"),
            )
        )
    return items


def _parse_4_2(doc: dict[str, Any]) -> tuple[list[CatalogItem], dict[str, Any]]:
    items: list[CatalogItem] = []
    for index, fr in enumerate(_require(doc, "foundational_requirements", list)):
        where = f"foundational_requirements[{index}]."
        ref = _require(fr, "id", str, where)
        items.append(CatalogItem(ref, _require(fr, "name", str, where), ItemKind.FOUNDATIONAL_REQUIREMENT, fr=ref))
    for index, ccsc in enumerate(_require(doc, "common_component_security_constraints", list)):
        where = f"common_component_security_constraints[{index}]."
        items.append(CatalogItem(_require(ccsc, "id", str, where), _require(ccsc, "title", str, where), ItemKind.CCSC))
    for index, cr in enumerate(_require(doc, "component_requirements", list)):
        where = f"component_requirements[{index}]."
        try:
            scope = CrScope(_require(cr, "kind", str, where))
        except ValueError:
            raise Invalid.field(f"{where}kind", f"unknown kind {cr['kind']!r}") from None
        fr_ref = _require(cr, "fr", str, where)
        item = CatalogItem(
            _require(cr, "id", str, where),
            _require(cr, "title", str, where),
            ItemKind.COMPONENT_REQUIREMENT,
            parent=fr_ref,
            fr=fr_ref,
            sl_c=_levels(cr.get("sl_c"), f"{where}sl_c"),
            applies_via=tuple(cr.get("applies_via") or ()),
            cr_scope=scope,
            confidence=cr.get("confidence"),
        )
        items.append(item)
        items.extend(_enhancements(item, cr.get("requirement_enhancements"), where))
    for index, specific in enumerate(_require(doc, "component_specific_requirements", list)):
        where = f"component_specific_requirements[{index}]."
        component_type = _require(specific, "component_type", str, where)
        if component_type not in COMPONENT_TYPES:
            raise Invalid.field(f"{where}component_type", f"unknown component type {component_type!r}")
        item = CatalogItem(
            _require(specific, "id", str, where),
            _require(specific, "title", str, where),
            ItemKind.TYPE_REQUIREMENT,
            parent=_require(specific, "parent_cr", str, where),
            fr=_require(specific, "fr", str, where),
            component_type=component_type,
            sl_c=_levels(specific.get("sl_c"), f"{where}sl_c"),
            confidence=specific.get("confidence"),
        )
        items.append(item)
        items.extend(_enhancements(item, specific.get("requirement_enhancements"), where))
    meta: dict[str, Any] = {
        key: doc[key] for key in ("component_types", "sl_c_semantics", "content_policy") if key in doc
    }
    return items, meta


def _parse_cra(doc: dict[str, Any]) -> tuple[list[CatalogItem], dict[str, Any]]:
    items: list[CatalogItem] = []
    for key, prefix, kind, _label in CRA_SECTIONS:
        for point, title in _require(doc, key, dict).items():
            if not isinstance(title, str):
                raise Invalid.field(f"{key}.{point}", "expected a string")
            items.append(CatalogItem(f"{prefix}{point}", title, kind))
    meta_keys = ("dates", "article_14_clocks", "article_13_evidence", "product_categories", "content_policy")
    return items, {key: doc[key] for key in meta_keys if key in doc}


def cra_section_label(ref: str) -> str:
    """`I.2a` -> `Annex I Part I (2a)`, for people."""
    for _key, prefix, _kind, label in CRA_SECTIONS:
        if ref.startswith(prefix) and ref[len(prefix) :]:
            return f"{label} ({ref[len(prefix) :]})"
    return ref


_COMPONENT_REF = re.compile(r"(CR|SAR|EDR|HDR|NDR) (\d+)\.(\d+)(?: RE\((\d+)\))?")
_COMPONENT_REF_ORDER = ("CR", *COMPONENT_TYPES)
_CHUNK = re.compile(r"(\D*)(\d*)")


def natural_ref_key(ref: str) -> tuple[tuple[str, int], ...]:
    """Sort key for requirement ids as people read them: numbers by value (CR 1.2 before CR 1.10, SM-2
    before SM-10), an enhancement right after its requirement, and a 4-2 component-type requirement
    (EDR 2.4) beside the CR it stands for, so each FR's ids stay together. Every key has the same
    shape, so ids of different standards still compare."""
    match = _COMPONENT_REF.fullmatch(ref)
    if match:
        kind, fr, number, enhancement = match.groups()
        rank = _COMPONENT_REF_ORDER.index(kind)
        return (("", int(fr)), ("", int(number)), ("", rank), ("", int(enhancement or 0)))
    # Anything else: text and numbers in turn (a missing number sorts first).
    chunks = _CHUNK.findall(ref)
    return tuple((text.casefold(), int(digits) if digits else -1) for text, digits in chunks if text or digits)


def parse_mapping(doc: Any) -> MappingDocument:
    """Turn a mapping document into rows; Invalid on bad structure."""
    if not isinstance(doc, dict):
        raise Invalid("a mapping document is a JSON object")
    rows: list[MappingRow] = []
    for index, row in enumerate(_require(doc, "rows", list)):
        where = f"rows[{index}]."
        targets = _require(row, "cra_points", list, where)
        rationale = _require(row, "rationale", str, where).strip()
        if not rationale or "\n" in rationale:
            raise Invalid.field(f"{where}rationale", "a one-line rationale is required")
        points = tuple(str(t) for t in targets)
        if len(set(points)) != len(points):
            raise Invalid.field(f"{where}cra_points", "a CRA point is listed twice")
        rows.append(
            MappingRow(
                _require(row, "standard", str, where), _require(row, "requirement", str, where), points, rationale
            )
        )
    seen = [(r.standard, r.ref) for r in rows]
    twice = sorted({f"{std} {ref}" for std, ref in seen if seen.count((std, ref)) > 1})
    if twice:
        raise Invalid.field("rows", f"requirements with more than one row: {', '.join(twice)}")
    editions = _require(doc, "source_editions", dict)
    return MappingDocument(
        name=_require(doc, "mapping", str),
        version=_require(doc, "version", str),
        source_editions={str(k): str(v) for k, v in editions.items()},
        target_standard="CRA",
        rows=tuple(rows),
    )


def edition_differences(existing: Sequence[CatalogItem], incoming: Sequence[CatalogItem]) -> list[str]:
    """What differs between a stored edition and a document claiming the same edition."""
    old = {item.ref: item for item in existing}
    new = {item.ref: item for item in incoming}
    problems = [f"{ref}: not in the stored edition" for ref in new if ref not in old]
    problems += [f"{ref}: missing from the document" for ref in old if ref not in new]
    for ref in new.keys() & old.keys():
        if new[ref].title != old[ref].title:
            problems.append(f"{ref}: title changed from {old[ref].title!r} to {new[ref].title!r}")
        elif new[ref].comparable() != old[ref].comparable():
            problems.append(f"{ref}: kind, parent or levels changed")
    return sorted(problems)


def applies_to(item: CatalogItem, component_type: str, parents: dict[str, CatalogItem]) -> bool:
    """Whether a 4-2 item applies to a component of `component_type`.

    General CRs and their enhancements apply to every type; a type's own requirements and their
    enhancements apply to that type only; CRs stated only per type, or with no component-level
    requirement, are resolved through their type items and so apply to none directly.
    """
    if item.kind is ItemKind.COMPONENT_REQUIREMENT:
        return item.cr_scope is CrScope.GENERAL
    if item.kind is ItemKind.TYPE_REQUIREMENT:
        return item.component_type == component_type
    if item.kind is ItemKind.ENHANCEMENT and item.parent in parents:
        return applies_to(parents[item.parent], component_type, parents)
    return False


def required_at(item: CatalogItem, level: int) -> bool:
    """Whether the item is required at SL-C `level` (levels are cumulative)."""
    return item.sl_c is not None and bool(item.sl_c) and min(item.sl_c) <= level


def filter_items(
    items: Iterable[CatalogItem],
    *,
    query: str = "",
    kind: str | None = None,
    fr: str | None = None,
    component_type: str | None = None,
    level: int | None = None,
    practice: str | None = None,
) -> list[CatalogItem]:
    """Items matching every filter given; `component_type` keeps what applies to that type."""
    pool = list(items)
    parents = {item.ref: item for item in pool}
    needle = query.strip().lower()
    selected = []
    for item in pool:
        if needle and needle not in item.ref.lower() and needle not in item.title.lower():
            continue
        if kind and item.kind.value != kind:
            continue
        if fr and item.fr != fr:
            continue
        if practice and item.practice != practice:
            continue
        if component_type and not applies_to(item, component_type, parents):
            continue
        if level is not None and not required_at(item, level):
            continue
        selected.append(item)
    return selected


class RecordScope(enum.StrEnum):
    """Where the records of use of a 4-1 requirement live."""

    ORGANISATION = "organisation"  # once for the organisation (training, key controls, process audits)
    PRODUCT = "product"  # once per product (its security context, design principles, guidelines)
    RELEASE = "release"  # for every release (its threat model, reviews and tests)


# IEC 62443-4-1 Table 3, least first; the evidence vocabulary spells them the same (a test holds them equal).
INDEPENDENCE_LEVELS = ("none", "independent-person", "independent-department", "independent-organisation")


@dataclass(frozen=True)
class Annotation:
    """What the project's reading of the standard adds to one catalog item (docs/assurance.md)."""

    ref: str
    # 4-2: the item applies only when the component has a feature; "not applicable" needs no override.
    conditional: bool = False
    condition: str = ""
    # 4-1: the clause, where records of use live, whether records exist only when an issue occurred,
    # which evidence kinds are records of use, and the least tester independence they need.
    clause: str = ""
    record_scope: RecordScope | None = None
    event_driven: bool = False
    record_kinds: tuple[str, ...] = ()
    min_tester_independence: str | None = None
    records: str = ""  # what the records are, in a sentence: the hint the heat map gives


@dataclass(frozen=True)
class AnnotationDocument:
    """A parsed, versioned annotation document."""

    name: str
    version: str
    source_editions: dict[str, str]
    process: tuple[Annotation, ...]  # IEC 62443-4-1 requirements
    component: tuple[Annotation, ...]  # IEC 62443-4-2 items


STANDARD_4_1 = "IEC 62443-4-1"
STANDARD_4_2 = "IEC 62443-4-2"


def _process_annotation(row: Any, where: str) -> Annotation:
    scope = _require(row, "record_scope", str, where)
    try:
        record_scope = RecordScope(scope)
    except ValueError:
        raise Invalid.field(f"{where}record_scope", f"unknown record scope {scope!r}") from None
    independence = row.get("min_tester_independence")
    if independence is not None and independence not in INDEPENDENCE_LEVELS:
        raise Invalid.field(f"{where}min_tester_independence", f"unknown independence {independence!r}")
    kinds = _require(row, "record_kinds", list, where)
    if not kinds or not all(isinstance(kind, str) for kind in kinds):
        raise Invalid.field(f"{where}record_kinds", "name at least one evidence kind")
    clause = _require(row, "clause", str, where)
    if not re.fullmatch(r"\d{1,2}\.\d{1,2}", clause):
        raise Invalid.field(f"{where}clause", "expected a clause number such as 5.2")
    return Annotation(
        ref=_require(row, "requirement", str, where),
        clause=clause,
        record_scope=record_scope,
        event_driven=bool(row.get("event_driven", False)),
        record_kinds=tuple(kinds),
        min_tester_independence=independence,
        records=str(row.get("records", "")),
    )


def _component_annotation(row: Any, where: str) -> Annotation:
    condition = _require(row, "condition", str, where).strip()
    if row.get("conditional") is not True or not condition:
        raise Invalid.field(f"{where}condition", "a conditional item states its condition")
    return Annotation(ref=_require(row, "requirement", str, where), conditional=True, condition=condition)


def parse_annotations(doc: Any) -> AnnotationDocument:
    """Turn an annotation document into annotations; Invalid on bad structure."""
    if not isinstance(doc, dict):
        raise Invalid("an annotation document is a JSON object")
    process = tuple(
        _process_annotation(row, f"process_requirements[{index}].")
        for index, row in enumerate(_require(doc, "process_requirements", list))
    )
    component = tuple(
        _component_annotation(row, f"component_items[{index}].")
        for index, row in enumerate(_require(doc, "component_items", list))
    )
    for what, rows in (("process_requirements", process), ("component_items", component)):
        refs = [row.ref for row in rows]
        twice = sorted({ref for ref in refs if refs.count(ref) > 1})
        if twice:
            raise Invalid.field(what, f"listed twice: {', '.join(twice)}")
    editions = _require(doc, "source_editions", dict)
    return AnnotationDocument(
        name=_require(doc, "annotations", str),
        version=_require(doc, "version", str),
        source_editions={str(k): str(v) for k, v in editions.items()},
        process=process,
        component=component,
    )


def base_item(ref: str, items: Mapping[str, CatalogItem]) -> str:
    """The item an enhancement enhances (CR 1.1 RE(1) -> CR 1.1); any other item is its own base."""
    item = items.get(ref)
    while item is not None and item.kind is ItemKind.ENHANCEMENT and item.parent is not None:
        item = items.get(item.parent)
    return item.ref if item is not None else ref


def annotation_of(ref: str, items: Mapping[str, CatalogItem], annotations: Mapping[str, Annotation]) -> Annotation:
    """An item's annotation: its own, else its base item's (an enhancement is conditional when its base is)."""
    if ref in annotations:
        return annotations[ref]
    base = base_item(ref, items)
    return annotations.get(base, Annotation(ref))
