"""Submission packets of a case: its recorded facts read into the pure packet decision (psirt/packets.py).

Reading a packet is a read like reading the case (anyone who sees the case); it writes nothing and is not audited.
The reporter's contact never reaches a packet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..auth import Principal
from ..errors import Invalid
from .models import CaseKind, PsirtCase
from .packets import Packet, PacketError, PacketFacts, PacketRequest, PacketSubmission, build_packet
from .rules import RecordKind
from .services import (
    INCIDENT_CRITERIA,
    case_clocks,
    case_components,
    case_intermediate_requests,
    case_releases,
    case_submissions,
    get_case,
    product_of,
    settings_of,
)


def submission_packet(
    session: Session, actor: Principal, case_id: int, stage: str, now: datetime | None = None
) -> Packet:
    """What the case's report of `stage` states and still lacks, for the officer to enter on the Single Reporting
    Platform; Invalid (on "stage") for a stage the case runs no clock for."""
    case = get_case(session, actor, case_id)
    try:
        return build_packet(packet_facts(session, case, now), stage)
    except PacketError as exc:
        raise Invalid.field("stage", str(exc)) from None


def packet_facts(session: Session, case: PsirtCase, now: datetime | None = None) -> PacketFacts:
    """The facts a packet of the case may state, read from the session."""
    product = product_of(session, case)
    settings = settings_of(session, case.product_id)
    releases = case_releases(session, case)
    return PacketFacts(
        reference=case.reference,
        kind=RecordKind.INCIDENT if case.kind is CaseKind.INCIDENT else RecordKind.VULNERABILITY,
        title=case.title,
        product=product.name,
        aware_at=case.aware_at,
        exercise=case.exercise,
        status=case.status.value,
        manufacturer=product.vendor,
        csirt=settings.csirt if settings else "",
        member_states=tuple(settings.member_states) if settings else (),
        description=case.description,
        impact=case.impact,
        sensitivity=case.sensitivity,
        malicious_actor=case.malicious_actor,
        root_cause=case.root_cause,
        remediation=case.remediation,
        mitigation=case.mitigation,
        measure_available_at=case.measure_available_at,
        malicious_suspected=case.malicious_suspected,
        incident_criteria=tuple(INCIDENT_CRITERIA.get(c, c) for c in case.incident_criteria),
        cve_ids=tuple(case.cve_ids),
        cwe_ids=tuple(case.cwe_ids),
        cvss_v31=case.cvss_v31,
        cvss_v40=case.cvss_v40,
        severity_score=case.severity_score,
        embargo_until=case.embargo_until,
        affected=tuple(r.version for r in releases["affected"]),
        fixed_in=tuple(r.version for r in releases["fixed"]),
        components=tuple(case_components(session, case)),
        upstream_component=case.upstream_component,
        clocks=case_clocks(session, case, now),
        submissions=tuple(
            PacketSubmission(s.submitted_at, tuple(s.stages), s.reference) for s in case_submissions(session, case)
        ),
        requests=tuple(
            PacketRequest(r.requested_at, r.due_at, r.reference) for r in case_intermediate_requests(session, case)
        ),
    )
