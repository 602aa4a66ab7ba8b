"""Vulnerability data read in: OSV records (one file, a JSON list, or an ecosystem export zip), the CISA Known
Exploited Vulnerabilities catalog, and suppliers' CSAF 2.0 and CycloneDX VEX documents, as plain frozen
dataclasses.

Pure: bytes in, dataclasses out; no database, Flask or clock. `read_feed` tells the format by content (never by
file name) and refuses anything else with a one-line `FeedError`. docs/vex-import.md says what is kept and why.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from .parsing import FeedError, FeedFormat, day, load_json, member, moment, objects, strings, text
from .supplier import Statement, SupplierVex, read_csaf, read_cyclonedx

__all__ = [
    "DEFAULT_LIMITS",
    "Feed",
    "FeedError",
    "FeedFormat",
    "KevCatalog",
    "KevEntry",
    "Limits",
    "OsvAffected",
    "OsvEvent",
    "OsvFeed",
    "OsvRange",
    "OsvVulnerability",
    "Score",
    "Statement",
    "SupplierVex",
    "classify",
    "detect_format",
    "read_feed",
    "read_kev",
    "read_osv",
]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much a file may hold; a zip's limits hold against what it inflates to, not what it declares."""

    max_json: int = 64 * MiB  # one JSON file (KEV is about 1.5 MiB, OSV records rarely reach 1 MiB)
    max_zip: int = 512 * MiB  # the zip file itself
    max_members: int = 300_000  # npm's export with its malicious-package records holds about 200,000
    max_member: int = 4 * MiB  # one record, inflated
    max_total: int = 1024 * MiB  # every record together, inflated


DEFAULT_LIMITS = Limits()

# -- What the formats become ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A CVSS vector an OSV record gives: `type` CVSS_V3 (3.0 or 3.1, as its prefix says) or CVSS_V4."""

    type: str
    vector: str


@dataclass(frozen=True)
class OsvEvent:
    """One step of a range's timeline: `kind` is introduced, fixed, last_affected or limit."""

    kind: str
    version: str


@dataclass(frozen=True)
class OsvRange:
    """Affected versions as a timeline of events; `type` SEMVER, ECOSYSTEM or GIT (`repo` names the git
    repository of a GIT range's commits)."""

    type: str
    events: tuple[OsvEvent, ...]
    repo: str = ""


@dataclass(frozen=True)
class OsvAffected:
    """One affected package: its ecosystem as given (`Debian:11` keeps its release), name and purl ("" when
    the record gives none), its ranges and explicitly listed versions, and package-level scores."""

    ecosystem: str
    name: str
    purl: str
    ranges: tuple[OsvRange, ...]
    versions: tuple[str, ...]
    severity: tuple[Score, ...] = ()


@dataclass(frozen=True)
class OsvVulnerability:
    """One OSV record (schema 1.x). A withdrawn one is kept, with `withdrawn` set, so an import can retract
    what it brought earlier; matching ignores it."""

    id: str
    modified: datetime
    aliases: tuple[str, ...]
    summary: str
    details: str
    published: datetime | None
    withdrawn: datetime | None
    cwe_ids: tuple[str, ...]  # from database_specific.cwe_ids, where the database gives them (GHSA does)
    severity: tuple[Score, ...]
    affected: tuple[OsvAffected, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """The record's id and its aliases."""
        return (self.id, *self.aliases)

    @property
    def cve_ids(self) -> tuple[str, ...]:
        """The CVE ids among its id and aliases."""
        return tuple(i for i in self.ids if i.upper().startswith("CVE-"))

    def vector(self, version: str) -> str:
        """The first CVSS vector of that version (`3.1`, `4.0`), the record's own before its packages'; ""."""
        prefix = f"CVSS:{version}/"
        scores = [*self.severity, *(s for a in self.affected for s in a.severity)]
        return next((s.vector for s in scores if s.vector.startswith(prefix)), "")


@dataclass(frozen=True)
class OsvFeed:
    """OSV records read from one file, list or export, in their order there."""

    format: FeedFormat
    records: tuple[OsvVulnerability, ...]


@dataclass(frozen=True)
class KevEntry:
    """One vulnerability in CISA's catalog; `ransomware` is `Known` or `Unknown` as CISA writes it."""

    cve_id: str
    vendor: str
    product: str
    name: str
    date_added: date
    due_date: date | None
    ransomware: str
    required_action: str
    notes: str
    cwes: tuple[str, ...]


@dataclass(frozen=True)
class KevCatalog:
    """CISA's Known Exploited Vulnerabilities catalog."""

    format: FeedFormat
    version: str
    released: datetime | None
    entries: tuple[KevEntry, ...]

    @cached_property
    def cve_ids(self) -> frozenset[str]:
        """Every CVE id in the catalog, upper case."""
        return frozenset(e.cve_id.upper() for e in self.entries)


Feed = OsvFeed | KevCatalog | SupplierVex


# -- Reading and telling the format ------------------------------------------------------------------


def read_feed(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Feed:
    """The vulnerability data in a file, whichever of the formats it is; FeedError for anything else."""
    kind, document = _load(data, limits)
    match kind:
        case FeedFormat.OSV_ZIP:
            return OsvFeed(kind, tuple(_osv_zip(data, limits)))
        case FeedFormat.OSV:
            return OsvFeed(kind, (read_osv(document),))
        case FeedFormat.OSV_LIST:
            return OsvFeed(kind, tuple(read_osv(item, f"record {n + 1}") for n, item in enumerate(document)))
        case FeedFormat.KEV:
            return read_kev(document)
        case FeedFormat.CSAF:
            return read_csaf(document)
        case _:
            return read_cyclonedx(document)


def detect_format(data: bytes, limits: Limits = DEFAULT_LIMITS) -> FeedFormat:
    """Which format a file is in, by its content; FeedError when it is none of them."""
    return _load(data, limits)[0]


def _load(data: bytes, limits: Limits) -> tuple[FeedFormat, Any]:
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if len(data) > limits.max_zip:
            raise FeedError(f"the zip file has {len(data)} bytes, more than the {limits.max_zip} accepted")
        return FeedFormat.OSV_ZIP, None
    if data.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"(\xb5/\xfd")):
        raise FeedError("the file is compressed: give the JSON file, or an OSV export as a zip")
    if len(data) > limits.max_json:
        raise FeedError(f"the file has {len(data)} bytes, more than the {limits.max_json} accepted for JSON")
    document = load_json(data, "the file")
    return classify(document), document


def classify(document: Any) -> FeedFormat:
    """The format of a parsed JSON document; FeedError when it is none of those read here."""
    if isinstance(document, list):
        if not document:
            raise FeedError("the file is an empty JSON list: no vulnerabilities in it")
        if all(isinstance(item, dict) and _looks_osv(item) for item in document):
            return FeedFormat.OSV_LIST
        raise FeedError("the file is a JSON list, but not of OSV records (each needs an id and modified)")
    if not isinstance(document, dict):
        raise FeedError("the file is JSON, but neither an object nor a list")
    if "bomFormat" in document:
        if document["bomFormat"] != "CycloneDX":
            raise FeedError('the file has a "bomFormat" that is not "CycloneDX"')
        if not document.get("vulnerabilities"):
            raise FeedError("the CycloneDX document lists no vulnerabilities: an SBOM, not a VEX")
        return FeedFormat.CYCLONEDX
    if isinstance(document.get("document"), dict) and "csaf_version" in document["document"]:
        return FeedFormat.CSAF
    if "catalogVersion" in document and "vulnerabilities" in document:
        return FeedFormat.KEV
    if _looks_osv(document):
        return FeedFormat.OSV
    if "openvex" in str(document.get("@context", "")):
        raise FeedError("an OpenVEX document is not read: import the supplier's CSAF or CycloneDX VEX instead")
    if "spdxVersion" in document:
        raise FeedError("an SPDX document holds no vulnerability statements")
    raise FeedError("not vulnerability data: none of OSV, the CISA KEV catalog, CSAF 2.0 or CycloneDX VEX")


def _looks_osv(document: Mapping[str, Any]) -> bool:
    return "id" in document and "modified" in document


# -- OSV -------------------------------------------------------------------------------------------

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
SCORE_TYPES = ("CVSS_V3", "CVSS_V4")  # CVSS_V2 and databases' own scales are not kept


def read_osv(document: Any, where: str = "the OSV record") -> OsvVulnerability:
    """One OSV record, from its parsed JSON."""
    if not isinstance(document, dict):
        raise FeedError(f"{where} is not a JSON object")
    where = f"OSV record {document['id']}" if isinstance(document.get("id"), str) and document["id"] else where
    modified = moment(document, "modified", where, required=True)
    assert modified is not None  # required
    cwes = strings(member(document, "database_specific", where), "cwe_ids", where)
    return OsvVulnerability(
        id=text(document, "id", where, required=True),
        modified=modified,
        aliases=strings(document, "aliases", where),
        summary=text(document, "summary", where),
        details=text(document, "details", where),
        published=moment(document, "published", where),
        withdrawn=moment(document, "withdrawn", where),
        cwe_ids=cwes,
        severity=_scores(document, where),
        affected=tuple(_affected(item, at) for item, at in objects(document, "affected", where)),
    )


def _scores(obj: Mapping[str, Any], where: str) -> tuple[Score, ...]:
    scores = ((text(s, "type", at), text(s, "score", at)) for s, at in objects(obj, "severity", where))
    return tuple(Score(kind, vector) for kind, vector in scores if kind in SCORE_TYPES and vector)


def _affected(item: Mapping[str, Any], where: str) -> OsvAffected:
    package = member(item, "package", where)
    ranges = []
    for found, at in objects(item, "ranges", where):
        events = []
        for event, place in objects(found, "events", at):
            if len(event) != 1 or next(iter(event)) not in EVENT_KINDS:
                raise FeedError(f"{place}: an event is one of {', '.join(EVENT_KINDS)}")
            kind, version = next(iter(event.items()))
            if not isinstance(version, str) or not version:
                raise FeedError(f"{place}: the {kind} version is not text")
            events.append(OsvEvent(kind, version))
        ranges.append(OsvRange(text(found, "type", at, required=True), tuple(events), text(found, "repo", at)))
    return OsvAffected(
        ecosystem=text(package, "ecosystem", where),
        name=text(package, "name", where),
        purl=text(package, "purl", where),
        ranges=tuple(ranges),
        versions=strings(item, "versions", where),
        severity=_scores(item, where),
    )


def _osv_zip(data: bytes, limits: Limits) -> Iterator[OsvVulnerability]:
    """Each record of an OSV export, reading no member past the limits whatever sizes the zip declares."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FeedError(f"the zip file cannot be read: {exc}") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise FeedError(f"the zip holds {len(members)} members, more than the {limits.max_members} accepted")
        total = 0
        for info in members:
            if info.is_dir() or not info.filename.lower().endswith(".json"):
                continue  # an export holds only records; a stray README or folder is not one
            if info.flag_bits & 0x1:
                raise FeedError(f"zip member {info.filename} is encrypted")
            try:
                with archive.open(info) as member:
                    content = member.read(limits.max_member + 1)
            except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError) as exc:
                raise FeedError(f"zip member {info.filename} cannot be read: {exc}") from None
            if len(content) > limits.max_member:
                raise FeedError(f"zip member {info.filename} inflates past {limits.max_member} bytes")
            total += len(content)
            if total > limits.max_total:
                raise FeedError(f"the zip inflates past {limits.max_total} bytes")
            record = load_json(content, f"zip member {info.filename}")
            if not isinstance(record, dict) or not _looks_osv(record):
                raise FeedError(f"zip member {info.filename} is not an OSV record (it needs an id and modified)")
            yield read_osv(record, f"zip member {info.filename}")


# -- CISA KEV --------------------------------------------------------------------------------------


def read_kev(document: Mapping[str, Any]) -> KevCatalog:
    """CISA's catalog, from its parsed JSON."""
    where = "the KEV catalog"
    entries = []
    for item, at in objects(document, "vulnerabilities", where):
        added = day(item, "dateAdded", at, required=True)
        assert added is not None  # required
        entries.append(
            KevEntry(
                cve_id=text(item, "cveID", at, required=True).strip().upper(),
                vendor=text(item, "vendorProject", at),
                product=text(item, "product", at),
                name=text(item, "vulnerabilityName", at),
                date_added=added,
                due_date=day(item, "dueDate", at),
                ransomware=text(item, "knownRansomwareCampaignUse", at),
                required_action=text(item, "requiredAction", at),
                notes=text(item, "notes", at),
                cwes=strings(item, "cwes", at),
            )
        )
    return KevCatalog(
        FeedFormat.KEV,
        text(document, "catalogVersion", where, required=True),
        moment(document, "dateReleased", where),
        tuple(entries),
    )
