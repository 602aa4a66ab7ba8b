"""A case's handling as IEC 62443-4-1 DM records of use: receiving, reviewing, assessing, addressing and
disclosing the issue each become a process record linked to DM-1 to DM-5, once, when the case reaches the
step, so the product's coverage shows real handling and not only a procedure. Exercises record nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import Permission, Principal
from ..db import utcnow
from ..evidence.inputs import EvidenceInput
from ..evidence.links import known_requirement_refs
from ..evidence.services import Upload, create_evidence
from ..evidence.vocabulary import EvidenceKind
from ..products.models import Product, Release
from .models import CaseStatus, PsirtCase, PsirtRelease

MAX_TITLE = 200  # an evidence title (EvidenceRevision.title)


@dataclass(frozen=True)
class Step:
    """One step of the handling, the DM requirement whose record it is, and when a case has reached it."""

    name: str
    requirement: str
    words: str
    reached: Callable[[PsirtCase, bool], bool]  # (the case, whether a fixed-in release is recorded)


STEPS = (
    Step("receipt", "DM-1", "report received", lambda case, fixed: True),
    Step("review", "DM-2", "report reviewed", lambda case, fixed: case.status is not CaseStatus.RECEIVED),
    Step(
        "assessment",
        "DM-3",
        "issue assessed",
        lambda case, fixed: case.severity_score is not None or bool(case.cwe_ids),
    ),
    Step(
        "fix",
        "DM-4",
        "issue addressed",
        lambda case, fixed: fixed or case.measure_available_at is not None,
    ),
    Step("disclosure", "DM-5", "issue disclosed", lambda case, fixed: case.status is CaseStatus.DISCLOSED),
)


def record_steps(session: Session, actor: Principal, case: PsirtCase) -> list[str]:
    """Create the process records of the steps the case has newly reached (in the caller's transaction); the
    steps recorded. Each step is recorded once: what the case keeps in `records` is never recorded again."""
    if case.exercise:
        return []
    fixed = session.scalar(
        select(PsirtRelease.id).where(PsirtRelease.case_id == case.id, PsirtRelease.role == "fixed").limit(1)
    )
    product = session.get(Product, case.product_id)
    versions = list(
        session.scalars(
            select(Release.version)
            .join(PsirtRelease, PsirtRelease.release_id == Release.id)
            .where(PsirtRelease.case_id == case.id, PsirtRelease.role == "affected")
            .order_by(Release.id)
        )
    )
    done = dict(case.records or {})
    recorded = []
    for step in STEPS:
        if step.name in done or not step.reached(case, fixed is not None):
            continue
        requirements = known_requirement_refs(session, product, [step.requirement])
        if not requirements:
            done[step.name] = None  # the product's catalog edition has no such requirement: nothing to link
            continue
        evidence = create_evidence(
            session,
            actor,
            product_id=case.product_id,
            kind=EvidenceKind.PROCESS_RECORD.value,
            data=EvidenceInput(
                title=f"{case.reference}: {step.words} ({step.requirement})"[:MAX_TITLE],
                description=f"Recorded by the PSIRT case {case.reference}, {case.title}.",
                effective_date=(case.received_at if step.name == "receipt" else utcnow()).date(),
                requirements=requirements,
                release_versions=versions or None,
                details={},
                files=[_record_file(case, step, versions, actor)],
            ),
            permission=Permission.PSIRT_MANAGE,
        )
        done[step.name] = evidence.id
        recorded.append(step.name)
    case.records = done
    return recorded


def _record_file(case: PsirtCase, step: Step, versions: list[str], actor: Principal) -> Upload:
    """The record itself: the case's facts at the step, as JSON (never the reporter's contact)."""
    record = {
        "case": case.reference,
        "step": step.name,
        "requirement": step.requirement,
        "recorded_at": utcnow().isoformat(),
        "recorded_by": actor.label,
        "title": case.title,
        "kind": case.kind.value,
        "source": case.source.value,
        "status": case.status.value,
        "received_at": case.received_at.isoformat(),
        "aware_at": case.aware_at.isoformat() if case.aware_at else None,
        "measure_available_at": case.measure_available_at.isoformat() if case.measure_available_at else None,
        "cve_ids": list(case.cve_ids or []),
        "cwe_ids": list(case.cwe_ids or []),
        "cvss_v31": case.cvss_v31 or "",
        "cvss_v40": case.cvss_v40 or "",
        "affected": versions,
    }
    data = json.dumps(record, indent=2, sort_keys=True).encode()
    return Upload(f"{case.reference}-{step.name}.json", "application/json", io.BytesIO(data))
