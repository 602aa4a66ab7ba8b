"""VEX decisions and vulnerabilities as the API, `--json` and the OpenAPI document give them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ..auth import Principal
from .models import DecisionOrigin, VexDecision, Vulnerability, VulnerabilitySource
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
