"""PSIRT cases and their clocks as the API and `--json` give them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from ..audit.models import AuditEvent
from ..audit.rules import detail_rows
from ..auth import Principal
from .models import PsirtCase, PsirtIntermediateRequest, PsirtSettings, PsirtSubmission
from .rules import Clock
from .services import (
    DueClock,
    case_clocks,
    case_components,
    case_intermediate_requests,
    case_releases,
    case_submissions,
    may_manage_cases,
    releases_with_components,
)


class ClockOut(BaseModel):
    """One Article 14 clock: its due time (null: not yet defined), state, and how it was read."""

    stage: str
    label: str
    due_at: datetime | None
    state: str
    submitted_at: datetime | None
    breached_at: datetime | None
    anchor: datetime | None
    reading: str

    @classmethod
    def of(cls, clock: Clock) -> ClockOut:
        """One clock."""
        return cls(**{**clock.__dict__, "state": clock.state.value})


class SubmissionOut(BaseModel):
    """A recorded submission to the Single Reporting Platform."""

    id: int
    submitted_at: datetime
    stages: list[str]
    reference: str
    note: str
    recorded_by: str

    @classmethod
    def of(cls, submission: PsirtSubmission) -> SubmissionOut:
        """One submission."""
        return cls(
            id=submission.id,
            submitted_at=submission.submitted_at,
            stages=list(submission.stages),
            reference=submission.reference,
            note=submission.note,
            recorded_by=submission.recorded_by,
        )


class IntermediateRequestOut(BaseModel):
    """An intermediate report the CSIRT asked for."""

    id: int
    requested_at: datetime
    due_at: datetime
    reference: str

    @classmethod
    def of(cls, request: PsirtIntermediateRequest) -> IntermediateRequestOut:
        """One request."""
        return cls(id=request.id, requested_at=request.requested_at, due_at=request.due_at, reference=request.reference)


class CaseOut(BaseModel):
    """A case as lists show it; the reporter's contact only for the product's security officers (else null)."""

    id: int
    reference: str
    product_id: int
    kind: str
    title: str
    source: str
    status: str
    status_reason: str
    received_at: datetime
    aware_at: datetime | None
    measure_available_at: datetime | None
    severity_score: float | None
    cve_ids: list[str]
    cwe_ids: list[int]
    embargo_until: date | None
    exercise: bool
    reporter_contact: str | None

    @classmethod
    def of(cls, case: PsirtCase, actor: Principal) -> CaseOut:
        """One case, its contact shown only to whoever may manage it."""
        return cls(**_case_fields(case, actor))


def _case_fields(case: PsirtCase, actor: Principal) -> dict[str, Any]:
    return {
        "id": case.id,
        "reference": case.reference,
        "product_id": case.product_id,
        "kind": case.kind.value,
        "title": case.title,
        "source": case.source.value,
        "status": case.status.value,
        "status_reason": case.status_reason,
        "received_at": case.received_at,
        "aware_at": case.aware_at,
        "measure_available_at": case.measure_available_at,
        "severity_score": case.severity_score,
        "cve_ids": list(case.cve_ids),
        "cwe_ids": list(case.cwe_ids),
        "embargo_until": case.embargo_until,
        "exercise": case.exercise,
        "reporter_contact": case.reporter_contact if may_manage_cases(actor, case.product_id) else None,
    }


class CaseDetailOut(CaseOut):
    """A case with everything recorded about it and its clocks now."""

    description: str
    cvss_v31: str
    cvss_v40: str
    remediation: str
    mitigation: str
    impact: str
    sensitivity: str
    malicious_actor: str
    root_cause: str
    incident_criteria: list[str]
    malicious_suspected: bool | None
    upstream_component: str
    maintainer_reported_at: datetime | None
    maintainer_reference: str
    users_informed_at: datetime | None
    users_information: str
    duplicate_of_id: int | None
    affected: list[str]
    fixed_in: list[str]
    components: list[str]
    releases_with_components: dict[str, list[str]]
    submissions: list[SubmissionOut]
    intermediate_requests: list[IntermediateRequestOut]
    clocks: list[ClockOut]

    @classmethod
    def read(cls, session: Session, case: PsirtCase, actor: Principal) -> CaseDetailOut:
        """One case in full, read from the session."""
        releases = case_releases(session, case)
        return cls(
            **_case_fields(case, actor),
            description=case.description,
            cvss_v31=case.cvss_v31,
            cvss_v40=case.cvss_v40,
            remediation=case.remediation,
            mitigation=case.mitigation,
            impact=case.impact,
            sensitivity=case.sensitivity,
            malicious_actor=case.malicious_actor,
            root_cause=case.root_cause,
            incident_criteria=list(case.incident_criteria),
            malicious_suspected=case.malicious_suspected,
            upstream_component=case.upstream_component,
            maintainer_reported_at=case.maintainer_reported_at,
            maintainer_reference=case.maintainer_reference,
            users_informed_at=case.users_informed_at,
            users_information=case.users_information,
            duplicate_of_id=case.duplicate_of_id,
            affected=[r.version for r in releases["affected"]],
            fixed_in=[r.version for r in releases["fixed"]],
            components=case_components(session, case),
            releases_with_components={
                purl: [r.version for r in found] for purl, found in releases_with_components(session, case).items()
            },
            submissions=[SubmissionOut.of(s) for s in case_submissions(session, case)],
            intermediate_requests=[IntermediateRequestOut.of(r) for r in case_intermediate_requests(session, case)],
            clocks=[ClockOut.of(c) for c in case_clocks(session, case)],
        )


class DueClockOut(BaseModel):
    """An open or breached clock with its case, for the clocks list."""

    case: str
    case_id: int
    product_id: int
    title: str
    exercise: bool
    clock: ClockOut

    @classmethod
    def of(cls, due: DueClock) -> DueClockOut:
        """One clock of one case."""
        case = due.case
        return cls(
            case=case.reference,
            case_id=case.id,
            product_id=case.product_id,
            title=case.title,
            exercise=case.exercise,
            clock=ClockOut.of(due.clock),
        )


class ChangeOut(BaseModel):
    """One line of an event's details as the audit pages show it: a field, its old value (null for a fact) and its
    new value, as people read them."""

    field: str
    old: str | None
    new: str


class TimelineEventOut(BaseModel):
    """One recorded change of a case: its audit event, the details as field, old and new."""

    seq: int
    at: datetime
    actor: str
    action: str
    changes: list[ChangeOut]

    @classmethod
    def of(cls, event: AuditEvent, actor: Principal, product_id: int) -> TimelineEventOut:
        """One event; the reporter's contact left out of its details unless the reader may manage the case."""
        details = _readable(event.details)
        if not may_manage_cases(actor, product_id):
            details.pop(CONTACT, None)
        return cls(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            changes=[ChangeOut(field=r.field, old=r.old, new=r.new) for r in detail_rows(details)],
        )


CONTACT = "reporter_contact"


def _readable(details: Any) -> dict[str, Any]:
    """An event's details as the timeline reads them: an update's changes per field at the top (so they read as
    field, old and new, as on the audit pages), without the case's own reference."""
    if not isinstance(details, dict):
        return {"details": details}
    found = {key: value for key, value in details.items() if key not in ("case", "changes")}
    changes = details.get("changes")
    if isinstance(changes, dict):
        found.update(changes)
    elif changes is not None:
        found["changes"] = changes
    return found


class SettingsOut(BaseModel):
    """A product's Article 14 settings (the defaults until an officer records them: UTC, no CSIRT, no states)."""

    product_id: int
    zone: str
    csirt: str
    member_states: list[str]
    updated_by: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, product_id: int, settings: PsirtSettings | None) -> SettingsOut:
        """The recorded settings, or the defaults."""
        if settings is None:
            return cls(product_id=product_id, zone="UTC", csirt="", member_states=[], updated_by=None, updated_at=None)
        return cls(
            product_id=product_id,
            zone=settings.zone,
            csirt=settings.csirt,
            member_states=list(settings.member_states),
            updated_by=settings.updated_by,
            updated_at=settings.updated_at,
        )


class PacketFieldOut(BaseModel):
    """One piece of information a report states (a list where it holds several values; null: not recorded)."""

    key: str
    label: str
    value: str | bool | list[str] | None


class CheckItemOut(BaseModel):
    """One item of a packet's completeness checklist, and why the regulation asks for it."""

    item: str
    done: bool
    why: str


class PacketOut(BaseModel):
    """What one stage's report states, for the Single Reporting Platform, and what it still lacks."""

    exercise_label: str | None
    case: str
    stage: str
    label: str
    point: str
    kind: str
    exercise: bool
    notice: str
    fields: list[PacketFieldOut]
    checklist: list[CheckItemOut]
    complete: bool
