"""A PSIRT case published as CSAF 2.0: the document built from the case and the store of VEX decisions, checked
against the schema and every mandatory test, previewed, and published as frozen, signed versions.

Only confirmed decisions are statements of the manufacturer: a case with an unconfirmed decision is not
published. Each publication is a new integer version of the document (its revision history is the earlier
publications, in order), stored as a blob with its OpenPGP signature when a key is configured, and recorded as
the case's DM-5 process record (docs/csaf.md, "Publishing").
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, authorize, permits
from ..blobs import record_blob, session_blobs
from ..errors import Conflict, Invalid, NotFound
from ..evidence.inputs import EvidenceInput, Upload
from ..evidence.links import known_requirement_refs
from ..evidence.services import create_evidence
from ..evidence.vocabulary import EvidenceKind
from ..installation import installation
from ..products.models import Product, Release
from ..products.rules import release_sort_key
from ..psirt.models import PsirtCase, PsirtRelease
from ..psirt.services import get_case
from ..sboms.diff import purl_identity
from ..sboms.models import Sbom, SbomComponent, SbomState
from . import advisory as csaf
from .directory import TLP_FOLDERS, WELL_KNOWN
from .models import CsafProfile, CsafPublication, VexDecision
from .openpgp import OpenPgpError, sign_detached, signing_key
from .product_tree import AdvisoryError, Library, ReleaseRef
from .product_tree import Release as CsafRelease
from .rules import Status
from .services import case_decisions
from .validity import Failure, check, file_name

PUBLISHED = (csaf.TrackingStatus.INTERIM, csaf.TrackingStatus.FINAL)
SUMMARY_MAX = 1000  # characters of a revision's summary
DISCLOSURE = "DM-5"  # IEC 62443-4-1: disclosing security-related issues


@dataclass(frozen=True)
class CsafDocument:
    """A case's CSAF document as it would be published now, with what keeps it from being published."""

    profile: CsafProfile
    tracking_id: str
    version: int
    file_name: str
    content: bytes
    failures: tuple[Failure, ...]  # the schema and mandatory tests it fails (none: valid)
    refusals: tuple[str, ...]  # what else keeps it from being published (unconfirmed decisions, an embargo...)
    left_out: int  # unconfirmed decisions not stated
    releases: list[str]  # the versions of the releases it states something of

    @property
    def problems(self) -> list[str]:
        """Everything that keeps it from being published, each in one line (none: it may be published)."""
        return [*self.refusals, *map(str, self.failures)]


def authorize_publish_csaf(actor: Principal, product_id: int) -> None:
    """Raise unless the actor may publish the product's CSAF documents (its security officers)."""
    authorize(actor, Permission.PSIRT_MANAGE, product_id)


def may_publish_csaf(actor: Principal, product_id: int) -> bool:
    """Whether the actor may publish the product's CSAF documents."""
    return permits(authorize_publish_csaf, actor, product_id)


def tracking_id(case: PsirtCase, profile: CsafProfile) -> str:
    """The document's id: the case's reference, and `-VEX` for its VEX document (one id per document)."""
    return case.reference if profile is CsafProfile.ADVISORY else f"{case.reference}-VEX"


def publisher(product: Product) -> csaf.Publisher:
    """The product's vendor as the CSAF publisher, its namespace the origin of the product's CVD policy URL."""
    parts = urlsplit(product.cvd_policy_url.strip())
    if not product.vendor.strip():
        raise Invalid.field(
            "vendor", f"{product.name} has no vendor: fill in the product's vendor (the documents' publisher)"
        )
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise Invalid.field(
            "cvd_policy_url",
            f"{product.name} has no CVD policy URL: fill in the product's CVD policy URL "
            "(its origin, https://host, is the publisher's namespace)",
        )
    return csaf.Publisher(
        name=product.vendor.strip(),
        namespace=f"{parts.scheme}://{parts.netloc}",
        contact_details=product.security_contact.strip(),
    )


def publications(session: Session, actor: Principal, case_id: int) -> list[CsafPublication]:
    """The case's published versions, by document and version."""
    case = get_case(session, actor, case_id)
    query = select(CsafPublication).where(CsafPublication.case_id == case.id)
    return list(session.scalars(query.order_by(CsafPublication.profile, CsafPublication.version)))


def get_publication(session: Session, actor: Principal, publication_id: int) -> CsafPublication:
    """One published version of a case the actor sees, else NotFound."""
    found = session.get(CsafPublication, publication_id)
    if found is None:
        raise NotFound("no such publication")
    get_case(session, actor, found.case_id)
    return found


def csaf_document(
    session: Session,
    actor: Principal,
    case_id: int,
    *,
    profile: CsafProfile,
    status: csaf.TrackingStatus = csaf.TrackingStatus.FINAL,
    tlp: str = csaf.Tlp.WHITE.value,
    summary: str = "",
    now: datetime | None = None,
) -> CsafDocument:
    """The case's document in `profile` as the next version would be published (at `now`; a preview without it);
    Invalid naming the rule for input CSAF cannot carry (a v4.0-only score, a TLP CSAF 2.0 lacks, ...)."""
    case = get_case(session, actor, case_id)
    # The case's own product's decisions: another product deciding on the same CVE states nothing of this case.
    decisions = [d for d in case_decisions(session, actor, case.id) if d.release.product_id == case.product_id]
    # A preview is dated by the newest change of what it states, so the same data gives the same bytes; a
    # publication by the moment it is published.
    when = now or max([case.updated_at, *(d.updated_at for d in decisions)])
    stated = [d for d in decisions if d.confirmed]
    earlier = _earlier(session, tracking_id(case, profile))
    version = len(earlier) + 1
    published = [csaf.Revision(p.version, p.published_at, p.summary) for p in earlier]
    # Dated at or after the versions before it: a revision history never goes back in time.
    latest = max([when, *(p.published_at for p in earlier)])
    revisions = (*published, csaf.Revision(version, latest, summary.strip() or "Initial version."))
    product = session.get(Product, case.product_id)
    assert product is not None  # a case's product is never deleted (RESTRICT)
    shipped = shipped_components(session, stated)
    try:
        document = csaf.build(
            csaf.Advisory(
                profile=csaf.Profile(profile.value),
                title=case.title,
                publisher=publisher(product),
                tracking=csaf.Tracking(tracking_id(case, profile), status, revisions),
                tlp=tlp,
                releases=_releases(session, product, stated),
                libraries=_libraries(product, stated, shipped),
                vulnerabilities=_vulnerabilities(case, product, stated, shipped),
                references=_references(session, product, tlp, file_name(tracking_id(case, profile)), revisions[0].date),
            )
        )
    except AdvisoryError as exc:
        raise Invalid.field("csaf", str(exc)) from None
    refusals = _refusals(session, case, decisions, stated, status, tlp, when)
    return CsafDocument(
        profile=profile,
        tracking_id=tracking_id(case, profile),
        version=version,
        file_name=file_name(tracking_id(case, profile)),
        content=csaf.serialise(document),
        failures=tuple(check(document)),
        refusals=tuple(refusals),
        left_out=len(decisions) - len(stated),
        releases=sorted({d.release.version for d in stated}),
    )


def publish_csaf(
    session: Session,
    actor: Principal,
    case_id: int,
    *,
    profile: CsafProfile,
    status: csaf.TrackingStatus,
    tlp: str,
    summary: str,
) -> CsafPublication:
    """Freeze the next version of the case's document: refused, naming each failed rule and test, unless it
    passes the schema and every mandatory test and nothing else keeps it back; signed when a key is set."""
    case = get_case(session, actor, case_id)
    authorize_publish_csaf(actor, case.product_id)
    if status not in PUBLISHED:
        raise Invalid.field("status", "publish as interim or final (a draft is what the preview shows)")
    if len(summary) > SUMMARY_MAX or any(c in summary for c in "\r\n\u2028\u2029"):
        raise Invalid.field("summary", f"one line of at most {SUMMARY_MAX} characters")
    now = installation(session).now()
    document = csaf_document(session, actor, case.id, profile=profile, status=status, tlp=tlp, summary=summary, now=now)
    if document.problems:
        raise Invalid.field("csaf", "not published: " + "; ".join(document.problems))
    signature = _signature(session, document.content)
    blobs = session_blobs(session)
    stored = record_blob(session, blobs.put(io.BytesIO(document.content)))
    signed = record_blob(session, blobs.put(io.BytesIO(signature))) if signature else None
    earlier = _earlier(session, document.tracking_id)
    publication = CsafPublication(
        case_id=case.id,
        product_id=case.product_id,
        profile=profile,
        tracking_id=document.tracking_id,
        version=document.version,
        status=status.value,
        tlp=tlp,
        file_name=document.file_name,
        sha256=stored.sha256,
        signature_sha256=signed.sha256 if signed else None,
        summary=summary.strip() or "Initial version.",
        initial_release_date=earlier[0].initial_release_date if earlier else now,
        published_at=max([now, *(p.published_at for p in earlier)]),
        published_by=actor.label[:400],
        evidence_id=_disclosure_record(session, actor, case, document, document.releases),
    )
    session.add(publication)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same version published by someone else a moment ago
        raise Conflict(f"{document.tracking_id} version {document.version} was just published; reload") from exc
    record(
        session,
        actor,
        "vex:csaf:publish",
        target_type="csaf_publication",
        target_id=publication.id,
        product_id=case.product_id,
        details={
            "case": case.reference,
            "tracking_id": document.tracking_id,
            "version": document.version,
            "status": status.value,
            "tlp": tlp,
            "sha256": stored.sha256,
            "signed": signed is not None,
        },
    )
    return publication


def publication_bytes(session: Session, publication: CsafPublication) -> bytes:
    """The published document's bytes, checked against their name."""
    with session_blobs(session).open_verified(publication.sha256) as handle:
        return handle.read()


def signature_bytes(session: Session, publication: CsafPublication) -> bytes | None:
    """The publication's OpenPGP signature (None: published unsigned)."""
    if publication.signature_sha256 is None:
        return None
    with session_blobs(session).open_verified(publication.signature_sha256) as handle:
        return handle.read()


# --- reading the case into the document's input ------------------------------------------------------------


def _earlier(session: Session, tracking: str) -> list[CsafPublication]:
    query = select(CsafPublication).where(CsafPublication.tracking_id == tracking)
    return list(session.scalars(query.order_by(CsafPublication.version)))


def release_identity(release: Release, product: Product, subject: dict[str, object] | None) -> CsafRelease:
    """The release as CSAF names it, with the purl and CPE its primary SBOM gives the product, where it does."""
    found = subject or {}
    purl, cpe = found.get("purl"), found.get("cpe")
    return CsafRelease(
        product=product.name,
        version=release.version,
        vendor=product.vendor.strip(),
        purl=purl if isinstance(purl, str) and purl_identity(purl) else "",
        cpe=cpe if isinstance(cpe, str) and cpe.startswith("cpe:") else "",
    )


def _releases(session: Session, product: Product, decisions: Sequence[VexDecision]) -> tuple[CsafRelease, ...]:
    releases = {d.release.id: d.release for d in decisions}
    subjects: dict[int, dict[str, object] | None] = dict(
        session.execute(
            select(Sbom.release_id, Sbom.subject).where(
                Sbom.release_id.in_(releases), Sbom.is_primary.is_(True), Sbom.state == SbomState.PUBLISHED
            )
        ).all()
    )
    return tuple(release_identity(r, product, subjects.get(r.id)) for r in releases.values())


@dataclass(frozen=True)
class Shipped:
    """A version of a component that a release's primary SBOM lists."""

    name: str
    version: str
    purl: str
    bom_ref: str


ShippedComponents = dict[tuple[int, str], list[Shipped]]  # (release id, purl identity) -> versions, in SBOM order


def shipped_components(session: Session, decisions: Sequence[VexDecision]) -> ShippedComponents:
    """What the releases' primary SBOMs list of each component their decisions name, in one statement (none when
    no decision names a component); a component nested twice in an SBOM is one component."""
    keys = {identity[1] for d in decisions if d.component_purl and (identity := purl_identity(d.component_purl))}
    releases = {d.release_id for d in decisions if d.component_purl}
    found: ShippedComponents = defaultdict(list)
    if not keys:
        return found
    rows = session.execute(
        select(
            Sbom.release_id,
            SbomComponent.purl_key,
            SbomComponent.name,
            SbomComponent.version,
            SbomComponent.purl,
            SbomComponent.bom_ref,
        )
        .join(Sbom, Sbom.id == SbomComponent.sbom_id)
        .where(Sbom.release_id.in_(releases), Sbom.is_primary.is_(True), Sbom.state == SbomState.PUBLISHED)
        .where(SbomComponent.purl_key.in_(sorted(keys)))
        .order_by(SbomComponent.position)
    )
    for release_id, key, name, version, purl, bom_ref in rows:
        versions = found[(release_id, key)]
        if all(known.purl != purl for known in versions):
            versions.append(Shipped(name, version, purl, bom_ref))
    return found


def shipped_versions(decision: VexDecision, shipped: ShippedComponents) -> list[Shipped]:
    """The versions of the decision's component that its release's primary SBOM lists (none: it lists none)."""
    identity = purl_identity(decision.component_purl)
    return shipped.get((decision.release_id, identity[1] if identity else ""), [])


def _component_purls(decision: VexDecision, shipped: ShippedComponents) -> list[str]:
    """The purls (with version, as the release's SBOM ships them) a component decision is about; the
    decision's own purl when the SBOM does not list the component."""
    return sorted(s.purl for s in shipped_versions(decision, shipped)) or [decision.component_purl]


def _libraries(product: Product, decisions: Sequence[VexDecision], shipped: ShippedComponents) -> tuple[Library, ...]:
    releases: dict[str, set[ReleaseRef]] = defaultdict(set)
    for decision in decisions:
        if decision.component_purl:
            for purl in _component_purls(decision, shipped):
                releases[purl].add(ReleaseRef(product.name, decision.release.version))
    return tuple(Library(purl, tuple(sorted(refs))) for purl, refs in sorted(releases.items()))


def _decisions(
    product: Product, decisions: Sequence[VexDecision], shipped: ShippedComponents
) -> tuple[csaf.Decision, ...]:
    found = []
    for decision in decisions:
        ref = ReleaseRef(product.name, decision.release.version)
        for component in _component_purls(decision, shipped) if decision.component_purl else [""]:
            found.append(
                csaf.Decision(
                    release=ref,
                    status=decision.status,
                    component=component,
                    justification=decision.justification,
                    impact=decision.impact,
                    action=decision.action,
                )
            )
    return tuple(found)


def _vendor_fixes(case: PsirtCase, decisions: Sequence[VexDecision]) -> tuple[csaf.Remediation, ...]:
    """A vendor fix for each affected release that a later release fixes (in release order: a fix in an older
    line, a backport, is no update for a newer affected release), naming the first such release."""
    order = {d.release.version: release_sort_key(d.release) for d in decisions}
    fixed = sorted({d.release.version for d in decisions if d.status is Status.FIXED}, key=order.__getitem__)
    affected = {d.release.version for d in decisions if d.status is Status.AFFECTED}
    by_fix: dict[str, list[ReleaseRef]] = defaultdict(list)
    for version in sorted(affected, key=order.__getitem__):
        later = next((f for f in fixed if order[f] > order[version]), None)
        if later is not None:
            by_fix[later].append(ReleaseRef(decisions[0].release.product.name, version))
    return tuple(
        csaf.Remediation(
            csaf.RemediationCategory.VENDOR_FIX, case.remediation.strip() or f"Update to {fix} or later.", tuple(refs)
        )
        for fix, refs in by_fix.items()
    )


def _vulnerabilities(
    case: PsirtCase, product: Product, decisions: Sequence[VexDecision], shipped: ShippedComponents
) -> tuple[csaf.Vulnerability, ...]:
    """One item per CVE of the case (CSAF 2.0 carries one CVE and one CWE per item), each with the case's
    decisions; a case without a CVE is one item named by its reference."""
    stated = _decisions(product, decisions, shipped)
    remediations = _vendor_fixes(case, decisions)

    def item(cve: str) -> csaf.Vulnerability:
        return csaf.Vulnerability(
            title=case.title,
            description=case.description.strip(),
            decisions=stated,
            cve=cve,
            ids=(csaf.VulnerabilityId(f"{product.vendor.strip()} PSIRT", case.reference),),
            cwe=case.cwe_ids[0] if case.cwe_ids else None,
            cvss_v31=case.cvss_v31,
            cvss_v40=case.cvss_v40,
            remediations=tuple(remediations),
            # Actively exploited: the case's Article 14 clock runs (aware_at), or a catalog (KEV) says so.
            known_exploited=case.aware_at is not None or any(d.vulnerability.known_exploited for d in decisions),
        )

    return tuple(item(cve) for cve in case.cve_ids) or (item(""),)


def _references(session: Session, product: Product, tlp: str, file: str, first: datetime) -> tuple[csaf.Reference, ...]:
    """The product's CVD policy, and the document's own URL in this tracker's provider directory when the
    tracker's public URL is set (the year folder is the year of its first publication)."""
    found = [
        csaf.Reference(product.cvd_policy_url.strip(), f"{product.vendor.strip()} vulnerability disclosure policy")
    ]
    base = installation(session).csaf.base_url
    if base and tlp in TLP_FOLDERS:
        url = f"{base}/{WELL_KNOWN}/{TLP_FOLDERS[tlp]}/{first.year:04d}/{file}"
        found.append(csaf.Reference(url, "This document", self_link=True))
    return tuple(found)


def _refusals(
    session: Session,
    case: PsirtCase,
    decisions: Sequence[VexDecision],
    stated: Sequence[VexDecision],
    status: csaf.TrackingStatus,
    tlp: str,
    when: datetime,
) -> list[str]:
    """What keeps the document from being published, besides the schema and the mandatory tests."""
    found = []
    if case.exercise:
        found.append(f"{case.reference} is an exercise: nothing of it is published")
    if not case.description.strip():
        found.append("the case has no description: CSAF wants a note saying what the vulnerability is (6.1.27.5)")
    unconfirmed = sorted({d.release.version for d in decisions if not d.confirmed})
    if unconfirmed:
        found.append(f"decisions awaiting an officer's confirmation in {', '.join(unconfirmed)}")
    if not stated:
        found.append("no confirmed VEX decision on the case: record one per affected, fixed or unaffected release")
    recorded = session.execute(
        select(Release.version, PsirtRelease.role)
        .join(PsirtRelease, PsirtRelease.release_id == Release.id)
        .where(PsirtRelease.case_id == case.id)
    ).all()
    decided = {d.release.version for d in stated}
    missing = sorted({f"{version} ({role})" for version, role in recorded if version not in decided})
    if missing:
        found.append(f"releases the case names without a confirmed decision: {', '.join(missing)}")
    if case.embargo_until is not None and case.under_embargo(when.date()) and tlp in ("WHITE", "GREEN"):
        found.append(
            f"the case is under embargo until {case.embargo_until.isoformat()}: TLP:{tlp} would disclose it; "
            "publish as TLP:AMBER or RED, or after the embargo"
        )
    return found


def _signature(session: Session, content: bytes) -> bytes | None:
    """The detached OpenPGP signature of the bytes with the configured key (None: no key is configured)."""
    setup = installation(session).csaf
    if setup.gnupg_home is None:
        return None
    try:
        return sign_detached(signing_key(setup.gnupg_home, setup.key_fingerprint), content)
    except OpenPgpError as exc:
        raise Invalid.field("signature", f"not published: the CSAF signing key cannot sign: {exc}") from None


def _disclosure_record(
    session: Session, actor: Principal, case: PsirtCase, document: CsafDocument, versions: list[str]
) -> int | None:
    """The published document as the case's DM-5 process record (none when the catalog edition lacks DM-5)."""
    product = session.get(Product, case.product_id)
    requirements = known_requirement_refs(session, product, [DISCLOSURE])
    if not requirements:
        return None
    evidence = create_evidence(
        session,
        actor,
        product_id=case.product_id,
        kind=EvidenceKind.PROCESS_RECORD.value,
        data=EvidenceInput(
            title=f"{case.reference}: CSAF {document.tracking_id} version {document.version} published ({DISCLOSURE})",
            description=f"The {document.profile.value} document of the PSIRT case {case.reference}, {case.title}.",
            effective_date=installation(session).now().date(),
            requirements=requirements,
            release_versions=versions or None,
            details={},
            files=[Upload(document.file_name, "application/json", io.BytesIO(document.content))],
        ),
        permission=Permission.PSIRT_MANAGE,
    )
    return evidence.id
