"""Pages run as many SQL statements on a small data set as on a larger one: no query per row shown.

Each page is read for a small product while the database holds one product, then for a larger one while it
holds several (more evidence, claims, SBOM components, commits, members and audit events); the counts must
match. PAGES is the one table of pages: a new main page is one more row.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sdl_tracker.accounts.services import add_member, find_user, principal_for
from sdl_tracker.auth import Principal
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.claims.terms import product_catalog
from sdl_tracker.evidence.review import review_evidence
from sdl_tracker.evidence.services import Upload
from sdl_tracker.gitlink.models import Commit
from sdl_tracker.products.models import Product, Repository
from sdl_tracker.psirt.services import create_case, record_submission, request_intermediate, update_settings
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.models import DecisionOrigin
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import (
    OPERATOR,
    ApiClient,
    attach,
    login,
    make_product,
    make_release,
    make_user,
    member,
    statements,
)

pytestmark = pytest.mark.db


@dataclass(frozen=True)
class Subject:
    """The rows a page is about."""

    product: int
    release: int
    version: str
    sbom: int


# name, URL of the subject. A page that another change adds is one more row.
PAGES: list[tuple[str, Callable[[Subject], str]]] = [
    ("my work", lambda s: "/"),
    ("portfolio", lambda s: "/portfolio"),
    ("notifications", lambda s: "/notifications"),
    ("api notifications", lambda s: "/api/v1/notifications"),
    ("readiness", lambda s: f"/releases/{s.release}/readiness"),
    ("product", lambda s: f"/products/{s.product}"),
    ("release", lambda s: f"/products/releases/{s.release}"),
    ("coverage", lambda s: f"/products/{s.product}/coverage"),
    ("coverage of a release", lambda s: f"/products/{s.product}/coverage?release={s.version}"),
    ("claims", lambda s: f"/releases/{s.release}/claims"),
    ("evidence", lambda s: f"/products/{s.product}/evidence"),
    ("evidence of a release", lambda s: f"/products/{s.product}/evidence?release={s.version}"),
    ("evidence triaged", lambda s: f"/products/{s.product}/evidence?state=accepted&q=design&sort=expiry&order=asc"),
    ("evidence searched", lambda s: f"/products/{s.product}/evidence?kind=design-document&q=design&sort=title"),
    # Lists filtered by what they offer a bounded choice of are kept (warm, the rows above count no list); these are
    # not, so their statements are counted as every request runs them.
    ("evidence of a release, searched", lambda s: f"/products/{s.product}/evidence?release={s.version}&q=design"),
    ("sboms", lambda s: f"/releases/{s.release}/sboms"),
    ("sbom components", lambda s: f"/sboms/{s.sbom}"),
    ("component search", lambda s: "/components?q=lib+>=1.0"),
    ("component paths", lambda s: f"/sboms/{s.sbom}/components/0"),
    ("commits", lambda s: f"/releases/{s.release}/commits"),
    ("product audit", lambda s: f"/products/{s.product}/audit"),
    ("product audit filtered", lambda s: f"/products/{s.product}/audit?action=evidence"),
    ("api products", lambda s: "/api/v1/products"),
    ("api products, a page", lambda s: "/api/v1/products?per_page=2"),
    ("api releases", lambda s: f"/api/v1/products/{s.product}/releases"),
    ("api evidence", lambda s: f"/api/v1/products/{s.product}/evidence"),
    ("api evidence searched", lambda s: f"/api/v1/products/{s.product}/evidence?q=design&sort=expiry&order=asc"),
    ("api claims", lambda s: f"/api/v1/releases/{s.release}/claims"),
    ("api coverage", lambda s: f"/api/v1/products/{s.product}/coverage"),
    ("api sboms", lambda s: f"/api/v1/products/{s.product}/sboms"),
    ("api components", lambda s: f"/api/v1/sboms/{s.sbom}/components"),
    ("api component search", lambda s: "/api/v1/components?q=pkg:npm/lib1"),
    ("api licences", lambda s: f"/api/v1/releases/{s.release}/sboms/licences"),
    ("api sbom history", lambda s: f"/api/v1/releases/{s.release}/sboms/history"),
    ("api commits", lambda s: f"/api/v1/releases/{s.release}/commits"),
    ("psirt dashboard", lambda s: "/psirt"),
    ("psirt cases", lambda s: "/psirt/cases"),
    ("psirt cases of a product", lambda s: f"/psirt/cases?product={s.product}&kind=vulnerability"),
    ("api psirt cases", lambda s: "/api/v1/psirt/cases"),
    ("api psirt clocks", lambda s: "/api/v1/psirt/clocks"),
    ("vex decisions", lambda s: f"/releases/{s.release}/vex"),
    ("vex decisions filtered", lambda s: f"/releases/{s.release}/vex?status=affected"),
    ("api vex decisions", lambda s: f"/api/v1/releases/{s.release}/vex-decisions"),
    ("api vex decisions on a component", lambda s: "/api/v1/vex-decisions?component=pkg:npm/lib0"),
]
OFFICER = "officer@example.com"
TODAY = date.today()


def _sbom_document(components: int) -> bytes:
    items = [
        {"type": "library", "bom-ref": f"c{n}", "name": f"lib{n}", "version": "1.0", "purl": f"pkg:npm/lib{n}@1.0"}
        for n in range(components)
    ]
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {"component": {"type": "firmware", "bom-ref": "fw", "name": "firmware", "version": "1.0"}},
            "components": items,
            "dependencies": [{"ref": "fw", "dependsOn": [item["bom-ref"] for item in items]}],
        }
    ).encode()


def _populate(session: Session, size: int) -> Subject:
    """A product with `size` times the rows of each kind a page lists, through the services."""
    product = make_product(session)
    add_member(session, OPERATOR, product.id, email=OFFICER, role="security_officer")
    officer = principal_for(session, find_user(session, OFFICER))
    developer = member(session, product, "developer")
    reviewer = member(session, product, "security_officer")
    make_release(session, product, "1.0", git_ref="v1.0")
    release = make_release(session, product, "2.0", git_ref="v2.0")
    refs = [item.ref for item in product_catalog(session, product).applicability.items if item.ref.startswith("CR ")]
    for n in range(2 * size):
        evidence = attach(
            session,
            developer,
            product,
            f"Design {n}",
            kind="design-document",
            requirements=["SD-1", refs[n % len(refs)]],
            releases=["2.0"],
            effective=TODAY - timedelta(days=2),
            files=[Upload(f"design{n}.txt", "text/plain", io.BytesIO(f"design {n}".encode()))],
            today=TODAY,
        )
        review_evidence(session, reviewer, evidence.id, accept=True)
        set_claim(
            session, officer, release.id, refs[n % len(refs)], ClaimInput("implemented", evidence_ids=[evidence.id])
        )
    document = _sbom_document(3 * size)
    sbom = import_sbom(session, OPERATOR, release.id, Upload("sbom.cdx.json", "application/json", io.BytesIO(document)))
    _commits(session, product, 3 * size)
    _cases(session, officer, product, size)
    _decisions(session, officer, release.id, size)
    session.flush()
    return Subject(product.id, release.id, release.version, sbom.sbom.id)


def _cases(session: Session, officer: Principal, product: Product, count: int) -> None:
    """`count` actively exploited vulnerabilities, each with a submission and an intermediate report requested, and
    an incident, with the product's main establishment in Berlin."""
    now = datetime.now(UTC)
    update_settings(session, officer, product.id, zone="Europe/Berlin", member_states=["DE"])
    for n in range(count):
        case = create_case(
            session,
            officer,
            product.id,
            kind="vulnerability",
            title=f"Exploited {n}",
            source="researcher",
            received_at=now - timedelta(hours=40),
            facts={"aware_at": now - timedelta(hours=30 - n), "affected": ["2.0"], "cve_ids": [f"CVE-2026-{1000 + n}"]},
        )
        record_submission(session, officer, case.id, submitted_at=now - timedelta(hours=1), stages=["early-warning"])
        request_intermediate(
            session, officer, case.id, requested_at=now - timedelta(minutes=30), due_at=now + timedelta(days=2)
        )
    create_case(
        session,
        officer,
        product.id,
        kind="incident",
        title="Update server compromised",
        source="internal",
        received_at=now - timedelta(hours=2),
        facts={"incident_criteria": ["malicious-code"]},
    )


def _decisions(session: Session, officer: Principal, release_id: int, count: int) -> None:
    """Decisions on `count` vulnerabilities (the cases' CVEs), each in a component and in the product itself, and a
    matched one awaiting confirmation."""
    for n in range(count):
        for component in (f"pkg:npm/lib{n}@1.0", ""):
            data = DecisionInput("affected", action=f"Update lib{n}.")
            record_decision(session, officer, release_id, f"CVE-2026-{1000 + n}", data, component=component)
    carried = DecisionInput("under_investigation")
    record_decision(session, OPERATOR, release_id, "GHSA-jfh8-c2jp-5v3q", carried, origin=DecisionOrigin.MATCH)


def _commits(session: Session, product: Product, count: int) -> None:
    """A scanned history of `count` commits, half of them reviewed, with both releases' tags on it."""
    shas = [f"{product.id:08x}{n:032x}" for n in range(count)]
    repository = Repository(
        product_id=product.id,
        name="firmware",
        location="/srv/git/firmware.git",
        refs={"refs/tags/v1.0": shas[0], "refs/tags/v2.0": shas[-1]},
    )
    session.add(repository)
    session.flush()
    for n, sha in enumerate(shas):
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n)
        session.add(
            Commit(
                repository_id=repository.id,
                sha=sha,
                parents=[shas[n - 1]] if n else [],
                author_name="Dev",
                author_email="dev@example.com",
                authored_at=at,
                committer_name="Dev",
                committer_email="dev@example.com",
                committed_at=at,
                subject=f"Change {n}",
                trailers=[["Reviewed-by", "Lead <lead@example.com>"]] if n % 2 else [],
                paths=["src/main.c"],
            )
        )


def _counts(app: Flask, client: FlaskClient, token: str, subject: Subject) -> dict[str, int]:
    counts = {}
    for name, url_of in PAGES:
        url = url_of(subject)
        headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else {}
        assert client.get(url, headers=headers).status_code == 200, name  # warm: caches of the catalog
        with statements(app) as seen:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, name
        counts[name] = len(seen)
    return counts


def test_every_page_runs_as_many_statements_for_many_rows_as_for_few(
    app: Flask, session: Session, client: FlaskClient, api: ApiClient
) -> None:
    make_user(session, OFFICER)
    small = _populate(session, 1)
    session.commit()
    login(client, OFFICER)
    token = api.as_user(OFFICER)
    few = _counts(app, client, token, small)

    for _ in range(2):  # more products on the officer's dashboard and in the audit log
        add_member(session, OPERATOR, make_product(session).id, email=OFFICER, role="security_officer")
    large = _populate(session, 6)
    session.commit()
    token = api.as_user(OFFICER)
    many = _counts(app, client, token, large)

    assert {name: (few[name], many[name]) for name in few if few[name] != many[name]} == {}
