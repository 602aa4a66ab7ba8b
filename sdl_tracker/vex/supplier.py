"""Suppliers' VEX read in: a CSAF 2.0 document (advisory or VEX) and a CycloneDX 1.4-1.6 JSON VEX become
statements per purl in our vocabulary (`rules`), for an officer to confirm as decisions.

Pure, like `feeds`, which tells these documents from other files and calls `read_csaf` or `read_cyclonedx`.
docs/vex-import.md says how each document's fields map.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ..sboms.formats import Rejected
from ..sboms.validation import json_verdict
from .parsing import FeedError, FeedFormat, items, member, objects, purl_version, strings, text
from .rules import (
    CSAF_PRODUCT_STATUS,
    JUSTIFICATION_PROPERTY,
    LABEL_OF_CDX,
    STATUS_OF_CDX_STATE,
    CdxJustification,
    CdxState,
    Justification,
    Status,
)

LABELS = frozenset(label.value for label in Justification)


@dataclass(frozen=True)
class Statement:
    """What a supplier says about one product or component and one vulnerability, in our vocabulary.

    `purl` is what the statement is about ("" when the document names no purl: it cannot be matched), with the
    `version` it covers ("" when none is named) or a range (`versions`: a vers range, or the document's own
    text); `within` is the purl of the product it is part of (a CSAF relationship's other end), "" if none.
    """

    vulnerability: str  # the CVE id where the document gives one, else its first other id
    aliases: tuple[str, ...]
    product: str  # how the document names it (a CSAF product id and name, a CycloneDX ref)
    purl: str
    version: str
    versions: str
    within: str
    status: Status
    justification: Justification | None
    cdx_justification: CdxJustification | None
    impact: str
    action: str

    @property
    def ids(self) -> tuple[str, ...]:
        """The vulnerability's id and aliases."""
        return (self.vulnerability, *self.aliases)


@dataclass(frozen=True)
class SupplierVex:
    """A supplier's CSAF or CycloneDX document: who published which version of it, and its statements."""

    format: FeedFormat
    document_id: str  # CSAF tracking id; CycloneDX serial number
    version: str  # CSAF tracking version; CycloneDX document version
    publisher: str
    statements: tuple[Statement, ...]


# -- CSAF 2.0 --------------------------------------------------------------------------------------

# CSAF's product status lists and the status each means; `recommended` says nothing of being affected.
STATUS_OF_CSAF_LIST: Mapping[str, Status] = {
    **{name: status for status, name in CSAF_PRODUCT_STATUS.items()},
    "first_affected": Status.AFFECTED,
    "last_affected": Status.AFFECTED,
    "first_fixed": Status.FIXED,
}


@dataclass(frozen=True)
class _Product:
    id: str
    name: str
    purl: str = ""
    version: str = ""
    versions: str = ""
    within: str = ""


def _product(found: Mapping[str, Any], where: str, version: str = "", versions: str = "") -> _Product:
    helper = member(found, "product_identification_helper", where)
    purl = text(helper, "purl", where)
    # The version a purl names is the one the product is; a branch's product_version completes one without.
    version = purl_version(purl) or version
    return _Product(
        text(found, "product_id", where, required=True), text(found, "name", where), purl, version, versions
    )


def _csaf_products(tree: Mapping[str, Any]) -> dict[str, _Product]:
    """Every product id of a product tree: branch leaves (taking the version of the product_version branch
    above them, or the range of a product_version_range one), full product names, then relationships."""
    products: dict[str, _Product] = {}
    pending = [(branch, at, "", "") for branch, at in objects(tree, "branches", "product_tree")]
    while pending:
        branch, at, version, versions = pending.pop()
        category, name = text(branch, "category", at), text(branch, "name", at)
        if category == "product_version":
            version = name
        elif category == "product_version_range":
            versions = name
        if "product" in branch:
            leaf = _product(member(branch, "product", at), f"{at}, product", version, versions)
            products[leaf.id] = leaf
        pending += [(child, place, version, versions) for child, place in objects(branch, "branches", at)]
    for named, at in objects(tree, "full_product_names", "product_tree"):
        product = _product(named, at)
        products[product.id] = product
    for relation, at in objects(tree, "relationships", "product_tree"):
        joined = _product(member(relation, "full_product_name", at), f"{at}, full_product_name")
        part = products.get(text(relation, "product_reference", at, required=True))
        whole = products.get(text(relation, "relates_to_product_reference", at, required=True))
        if part is None or whole is None:
            raise FeedError(f"{at}: it refers to a product id the product tree does not define")
        # The statement is about the part as it is in the whole: the part's purl, the whole's as `within`.
        products[joined.id] = _Product(
            joined.id, joined.name, joined.purl or part.purl, joined.version or part.version, part.versions, whole.purl
        )
    return products


def _by_product(
    vulnerability: Mapping[str, Any], key: str, groups: Mapping[str, tuple[str, ...]], where: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(product id, item) for each item of a list that names products directly or through groups."""
    for item, at in objects(vulnerability, key, where):
        ids = list(strings(item, "product_ids", at))
        for group in strings(item, "group_ids", at):
            if group not in groups:
                raise FeedError(f"{at}: product group {group} is not defined")
            ids += groups[group]
        for product_id in ids:
            yield product_id, item


def read_csaf(document: Mapping[str, Any]) -> SupplierVex:
    """A CSAF 2.0 document's statements: one per vulnerability and product id in its product status."""
    head = member(document, "document", "the CSAF document")
    if head.get("csaf_version") != "2.0":
        raise FeedError(f"CSAF version {head.get('csaf_version')!r} is not read (only 2.0)")
    tracking = member(head, "tracking", "document")
    tree = member(document, "product_tree", "the CSAF document")
    products = _csaf_products(tree)
    groups = {
        text(g, "group_id", at, required=True): strings(g, "product_ids", at)
        for g, at in objects(tree, "product_groups", "product_tree")
    }
    statements = []
    for vulnerability, at in objects(document, "vulnerabilities", "the CSAF document"):
        cve = text(vulnerability, "cve", at).strip().upper()
        others = tuple(text(i, "text", place, required=True) for i, place in objects(vulnerability, "ids", at))
        if not cve and not others:
            raise FeedError(f"{at}: it names no CVE and no ids")
        ids = (cve, *others) if cve else others
        labels: dict[str, Justification] = {}
        for product_id, flag in _by_product(vulnerability, "flags", groups, at):
            label = text(flag, "label", at, required=True)
            if label not in LABELS:
                raise FeedError(f"{at}: flag label {label!r} is none of CSAF's five")
            labels[product_id] = Justification(label)
        impacts = _joined(_by_product(vulnerability, "threats", groups, at), "impact")
        actions = _joined(_by_product(vulnerability, "remediations", groups, at), None)
        status_lists = member(vulnerability, "product_status", at)
        for list_name, status in STATUS_OF_CSAF_LIST.items():
            for product_id in strings(status_lists, list_name, at):
                product = products.get(product_id)
                if product is None:
                    raise FeedError(f"{at}: product id {product_id} is not defined in the product tree")
                justified = status is Status.NOT_AFFECTED
                statements.append(
                    Statement(
                        vulnerability=ids[0],
                        aliases=ids[1:],
                        product=f"{product.id} {product.name}".strip(),
                        purl=product.purl,
                        version=product.version,
                        versions=product.versions,
                        within=product.within,
                        status=status,
                        justification=labels.get(product_id) if justified else None,
                        cdx_justification=None,
                        impact=impacts.get(product_id, ""),
                        action=actions.get(product_id, "") if status is Status.AFFECTED else "",
                    )
                )
    publisher = text(member(head, "publisher", "document"), "name", "document, publisher")
    return SupplierVex(
        FeedFormat.CSAF,
        text(tracking, "id", "document, tracking", required=True),
        text(tracking, "version", "document, tracking"),
        publisher,
        tuple(statements),
    )


def _joined(items: Iterator[tuple[str, dict[str, Any]]], category: str | None) -> dict[str, str]:
    """Each product's texts (`details`) from threats of that category, or from every remediation, one a line."""
    found: dict[str, list[str]] = {}
    for product_id, item in items:
        details = item.get("details")
        if isinstance(details, str) and details.strip() and (category is None or item.get("category") == category):
            found.setdefault(product_id, []).append(details.strip())
    return {product_id: "\n".join(texts) for product_id, texts in found.items()}


# -- CycloneDX VEX ---------------------------------------------------------------------------------

CYCLONEDX_VERSIONS = ("1.4", "1.5", "1.6")  # the versions with vulnerabilities and analysis


def _cdx_components(document: Mapping[str, Any]) -> dict[str, tuple[str, str, str]]:
    """Each bom-ref of the document's components (the subject too, nested ones too): (purl, version, name)."""
    found: dict[str, tuple[str, str, str]] = {}
    pending = [member(member(document, "metadata", "the BOM"), "component", "metadata")]
    pending += items(document, "components", "the BOM")
    while pending:
        component = pending.pop()
        if not isinstance(component, dict) or not component:
            continue
        ref, purl = component.get("bom-ref"), component.get("purl")
        if isinstance(ref, str) and ref:
            version = component.get("version")
            purl = purl if isinstance(purl, str) else ""
            version = purl_version(purl) or (version if isinstance(version, str) else "")
            found[ref] = (purl, version, str(component.get("name", "")))
        pending += items(component, "components", "a component")
    return found


def _resolve(ref: str, components: Mapping[str, tuple[str, str, str]]) -> tuple[str, str]:
    """(purl, version) a ref names: a component's bom-ref, a purl, or a BOM-Link whose fragment is one of
    those; ("", "") for a BOM-Link into another document (the import may resolve it against stored SBOMs)."""
    if ref in components:
        return components[ref][:2]
    if ref.startswith("urn:cdx:") and "#" in ref:
        fragment = unquote(ref.partition("#")[2])
        if fragment in components:
            return components[fragment][:2]
        ref = fragment
    if ref.startswith("pkg:"):
        return ref, purl_version(ref)
    return "", ""


def _cdx_label(vulnerability: Mapping[str, Any], where: str) -> Justification | None:
    """The exact label our own CycloneDX export carries as a property, which takes precedence on import."""
    for prop, at in objects(vulnerability, "properties", where):
        if prop.get("name") == JUSTIFICATION_PROPERTY:
            value = text(prop, "value", at)
            if value not in LABELS:
                raise FeedError(f"{at}: {JUSTIFICATION_PROPERTY} {value!r} is none of the five labels")
            return Justification(value)
    return None


def read_cyclonedx(document: Mapping[str, Any]) -> SupplierVex:
    """A CycloneDX VEX's statements: one per vulnerability and `affects` entry (one per version it lists)."""
    version = document.get("specVersion")
    if version not in CYCLONEDX_VERSIONS:
        raise FeedError(f"CycloneDX {version!r} is not read as VEX (only {', '.join(CYCLONEDX_VERSIONS)})")
    try:
        json_verdict(dict(document), version)
    except Rejected as exc:
        first = f": {exc.violations[0]}" if exc.violations else ""
        raise FeedError(f"{exc.message}{first}") from None
    components = _cdx_components(document)
    statements = []
    for vulnerability, at in objects(document, "vulnerabilities", "the BOM"):
        vulnerability_id = text(vulnerability, "id", at, required=True)
        aliases = tuple(r["id"] for r, _ in objects(vulnerability, "references", at) if isinstance(r.get("id"), str))
        analysis = member(vulnerability, "analysis", at)
        # No analysis: the supplier lists the vulnerability but has not judged it.
        state = CdxState(analysis["state"]) if "state" in analysis else CdxState.IN_TRIAGE
        status = STATUS_OF_CDX_STATE[state]
        given = CdxJustification(analysis["justification"]) if "justification" in analysis else None
        label = _cdx_label(vulnerability, at) or (LABEL_OF_CDX[given] if given else None)
        if state is CdxState.FALSE_POSITIVE and label is None:
            label = Justification.VULNERABLE_CODE_NOT_PRESENT  # rules: a false positive is not vulnerable
        fitting = given if given is not None and LABEL_OF_CDX[given] is label else None
        responses = ", ".join(r for r in strings(analysis, "response", at))
        written = [text(vulnerability, key, at) for key in ("recommendation", "workaround")]
        action = "\n".join(advice for advice in written if advice.strip()) or responses
        for affects, place in objects(vulnerability, "affects", at):
            ref = text(affects, "ref", place, required=True)
            purl, named = _resolve(ref, components)
            for covered, own in _cdx_versions(affects, place, named, status):
                justified = own is Status.NOT_AFFECTED
                statements.append(
                    Statement(
                        vulnerability=vulnerability_id,
                        aliases=tuple(a for a in aliases if a != vulnerability_id),
                        product=ref,
                        purl=purl,
                        version=covered[0],
                        versions=covered[1],
                        within="",
                        status=own,
                        justification=label if justified else None,
                        cdx_justification=fitting if justified else None,
                        impact=text(analysis, "detail", at),
                        action=action if own is Status.AFFECTED else "",
                    )
                )
    metadata = member(document, "metadata", "the BOM")
    supplier = member(metadata, "supplier", "metadata") or member(metadata, "manufacturer", "metadata")
    return SupplierVex(
        FeedFormat.CYCLONEDX,
        text(document, "serialNumber", "the BOM"),
        str(document.get("version", "")),
        text(supplier, "name", "metadata, supplier"),
        tuple(statements),
    )


def _cdx_versions(
    affects: Mapping[str, Any], where: str, named: str, status: Status
) -> Iterator[tuple[tuple[str, str], Status]]:
    """((version, range), status) each statement of an `affects` entry covers: the ref's own version when it
    lists none, else each listed version or range. A listed status that contradicts the analysis wins for
    that version (affected, unknown: under investigation; unaffected: not affected, or the analysis's fixed)."""
    listed = list(objects(affects, "versions", where))
    if not listed:
        yield (named, ""), status
        return
    for item, at in listed:
        covered = (text(item, "version", at), text(item, "range", at))
        match item.get("status", "affected"):
            case "unknown":
                yield covered, Status.UNDER_INVESTIGATION
            case "unaffected":
                yield covered, status if status in (Status.NOT_AFFECTED, Status.FIXED) else Status.NOT_AFFECTED
            case _:
                yield covered, Status.AFFECTED
