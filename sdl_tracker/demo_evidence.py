"""The demo's evidence: a PLC whose coverage map shows complete practices, gaps, and an expired model."""

from __future__ import annotations

import io
import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from .accounts.services import find_user, principal_for
from .auth import Principal
from .claims.services import ClaimInput, product_catalog, set_claim
from .evidence.assessment import organisation_maturity, record_maturity
from .evidence.review import review_evidence
from .evidence.services import EvidenceInput, Upload, create_evidence
from .products.services import get_release_by_version


def threat_dragon_model() -> bytes:
    """A small OWASP Threat Dragon (format 2) model of the PLC's web server and Modbus interface."""

    def threat(title: str, category: str, status: str, severity: str, mitigation: str) -> dict[str, str]:
        return {
            "title": title,
            "type": category,
            "status": status,
            "severity": severity,
            "mitigation": mitigation,
            "modelType": "STRIDE",
            "description": title,
        }

    cells = [
        {
            "shape": "actor",
            "id": "engineer",
            "data": {
                "type": "tm.Actor",
                "name": "Engineering workstation",
                "threats": [
                    threat(
                        "Spoofed engineering workstation",
                        "Spoofing",
                        "Mitigated",
                        "High",
                        "Mutual TLS with device certificates",
                    ),
                ],
            },
        },
        {
            "shape": "process",
            "id": "web",
            "data": {
                "type": "tm.Process",
                "name": "Web administration",
                "threats": [
                    threat("Session hijacking", "Spoofing", "Mitigated", "High", "HttpOnly, Secure, SameSite cookies"),
                    threat("Firmware upload tampering", "Tampering", "Mitigated", "Critical", "Signed firmware images"),
                    threat("Login brute force", "Denial of service", "Open", "Medium", "Throttling planned for 4.3"),
                ],
            },
        },
        {
            "shape": "process",
            "id": "modbus",
            "data": {
                "type": "tm.Process",
                "name": "Modbus TCP server",
                "threats": [
                    threat(
                        "Unauthenticated write of coils",
                        "Elevation of privilege",
                        "Mitigated",
                        "Critical",
                        "Write access only from allow-listed engineering stations",
                    ),
                    threat(
                        "Malformed PDU crashes the stack",
                        "Denial of service",
                        "Mitigated",
                        "High",
                        "Fuzzed; parser hardened",
                    ),
                ],
            },
        },
        {
            "shape": "store",
            "id": "config",
            "data": {
                "type": "tm.Store",
                "name": "Configuration store",
                "threats": [
                    threat("Configuration read by a guest", "Information disclosure", "Open", "Low", ""),
                ],
            },
        },
    ]
    model = {
        "version": "2.4.0",
        "summary": {"title": "NW-PLC 5000 firmware 4.2", "owner": "PLC team", "id": 0},
        "detail": {
            "contributors": [],
            "diagrams": [{"id": 0, "title": "Main", "diagramType": "STRIDE", "version": "2.4.0", "cells": cells}],
        },
    }
    return json.dumps(model, indent=2).encode()


@dataclass(frozen=True)
class DemoEvidence:
    """One piece of demo evidence and how far its review got."""

    kind: str
    title: str
    requirements: list[str]
    effective: date
    outcome: str  # accepted, submitted, draft
    releases: list[str] = field(default_factory=list)
    details: dict[str, Any] | None = None
    review_due: date | None = None
    organisation: bool = False
    threat_dragon: bool = False


PLC_EVIDENCE = [
    DemoEvidence(
        "threat-model",
        "STRIDE threat model, firmware 4.2",
        ["SR-2"],
        date(2026, 5, 10),
        "accepted",
        ["4.2.0"],
        {"next_review_due": "2027-05-10"},
        threat_dragon=True,
    ),
    DemoEvidence(
        "threat-model",
        "Threat model, firmware 4.1",
        ["SR-2"],
        date(2025, 9, 1),
        "accepted",
        ["4.1.0"],
        {"threats_total": 9, "threats_open": 2, "threats_mitigated": 7, "next_review_due": "2026-09-01"},
    ),
    DemoEvidence(
        "design-review",
        "Security design review of the web administration",
        ["SD-1", "SD-4"],
        date(2026, 4, 2),
        "accepted",
        ["4.2.0"],
        {"change": "ADR-0042 web admin redesign", "reviewer": "Sofia Officer", "findings_total": 4},
    ),
    DemoEvidence(
        "code-review",
        "Code review of the Modbus stack against the CWE Top 25",
        ["SI-1"],
        date(2026, 4, 20),
        "accepted",
        ["4.2.0"],
        {
            "change": "v4.1.0..v4.2.0",
            "reviewer": "Dana Developer",
            "cwe_top25_checked": True,
            "findings_total": 6,
            "findings_open": 1,
        },
    ),
    DemoEvidence("static-analysis", "Static analysis report", ["SI-2"], date(2026, 5, 28), "submitted", ["4.2.0"]),
    DemoEvidence(
        "fuzz-campaign",
        "Modbus TCP fuzzing, 72 hours",
        ["SVV-3"],
        date(2026, 5, 20),
        "accepted",
        ["4.2.0"],
        {
            "target_interface": "eth0",
            "protocol": "Modbus TCP",
            "tool": "boofuzz",
            "duration_hours": 72,
            "executions": 48_000_000,
            "crashes_found": 3,
            "crashes_fixed": 3,
            "coverage_percent": 71.5,
        },
    ),
    DemoEvidence(
        "penetration-test",
        "External penetration test",
        ["SVV-4", "SVV-5"],
        date(2026, 5, 25),
        "submitted",
        ["4.2.0"],
        {
            "tool": "Acme Security GmbH",
            "scope": "web UI, Modbus, OPC UA",
            "findings": {"high": 1, "medium": 3, "low": 5},
        },
    ),
    DemoEvidence(
        "requirements-test", "Security requirements test report", ["SVV-1"], date(2026, 5, 30), "draft", ["4.2.0"]
    ),
    DemoEvidence("guideline-document", "Hardening guide NW-PLC 5000", ["SG-1", "SG-2"], date(2026, 6, 1), "accepted"),
    DemoEvidence(
        "process-document",
        "Secure development handbook",
        ["SM-1", "SM-2", "SM-3"],
        date(2026, 1, 15),
        "accepted",
        organisation=True,
        review_due=date(2027, 1, 15),
    ),
    DemoEvidence(
        "security-training",
        "Secure coding training 2026",
        ["SM-4"],
        date(2026, 3, 12),
        "accepted",
        [],
        {"course": "Secure coding for embedded C", "attendees": 14, "held_on": "2026-03-12"},
        organisation=True,
    ),
    DemoEvidence(
        "process-document",
        "PSIRT process",
        ["DM-1", "DM-2", "DM-3", "DM-4", "DM-5"],
        date(2026, 2, 1),
        "submitted",
        organisation=True,
    ),
]


def _file_for(item: DemoEvidence) -> Upload:
    text = f"{item.title}\n\nDemo artifact for sdl-tracker ({item.kind}, {item.effective.isoformat()}).\n"
    return Upload(
        item.title.lower().replace(" ", "-").replace(",", "")[:60] + ".txt", "text/plain", io.BytesIO(text.encode())
    )


def load_plc_evidence(session: Session, operator: Principal, product_id: int) -> int:
    """Attach, submit and review the PLC's evidence as its developer and security officer would."""
    developer = find_user(session, "dev@example.com")
    officer = find_user(session, "officer@example.com")
    assert developer is not None and officer is not None
    dev, so = principal_for(session, developer, origin="demo"), principal_for(session, officer, origin="demo")
    for item in PLC_EVIDENCE:
        files = [] if item.threat_dragon else [_file_for(item)]
        model = Upload("plc-4.2-threat-model.json", "application/json", io.BytesIO(threat_dragon_model()))
        data = EvidenceInput(
            title=item.title,
            requirements=item.requirements,
            effective_date=item.effective,
            release_versions=item.releases,
            details=item.details,
            files=files,
            review_due=item.review_due,
            threat_dragon=model if item.threat_dragon else None,
        )
        evidence = create_evidence(
            session,
            operator if item.organisation else dev,
            product_id=None if item.organisation else product_id,
            kind=item.kind,
            data=data,
            draft=item.outcome == "draft",
        )
        if item.outcome == "accepted":
            review_evidence(session, so, evidence.id, accept=True)
    for practice, level, why in (
        ("SM", 3, "The handbook is followed on every release since 4.0; records are kept here."),
        ("SR", 2, "Threat models exist per release; the yearly review of 4.1's model is overdue."),
        ("SI", 2, "Code reviews against the CWE Top 25 on the Modbus stack; static analysis not yet reviewed."),
    ):
        # The organisation's level, never above what the evidence supports (docs/assurance.md).
        supported = {m.practice: m.organisation.level for m in organisation_maturity(session, so)}
        record_maturity(
            session,
            so,
            practice=practice,
            level=min(level, supported[practice]),
            rationale=why,
            assessed_on=date(2026, 6, 15),
        )
    return len(PLC_EVIDENCE)


def load_demo_claims(
    session: Session, operator: Principal, product_id: int, version: str, *, upto: int, leave_open: tuple[str, ...]
) -> int:
    """Claim every applicable item required up to SL `upto` as implemented (resting on accepted
    evidence), except `leave_open`, which stay partial: one product near its target, one with gaps."""
    officer = find_user(session, "officer@example.com")
    developer = find_user(session, "dev@example.com")
    assert officer is not None and developer is not None
    so, dev = principal_for(session, officer, origin="demo"), principal_for(session, developer, origin="demo")
    release = get_release_by_version(session, so, product_id, version)
    report_items = product_catalog(session, release.product).applicability.items
    claimed = [item.ref for item in report_items if item.sl_c and min(item.sl_c) <= upto]
    # The report names every item it tested: evidence counts for a claim only when it names the claim's item.
    test_report = create_evidence(
        session,
        dev,
        product_id=product_id,
        kind="requirements-test",
        data=EvidenceInput(
            title=f"Component security requirements test, {version}",
            requirements=["SVV-1", *claimed],
            release_versions=[version],
            effective_date=date(2026, 6, 10),
            files=[Upload("cr-test-report.txt", "text/plain", io.BytesIO(b"IEC 62443-4-2 CR test results"))],
        ),
    )
    review_evidence(session, so, test_report.id, accept=True)
    count = 0
    for item in report_items:
        if not item.sl_c or min(item.sl_c) > upto:
            continue
        status = "partially_implemented" if item.ref in leave_open else "implemented"
        set_claim(session, so, release.id, item.ref, ClaimInput(status, "supplier_test", evidence_ids=[test_report.id]))
        count += 1
    return count


def demo_repository(root: Path) -> Path:
    """A small real git history of the PLC firmware, with trailers and release tags."""
    if (root / ".git").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)

    def git(
        *args: str, author: str = "Dana Developer <dev@example.com>", message: str = "", on: date | None = None
    ) -> None:
        name, email = author[:-1].split(" <")
        # Each commit is dated before the release that ships it, as a real history is.
        stamp = f"{(on or date(2025, 10, 1)).isoformat()}T10:00:00+00:00"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        subprocess.run(
            ["git", *args],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
            input=message.encode() if message else None,
        )

    git("init", "--quiet", "--initial-branch=main")
    history = [
        (
            date(2025, 10, 20),
            "src/modbus.c",
            "Modbus TCP server",
            "Add the Modbus TCP server\n\nSecurity-Requirement: CR 3.5\n",
            "v4.1.0",
        ),
        (
            date(2026, 2, 10),
            "src/web/login.c",
            "login",
            "Throttle web logins\n\nSecurity-Review: officer@example.com\nSecurity-Requirement: CR 1.11\n",
            None,
        ),
        (
            date(2026, 3, 5),
            "src/modbus.c",
            "bounds",
            "Bound PDU lengths in the Modbus parser\n\nFuzzed-by: nightly-modbus\nFixes-PSIRT: PSIRT-2026-0003\n",
            None,
        ),
        (date(2026, 4, 14), "docs/threat-model.json", "{}", "Update the threat model for 4.2", None),
        (
            date(2026, 5, 8),
            "src/update.c",
            "verify signature",
            "Verify firmware signatures before flashing\n\nSecurity-Review: officer@example.com\n",
            None,
        ),
        (date(2026, 5, 28), "src/web/ui.c", "ui", "Refresh the web UI styles", "v4.2.0"),
        (
            date(2026, 9, 15),
            "src/opcua.c",
            "opc ua",
            "Add OPC UA server (draft)\n\nSecurity-Requirement: CR 4.1\n",
            "v4.3.0-rc1",
        ),
    ]
    for day, path, content, message, tag in history:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content + "\n")
        git("add", "--", path)
        git("commit", "--quiet", "-F", "-", message=message, on=day)
        if tag:
            git("tag", "-a", tag, "-m", f"Release {tag}", on=day)
    return root
