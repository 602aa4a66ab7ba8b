"""A release's VEX as CycloneDX 1.6 JSON and as OpenVEX 0.2.0, built from plain data and validated.

The input is the release (with who issues the document, when, and its version) and one statement per
vulnerability and component, or the product itself: the officer's decision in the vocabulary of `rules`.
Both documents carry one entry per statement, in a fixed order; their identifiers (CycloneDX's serial number,
OpenVEX's `@id`) are UUIDv5s of the rest of the document, so the same input gives the same bytes
(`serialise`). Each document is checked against its schema before it is returned: CycloneDX 1.6 as
cyclonedx-python-lib ships it (through `sboms.validation`), OpenVEX against its own JSON schema (package data).
How statuses and justifications map, and where the formats differ: docs/vex.md.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import jsonschema_rs
from packageurl import PackageURL

from ..psirt.scoring import Score, ScoringError, parse_vector
from ..psirt.vocabulary import VocabularyError, cwe_entry, cwe_list, parse_cve
from ..sboms.formats import Rejected
from ..sboms.validation import json_verdict
from ..sboms.writer import SUBJECT_TYPES, TOOL_NAME
from .rules import (
    CDX_STATE_OF_STATUS,
    DEFAULT_CDX_OF_LABEL,
    JUSTIFICATION_PROPERTY,
    CdxJustification,
    DecisionError,
    Justification,
    Status,
    check_decision,
)

CYCLONEDX_VERSION = "1.6"
OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
OPENVEX_SCHEMA = "openvex_json_schema_0.2.0.json"
# CycloneDX has no field for it; our import reads it back (an OpenVEX statement has no place for it at all).
KNOWN_EXPLOITED_PROPERTY = "sdl-tracker:vex:known-exploited"
# The namespace of the identifiers derived here: uuid5 of it and "<format>:<SHA-256 of the rest>".
DOCUMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://sdl-tracker.invalid/vex")
# Sources of the identifier schemes we can name; any other identifier is taken as the publisher's own.
KNOWN_SOURCES: dict[str, tuple[str, str]] = {
    "CVE-": ("NVD", "https://nvd.nist.gov/vuln/detail/"),
    "GHSA-": ("GitHub Advisories", "https://github.com/advisories/"),
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL = re.compile(r"https?://[^\s/]+\S*")


class VexError(ValueError):
    """A VEX document that cannot be built from this input; the message is one line and names the rule."""


class DocumentInvalid(VexError):
    """A generated document that fails its schema (a bug here), named by the schema's first failure."""


class CdxResponse(enum.StrEnum):
    """CycloneDX 1.6 `analysis.response` values: what the manufacturer offers (CSAF and OpenVEX say it in words)."""

    CAN_NOT_FIX = "can_not_fix"
    WILL_NOT_FIX = "will_not_fix"
    UPDATE = "update"
    ROLLBACK = "rollback"
    WORKAROUND_AVAILABLE = "workaround_available"


@dataclass(frozen=True)
class Publisher:
    """Who issues the document: the manufacturer's PSIRT, as CSAF's publisher names it."""

    name: str
    namespace: str = ""  # the publisher's web address (CSAF's `publisher.namespace`)
    contact: str = ""  # an e-mail address
    role: str = "vendor"  # OpenVEX `role`


@dataclass(frozen=True)
class Release:
    """A release as a VEX document presents it: the product at a version, who issues the document, when, and
    the document's version (raised by the caller whenever the statements change)."""

    vendor: str
    product: str
    version: str
    bom_ref: str  # stable across documents: the release's SBOM subject's, else one the tracker keeps
    publisher: Publisher
    timestamp: datetime
    purl: str | None = None
    cpe: str | None = None  # CPE 2.3 (`cpe:2.3:...`) or 2.2 (`cpe:/...`)
    component_type: str = "SAR"  # the product's IEC 62443-4-2 type, which gives the CycloneDX type
    document_version: int = 1


@dataclass(frozen=True)
class Source:
    """Who published a vulnerability's identifier."""

    name: str
    url: str = ""


@dataclass(frozen=True)
class Vulnerability:
    """A vulnerability as the documents describe it; CVSS vectors are scored here, through `psirt.scoring`."""

    id: str  # CVE-YYYY-NNNN, a case's PSIRT-YYYY-NNNN, a GHSA id...
    aliases: tuple[str, ...] = ()
    description: str = ""
    cwes: tuple[int, ...] = ()
    cvss_v31: str = ""  # vector
    cvss_v40: str = ""  # vector: CycloneDX carries it, CSAF 2.0 cannot
    known_exploited: bool = False
    advisories: tuple[str, ...] = ()  # URLs
    source: Source | None = None  # None: NVD for a CVE, GitHub for a GHSA id, else the publisher


@dataclass(frozen=True)
class Component:
    """A component of the release that a statement is about."""

    name: str
    version: str = ""
    purl: str | None = None
    bom_ref: str = ""  # its SBOM bom-ref; by default its purl, else name@version

    @property
    def ref(self) -> str:
        """The bom-ref the CycloneDX document gives it."""
        return self.bom_ref or self.purl or f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Decision:
    """An officer's decision, checked by `rules.check_decision`."""

    status: Status
    decided_at: datetime
    justification: Justification | None = None
    cdx_justification: CdxJustification | None = None  # a finer CycloneDX value under the justification
    impact: str = ""
    action: str = ""
    responses: tuple[CdxResponse, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One vulnerability in one component of the release (None: in the product itself), and the decision."""

    vulnerability: Vulnerability
    component: Component | None
    decision: Decision

    def describe(self) -> str:
        """`CVE-2024-3094 in pkg:generic/xz@5.6.0`, for messages."""
        where = self.component.ref if self.component else "the product"
        return f"{self.vulnerability.id} in {where}"


# -- checks shared by both formats -------------------------------------------------------------------------


def _instant(moment: datetime, what: str) -> str:
    """An aware time as RFC 3339 in UTC (`2026-12-01T09:30:00Z`), else VexError."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise VexError(f"{what} has no time zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _check_purl(purl: str, what: str) -> None:
    """Refuse what the purl specification does not parse."""
    try:
        PackageURL.from_string(purl)
    except ValueError as exc:
        raise VexError(f"{what}: {purl!r} is not a purl ({' '.join(str(exc).split())})") from None


def _check_release(release: Release) -> None:
    """Refuse a release, publisher or document header that neither format could carry."""
    if not release.product.strip() or not release.version.strip() or not release.vendor.strip():
        raise VexError("the release needs its vendor, product name and version")
    if not release.bom_ref.strip() or release.bom_ref.startswith("urn:cdx:"):
        raise VexError("the release needs a bom-ref that is no BOM-Link (urn:cdx:)")
    if not release.publisher.name.strip():
        raise VexError("the publisher needs a name")
    if release.publisher.namespace and not _URL.fullmatch(release.publisher.namespace):
        raise VexError(f"the publisher's namespace {release.publisher.namespace!r} is no http(s) URL")
    if release.publisher.contact and not _EMAIL.fullmatch(release.publisher.contact):
        raise VexError(f"the publisher's contact {release.publisher.contact!r} is no e-mail address")
    if isinstance(release.document_version, bool) or release.document_version < 1:
        raise VexError(f"the document version is a whole number from 1, not {release.document_version!r}")
    if release.purl is not None:
        _check_purl(release.purl, "the release")
    if release.cpe is not None and not release.cpe.startswith(("cpe:2.3:", "cpe:/")):
        raise VexError(f"the release's CPE {release.cpe!r} starts neither cpe:2.3: nor cpe:/")
    _instant(release.timestamp, "the document's timestamp")


def _check_identifier(identifier: str) -> None:
    """A CVE id by the CVE syntax, in upper case; any other identifier as it is."""
    if not identifier.strip() or identifier != identifier.strip():
        raise VexError(f"{identifier!r} is no vulnerability id")
    if identifier.upper().startswith("CVE-"):
        try:
            normal = parse_cve(identifier)
        except VocabularyError as exc:
            raise VexError(str(exc)) from None
        if normal != identifier:
            raise VexError(f"write the CVE id {identifier!r} as {normal}")


def _scores(vulnerability: Vulnerability) -> list[Score]:
    """The vulnerability's scores, v3.1 then v4.0, each vector in the slot of its version."""
    scores = []
    for version, vector in (("3.1", vulnerability.cvss_v31), ("4.0", vulnerability.cvss_v40)):
        if not vector:
            continue
        try:
            score = parse_vector(vector)
        except ScoringError as exc:
            raise VexError(f"{vulnerability.id}: {exc}") from None
        if score.version != version:
            raise VexError(f"{vulnerability.id}: the CVSS v{version} vector is a {score.version} vector")
        scores.append(score)
    return scores


def _check_vulnerability(vulnerability: Vulnerability) -> None:
    """Refuse malformed identifiers, CWE ids MITRE does not list, advisories that are no URL, bad vectors."""
    for identifier in (vulnerability.id, *vulnerability.aliases):
        _check_identifier(identifier)
    for number in vulnerability.cwes:
        if cwe_entry(number) is None:
            raise VexError(f"{vulnerability.id}: CWE-{number} is not in MITRE's CWE list {cwe_list().version}")
    for url in vulnerability.advisories:
        if not _URL.fullmatch(url):
            raise VexError(f"{vulnerability.id}: the advisory {url!r} is no http(s) URL")
    _scores(vulnerability)


def _checked(release: Release, statements: Sequence[Statement]) -> list[Statement]:
    """The statements in document order (by vulnerability, the product's own first, then by component), after
    refusing what neither format could carry or what contradicts itself."""
    _check_release(release)
    vulnerabilities: dict[str, Vulnerability] = {}
    components: dict[str, Component] = {}
    seen: set[tuple[str, str]] = set()
    for statement in statements:
        vulnerability, component, decision = statement.vulnerability, statement.component, statement.decision
        if vulnerability.id not in vulnerabilities:
            _check_vulnerability(vulnerability)
        if vulnerabilities.setdefault(vulnerability.id, vulnerability) != vulnerability:
            raise VexError(f"{vulnerability.id} is described two ways; give every statement the same description")
        if component is not None:
            if not component.name.strip():
                raise VexError(f"{statement.describe()}: the component needs a name")
            if component.purl is not None:
                _check_purl(component.purl, statement.describe())
            if component.ref == release.bom_ref:
                raise VexError(f"{statement.describe()}: the component's bom-ref is the release's")
            if components.setdefault(component.ref, component) != component:
                raise VexError(f"two components have the bom-ref {component.ref!r}")
        key = (vulnerability.id, component.ref if component else "")
        if key in seen:
            raise VexError(f"{statement.describe()} has two statements; give one")
        seen.add(key)
        try:
            check_decision(
                decision.status, decision.justification, decision.cdx_justification, decision.impact, decision.action
            )
        except DecisionError as exc:
            raise VexError(f"{statement.describe()}: {exc}") from None
        _instant(decision.decided_at, f"{statement.describe()}: the decision's time")
    return sorted(statements, key=lambda s: (s.vulnerability.id, s.component.ref if s.component else ""))


def _source(identifier: str, publisher: Publisher) -> dict[str, str]:
    """Who published an identifier: NVD for a CVE, GitHub for a GHSA id, else the publisher (a case's own)."""
    for prefix, (name, base) in KNOWN_SOURCES.items():
        if identifier.upper().startswith(prefix):
            return {"name": name, "url": base + identifier}
    return {"name": publisher.name, **({"url": publisher.namespace} if publisher.namespace else {})}


def _canonical(document: dict[str, Any]) -> bytes:
    """Compact JSON with sorted keys: the text the derived identifiers digest."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _derived_id(kind: str, document: dict[str, Any]) -> str:
    """`urn:uuid:...`: a UUIDv5 of the document's content, so the same content keeps its identifier."""
    digest = hashlib.sha256(_canonical(document)).hexdigest()
    return f"urn:uuid:{uuid.uuid5(DOCUMENT_NAMESPACE, f'{kind}:{digest}')}"


def serialise(document: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON with sorted keys and a final newline: the same document, the same bytes."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2).encode() + b"\n"


# -- CycloneDX ----------------------------------------------------------------------------------------------


def _cdx_metadata(release: Release) -> dict[str, Any]:
    """metadata: when, by which tool, who issued it (the manufacturer of the BOM), and the release."""
    publisher = release.publisher
    manufacturer: dict[str, Any] = {"name": publisher.name}
    if publisher.namespace:
        manufacturer["url"] = [publisher.namespace]
    if publisher.contact:
        manufacturer["contact"] = [{"email": publisher.contact}]
    subject: dict[str, Any] = {
        "type": SUBJECT_TYPES.get(release.component_type, "application"),
        "bom-ref": release.bom_ref,
        "manufacturer": {"name": release.vendor},
        "name": release.product,
        "version": release.version,
    }
    if release.cpe:
        subject["cpe"] = release.cpe
    if release.purl:
        subject["purl"] = release.purl
    return {
        "timestamp": _instant(release.timestamp, "the document's timestamp"),
        "tools": {"components": [{"type": "application", "name": TOOL_NAME}]},
        "manufacturer": manufacturer,
        "component": subject,
    }


def _cdx_component(component: Component) -> dict[str, Any]:
    """A component a statement names, as a library."""
    out: dict[str, Any] = {"type": "library", "bom-ref": component.ref, "name": component.name}
    if component.version:
        out["version"] = component.version
    if component.purl:
        out["purl"] = component.purl
    return out


def _cdx_vulnerability(statement: Statement, release: Release) -> dict[str, Any]:
    """One statement as a vulnerability entry: the vulnerability, the decision as `analysis`, what it affects."""
    vulnerability, decision = statement.vulnerability, statement.decision
    source = vulnerability.source
    out: dict[str, Any] = {
        "id": vulnerability.id,
        "source": (
            {"name": source.name, **({"url": source.url} if source.url else {})}
            if source
            else _source(vulnerability.id, release.publisher)
        ),
    }
    aliases = sorted(set(vulnerability.aliases) - {vulnerability.id})
    if aliases:
        out["references"] = [{"id": alias, "source": _source(alias, release.publisher)} for alias in aliases]
    ratings = [
        {
            "method": "CVSSv31" if score.version == "3.1" else "CVSSv4",
            "score": score.base_score,
            "severity": score.severity.value.lower(),
            "vector": score.vector,
        }
        for score in _scores(vulnerability)
    ]
    if ratings:
        out["ratings"] = ratings
    if vulnerability.cwes:
        out["cwes"] = sorted(set(vulnerability.cwes))
    if vulnerability.description:
        out["description"] = vulnerability.description
    if decision.action:  # CycloneDX's place for what to do about it: OpenVEX's action statement
        out["recommendation"] = decision.action
    if vulnerability.advisories:
        out["advisories"] = [{"url": url} for url in sorted(set(vulnerability.advisories))]
    analysis: dict[str, Any] = {"state": CDX_STATE_OF_STATUS[decision.status].value}
    properties = []
    if decision.justification is not None:
        chosen = decision.cdx_justification or DEFAULT_CDX_OF_LABEL[decision.justification]
        analysis["justification"] = chosen.value
        # CycloneDX folds two labels into code_not_present: the exact label travels beside it.
        properties.append({"name": JUSTIFICATION_PROPERTY, "value": decision.justification.value})
    if decision.responses:
        analysis["response"] = sorted({response.value for response in decision.responses})
    if decision.impact:
        analysis["detail"] = decision.impact
    analysis["lastUpdated"] = _instant(decision.decided_at, "the decision's time")
    out["analysis"] = analysis
    out["affects"] = [{"ref": statement.component.ref if statement.component else release.bom_ref}]
    if vulnerability.known_exploited:
        properties.append({"name": KNOWN_EXPLOITED_PROPERTY, "value": "true"})
    if properties:
        out["properties"] = properties
    return out


def cyclonedx_vex(release: Release, statements: Sequence[Statement]) -> dict[str, Any]:
    """The release's VEX as a CycloneDX 1.6 JSON value, checked against the 1.6 schema."""
    ordered = _checked(release, statements)
    components = {s.component.ref: s.component for s in ordered if s.component is not None}
    document: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": CYCLONEDX_VERSION,
        "version": release.document_version,
        "metadata": _cdx_metadata(release),
        "components": [_cdx_component(components[ref]) for ref in sorted(components)],
        "vulnerabilities": [_cdx_vulnerability(statement, release) for statement in ordered],
    }
    document["serialNumber"] = _derived_id("cyclonedx", document)
    try:
        checked = json_verdict(document, CYCLONEDX_VERSION)
    except Rejected as exc:
        failure = exc.violations[0] if exc.violations else exc.message
        raise DocumentInvalid(f"the CycloneDX VEX fails the {CYCLONEDX_VERSION} schema: {failure}") from None
    if checked.warnings:  # a format-only violation is still one: a generated document has none
        raise DocumentInvalid(f"the CycloneDX VEX fails the {CYCLONEDX_VERSION} schema: {checked.warnings[0]}")
    return document


# -- OpenVEX ------------------------------------------------------------------------------------------------


def _openvex_product(release: Release, statement: Statement) -> dict[str, Any]:
    """The release by purl (and CPE), with the statement's component as its subcomponent, by purl."""
    product: dict[str, Any] = {}
    if release.purl:
        product["@id"] = release.purl
    if release.cpe:
        product["identifiers"] = {
            "cpe23" if release.cpe.startswith("cpe:2.3:") else "cpe22": release.cpe,
            **({"purl": release.purl} if release.purl else {}),
        }
    if not product:
        raise VexError("OpenVEX names the product by purl or CPE: the release has neither")
    if statement.component is not None:
        if not statement.component.purl:
            raise VexError(f"{statement.describe()}: OpenVEX names a component by its purl, and it has none")
        product["subcomponents"] = [{"@id": statement.component.purl}]
    return product


def _openvex_statement(statement: Statement, release: Release) -> dict[str, Any]:
    """One statement as an OpenVEX statement, timed by its decision."""
    vulnerability, decision = statement.vulnerability, statement.decision
    named: dict[str, Any] = {"name": vulnerability.id}
    if vulnerability.description:
        named["description"] = vulnerability.description
    aliases = sorted(set(vulnerability.aliases) - {vulnerability.id})
    if aliases:
        named["aliases"] = aliases
    decided_at = _instant(decision.decided_at, "the decision's time")
    out: dict[str, Any] = {
        "vulnerability": named,
        "timestamp": decided_at,
        "products": [_openvex_product(release, statement)],
        "status": decision.status.value,
    }
    if decision.justification is not None:
        out["justification"] = decision.justification.value
    if decision.impact:
        out["impact_statement"] = decision.impact
    if decision.action:
        out["action_statement"] = decision.action
        out["action_statement_timestamp"] = decided_at
    return out


def openvex(release: Release, statements: Sequence[Statement]) -> dict[str, Any]:
    """The release's VEX as an OpenVEX 0.2.0 JSON value, checked against OpenVEX's JSON schema."""
    ordered = _checked(release, statements)
    if not ordered:
        raise VexError("an OpenVEX document needs at least one statement")
    document: dict[str, Any] = {
        "@context": OPENVEX_CONTEXT,
        "author": release.publisher.name,
        "role": release.publisher.role,
        "timestamp": _instant(release.timestamp, "the document's timestamp"),
        "version": release.document_version,
        "tooling": TOOL_NAME,
        "statements": [_openvex_statement(statement, release) for statement in ordered],
    }
    document["@id"] = _derived_id("openvex", document)
    errors = list(_openvex_validator().iter_errors(document))
    if errors:
        first = errors[0]
        path = "".join(f"/{step}" for step in first.instance_path) or "/"
        raise DocumentInvalid(f"the OpenVEX document fails its schema: {path}: {first.message}")
    return document


@functools.cache
def _openvex_validator() -> Any:
    """OpenVEX's JSON schema (draft 2020-12), formats checked: `@id`s are IRIs, timestamps RFC 3339."""
    text = resources.files("sdl_tracker.vex").joinpath("data", OPENVEX_SCHEMA).read_text(encoding="utf-8")
    return jsonschema_rs.validator_for(json.loads(text), validate_formats=True)
