"""Test data of the Annex I applicability tests: a PLC with a release and its members, another product with
evidence of its own, and evidence of every scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.catalog.services import get_mapping
from sdl_tracker.cra.models import PointApplicability, PointEvidence
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.products.models import Product, Release
from tests.factories import OPERATOR, attach, make_product, make_release, member

OFFICER, DEVELOPER, AUDITOR, STRANGER = (
    "officer@plc.example",
    "dev@plc.example",
    "auditor@plc.example",
    "officer@elsewhere.example",
)


@dataclass
class Plc:
    """The PLC, its release 1.0, its people, and evidence of every scope."""

    product: Product
    release: Release
    officer: Principal
    developer: Principal
    auditor: Principal
    stranger: Principal
    product_evidence: Evidence  # accepted, product-wide
    organisation_evidence: Evidence  # submitted, organisation-wide
    scoped_evidence: Evidence  # release-scoped to 1.0
    other_release_evidence: Evidence  # release-scoped to 0.9 only
    foreign_evidence: Evidence  # of another product


def make_plc(session: Session) -> Plc:
    """The PLC 0.9 and 1.0 (EDR), its officer, developer and auditor, and Elsewhere with its own officer."""
    product = make_product(session, "PLC")
    make_release(session, product, "0.9")
    release = make_release(session, product, "1.0")
    officer = member(session, product, "security_officer", OFFICER)
    developer = member(session, product, "developer", DEVELOPER)
    auditor = member(session, product, "auditor", AUDITOR)
    elsewhere = make_product(session, "Elsewhere")
    stranger = member(session, elsewhere, "security_officer", STRANGER)
    product_evidence = attach(session, OPERATOR, product, "Data minimisation review", requirements=["SR-3"])
    review_evidence(session, officer, product_evidence.id, accept=True)
    return Plc(
        product,
        release,
        officer,
        developer,
        auditor,
        stranger,
        product_evidence,
        attach(session, OPERATOR, None, "Secure transfer policy", kind="process-document", requirements=["SM-1"]),
        attach(session, OPERATOR, product, "1.0 pen test", requirements=["SVV-4"], releases=["1.0"]),
        attach(session, OPERATOR, product, "0.9 pen test", requirements=["SVV-4"], releases=["0.9"]),
        attach(session, OPERATOR, elsewhere, "Elsewhere's review", requirements=["SR-3"]),
    )


def pin(session: Session, release: Release, version: str) -> None:
    """Pin a release to a mapping version directly (as a release made before `version`'s successor was)."""
    release.cra_mapping_id = get_mapping(session, version).id
    session.flush()
    session.expire(release, ["cra_mapping"])


def written(session: Session) -> tuple[int, int, int]:
    """Point rows, their evidence links, and CRA audit events."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(PointApplicability)) or 0,
        session.scalar(select(func.count()).select_from(PointEvidence)) or 0,
        session.scalar(select(func.count()).where(AuditEvent.action.startswith("cra:"))) or 0,
    )


def cra_events(session: Session, action: str) -> list[AuditEvent]:
    """The audit events of one CRA action, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
