"""Fixtures of the CSAF publishing tests and the review findings: a PLC with three releases by a vendor with a CVD
policy, its officer, and a case decided for each release (modules that define their own keep theirs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from sdl_tracker.auth import Principal
from sdl_tracker.products.models import Product
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.services import create_case
from sdl_tracker.vex.services import DecisionInput
from tests.factories import make_product, make_release, member

from .cases import CVE, V31, decide


@pytest.fixture
def plc(session: Session) -> Product:
    """PLC 1.0 (affected), 1.1 (fixed) and 2.0 (not affected), by a vendor with a CVD policy."""
    product = make_product(session, "PLC", vendor="Example Industrial", cvd_policy_url="https://psirt.example.com/cvd")
    for version in ("1.0", "1.1", "2.0"):
        make_release(session, product, version)
    return product


@pytest.fixture
def officer(session: Session, plc: Product) -> Principal:
    return member(session, plc, "security_officer", "officer@plc.example")


@pytest.fixture
def case(session: Session, plc: Product, officer: Principal) -> PsirtCase:
    """A case with a CVE, a CWE and a v3.1 score, and a confirmed decision for each release."""
    made = create_case(
        session,
        officer,
        plc.id,
        kind="vulnerability",
        title="Modbus frame overflow",
        source="researcher",
        received_at=datetime.now(UTC) - timedelta(days=3),
        facts={"cve_ids": [CVE], "cwe_ids": [787], "cvss_v31": V31, "description": "A long frame overflows."},
    )
    decide(session, officer, plc, made, "1.0", DecisionInput("affected", action="Update to 1.1 or later."))
    decide(session, officer, plc, made, "1.1", DecisionInput("fixed"))
    decide(
        session,
        officer,
        plc,
        made,
        "2.0",
        DecisionInput("not_affected", "vulnerable_code_not_present", impact="2.0 has a new frame parser."),
    )
    return made
