"""The demo's evidence: a PLC whose coverage map shows complete practices, gaps, and an expired model."""

from __future__ import annotations

import io
import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .accounts.services import find_user, principal_for
from .auth import Principal
from .claims.models import Claim
from .claims.review import accept_claim, confirm_claim
from .claims.services import ClaimInput, set_claim
from .claims.terms import product_catalog
from .evidence.assessment import organisation_maturity, record_maturity
from .evidence.models import Evidence, EvidenceRevision, RequirementScoping
from .evidence.review import review_evidence
from .evidence.scoping import accept_scoping, propose_scoping
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
    independence: str | None = None  # test evidence: IEC 62443-4-1 Table 3


SDL_HANDBOOK_SCOPE = [
    *("SM-1", "SM-2", "SM-3"),
    *(f"SR-{n}" for n in range(1, 6)),
    *(f"SD-{n}" for n in range(1, 5)),
    *("SI-1", "SI-2"),
    *(f"SVV-{n}" for n in range(1, 6)),
    *(f"SG-{n}" for n in range(1, 8)),
]

# The organisation's process: what defines each practice (the process half of 4-1 coverage). Update
# management (SUM) has no process document yet: that practice shows "process missing".
ORGANISATION_EVIDENCE = [
    DemoEvidence("process-document", "Secure development handbook", SDL_HANDBOOK_SCOPE, date(2025, 6, 2), "accepted",
                 organisation=True),
    DemoEvidence("process-document", "Security management procedures", [f"SM-{n}" for n in range(4, 14)],
                 date(2025, 6, 2), "accepted", organisation=True),
    DemoEvidence("process-document", "PSIRT procedure", [f"DM-{n}" for n in range(1, 7)], date(2025, 7, 1),
                 "accepted", organisation=True),
    DemoEvidence("security-training", "Secure coding training 2026", ["SM-4"], date(2026, 3, 12), "accepted",
                 details={"course": "Secure coding for embedded C", "attendees": 14, "held_on": "2026-03-12"},
                 organisation=True),
    DemoEvidence("process-record", "Development environment, file integrity and key controls audit 2026",
                 ["SM-6", "SM-7", "SM-8", "SM-12"], date(2026, 2, 20), "accepted", organisation=True),
    DemoEvidence("process-record", "PSIRT practice review 2026", ["DM-6"], date(2026, 4, 1), "accepted",
                 organisation=True),
]  # fmt: skip

# The PLC's records of use, for its releases and the product. Honest gaps on purpose: SM-5 and SM-11
# have no records, DM-5 (disclosure of PSIRT-2026-0003) is still open, the static analysis waits for
# review, 4.1's threat mitigation test does not state its tester's independence, and 4.1's threat
# model is past its yearly review (it stood when 4.1.0 shipped). SM-10 is scoped out (see load_plc_decisions).
PLC_EVIDENCE = [
    DemoEvidence("process-record", "NW-PLC 5000 development plan and security roles", ["SM-1", "SM-2", "SM-3"],
                 date(2026, 1, 10), "accepted"),
    DemoEvidence("requirements-specification", "Product security context", ["SR-1"], date(2025, 12, 1), "accepted"),
    DemoEvidence("requirements-specification", "Security requirements 4.2, target SL-C 3 on every FR",
                 ["SR-3", "SR-4"], date(2026, 1, 20), "accepted", ["4.2.0"]),
    DemoEvidence("threat-model", "STRIDE threat model, firmware 4.2", ["SR-2"], date(2026, 5, 10), "accepted",
                 ["4.2.0"], {"next_review_due": "2027-05-10"}, threat_dragon=True),
    DemoEvidence("threat-model", "Threat model, firmware 4.1", ["SR-2"], date(2025, 9, 1), "accepted", ["4.1.0"],
                 {"threats_total": 9, "threats_open": 2, "threats_mitigated": 7, "next_review_due": "2026-09-01"}),
    DemoEvidence("design-review", "Review of the 4.2 security requirements and design", ["SR-5", "SD-3"],
                 date(2026, 4, 2), "accepted", ["4.2.0"],
                 {"change": "ADR-0042 web admin redesign", "reviewer": "officer@example.com", "findings_total": 4}),
    DemoEvidence("design-document", "Security architecture: design principles and defense in depth",
                 ["SD-1", "SD-2", "SD-4", "CR 3.4"], date(2026, 1, 25), "accepted"),
    DemoEvidence("code-review", "Code review of the Modbus stack against the CWE Top 25", ["SI-1"],
                 date(2026, 4, 20), "accepted", ["4.2.0"],
                 {"change": "ADR-0042 Modbus parser", "reviewer": "officer@example.com", "cwe_top25_checked": True,
                  "findings_total": 6, "findings_open": 1}),
    DemoEvidence("static-analysis", "Static analysis report", ["SI-2"], date(2026, 5, 28), "submitted"),
    DemoEvidence("requirements-test", "Security requirements test report 4.2", ["SVV-1"], date(2026, 5, 30),
                 "accepted", ["4.2.0"], independence="independent-person"),
    DemoEvidence("threat-mitigation-test", "Threat mitigation test 4.2", ["SVV-2"], date(2026, 5, 15), "accepted",
                 ["4.2.0"], independence="independent-department"),
    DemoEvidence("threat-mitigation-test", "Threat mitigation test 4.1", ["SVV-2"], date(2025, 10, 30), "accepted",
                 ["4.1.0"]),
    DemoEvidence("fuzz-campaign", "Modbus TCP fuzzing, 72 hours", ["SVV-3"], date(2026, 5, 20), "accepted",
                 ["4.2.0"],
                 {"target_interface": "eth0", "protocol": "Modbus TCP", "tool": "boofuzz", "duration_hours": 72,
                  "executions": 48_000_000, "crashes_found": 3, "crashes_fixed": 3, "coverage_percent": 71.5},
                 independence="independent-department"),
    DemoEvidence("penetration-test", "External penetration test", ["SVV-4", "CR 1.1", "CR 2.1"], date(2026, 5, 25),
                 "accepted", ["4.2.0"],
                 {"tool": "Acme Security GmbH", "scope": "web UI, Modbus, OPC UA",
                  "findings": {"high": 1, "medium": 3, "low": 5}},
                 independence="independent-organisation"),
    DemoEvidence("guideline-document", "Hardening guide NW-PLC 5000", ["SG-1", "SG-2"], date(2026, 2, 1),
                 "accepted"),
    DemoEvidence("guideline-document", "Hardening checklist 4.2", ["SG-3"], date(2026, 5, 29), "accepted",
                 ["4.2.0"]),
    DemoEvidence("guideline-document", "Operation, disposal and account management guide",
                 ["SG-4", "SG-5", "SG-6"], date(2026, 2, 1), "accepted"),
    DemoEvidence("process-record", "Documentation review 4.2", ["SG-7"], date(2026, 5, 30), "accepted", ["4.2.0"]),
    DemoEvidence("process-record", "PSIRT-2026-0003: receipt, triage, assessment and fix",
                 ["DM-1", "DM-2", "DM-3", "DM-4"], date(2026, 3, 6), "accepted"),
]  # fmt: skip


def recorded_on(session: Session, record: Evidence | Claim | RequirementScoping, day: date) -> None:
    """Date a record as if it had been made, reviewed or accepted on `day`.

    The demo simulates an organisation's past: a shipped release is judged on its release date, counting
    only what was recorded and accepted by then, so its records carry the days they would have had. The
    audit log is not rewritten: it records when the demo was loaded.
    """
    moment = datetime.combine(min(day, datetime.now(UTC).date()), time(12), tzinfo=UTC)
    if isinstance(record, Evidence):
        for revision in record.revisions:
            revision.created_at = moment
            revision.submitted_at = moment if revision.submitted_at is not None else None
            revision.reviewed_at = moment if revision.reviewed_at is not None else None
    elif isinstance(record, Claim):
        record.updated_at = moment
        record.accepted_at = moment if record.accepted_at is not None else None
    else:
        record.set_at = moment
        record.accepted_at = moment if record.accepted_at is not None else None
    session.flush()


def _file_for(item: DemoEvidence) -> Upload:
    text = f"{item.title}\n\nDemo artifact for sdl-tracker ({item.kind}, {item.effective.isoformat()}).\n"
    return Upload(
        item.title.lower().replace(" ", "-").replace(",", "").replace(":", "")[:60] + ".txt",
        "text/plain",
        io.BytesIO(text.encode()),
    )


@dataclass(frozen=True)
class DemoPeople:
    """The demo's named users as principals: developer, security officer, second officer."""

    dev: Principal
    officer: Principal
    lead: Principal


def demo_people(session: Session) -> DemoPeople:
    """The demo's developer and its two security officers."""
    users = [find_user(session, email) for email in ("dev@example.com", "officer@example.com", "lead@example.com")]
    dev, officer, lead = (principal_for(session, user, origin="demo") for user in users if user is not None)
    return DemoPeople(dev, officer, lead)


def _attach(session: Session, operator: Principal, people: DemoPeople, product_id: int, item: DemoEvidence) -> int:
    model = Upload("plc-4.2-threat-model.json", "application/json", io.BytesIO(threat_dragon_model()))
    evidence = create_evidence(
        session,
        operator if item.organisation else people.dev,
        product_id=None if item.organisation else product_id,
        kind=item.kind,
        data=EvidenceInput(
            title=item.title,
            requirements=item.requirements,
            effective_date=item.effective,
            release_versions=item.releases,
            details=item.details,
            files=[] if item.threat_dragon else [_file_for(item)],
            review_due=item.review_due,
            threat_dragon=model if item.threat_dragon else None,
            tester_independence=item.independence,
        ),
        draft=item.outcome == "draft",
    )
    if item.outcome == "accepted":
        review_evidence(session, people.officer, evidence.id, accept=True)
    recorded_on(session, evidence, item.effective + timedelta(days=2))
    return evidence.id


def load_plc_evidence(session: Session, operator: Principal, product_id: int) -> int:
    """Attach, submit and review the organisation's process and the PLC's records as its people would."""
    people = demo_people(session)
    for item in (*ORGANISATION_EVIDENCE, *PLC_EVIDENCE):
        _attach(session, operator, people, product_id, item)
    # SM-5: the PLC has no components developed by third-party suppliers; the second officer accepts.
    scoping = propose_scoping(
        session,
        people.officer,
        product_id,
        requirement="SM-10",
        justification="All firmware is developed in-house; open-source components are controlled under SM-9.",
    )
    recorded_on(session, accept_scoping(session, people.lead, scoping.id), date(2026, 1, 14))
    # The organisation's maturity, as high as the evidence supports and no higher (docs/assurance.md).
    supported = {m.practice: m.organisation.level for m in organisation_maturity(session, people.officer)}
    for practice, why in (
        ("SVV", "Every verification activity of 4.2 has its records with the independence Table 3 asks."),
        ("SR", "Requirements, threat model and their review are recorded per release."),
        ("DM", "The PSIRT procedure is defined; PSIRT-2026-0003 is recorded up to its fix."),
    ):
        if supported.get(practice):
            record_maturity(
                session, people.officer, practice=practice, level=supported[practice], rationale=why,
                assessed_on=date(2026, 6, 15),
            )  # fmt: skip
    return len(ORGANISATION_EVIDENCE) + len(PLC_EVIDENCE)


def _fr_reports(
    session: Session, people: DemoPeople, product_id: int, version: str, refs: list[str], tested_on: date
) -> dict[str, int]:
    """One accepted component test report per FR, naming the items it tested: evidence counts for a claim
    only when it names the claim's item and covers the release."""
    catalog = product_catalog(session, get_release_by_version(session, people.officer, product_id, version).product)
    by_fr: dict[str, list[str]] = {}
    for ref in refs:
        item = catalog.rows[ref]
        by_fr.setdefault(item.fr or "", []).append(ref)
    report_of: dict[str, int] = {}
    for fr, tested in sorted(by_fr.items()):
        report = create_evidence(
            session,
            people.dev,
            product_id=product_id,
            kind="requirements-test",
            data=EvidenceInput(
                title=f"{fr} component security test report, {version}",
                requirements=tested,
                release_versions=[version],
                effective_date=tested_on,
                tester_independence="none",
                files=[Upload(f"{fr.lower()}-test-report.txt", "text/plain", io.BytesIO(f"{fr} results".encode()))],
            ),
        )
        review_evidence(session, people.officer, report.id, accept=True)
        recorded_on(session, report, tested_on + timedelta(days=1))
        report_of.update(dict.fromkeys(tested, report.id))
    return report_of


def load_demo_claims(
    session: Session,
    operator: Principal,
    product_id: int,
    version: str,
    *,
    upto: int,
    leave_open: tuple[str, ...],
    tested_on: date,
) -> int:
    """Claim every applicable item required up to SL `upto` as implemented by supplier test, each resting on
    its FR's test report, except `leave_open`, which stay partial: one product near its target, one with gaps."""
    people = demo_people(session)
    release = get_release_by_version(session, people.officer, product_id, version)
    items = product_catalog(session, release.product).applicability.items
    claimed = [item.ref for item in items if item.sl_c and min(item.sl_c) <= upto]
    reports = _fr_reports(session, people, product_id, version, claimed, tested_on)
    for ref in claimed:
        status = "partially_implemented" if ref in leave_open else "implemented"
        claim = set_claim(
            session, people.officer, release.id, ref, ClaimInput(status, "supplier_test", evidence_ids=[reports[ref]])
        )
        recorded_on(session, claim, tested_on + timedelta(days=3))
    return len(claimed)


def _evidence_id(session: Session, product_id: int | None, title: str) -> int:
    found = session.scalars(
        select(Evidence.id)
        .join(EvidenceRevision, EvidenceRevision.evidence_id == Evidence.id)
        .where(Evidence.product_id.is_(None) if product_id is None else Evidence.product_id == product_id)
        .where(EvidenceRevision.title == title)
    ).first()
    assert found is not None, title
    return found


def load_plc_decisions(session: Session, product_id: int, version: str, decided_on: date) -> None:
    """The officer's decisions on the PLC's release: independent tests, a design-reviewed claim, "not
    applicable" (conditional, and with an override), a compensation, CCSC 4; the second officer accepts
    all but one, which is left for a visitor to see not counting."""
    people = demo_people(session)
    release = get_release_by_version(session, people.officer, product_id, version)
    pentest = _evidence_id(session, product_id, "External penetration test")
    design = _evidence_id(session, product_id, "Security architecture: design principles and defense in depth")
    guide = _evidence_id(session, product_id, "Hardening guide NW-PLC 5000")
    handbook = _evidence_id(session, None, "Secure development handbook")
    fr1 = _evidence_id(session, product_id, f"FR1 component security test report, {version}")
    decisions = {
        "CR 1.1": ClaimInput("implemented", "independent_test", evidence_ids=[pentest]),
        "CR 2.1": ClaimInput("implemented", "independent_test", evidence_ids=[pentest]),
        "CR 3.4": ClaimInput("implemented", "design_review", evidence_ids=[design]),
        "CR 1.2": ClaimInput(
            "compensated",
            "supplier_test",
            countermeasure="Deployed behind the cell firewall, which authenticates the engineering stations "
            "that may reach the controller (hardening guide, section 4).",
            evidence_ids=[fr1],
            documentation_id=guide,
        ),
        "EDR 2.4": ClaimInput("not_applicable", justification="The controller runs no mobile code."),
        "CR 7.3": ClaimInput(
            "not_applicable",
            justification="The configuration lives in the engineering project; the controller keeps none to back up.",
            override_reason="Backup is the engineering station's function (system requirement SR 7.3).",
        ),
        "CR 1.14 RE(1)": ClaimInput("not_applicable", justification="No symmetric-key authentication is used."),
        "CCSC 4": ClaimInput("implemented", evidence_ids=[handbook]),
    }
    claims = {ref: set_claim(session, people.officer, release.id, ref, data) for ref, data in decisions.items()}
    for ref in ("CR 1.2", "EDR 2.4", "CR 7.3"):  # CR 1.14 RE(1) waits for the second officer
        accept_claim(session, people.lead, release.id, ref)
    for claim in claims.values():
        recorded_on(session, claim, decided_on)


def confirm_carried_claims(session: Session, product_id: int, version: str, refs: tuple[str, ...]) -> None:
    """The officer confirms some claims carried forward to a new release; the rest stay unconfirmed."""
    people = demo_people(session)
    release = get_release_by_version(session, people.officer, product_id, version)
    for ref in refs:
        confirm_claim(session, people.officer, release.id, ref)


def demo_repository(root: Path, fixed_case: str) -> Path:
    """A small real git history of the PLC firmware, with trailers and release tags; one commit fixes the PSIRT
    case `fixed_case` names (a trailer records DM-4 only for a case that exists)."""
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
            f"Bound PDU lengths in the Modbus parser\n\nFuzzed-by: nightly-modbus\nFixes-PSIRT: {fixed_case}\n",
            None,
        ),
        (
            date(2026, 4, 14),
            "docs/threat-model.json",
            "{}",
            "Update the threat model for 4.2\n\nThreat-Model: web administration redesign (ADR-0042)\n",
            None,
        ),
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
            None,
        ),
        (
            date(2026, 10, 2),
            "src/opcua_session.c",
            "sessions",
            "Bound OPC UA sessions per client\n\nSecurity-Review: officer@example.com\nSecurity-Requirement: CR 2.7\n",
            None,
        ),
        (
            date(2026, 10, 20),
            "src/web/csp.c",
            "csp",
            "Send a strict Content-Security-Policy\n\nSecurity-Review: dev@example.com\n",
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
