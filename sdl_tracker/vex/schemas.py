"""VEX decisions, vulnerabilities and CSAF documents as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ..auth import Principal
from .feeds import FeedFormat
from .importer import ImportResult
from .models import CsafProfile, CsafPublication, DecisionOrigin, VexDecision, Vulnerability, VulnerabilitySource
from .publishing import CsafDocument
from .queries import Affected, KnownVulnerability
from .rules import CdxJustification, Justification, Status
from .services import vulnerability_case


class VexDecisionOut(BaseModel):
    """A release's decision on one vulnerability in one component ('' : the product itself)."""

    id: int
    product_id: int
    release_id: int
    release: str = Field(description="the release's version")
    vulnerability: str = Field(description="CVE, GHSA, an OSV id, or a case's PSIRT-YYYY-NNNN")
    component: str = Field(description="the component's purl without version ('' : the product itself)")
    status: Status
    justification: Justification | None = Field(description="not affected: the CSAF and OpenVEX label")
    cdx_justification: CdxJustification | None = Field(description="not affected: CycloneDX's finer justification")
    impact: str
    action: str
    confirmed: bool = Field(description="false: carried forward, matched or a supplier's, until an officer confirms")
    origin: DecisionOrigin
    decided_by: str
    decided_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, decision: VexDecision) -> VexDecisionOut:
        """One decision."""
        return cls(
            id=decision.id,
            product_id=decision.release.product_id,
            release_id=decision.release_id,
            release=decision.release.version,
            vulnerability=decision.vulnerability.name,
            component=decision.component_purl,
            status=decision.status,
            justification=decision.justification,
            cdx_justification=decision.cdx_justification,
            impact=decision.impact,
            action=decision.action,
            confirmed=decision.confirmed,
            origin=decision.origin,
            decided_by=decision.decided_by,
            decided_at=decision.decided_at,
            updated_at=decision.updated_at,
        )


class VulnerabilityOut(BaseModel):
    """A vulnerability the tracker knows; its case's reference only for those who see the case's product."""

    name: str
    aliases: list[str]
    title: str
    description: str
    cwe_ids: list[int]
    cvss_v31: str
    cvss_v40: str
    known_exploited: bool
    kev_date_added: date | None
    source: VulnerabilitySource
    case: str | None = Field(description="the PSIRT case it is the vulnerability of (PSIRT-YYYY-NNNN)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def read(cls, session: Session, vulnerability: Vulnerability, actor: Principal) -> VulnerabilityOut:
        """One vulnerability as `actor` may see it."""
        case = vulnerability_case(session, actor, vulnerability)
        return cls(
            name=vulnerability.name,
            aliases=list(vulnerability.aliases),
            title=vulnerability.title,
            description=vulnerability.description,
            cwe_ids=list(vulnerability.cwe_ids),
            cvss_v31=vulnerability.cvss_v31,
            cvss_v40=vulnerability.cvss_v40,
            known_exploited=vulnerability.known_exploited,
            kev_date_added=vulnerability.kev_date_added,
            source=vulnerability.source,
            case=case.reference if case is not None else None,
            created_at=vulnerability.created_at,
            updated_at=vulnerability.updated_at,
        )


class CsafFailureOut(BaseModel):
    """A schema check or mandatory test (section 6.1) a CSAF document fails."""

    test: str = Field(description="`schema`, or the test's number such as 6.1.27.9")
    path: str = Field(description="JSON pointer to the failing part")
    message: str


class CsafPreviewOut(BaseModel):
    """A case's CSAF document as its next version would be published, and what keeps it from being published."""

    profile: CsafProfile
    tracking_id: str
    version: int
    file_name: str
    publishable: bool
    failures: list[CsafFailureOut]
    refusals: list[str] = Field(description="what else keeps it back: unconfirmed decisions, an embargo, ...")
    left_out: int = Field(description="unconfirmed decisions, not stated")
    document: dict[str, Any]

    @classmethod
    def of(cls, document: CsafDocument) -> CsafPreviewOut:
        """The preview of a built document."""
        return cls(
            profile=document.profile,
            tracking_id=document.tracking_id,
            version=document.version,
            file_name=document.file_name,
            publishable=not document.failures and not document.refusals,
            failures=[CsafFailureOut(test=f.test, path=f.path, message=f.message) for f in document.failures],
            refusals=list(document.refusals),
            left_out=document.left_out,
            document=json.loads(document.content),
        )


class CsafPublicationOut(BaseModel):
    """A published, frozen version of a case's CSAF document."""

    id: int
    profile: CsafProfile
    tracking_id: str
    version: int
    status: str
    tlp: str
    file_name: str
    sha256: str
    signed: bool
    summary: str
    initial_release_date: datetime
    published_at: datetime
    published_by: str
    evidence_id: int | None = Field(description="the DM-5 process record it is")

    @classmethod
    def of(cls, publication: CsafPublication) -> CsafPublicationOut:
        """One publication."""
        return cls(
            id=publication.id,
            profile=publication.profile,
            tracking_id=publication.tracking_id,
            version=publication.version,
            status=publication.status,
            tlp=publication.tlp,
            file_name=publication.file_name,
            sha256=publication.sha256,
            signed=publication.signature_sha256 is not None,
            summary=publication.summary,
            initial_release_date=publication.initial_release_date,
            published_at=publication.published_at,
            published_by=publication.published_by,
            evidence_id=publication.evidence_id,
        )


class StatusCountsOut(BaseModel):
    """How many releases stand where on a vulnerability (each release counted once, by its worst decision)."""

    affected: int
    under_investigation: int
    fixed: int
    not_affected: int

    @classmethod
    def of(cls, counts: Mapping[Status, int]) -> StatusCountsOut:
        """The counts by status."""
        return cls(**{status.value: counts.get(status, 0) for status in Status})


class ListedOut(BaseModel):
    """Something an import reported rather than wrote: an undecidable match, a statement it could not use."""

    vulnerability: str
    product: str = Field(description="the product's name ('' when no release is concerned)")
    release: str = Field(description="the release's version ('' when no release is concerned)")
    component: str = Field(description="purl identity@version, or the product as the document names it")
    reason: str


class ImportResultOut(BaseModel):
    """What importing one vulnerability file did (lists hold the first 100; the counts are complete)."""

    file: str
    sha256: str
    format: FeedFormat
    records: int = Field(description="OSV records, KEV entries or supplier statements in the file")
    vulnerabilities_created: int
    vulnerabilities_updated: int
    decisions_proposed: int = Field(description="made or changed: under investigation, or the supplier's statement")
    decisions_unchanged: int = Field(description="the same proposal stood already")
    skipped: int = Field(description="an officer's (confirmed) or carried-forward decision stands and was kept")
    retracted: int = Field(description="unconfirmed matches of records the file withdraws, deleted")
    undecidable: int = Field(description="release, vulnerability and component whose version cannot be compared")
    known_exploited: int = Field(description="vulnerabilities of the file that are known exploited")
    unused: int = Field(description="supplier statements naming no purl, or that no decision could carry")
    warnings: list[str]
    undecidable_matches: list[ListedOut]
    unused_statements: list[ListedOut]

    @classmethod
    def of(cls, result: ImportResult) -> ImportResultOut:
        """One import's result."""
        return cls.model_validate(asdict(result))


class ReleaseStandingOut(BaseModel):
    """A release's decisions on a vulnerability and where they leave it."""

    product_id: int
    product: str
    release_id: int
    release: str
    status: Status = Field(description="the worst of its decisions: affected, under investigation, fixed, not affected")
    confirmed: bool = Field(description="whether an officer stands by every one of its decisions")
    decisions: list[VexDecisionOut]


class StandingGroupOut(BaseModel):
    """The releases that stand one way on the vulnerability."""

    status: Status
    releases: list[ReleaseStandingOut]


class AffectedOut(BaseModel):
    """Which of the caller's releases a vulnerability affects, grouped by status (worst first)."""

    vulnerability: VulnerabilityOut
    related: list[str] = Field(description="other vulnerabilities that are this one by an alias")
    known_exploited: bool
    kev_date_added: date | None
    exposed: bool = Field(description="some release is affected or under investigation")
    releases: StatusCountsOut
    groups: list[StandingGroupOut]

    @classmethod
    def read(cls, session: Session, affected: Affected, actor: Principal) -> AffectedOut:
        """The answer as `actor` may see it."""
        return cls(
            vulnerability=VulnerabilityOut.read(session, affected.vulnerability, actor),
            related=[v.name for v in affected.related],
            known_exploited=affected.known_exploited,
            kev_date_added=affected.kev_date_added,
            exposed=affected.exposed,
            releases=StatusCountsOut.of({status: len(group) for status, group in affected.groups.items()}),
            groups=[
                StandingGroupOut(
                    status=status,
                    releases=[
                        ReleaseStandingOut(
                            product_id=s.release.product_id,
                            product=s.release.product.name,
                            release_id=s.release.id,
                            release=s.release.version,
                            status=s.status,
                            confirmed=s.confirmed,
                            decisions=[VexDecisionOut.of(d) for d in s.decisions],
                        )
                        for s in group
                    ],
                )
                for status, group in affected.groups.items()
            ],
        )


class KnownVulnerabilityOut(BaseModel):
    """A vulnerability the tracker knows, and how many of the caller's releases stand where on it."""

    name: str
    aliases: list[str]
    title: str
    known_exploited: bool
    kev_date_added: date | None
    source: VulnerabilitySource
    releases: StatusCountsOut

    @classmethod
    def of(cls, known: KnownVulnerability) -> KnownVulnerabilityOut:
        """One row of the list."""
        v = known.vulnerability
        return cls(
            name=v.name,
            aliases=list(v.aliases),
            title=v.title,
            known_exploited=v.known_exploited,
            kev_date_added=v.kev_date_added,
            source=v.source,
            releases=StatusCountsOut.of(known.releases),
        )
