"""Demo PSIRT cases of the PLC firmware, recorded through the services as an officer would, their times set
relative to when the demo is loaded so that their Article 14 clocks are running when someone looks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from .auth import Principal
from .db import utcnow
from .psirt.models import PsirtCase
from .psirt.services import create_case, record_submission, update_settings


def load_plc_cases(session: Session, actor: Principal, product_id: int) -> list[PsirtCase]:
    """An actively exploited vulnerability with its early warning due soon, a severe incident with its early
    warning made and its notification running, a closed report, and a tabletop exercise."""
    now = utcnow()
    update_settings(
        session, actor, product_id, zone="Europe/Berlin", csirt="CERT-Bund (BSI)", member_states=["DE", "AT", "NL"]
    )
    exploited = create_case(
        session,
        actor,
        product_id,
        kind="vulnerability",
        title="Heap overflow in the web admin's request parser, exploited against exposed PLCs",
        source="coordinator",
        received_at=now - timedelta(hours=26),
        facts={
            "description": "A crafted HTTP request with an oversized header overflows a heap buffer in lighttpd's "
            "request parser, as built into the web admin. The coordinator reports scans and exploitation "
            "against PLCs whose web admin is reachable from the internet.",
            "reporter_contact": "coordination@csirt.example",
            "aware_at": now - timedelta(hours=20),
            "cwe_ids": ["CWE-787"],
            "cvss_v31": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "affected": ["4.1.0", "4.2.0"],
            "components": ["pkg:generic/lighttpd@1.4.71"],
            "mitigation": "Block TCP 443 at the cell firewall, or disable the web admin (Settings > Services).",
            "status": "investigating",
        },
    )
    incident = create_case(
        session,
        actor,
        product_id,
        kind="incident",
        title="Update-server credentials found in a public repository",
        source="internal",
        received_at=now - timedelta(hours=20),
        facts={
            "description": "A deployment key of the firmware update server was committed to a public repository "
            "for eleven hours. Firmware images are signed offline; the server's content may have been altered.",
            "incident_criteria": ["malicious-code", "protection-affected"],
            "malicious_suspected": False,
            "status": "remediating",
        },
    )
    record_submission(
        session,
        actor,
        incident.id,
        submitted_at=now - timedelta(hours=12),
        stages=["early-warning"],
        reference="SRP-DEMO-0001",
        note="Early warning: no sign of malicious acts so far; the key was revoked.",
    )
    closed = create_case(
        session,
        actor,
        product_id,
        kind="vulnerability",
        title="Modbus function 0x2B answers with uninitialised bytes",
        source="researcher",
        received_at=now - timedelta(days=60),
        facts={
            "reporter_contact": "researcher@example.org",
            "cwe_ids": ["CWE-908"],
            "cvss_v31": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
            "affected": ["4.1.0"],
            "fixed_in": ["4.2.0"],
            "remediation": "Update to 4.2.0.",
            "status": "closed",
        },
    )
    exercise = create_case(
        session,
        actor,
        product_id,
        kind="vulnerability",
        title="Tabletop: ransomware crew exploits the OPC UA server",
        source="internal",
        received_at=now - timedelta(hours=3),
        facts={"aware_at": now - timedelta(hours=3), "exercise": True, "affected": ["4.2.0"]},
    )
    return [exploited, incident, closed, exercise]
