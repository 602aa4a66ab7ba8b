"""A CSAF 2.0 document (profile `csaf_security_advisory` or `csaf_vex`) built from plain data, and its bytes.

The input is frozen dataclasses a services module fills from a case, its releases and the VEX decisions:
`Advisory` holds the publisher, the tracking, the TLP label, the releases, the libraries they ship and the
vulnerabilities with their decisions. `build` returns the document as a dict; `serialise` gives its bytes,
the same for the same input (keys sorted, arrays in a fixed order). What the document cannot carry is
refused with an `AdvisoryError` naming the rule; what the specification's tests check is left to
`validity.check`, which a publish runs on the result. docs/csaf.md describes the mapping.

- Versions are integers (`1`, `2`...): a revision per publication, numbered from 1 without gaps.
- The product tree and its product ids are `product_tree.py`'s; its input (`Release`, `ReleaseRef`,
  `Library`) and `AdvisoryError` are imported from there and are part of this module's interface.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..psirt.scoring import ScoringError, parse_vector
from ..psirt.vocabulary import VocabularyError, cwe_name, parse_cve
from .csaf_json import serialise as serialise
from .product_tree import AdvisoryError, Library, ProductTree, Release, ReleaseRef
from .rules import CSAF_PRODUCT_STATUS, DecisionError, Justification, Status, check_decision

CSAF_VERSION = "2.0"
GENERATOR = "sdl-tracker"
# The schema's default TLP url: FIRST's page of the labels, which CSAF 2.0 (TLP 1.0's WHITE, not 2.0's CLEAR) names.
TLP_URL = "https://www.first.org/tlp/"
# The `exploit_status` threat of a known exploited vulnerability (docs/vex.md: CycloneDX carries it as a property).
KNOWN_EXPLOITED = "Known to be exploited: listed in CISA's Known Exploited Vulnerabilities catalog or reported so."


class Profile(enum.StrEnum):
    """The two CSAF 2.0 profiles we publish (`/document/category`)."""

    SECURITY_ADVISORY = "csaf_security_advisory"
    VEX = "csaf_vex"


class TrackingStatus(enum.StrEnum):
    """A document's status: a draft may change; interim and final ones are published."""

    DRAFT = "draft"
    INTERIM = "interim"
    FINAL = "final"


class Tlp(enum.StrEnum):
    """The TLP labels CSAF 2.0 allows (TLP 1.0: WHITE where TLP 2.0 says CLEAR)."""

    WHITE = "WHITE"
    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"


class PublisherCategory(enum.StrEnum):
    """`/document/publisher/category`."""

    COORDINATOR = "coordinator"
    DISCOVERER = "discoverer"
    OTHER = "other"
    TRANSLATOR = "translator"
    USER = "user"
    VENDOR = "vendor"


class NoteCategory(enum.StrEnum):
    """A note's category (document and vulnerability notes share them)."""

    DESCRIPTION = "description"
    DETAILS = "details"
    FAQ = "faq"
    GENERAL = "general"
    LEGAL_DISCLAIMER = "legal_disclaimer"
    OTHER = "other"
    SUMMARY = "summary"


class RemediationCategory(enum.StrEnum):
    """A remediation's category (section 3.2.3.12.1)."""

    MITIGATION = "mitigation"
    NO_FIX_PLANNED = "no_fix_planned"
    NONE_AVAILABLE = "none_available"
    VENDOR_FIX = "vendor_fix"
    WORKAROUND = "workaround"


# A vendor fix contradicts "none available" and "no fix planned" for the same product (section 3.2.3.12.1).
_NO_FIX = frozenset({RemediationCategory.NONE_AVAILABLE, RemediationCategory.NO_FIX_PLANNED})


@dataclass(frozen=True)
class Publisher:
    """Who issues the document: name, namespace (a URL of the organisation), and optional contact and authority."""

    name: str
    namespace: str
    category: PublisherCategory = PublisherCategory.VENDOR
    contact_details: str = ""
    issuing_authority: str = ""


@dataclass(frozen=True)
class Revision:
    """One publication: its integer version, when (timezone-aware) and what changed."""

    number: int
    date: datetime
    summary: str


@dataclass(frozen=True)
class Tracking:
    """The document's id, status and revisions (version 1 first); its version is the last revision's number."""

    id: str
    status: TrackingStatus
    revisions: tuple[Revision, ...]


@dataclass(frozen=True)
class Note:
    """A note: category, text and an optional title."""

    category: NoteCategory
    text: str
    title: str = ""


@dataclass(frozen=True)
class Reference:
    """A link with a summary; `self_link` marks the document's own canonical URL."""

    url: str
    summary: str
    self_link: bool = False


@dataclass(frozen=True)
class Decision:
    """A VEX decision about one release, or about a library (`component`, its purl) in that release.

    Not affected needs a justification, affected an action statement (`vex.rules.check_decision`); the action
    becomes a remediation of `action_category`, a mitigation unless said otherwise: the category that claims
    least (it reduces the risk, it does not resolve the vulnerability). An impact statement becomes a threat.
    """

    release: ReleaseRef
    status: Status
    component: str = ""
    justification: Justification | None = None
    impact: str = ""
    action: str = ""
    action_category: RemediationCategory = RemediationCategory.MITIGATION


@dataclass(frozen=True)
class Remediation:
    """A remediation for releases: category, details, optionally a URL."""

    category: RemediationCategory
    details: str
    releases: tuple[ReleaseRef, ...]
    url: str = ""


@dataclass(frozen=True)
class VulnerabilityId:
    """An id other than a CVE: the system that issued it (e.g. our PSIRT) and the id (a case reference)."""

    system_name: str
    text: str


@dataclass(frozen=True)
class Vulnerability:
    """A vulnerability: a CVE and/or other ids, a title, its description, one CWE, the CVSS vectors of the case
    (v3.1 is carried; v4.0 alone is refused: CSAF 2.0 carries v2 and v3 only), decisions and the rest."""

    title: str
    description: str
    decisions: tuple[Decision, ...]
    cve: str = ""
    ids: tuple[VulnerabilityId, ...] = ()
    cwe: int | None = None
    cvss_v31: str = ""
    cvss_v40: str = ""
    notes: tuple[Note, ...] = ()
    references: tuple[Reference, ...] = ()
    remediations: tuple[Remediation, ...] = ()
    known_exploited: bool = False  # an `exploit_status` threat, about the vulnerability rather than a product


@dataclass(frozen=True)
class Advisory:
    """Everything a CSAF document is built from."""

    profile: Profile
    title: str
    publisher: Publisher
    tracking: Tracking
    tlp: str  # WHITE, GREEN, AMBER or RED
    releases: tuple[Release, ...]
    vulnerabilities: tuple[Vulnerability, ...]
    libraries: tuple[Library, ...] = ()
    notes: tuple[Note, ...] = ()
    references: tuple[Reference, ...] = ()
    lang: str = "en"
    distribution_text: str = ""


def build(advisory: Advisory) -> dict[str, Any]:
    """The CSAF 2.0 document of the advisory, or AdvisoryError for input it cannot carry."""
    tlp = _tlp(advisory.tlp)
    tree = ProductTree(advisory.publisher.name, advisory.releases, advisory.libraries)
    cves = [vulnerability.cve for vulnerability in advisory.vulnerabilities if vulnerability.cve]
    duplicates = sorted({cve for cve in cves if cves.count(cve) > 1})
    if duplicates:
        raise AdvisoryError(f"{duplicates[0]} is given for more than one vulnerability: one item per CVE")
    vulnerabilities = [_vulnerability(item, tree, advisory.profile) for item in advisory.vulnerabilities]
    document: dict[str, Any] = {
        "category": advisory.profile.value,
        "csaf_version": CSAF_VERSION,
        "distribution": {"tlp": {"label": tlp.value, "url": TLP_URL}},
        "lang": advisory.lang,
        "publisher": _publisher(advisory.publisher),
        "title": advisory.title,
        "tracking": _tracking(advisory.tracking),
    }
    if advisory.distribution_text:
        document["distribution"]["text"] = advisory.distribution_text
    if advisory.notes:
        document["notes"] = _notes(advisory.notes)
    if advisory.references:
        document["references"] = _references(advisory.references)
    return {
        "document": document,
        "product_tree": tree.as_json(),
        "vulnerabilities": sorted(vulnerabilities, key=_vulnerability_order),
    }


# -- the document's metadata -----------------------------------------------------------------------


def _tlp(label: str) -> Tlp:
    name = label.strip().upper().removeprefix("TLP:")
    if name == "CLEAR":
        raise AdvisoryError("TLP:CLEAR is not a CSAF 2.0 label: CSAF 2.0 uses TLP 1.0, where it is WHITE")
    try:
        return Tlp(name)
    except ValueError:
        raise AdvisoryError(f"TLP {label!r} is not a CSAF 2.0 label: use WHITE, GREEN, AMBER or RED") from None


def _publisher(publisher: Publisher) -> dict[str, Any]:
    result = {"category": publisher.category.value, "name": publisher.name, "namespace": publisher.namespace}
    if publisher.contact_details:
        result["contact_details"] = publisher.contact_details
    if publisher.issuing_authority:
        result["issuing_authority"] = publisher.issuing_authority
    return result


def _date(when: datetime) -> str:
    if when.tzinfo is None:
        raise AdvisoryError(f"the date {when.isoformat()} has no time zone: CSAF dates are instants")
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tracking(tracking: Tracking) -> dict[str, Any]:
    revisions = tracking.revisions
    if not revisions:
        raise AdvisoryError("the tracking has no revision: a document has at least version 1")
    numbers = [revision.number for revision in revisions]
    if numbers != list(range(1, len(revisions) + 1)):
        raise AdvisoryError(f"revision numbers are {numbers}: integer versions count 1, 2, 3... in order")
    dates = [_date(revision.date) for revision in revisions]
    instants = [revision.date for revision in revisions]
    if instants != sorted(instants):
        raise AdvisoryError("revision dates go backwards: each revision is dated at or after the one before")
    return {
        "current_release_date": dates[-1],
        "generator": {"engine": {"name": GENERATOR}},
        "id": tracking.id,
        "initial_release_date": dates[0],
        "revision_history": [
            {"date": date, "number": str(revision.number), "summary": revision.summary}
            for revision, date in zip(revisions, dates, strict=True)
        ],
        "status": tracking.status.value,
        "version": str(revisions[-1].number),
    }


def _notes(notes: Iterable[Note]) -> list[dict[str, str]]:
    result = []
    for note in notes:
        item = {"category": note.category.value, "text": note.text}
        if note.title:
            item["title"] = note.title
        result.append(item)
    return result


def _references(references: Iterable[Reference]) -> list[dict[str, str]]:
    return [
        {"category": "self" if reference.self_link else "external", "summary": reference.summary, "url": reference.url}
        for reference in sorted(references, key=lambda reference: (not reference.self_link, reference.url))
    ]


# -- vulnerabilities ----------------------------------------------------------------------------------


def _vulnerability_order(item: Mapping[str, Any]) -> tuple[str, str, str]:
    ids = " ".join(f"{entry['system_name']} {entry['text']}" for entry in item.get("ids", []))
    return (item.get("cve", ""), ids, item.get("title", ""))


def _named(vulnerability: Vulnerability) -> str:
    """How a refusal names the vulnerability."""
    return vulnerability.cve or next((entry.text for entry in vulnerability.ids), "") or repr(vulnerability.title)


def _vulnerability(vulnerability: Vulnerability, tree: ProductTree, profile: Profile) -> dict[str, Any]:
    named = _named(vulnerability)
    described = [{"category": "description", "text": vulnerability.description, "title": "Description"}]
    notes = [*(described if vulnerability.description.strip() else []), *_notes(vulnerability.notes)]
    result: dict[str, Any] = {"title": vulnerability.title}
    if notes:  # the schema wants a note list to hold at least one note
        result["notes"] = notes
    if vulnerability.cve:
        try:
            result["cve"] = parse_cve(vulnerability.cve)
        except VocabularyError as error:
            raise AdvisoryError(f"{named}: {error}") from None
    if vulnerability.ids:
        result["ids"] = [
            {"system_name": entry.system_name, "text": entry.text}
            for entry in sorted(set(vulnerability.ids), key=lambda entry: (entry.system_name, entry.text))
        ]
    if profile is Profile.VEX and not vulnerability.cve and not vulnerability.ids:
        raise AdvisoryError(f"{named}: a VEX vulnerability needs a CVE or another id (6.1.27.8)")
    if vulnerability.cwe is not None:
        name = cwe_name(vulnerability.cwe)
        if name is None:
            raise AdvisoryError(f"{named}: CWE-{vulnerability.cwe} is not in the CWE list")
        result["cwe"] = {"id": f"CWE-{vulnerability.cwe}", "name": name}
    if vulnerability.references:
        result["references"] = _references(vulnerability.references)
    result.update(_statements(vulnerability, tree, named))
    if vulnerability.known_exploited:
        result.setdefault("threats", []).append({"category": "exploit_status", "details": KNOWN_EXPLOITED})
    return result


def _statements(vulnerability: Vulnerability, tree: ProductTree, named: str) -> dict[str, Any]:
    """product_status, flags, threats, remediations and scores, from the decisions and the given remediations."""
    if not vulnerability.decisions:
        raise AdvisoryError(f"{named}: no decision states a product status (both profiles need one)")
    status: dict[str, set[str]] = defaultdict(set)
    flags: dict[str, set[str]] = defaultdict(set)
    impacts: dict[str, set[str]] = defaultdict(set)
    remedies: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    decided: set[str] = set()
    for decision in vulnerability.decisions:
        where = f"{named}: the decision on {decision.release.product} {decision.release.version}" + (
            f" ({decision.component})" if decision.component else ""
        )
        product = tree.product_id(decision.release, decision.component, where)
        if product in decided:
            raise AdvisoryError(f"{where} is given twice: one decision per release and component")
        decided.add(product)
        try:
            check_decision(decision.status, decision.justification, None, decision.impact, decision.action)
        except DecisionError as error:
            raise AdvisoryError(f"{where}: {error}") from None
        status[CSAF_PRODUCT_STATUS[decision.status]].add(product)
        if decision.justification is not None:
            flags[decision.justification.value].add(product)
        if decision.impact.strip():
            impacts[decision.impact.strip()].add(product)
        if decision.status is Status.AFFECTED:
            remedies[(decision.action_category.value, decision.action.strip(), "")].add(product)
    for remediation in vulnerability.remediations:
        where = f"{named}: a {remediation.category.value} remediation"
        if not remediation.releases:
            raise AdvisoryError(f"{where} names no release (6.1.29)")
        key = (remediation.category.value, remediation.details.strip(), remediation.url)
        remedies[key] |= {tree.product_id(ref, "", where) for ref in remediation.releases}
    _refuse_fix_and_no_fix(remedies, named)
    result: dict[str, Any] = {"product_status": {name: sorted(ids) for name, ids in sorted(status.items())}}
    if flags:
        result["flags"] = [{"label": label, "product_ids": sorted(ids)} for label, ids in sorted(flags.items())]
    if impacts:
        result["threats"] = [
            {"category": "impact", "details": details, "product_ids": sorted(ids)}
            for details, ids in sorted(impacts.items())
        ]
    if remedies:
        result["remediations"] = [
            {"category": category, "details": details, "product_ids": sorted(ids), **({"url": url} if url else {})}
            for (category, details, url), ids in sorted(remedies.items())
        ]
    scored = sorted(status.get("known_affected", set()) | status.get("fixed", set()))
    score = _score(vulnerability, named)
    if score and scored:
        result["scores"] = [{"cvss_v3": score, "products": scored}]
    return result


def _refuse_fix_and_no_fix(remedies: Mapping[tuple[str, str, str], set[str]], named: str) -> None:
    fixed = {product for (category, _, _), ids in remedies.items() if category == "vendor_fix" for product in ids}
    unfixed = {product for (category, _, _), ids in remedies.items() if category in _NO_FIX for product in ids}
    if fixed & unfixed:
        raise AdvisoryError(
            f"{named}: {min(fixed & unfixed)} has a vendor fix and also none available or no fix planned"
        )


def _score(vulnerability: Vulnerability, named: str) -> dict[str, Any] | None:
    """The `cvss_v3` object of the v3.1 vector: score and severity computed from it, never taken as given."""
    if not vulnerability.cvss_v31:
        if vulnerability.cvss_v40:
            raise AdvisoryError(
                f"{named}: only a CVSS v4.0 vector is given; CSAF 2.0 carries v2 and v3: give the v3.1 vector too"
            )
        return None
    try:
        score = parse_vector(vulnerability.cvss_v31)
    except ScoringError as error:
        raise AdvisoryError(f"{named}: {error}") from None
    if score.version != "3.1":
        raise AdvisoryError(f"{named}: the CVSS v3.1 vector is a CVSS {score.version} vector")
    return {
        "baseScore": score.base_score,
        "baseSeverity": score.severity.value.upper(),
        "vectorString": score.vector,
        "version": "3.1",
    }
