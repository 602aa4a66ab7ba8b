"""Helpers of the VEX tests that decide on cases: the constants and a decision by release version."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sdl_tracker.auth import Principal
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.vex.services import DecisionInput, record_decision

CVE = "CVE-2024-3094"
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def release_id(session: Session, product: Product, version: str) -> int:
    """The id of the product's release `version`."""
    return next(r.id for r in product.releases if r.version == version)


def decide(
    session: Session, actor: Principal, product: Product, case: PsirtCase, version: str, data: DecisionInput
) -> None:
    """Record the release's decision on the case."""
    record_decision(session, actor, release_id(session, product, version), case.reference, data)
