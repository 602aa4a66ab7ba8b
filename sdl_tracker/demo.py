"""`sdl-tracker demo`: a realistic portfolio to look around in; running it again changes nothing."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import schema
from .accounts.services import add_member, create_user, find_user
from .app_access import app_db, app_settings
from .auth import Principal
from .catalog.services import load_packaged
from .commands import fail, say
from .demo_cra import load_plc_cra
from .demo_evidence import (
    confirm_carried_claims,
    demo_repository,
    load_demo_claims,
    load_plc_decisions,
    load_plc_evidence,
)
from .demo_psirt import load_plc_cases
from .demo_sboms import load_plc_sboms
from .demo_vex import load_plc_vex
from .errors import DomainError
from .evidence.models import Evidence
from .gates.signoff import import_legacy_release
from .gitlink.models import Commit, CommitEvidence
from .products.interfaces import InterfaceData
from .products.models import Product, Release
from .products.services import create_product, create_release
from .psirt.models import CaseStatus

DEMO_ADMIN = "admin@example.com"
DEMO_MEMBERS = (
    ("officer@example.com", "Sofia Officer", "security_officer"),
    # A second officer: N/A, compensation and scoping decisions are accepted by an officer other than their author.
    ("lead@example.com", "Lars Lead", "security_officer"),
    ("dev@example.com", "Dana Developer", "developer"),
    ("auditor@example.com", "Arno Auditor", "auditor"),
)
PASSWORD_FILE = "demo-password"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True)
class DemoProduct:
    """One product of the demo portfolio."""

    name: str
    component_type: str
    target_sl: dict[str, int]
    description: str
    cra_category: str
    interfaces: list[InterfaceData]
    releases: list[tuple[str, str, date | None, str]]  # version, status, date, git tag
    # Created after the claims exist, so they arrive carried forward (and unconfirmed) from the release before.
    later_releases: list[tuple[str, str, date | None, str]] = field(default_factory=list)
    support_period_end: date = date(2032, 12, 31)
    vendor: str = "Northwind Automation"
    contact: str = "psirt@northwind.example"
    cvd_url: str = "https://northwind.example/security/cvd"
    members: tuple[str, ...] = field(
        default=("officer@example.com", "lead@example.com", "dev@example.com", "auditor@example.com")
    )
    claims: tuple[str, int, tuple[str, ...], date] | None = None  # release, claimed up to SL, left partial, tested


def _levels(*levels: int) -> dict[str, int]:
    return {f"FR{i}": level for i, level in enumerate(levels, start=1)}


PORTFOLIO = [
    DemoProduct(
        name="NW-PLC 5000 firmware",
        component_type="EDR",
        target_sl=_levels(3, 3, 3, 3, 3, 3, 3),
        description="Firmware of the NW-PLC 5000 programmable logic controller for process automation.",
        # A PLC's core function is not listed in CRA Annex III or IV: a default product.
        cra_category="default",
        interfaces=[
            InterfaceData("eth0", "network", "Modbus TCP", 502),
            InterfaceData("eth0-opcua", "network", "OPC UA", 4840),
            InterfaceData("web-admin", "network", "HTTPS", 443),
            InterfaceData("service-usb", "usb", "USB mass storage"),
            InterfaceData("jtag", "debug", "JTAG"),
        ],
        releases=[
            ("4.1.0", "released", date(2025, 11, 14), "v4.1.0"),
            ("4.2.0", "released", date(2026, 6, 2), "v4.2.0"),
        ],
        later_releases=[("4.3.0-rc1", "candidate", None, "v4.3.0-rc1")],
        claims=("4.2.0", 2, ("CR 1.9", "CR 3.4 RE(1)", "EDR 3.11"), date(2026, 5, 26)),
    ),
    DemoProduct(
        name="NW-HMI Studio",
        component_type="SAR",
        target_sl=_levels(2, 2, 2, 2, 2, 2, 2),
        description="Operator HMI runtime and engineering application for Windows and Linux panels.",
        cra_category="default",
        interfaces=[
            InterfaceData("opcua-client", "network", "OPC UA", 4840),
            InterfaceData("rest-api", "network", "HTTPS", 8443),
        ],
        releases=[("2.8.1", "released", date(2026, 3, 20), "v2.8.1")],
        later_releases=[("3.0.0", "development", None, "")],
        claims=("2.8.1", 2, ("CR 6.2",), date(2026, 3, 9)),
    ),
    DemoProduct(
        name="NW-Switch 24G",
        component_type="NDR",
        target_sl=_levels(2, 2, 2, 1, 2, 2, 2),
        description="Managed 24-port industrial Ethernet switch with VLANs and port security.",
        cra_category="important_class_i",  # Annex III class I lists switches
        interfaces=[
            InterfaceData("mgmt-ssh", "network", "SSH", 22),
            InterfaceData("mgmt-web", "network", "HTTPS", 443),
            InterfaceData("snmp", "network", "SNMPv3", 161),
            InterfaceData("console", "serial", "RS-232 console"),
        ],
        releases=[("1.4.2", "released", date(2026, 1, 30), "v1.4.2")],
    ),
]


def demo_password(data_dir: Path) -> str:
    """The demo users' password: generated once into the data directory, then reused."""
    path = data_dir / PASSWORD_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(12))
    return path.read_text().strip()


def _demo_git(session: Session, actor: Principal, product_id: int, data_dir: Path, fixed_case: str) -> str:
    """Register and scan the demo's real git history, one of whose commits fixes `fixed_case`, and accept its
    reviews."""
    from .accounts.services import find_user, principal_for
    from .evidence.review import review_evidence
    from .gitlink.scan import run_scan
    from .jobs.registry import InlinePhases
    from .products.repositories import add_repository

    path = demo_repository(data_dir / "demo-git" / "plc-firmware", fixed_case)
    repository = add_repository(session, actor, product_id, name="plc-firmware", location=str(path))
    # The demo's history is small and must be there when the demo's one transaction commits, so its
    # scan runs inline (a real repository's scan is a job).
    summary = run_scan(InlinePhases(session, actor), repository.id)
    # The second officer accepts the trailers' reviews: the scan's operator submitted them, so any officer
    # other than the commits' author may. The 4.2.0 ones are accepted after 4.2.0 shipped, which its
    # release-date view says; the 4.3.0-rc1 ones count.
    lead = find_user(session, "lead@example.com")
    reviews = session.scalars(
        select(Evidence)
        .join(CommitEvidence, CommitEvidence.evidence_id == Evidence.id)
        .join(Commit, Commit.id == CommitEvidence.commit_id)
        .where(Commit.repository_id == repository.id, Evidence.kind == "code-review")
        .order_by(Evidence.id)
    ).all()
    if lead is not None:
        for review in reviews:
            review_evidence(session, principal_for(session, lead, origin="demo"), review.id, accept=True)
    return f"git history of {summary['new_commits']} commits"


DEMO_LEGACY_REASON = "Demo portfolio: shipped before release gates were introduced; records kept as they were."


def _releases(
    session: Session, actor: Principal, product: Product, releases: list[tuple[str, str, date | None, str]]
) -> list[str]:
    existing = set(session.scalars(select(Release.version).where(Release.product_id == product.id)))
    created = []
    for version, status, released_on, tag in releases:
        if version in existing:
            continue
        if status == "released":
            # The demo's shipped releases came before its gates: recorded as such, as an installation's would be.
            import_legacy_release(
                session, actor, product.id, version, release_date=released_on, reason=DEMO_LEGACY_REASON, git_ref=tag
            )
        else:
            create_release(
                session, actor, product.id, version=version, status=status, release_date=released_on, git_ref=tag
            )
        created.append(f"release {product.name} {version}")
    return created


def load_demo(session: Session, actor: Principal, password: str, data_dir: Path) -> list[str]:
    """Create what is missing of the demo portfolio; returns what was created."""
    created = [result.what for result in load_packaged(session, actor) if result.created]
    if find_user(session, DEMO_ADMIN) is None:
        create_user(session, actor, email=DEMO_ADMIN, password=password, name="Demo Admin", is_admin=True)
        created.append(f"user {DEMO_ADMIN}")
    for email, name, _role in DEMO_MEMBERS:
        if find_user(session, email) is None:
            create_user(session, actor, email=email, password=password, name=name)
            created.append(f"user {email}")
    roles = {email: role for email, _name, role in DEMO_MEMBERS}
    for spec in PORTFOLIO:
        product = session.scalar(select(Product).where(Product.name == spec.name))
        if product is None:
            product = create_product(
                session,
                actor,
                name=spec.name,
                component_type=spec.component_type,
                target_sl=spec.target_sl,
                vendor=spec.vendor,
                description=spec.description,
                cra_category=spec.cra_category,
                support_period_end=spec.support_period_end,
                security_contact=spec.contact,
                cvd_policy_url=spec.cvd_url,
                interfaces=spec.interfaces,
            )
            for email in spec.members:
                add_member(session, actor, product.id, email=email, role=roles[email])
            created.append(f"product {spec.name}")
            new_product = True
        else:
            new_product = False
        created += _releases(session, actor, product, spec.releases)
        if new_product and spec.component_type == "EDR":
            count = load_plc_evidence(session, actor, product.id)
            created.append(f"{count} evidence items for {spec.name}")
            created.append(f"{load_plc_sboms(session, actor, product.id)} SBOMs for {spec.name}")
            # The cases come before the history, whose fix commit names the closed one.
            cases = load_plc_cases(session, actor, product.id)
            created.append(f"{len(cases)} PSIRT cases for {spec.name}")
            created.extend(load_plc_vex(session, actor, product.id, cases))
            fixed = next(case for case in cases if case.status is CaseStatus.CLOSED)
            created.append(_demo_git(session, actor, product.id, data_dir, fixed.reference))
        if new_product and spec.claims:
            version, upto, leave_open, tested_on = spec.claims
            count = load_demo_claims(
                session, actor, product.id, version, upto=upto, leave_open=leave_open, tested_on=tested_on
            )
            if spec.component_type == "EDR":
                load_plc_decisions(session, product.id, version, tested_on + timedelta(days=4))
            created.append(f"{count} claims for {spec.name} {version}")
            if spec.component_type == "EDR":
                created.extend(load_plc_cra(session, actor, product.id))
        later = _releases(session, actor, product, spec.later_releases)
        created += later
        if new_product and later and spec.component_type == "EDR":
            confirm_carried_claims(session, product.id, spec.later_releases[0][0], ("CR 1.1", "CR 2.1"))
    return created


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Migrate, then load a demo portfolio (three products, releases, users); print the login."""
    from sqlalchemy.exc import SQLAlchemyError

    database = app_db(current_app)
    settings = app_settings(current_app)
    try:
        if schema.current_revision(database) not in schema.heads():
            schema.upgrade(database)
        password = demo_password(Path(settings.DATA_DIR))
        with database.unit_of_work() as session:
            created = load_demo(session, Principal.operator("demo"), password, Path(settings.DATA_DIR))
    except SQLAlchemyError as exc:
        fail(f"database: {str(exc).splitlines()[0]}")
        return
    except DomainError as exc:
        fail(exc.one_line())
        return
    say(f"demo data: {len(created)} item(s) created" + ("" if created else " (already loaded)"))
    say("open http://127.0.0.1:5000/ after `sdl-tracker serve`")
    say(f"login: {DEMO_ADMIN}  password: {password}")
    say("(also officer@, lead@, dev@ and auditor@example.com with the same password, one per role)")
