"""The demo's CRA file for the PLC: its risk assessment (resting on the threat model), support period, every
Annex I point of release 4.2.0, most of the user information and the declaration data. Some things are left for
the officer, so the checklist has something to show: the points IEC 62443 evidence cannot cover (secure transfer
of data, free-of-charge updates) have no evidence of their own, and the instructions to turn off automatic
updates (Annex II 8(e)) are not written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth import Principal
from .cra.applicability import record_point
from .cra.completeness import release_file
from .cra.declarations import DeclarationInput, UserInformationInput, record_declaration, record_user_information
from .cra.records import RiskAssessmentInput, SupportPeriodInput, record_risk_assessment, record_support_period
from .cra.rules import ANNEX_I_POINTS, USER_INFORMATION_REFS
from .evidence.models import Evidence
from .evidence.vocabulary import EvidenceKind
from .products.models import Product, Release

# What implements each point on the PLC, in a line; the points not named here are described generically.
MEASURES = {
    "I.1": "Developed under the organisation's IEC 62443-4-1 secure development process, risk-driven from the "
    "threat model.",
    "I.2a": "Releases pass SCA and a vulnerability scan; known exploitable vulnerabilities block the release gate.",
    "I.2b": "Web administration and OPC UA ship disabled; a factory reset restores the shipped configuration.",
    "I.2c": "Signed firmware updates through the engineering tool; no automatic installation on a controller.",
    "I.2d": "Role-based accounts with enforced password change on first login; failed logins are logged.",
    "I.2e": "TLS 1.3 on HTTPS and OPC UA; credentials stored hashed; project files encrypted at rest.",
    "I.2f": "Firmware and project downloads are signed and verified; configuration changes are logged.",
    "I.2h": "Control runs on a separate core with rate-limited network handling; outputs go to a safe state.",
    "I.2j": "Unused services disabled by default; JTAG fused off in production units.",
    "I.2k": "Stack canaries, ASLR and a non-executable heap on the application processor.",
    "I.2l": "Security events are logged to syslog; users may switch logging off.",
    "I.2m": "A factory reset erases projects, keys and logs; project export over OPC UA is encrypted.",
}
NOT_APPLICABLE = {
    "I.2g": "The PLC processes process values and its own configuration only; it collects no personal or user data "
    "beyond what its control function needs.",
}


def load_plc_cra(session: Session, actor: Principal, product_id: int) -> list[str]:
    """The PLC's CRA file for release 4.2.0; what was made, for the demo's summary."""
    product = session.get_one(Product, product_id)
    release = session.scalars(select(Release).where(Release.product_id == product_id, Release.version == "4.2.0")).one()
    threat_model = session.scalar(
        select(Evidence.id).where(Evidence.product_id == product_id, Evidence.kind == EvidenceKind.THREAT_MODEL)
    )
    record_risk_assessment(
        session,
        actor,
        product_id,
        RiskAssessmentInput(
            intended_purpose="Control of continuous and batch processes in industrial plants.",
            foreseeable_use="Programmed and monitored from engineering stations and HMIs in the plant's control zone.",
            foreseeable_misuse="Connected directly to an office network or the internet; default accounts kept.",
            operational_environment="A control zone of an IEC 62443-3-2 zone model, behind a conduit firewall.",
            assets="Control logic, recipes, credentials and keys, availability of the controlled process.",
            expected_use_months=180,
            threat_model_evidence_id=threat_model,
        ),
    )
    record_support_period(
        session,
        actor,
        product_id,
        SupportPeriodInput(
            starts_on=date(2025, 11, 14),
            ends_on=date(2040, 11, 1),
            ends_precision="month",
            expected_use_months=180,
            method="The expected use time of controllers in process plants, from the installed base of earlier "
            "controller generations (median 15 years in service).",
            published_where="https://psirt.example.com/support",
        ),
    )
    for ref in ANNEX_I_POINTS:
        reason = NOT_APPLICABLE.get(ref)
        record_point(
            session,
            actor,
            release.id,
            ref,
            applicable=reason is None,
            justification=reason or "",
            measures=MEASURES.get(ref, "Carried out as the mapped IEC 62443-4-1 practices describe."),
            evidence_ids=[],
        )
    texts = {
        "AII.1": f"{product.vendor}, 1 Industriestrasse, 70173 Stuttgart, Germany; psirt@example.com; "
        "https://www.example.com",
        "AII.2": f"{product.security_contact}; coordinated vulnerability disclosure policy: {product.cvd_policy_url}",
        "AII.3": f"{product.name}, programmable logic controller firmware, version {release.version}",
        "AII.4": "Control of industrial processes in a protected control zone; see the security manual, chapter 2.",
        "AII.5": "Exposure to untrusted networks; default credentials kept; unsigned projects loaded.",
        "AII.6": "https://www.example.com/doc/nw-plc-5000-4.2.0.pdf",
        "AII.7": "Security updates and advisories until November 2040.",
        "AII.8a": "Security manual, chapter 3: commissioning, hardening and secure operation.",
        "AII.8b": "Security manual, chapter 4: effect of configuration changes on data security.",
        "AII.8c": "Security manual, chapter 5: installing signed firmware updates.",
        "AII.8d": "Security manual, chapter 6: factory reset and secure decommissioning.",
        "AII.8f": "Integration guide: security assumptions on the environment and defence in depth.",
        "AII.9": "The SBOM is given to customers on request through the PSIRT portal.",
    }
    record_user_information(
        session,
        actor,
        release.id,
        {ref: UserInformationInput(texts[ref]) for ref in USER_INFORMATION_REFS if ref in texts},
    )
    record_declaration(
        session,
        actor,
        release.id,
        DeclarationInput(
            manufacturer_name=product.vendor,
            manufacturer_address="1 Industriestrasse, 70173 Stuttgart, Germany",
            product_identification=f"{product.name}, version {release.version}",
            object_description="Firmware of the NW-PLC 5000 programmable logic controller, as identified above.",
            conformity_route="module_a",
            declaration_url="https://www.example.com/doc/nw-plc-5000-4.2.0.pdf",
            place_of_issue="Stuttgart",
            date_of_issue=date(2026, 6, 2),
            signatory_name="Dana Officer",
            signatory_function="Head of Product Security",
        ),
    )
    missing = len(release_file(session, actor, release.id).missing)
    return [f"CRA file for {product.name} 4.2.0 ({missing} things left for the officer)"]
