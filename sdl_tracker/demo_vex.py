"""The demo's VEX decisions and CSAF documents: the closed Modbus case stated for its releases and published as a
security advisory; the exploited lighttpd case decided per component. The release candidate, made after them,
gets both carried forward, unconfirmed, for an officer to confirm."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth import Principal
from .products.models import Release
from .psirt.models import PsirtCase
from .psirt.services import update_case
from .vex.advisory import TrackingStatus
from .vex.models import CsafProfile
from .vex.publishing import publish_csaf
from .vex.services import DecisionInput, record_decision

LIGHTTPD = "pkg:generic/lighttpd"


def load_plc_vex(session: Session, actor: Principal, product_id: int, cases: list[PsirtCase]) -> list[str]:
    """Decisions on two of the PLC's cases, and the closed one's advisory published (unsigned: the demo has no
    OpenPGP key); what was made, for the demo's summary."""
    releases = {r.version: r.id for r in session.scalars(select(Release).where(Release.product_id == product_id))}
    exploited, _incident, closed, _exercise = cases
    update_case(
        session,
        actor,
        closed.id,
        {"description": "Reading device identification (Modbus function 0x2B/0x0E) returns up to 16 bytes of "
         "uninitialised memory after the last object, which may hold parts of earlier requests."},
    )  # fmt: skip
    record_decision(
        session, actor, releases["4.1.0"], closed.reference, DecisionInput("affected", action="Update to 4.2.0.")
    )
    record_decision(session, actor, releases["4.2.0"], closed.reference, DecisionInput("fixed"))
    published = publish_csaf(
        session,
        actor,
        closed.id,
        profile=CsafProfile.ADVISORY,
        status=TrackingStatus.FINAL,
        tlp="WHITE",
        summary="Initial version.",
    )
    mitigation = "Block TCP 443 at the cell firewall, or disable the web admin (Settings > Services)."
    for version in ("4.1.0", "4.2.0"):
        record_decision(
            session,
            actor,
            releases[version],
            exploited.reference,
            DecisionInput("affected", action=mitigation),
            component=LIGHTTPD,
        )
    return [
        f"VEX decisions on {closed.reference} and {exploited.reference}",
        f"CSAF advisory {published.tracking_id} version {published.version} published",
    ]
