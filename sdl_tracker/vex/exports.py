"""A release's VEX from the decision store: CycloneDX 1.6, OpenVEX 0.2.0 or a CSAF 2.0 `csaf_vex` document.

Only **confirmed** decisions are published as statements: a carried-forward, matched or supplier's decision is a
proposal nobody has yet stood by for this release, not the manufacturer's statement; how many were left out is
returned with the document. The publisher is the product's vendor, its namespace the origin of the product's CVD
policy URL; the document's time is the newest exported decision's and its version 1, so the same decisions give
the same bytes. The release's purl and bom-ref come from its primary SBOM's subject, a component's versions from
the rows of that SBOM with the decision's purl identity. Everything is read in a fixed number of statements, then
built by the pure builders (`statements`, `advisory`) and, for CSAF, checked by `validity.check`.
docs/vex.md, "Exporting a release's VEX".
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from packageurl import PackageURL
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import Principal
from ..db import utcnow
from ..errors import Invalid
from ..products.models import Product, Release
from ..products.services import get_release
from ..psirt.models import PsirtCase
from ..psirt.vocabulary import VocabularyError, parse_cve
from ..sboms.models import Sbom, SbomState
from . import advisory as csaf
from . import statements as st
from . import validity
from .models import VexDecision, Vulnerability
from .product_tree import Release as CsafRelease
from .publishing import ShippedComponents, publisher, release_identity, shipped_components, shipped_versions
from .services import CASE_PREFIX, list_decisions

# Not a publication: generated from the current decisions on request, with no revision history (docs/vex.md).
DOCUMENT_VERSION = 1
OSV_URL = "https://osv.dev/vulnerability/"
MAX_TLP = 20  # characters of a TLP label as given (`TLP:AMBER+STRICT` is the longest there is)
REVISION_SUMMARY = "Generated from the manufacturer's confirmed VEX decisions."


class VexFormat(enum.StrEnum):
    """The formats a release's VEX is exported in."""

    CYCLONEDX = "cyclonedx"
    OPENVEX = "openvex"
    CSAF = "csaf"


# CycloneDX's registered type (with the specification version, as the SBOM export gives it); OpenVEX and CSAF
# register none of their own and are JSON.
MEDIA_TYPES = {
    VexFormat.CYCLONEDX: f"application/vnd.cyclonedx+json; version={st.CYCLONEDX_VERSION}",
    VexFormat.OPENVEX: "application/json",
    VexFormat.CSAF: "application/json",
}
FORMAT_LABELS = {
    VexFormat.CYCLONEDX: f"CycloneDX {st.CYCLONEDX_VERSION} VEX",
    VexFormat.OPENVEX: "OpenVEX 0.2.0",
    VexFormat.CSAF: "CSAF 2.0 VEX",
}


@dataclass(frozen=True)
class ExportedVex:
    """A release's VEX document: its bytes, type and file name, how many decisions it states and left out."""

    data: bytes
    media_type: str
    filename: str
    format: VexFormat
    statements: int  # the confirmed decisions it states
    left_out: int  # the decisions it does not: unconfirmed, or on an embargoed or exercise case


@dataclass(frozen=True)
class ExportStanding:
    """What an export of a release would state, and why it would be refused ('' : it would not)."""

    statements: int
    left_out: int
    refusal: str


@dataclass(frozen=True)
class _Source:
    """Everything a document is built from, read from the store."""

    product: Product
    release: Release
    decisions: list[VexDecision]  # confirmed, in the store's order
    left_out: int
    publisher: csaf.Publisher
    identity: CsafRelease  # the release as CSAF names it, with the purl and CPE its primary SBOM gives it
    bom_ref: str  # the primary SBOM subject's bom-ref ('' : none)
    shipped: ShippedComponents  # what the primary SBOM lists of the components the decisions name

    @property
    def timestamp(self) -> datetime:
        """The document's time: the newest decision's, so the same decisions give the same document."""
        return max(decision.decided_at for decision in self.decisions).astimezone(UTC)


# --- refusals ---------------------------------------------------------------------------------------------------


def _refusal(product: Product, release: Release, statements: int, left_out: int) -> Invalid | None:
    """Why the release's VEX cannot be exported: no publisher (`publishing.publisher` names the product field to
    fill), or nothing to state."""
    try:
        publisher(product)
    except Invalid as exc:
        return exc
    if not statements:
        held = f" ({left_out} unconfirmed, or about an embargoed case or an exercise)" if left_out else ""
        return Invalid.field(
            "decisions", f"{product.name} {release.version} has no confirmed VEX decision to state{held}"
        )
    return None


def _withheld(session: Session, decisions: Sequence[VexDecision]) -> set[int]:
    """The ids of the decisions no export states although confirmed: those on the vulnerability of a case under
    embargo (its facts are not to be disclosed yet) or of an exercise (which counts for nothing)."""
    # Read even when no decision names a case: as many statements for any decisions (tests/vex/test_exports.py).
    case_ids = {d.vulnerability.case_id for d in decisions if d.vulnerability.case_id is not None}
    today = utcnow().date()
    held = {
        case.id
        for case in session.scalars(select(PsirtCase).where(PsirtCase.id.in_(case_ids)))
        if case.exercise or case.under_embargo(today)
    }
    return {d.id for d in decisions if d.vulnerability.case_id in held}


def _stated(session: Session, decisions: Sequence[VexDecision]) -> list[VexDecision]:
    withheld = _withheld(session, decisions)
    return [d for d in decisions if d.confirmed and d.id not in withheld]


def export_standing(session: Session, actor: Principal, release_id: int) -> ExportStanding:
    """How many decisions an export of the release states and leaves out, and why it is refused, if it is."""
    release = get_release(session, actor, release_id)
    decisions = list_decisions(session, actor, release.id)
    stated = len(_stated(session, decisions))
    refused = _refusal(release.product, release, stated, len(decisions) - stated)
    return ExportStanding(stated, len(decisions) - stated, refused.message if refused else "")


def vex_format(text: str) -> VexFormat:
    """The format named, else Invalid naming the field `format`."""
    try:
        return VexFormat(text.strip().lower())
    except ValueError:
        raise Invalid.field("format", f"format is one of {', '.join(f.value for f in VexFormat)}") from None


# --- reading ----------------------------------------------------------------------------------------------------


def _read(session: Session, actor: Principal, release_id: int) -> _Source:
    """The release, its product, its decisions and what its primary SBOM says of them: five statements at most."""
    release = get_release(session, actor, release_id)
    decisions = list_decisions(session, actor, release.id)
    confirmed = _stated(session, decisions)
    product = release.product
    refused = _refusal(product, release, len(confirmed), len(decisions) - len(confirmed))
    if refused is not None:
        raise refused
    primary = session.execute(
        select(Sbom.id, Sbom.subject).where(
            Sbom.release_id == release.id, Sbom.is_primary.is_(True), Sbom.state == SbomState.PUBLISHED
        )
    ).first()
    shipped = shipped_components(session, confirmed) if primary is not None else {}
    subject = dict(primary.subject or {}) if primary is not None else {}
    return _Source(
        product=product,
        release=release,
        decisions=confirmed,
        left_out=len(decisions) - len(confirmed),
        publisher=publisher(product),
        identity=release_identity(release, product, subject),
        bom_ref=str(subject.get("bom_ref") or ""),
        shipped=shipped,
    )


def _purl_name(purl: str) -> str:
    """`namespace/name` of a purl, as a component is named when no SBOM row names it."""
    parsed = PackageURL.from_string(purl)
    return "/".join(filter(None, [parsed.namespace, parsed.name]))


def _is_cve(name: str) -> bool:
    try:
        return parse_cve(name) == name
    except VocabularyError:
        return False


def _public_url(identifier: str) -> tuple[str, str] | None:
    """Who publishes an identifier, and its page there: NVD, GitHub, else OSV; None for a case of ours."""
    if identifier.startswith(CASE_PREFIX):
        return None
    for prefix, (name, base) in st.KNOWN_SOURCES.items():
        if identifier.upper().startswith(prefix):
            return name, base + identifier
    return "OSV", OSV_URL + identifier


# --- CycloneDX and OpenVEX --------------------------------------------------------------------------------------


def _vulnerability(vulnerability: Vulnerability) -> st.Vulnerability:
    """A stored vulnerability as the CycloneDX and OpenVEX builders take it."""
    known = _public_url(vulnerability.name)
    osv = known is not None and known[0] == "OSV"  # statements names NVD, GitHub and the publisher itself
    return st.Vulnerability(
        id=vulnerability.name,
        aliases=tuple(vulnerability.aliases),
        description=vulnerability.description,
        cwes=tuple(vulnerability.cwe_ids),
        cvss_v31=vulnerability.cvss_v31,
        cvss_v40=vulnerability.cvss_v40,
        known_exploited=vulnerability.known_exploited,
        source=st.Source(*known) if known is not None and osv else None,
    )


def _components(source: _Source, decision: VexDecision) -> list[st.Component | None]:
    """What a decision is about: the product itself, each version of the component the SBOM lists, or the
    component by its purl alone (one the release does not ship, or a release without an SBOM)."""
    if not decision.component_purl:
        return [None]
    shipped = shipped_versions(decision, source.shipped)
    if shipped:
        return [st.Component(row.name, row.version, row.purl, row.bom_ref) for row in shipped]
    return [st.Component(_purl_name(decision.component_purl), "", decision.component_purl)]


def _statements(source: _Source) -> list[st.Statement]:
    """One statement per decision and component version."""
    vulnerabilities: dict[int, st.Vulnerability] = {}
    result = []
    for decision in source.decisions:
        vulnerability = vulnerabilities.get(decision.vulnerability_id) or _vulnerability(decision.vulnerability)
        vulnerabilities[decision.vulnerability_id] = vulnerability
        stated = st.Decision(
            status=decision.status,
            decided_at=decision.decided_at,
            justification=decision.justification,
            cdx_justification=decision.cdx_justification,
            impact=decision.impact,
            action=decision.action,
        )
        result += [st.Statement(vulnerability, component, stated) for component in _components(source, decision)]
    return result


def _release(source: _Source) -> st.Release:
    """The release as the CycloneDX and OpenVEX builders take it, published by its vendor."""
    product, release, identity = source.product, source.release, source.identity
    contact = source.publisher.contact_details.removeprefix("mailto:")
    return st.Release(
        vendor=identity.vendor,
        product=product.name,
        version=release.version,
        bom_ref=source.bom_ref or f"{product.name}@{release.version}",
        publisher=st.Publisher(
            name=source.publisher.name,
            namespace=source.publisher.namespace,
            contact=contact if "@" in contact and "/" not in contact else "",  # an e-mail address, not a URL
        ),
        timestamp=source.timestamp,
        purl=identity.purl or None,
        cpe=identity.cpe or None,
        component_type=product.component_type.value,
        document_version=DOCUMENT_VERSION,
    )


# --- CSAF -------------------------------------------------------------------------------------------------------


def tracking_id(product: str, version: str) -> str:
    """The CSAF tracking id of a release's VEX: `VEX-<product>-<version>`, one per release and stable."""
    return f"VEX-{product}-{version}"


def _system(identifier: str, vendor: str) -> str:
    """The numbering system an identifier other than the item's CVE belongs to (`/vulnerabilities[]/ids`)."""
    if identifier.startswith(CASE_PREFIX):
        return f"{vendor} PSIRT"
    if _is_cve(identifier):
        return "CVE"
    return "GitHub Security Advisories" if identifier.upper().startswith("GHSA-") else "OSV"


def _cves(vulnerabilities: Iterable[Vulnerability]) -> dict[int, str]:
    """The CVE each vulnerability item carries: its name if a CVE, else its only CVE alias that no other item
    carries (CSAF has one item per CVE); the other ids go to `ids`."""
    ordered = sorted(vulnerabilities, key=lambda v: v.name)
    taken = {v.name for v in ordered if _is_cve(v.name)}
    chosen = {v.id: v.name for v in ordered if _is_cve(v.name)}
    for vulnerability in ordered:
        aliases = [alias for alias in vulnerability.aliases if _is_cve(alias)]
        if vulnerability.id not in chosen and len(aliases) == 1 and aliases[0] not in taken:
            chosen[vulnerability.id] = aliases[0]
            taken.add(aliases[0])
    return chosen


def _csaf_vulnerability(
    vulnerability: Vulnerability, cve: str, decisions: Sequence[csaf.Decision], vendor: str
) -> csaf.Vulnerability:
    """A vulnerability item: its ids, what is known of it, and the decisions on it."""
    others = sorted({vulnerability.name, *vulnerability.aliases} - {cve})
    references = tuple(
        csaf.Reference(url, f"{identifier} at {name}")
        for identifier in sorted({vulnerability.name, *vulnerability.aliases})
        if (found := _public_url(identifier)) is not None
        for name, url in [found]
    )
    notes: tuple[csaf.Note, ...] = ()
    if vulnerability.cvss_v40:  # CSAF 2.0 carries CVSS v2 and v3 scores only: the vector is kept in words
        text = f"CVSS v4.0 vector: {vulnerability.cvss_v40}"
        notes = (csaf.Note(csaf.NoteCategory.OTHER, text, "CVSS v4.0"),)
    return csaf.Vulnerability(
        title=vulnerability.title or vulnerability.name,
        description=vulnerability.description or vulnerability.title or vulnerability.name,
        decisions=tuple(decisions),
        cve=cve,
        ids=tuple(csaf.VulnerabilityId(_system(identifier, vendor), identifier) for identifier in others),
        cwe=vulnerability.cwe_ids[0] if vulnerability.cwe_ids else None,
        cvss_v31=vulnerability.cvss_v31,
        notes=notes,
        references=references,
        known_exploited=vulnerability.known_exploited,
    )


def _advisory(source: _Source, tlp: str) -> csaf.Advisory:
    """The release's VEX as the CSAF builder takes it: the release, the libraries its decisions name (each
    `default_component_of` the release), and one vulnerability item per vulnerability decided on."""
    product, release = source.product, source.release
    ref = csaf.ReleaseRef(product.name, release.version)
    libraries: dict[str, csaf.Library] = {}
    decided: dict[int, list[csaf.Decision]] = defaultdict(list)
    stored: dict[int, Vulnerability] = {}
    for decision in source.decisions:
        stored[decision.vulnerability_id] = decision.vulnerability
        for component in _components(source, decision):
            purl = (component.purl or "") if component is not None else ""
            if purl:
                libraries[purl] = csaf.Library(purl, (ref,))
            decided[decision.vulnerability_id].append(
                csaf.Decision(ref, decision.status, purl, decision.justification, decision.impact, decision.action)
            )
    cves = _cves(stored.values())
    vulnerabilities = tuple(
        _csaf_vulnerability(stored[key], cves.get(key, ""), decided[key], source.publisher.name)
        for key in sorted(stored)
    )
    summary = (
        f"Whether {source.publisher.name} {product.name} {release.version} is affected by each vulnerability below, "
        "in the product itself or in a component it ships: the manufacturer's confirmed VEX decisions. Generated "
        "from the current decisions, this document changes when they do."
    )
    return csaf.Advisory(
        profile=csaf.Profile.VEX,
        title=f"{product.name} {release.version}: VEX",
        publisher=source.publisher,
        tracking=csaf.Tracking(
            tracking_id(product.name, release.version),
            # Not frozen: the same version 1 changes with the decisions, which a final document may not.
            csaf.TrackingStatus.INTERIM,
            (csaf.Revision(DOCUMENT_VERSION, source.timestamp, REVISION_SUMMARY),),
        ),
        tlp=tlp,
        releases=(source.identity,),
        vulnerabilities=vulnerabilities,
        libraries=tuple(libraries[purl] for purl in sorted(libraries)),
        notes=(csaf.Note(csaf.NoteCategory.SUMMARY, summary, "Summary"),),
    )


def _csaf(source: _Source, tlp: str) -> bytes:
    """The CSAF VEX document's bytes, once it passes the schema and every mandatory test."""
    document = csaf.build(_advisory(source, tlp))
    failures = validity.check(document)
    if failures:  # a bug here, never the officer's input: named test by test
        raise Invalid(f"the CSAF VEX document fails {'; '.join(str(failure) for failure in failures)}")
    return csaf.serialise(document)


# --- the export -------------------------------------------------------------------------------------------------


def release_vex(
    session: Session, actor: Principal, release_id: int, *, format: str, tlp: str | None = None
) -> ExportedVex:
    """The release's confirmed VEX decisions as a document in `format` (cyclonedx, openvex, csaf), validated;
    whoever may read the release may export it. `tlp` labels a CSAF document (WHITE unless given)."""
    get_release(session, actor, release_id)  # another product's release is not found, whatever else is asked
    chosen = vex_format(format)
    if tlp is not None and chosen is not VexFormat.CSAF:
        raise Invalid.field("tlp", "a TLP label is given to a CSAF document only")
    if tlp is not None and len(tlp) > MAX_TLP:  # the builder names a bad label: not one of any length
        raise Invalid.field("tlp", "TLP is WHITE, GREEN, AMBER or RED")
    source = _read(session, actor, release_id)
    if chosen is VexFormat.OPENVEX and not source.identity.purl and not source.identity.cpe:
        raise Invalid.field(
            "purl",
            f"OpenVEX names a release by purl or CPE, and {source.product.name} {source.release.version} has neither: "
            "import a primary SBOM whose subject (metadata.component) has a purl",
        )
    base = f"{source.product.name}-{source.release.version}".replace("/", "_")
    try:
        if chosen is VexFormat.CSAF:
            data = _csaf(source, tlp or csaf.Tlp.WHITE.value)
            filename = validity.file_name(tracking_id(source.product.name, source.release.version))
        elif chosen is VexFormat.OPENVEX:
            data, filename = st.serialise(st.openvex(_release(source), _statements(source))), f"{base}.openvex.json"
        else:
            data = st.serialise(st.cyclonedx_vex(_release(source), _statements(source)))
            filename = f"{base}.vex.cdx.json"
    except (st.VexError, csaf.AdvisoryError) as exc:
        raise Invalid(f"{FORMAT_LABELS[chosen]}: {exc}") from None
    return ExportedVex(data, MEDIA_TYPES[chosen], filename, chosen, len(source.decisions), source.left_out)
