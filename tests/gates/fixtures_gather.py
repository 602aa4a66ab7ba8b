"""Database builders for the gathering tests: a release with a realistic set of records, through the services."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sdl_tracker.auth import Principal
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.products.interfaces import InterfaceData
from sdl_tracker.products.models import Product, Release
from sdl_tracker.psirt.models import PsirtCase
from sdl_tracker.psirt.services import create_case
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.models import DecisionOrigin
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, make_product, make_release, member

TODAY = datetime.now(UTC).date()
CVSS_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8


@dataclass
class Scene:
    """What `build` made: the product, the release judged, the people and the records."""

    product: Product
    release: Release
    officer: Principal
    reviewer: Principal
    developer: Principal
    threat_model: int
    fuzz: int
    pen_test: int
    review: int
    update: int
    case: PsirtCase
    sbom_evidence: int | None


def evidence(
    session: Session,
    author: Principal,
    product: Product,
    kind: str,
    requirements: list[str],
    *,
    reviewer: Principal | None = None,
    releases: tuple[str, ...] = (),
    details: dict[str, Any] | None = None,
    independence: str | None = None,
    title: str = "",
) -> Evidence:
    """Evidence of the product, submitted, and accepted when a reviewer is given."""
    item = create_evidence(
        session,
        author,
        product_id=product.id,
        kind=kind,
        data=EvidenceInput(
            title=title or f"{kind} {requirements}",
            requirements=requirements,
            release_versions=list(releases),
            details=details,
            tester_independence=independence,
            effective_date=TODAY - timedelta(days=3),
            files=[Upload("note.txt", "text/plain", io.BytesIO(f"{kind} {title}".encode()))],
        ),
    )
    if reviewer is not None:
        review_evidence(session, reviewer, item.id, accept=True)
    return item


def sbom_document(components: int, serial: str = "1") -> bytes:
    """A CycloneDX 1.6 document of `components` libraries lib0..libN."""
    items = [
        {"type": "library", "bom-ref": f"c{n}", "name": f"lib{n}", "version": "1.0", "purl": f"pkg:npm/lib{n}@1.0"}
        for n in range(components)
    ]
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "serialNumber": f"urn:uuid:00000000-0000-4000-8000-{int(serial):012d}",
            "metadata": {"component": {"type": "firmware", "bom-ref": "fw", "name": "firmware", "version": "1.0"}},
            "components": items,
            "dependencies": [{"ref": "fw", "dependsOn": [item["bom-ref"] for item in items]}],
        }
    ).encode()


def build(session: Session, size: int = 1, name: str | None = None) -> Scene:
    """A patch release 2.1.1 (after 2.1.0, fixed by 2.2.0) with a threat model, a fuzz campaign on its network
    interface, a penetration test, a code review with an open finding, an update record, a primary SBOM, VEX
    decisions and an exploited PSIRT case; `size` multiplies the evidence, decisions and cases."""
    product = make_product(
        session,
        name,
        security_contact="psirt@example.com",
        cvd_policy_url="https://example.com/cvd",
        support_period_end=date(2031, 12, 31),
        interfaces=[InterfaceData("eth0", "network", "Modbus TCP", 502), InterfaceData("usb", "usb", "", None)],
    )
    officer = member(session, product, "security_officer")
    reviewer = member(session, product, "security_officer")
    developer = member(session, product, "developer")
    make_release(session, product, "2.1.0", status="released", release_date=TODAY - timedelta(days=60))
    release = make_release(session, product, "2.1.1")
    make_release(session, product, "2.2.0")
    model = evidence(
        session,
        developer,
        product,
        "threat-model",
        ["SR-2"],
        reviewer=reviewer,
        details={"threats_total": 3, "threats_mitigated": 3, "next_review_due": str(TODAY + timedelta(days=300))},
    )
    fuzz = pen = review = update = None
    for n in range(size):
        fuzz = evidence(
            session,
            developer,
            product,
            "fuzz-campaign",
            ["SVV-3"],
            reviewer=reviewer,
            releases=("2.1.1",),
            details={"target_interface": "eth0", "protocol": "Modbus TCP", "tool": "boofuzz", "duration_hours": 48},
            independence="independent-department",
            title=f"fuzz {n}",
        )
        pen = evidence(
            session,
            developer,
            product,
            "penetration-test",
            ["SVV-4"],
            releases=("2.1.1",),
            details={"tool": "Outside Lab"},
            independence="independent-organisation",
            title=f"pen test {n}",
        )
        review = evidence(
            session,
            developer,
            product,
            "code-review",
            ["SI-1"],
            reviewer=reviewer,
            releases=("2.1.1",),
            details={"change": "PR-1", "reviewer": "Lead", "findings_total": 2, "findings_open": 1},
            title=f"review {n}",
        )
        update = evidence(
            session,
            developer,
            product,
            "update-record",
            ["SUM-1"],
            reviewer=reviewer,
            releases=("2.1.1",),
            details={"update_id": f"U-{n}", "qualification_result": "passed", "delivery_channel": "portal"},
            title=f"update {n}",
        )
    assert fuzz and pen and review and update
    imported = import_sbom(
        session,
        OPERATOR,
        release.id,
        Upload("sbom.cdx.json", "application/json", io.BytesIO(sbom_document(2 * size))),
        primary=True,
    )
    now = datetime.now(UTC)
    case = None
    for n in range(size):
        case = create_case(
            session,
            officer,
            product.id,
            kind="vulnerability",
            title=f"Exploited {n}",
            source="researcher",
            received_at=now - timedelta(hours=40),
            facts={
                "aware_at": now - timedelta(hours=30),
                "affected": ["2.1.1"],
                "fixed_in": ["2.2.0"],
                "cve_ids": [f"CVE-2026-{1000 + n}"],
                "cvss_v31": CVSS_HIGH,
            },
        )
        record_decision(
            session,
            officer,
            release.id,
            f"CVE-2026-{2000 + n}",
            DecisionInput("not_affected", justification="vulnerable_code_not_present"),
            component=f"pkg:npm/lib{n}@1.0",
        )
        record_decision(
            session,
            OPERATOR,
            release.id,
            f"CVE-2026-{3000 + n}",
            DecisionInput("under_investigation"),
            component=f"pkg:npm/lib{n}@1.0",
            origin=DecisionOrigin.MATCH,
        )
    assert case is not None
    session.flush()
    return Scene(
        product,
        release,
        officer,
        reviewer,
        developer,
        model.id,
        fuzz.id,
        pen.id,
        review.id,
        update.id,
        case,
        imported.sbom.evidence_id,
    )
