"""A portfolio to load pages against: `python bench/portfolio.py [--scale 1.0] [--postgres | --database-url URL]`.

At scale 1.0: 50 products of 10 releases each (500), 50,000 evidence items, 100,000 claims, 500,000 SBOM
components and 200,000 commits; `--scale` multiplies every figure (0.1 for a quick run), the number of
products too, so each product holds about as much as at full scale (1,000 evidence items, 2,000 claims, an
SBOM of 10,000 components, 4,000 commits) and what grows is the portfolio.

Users, products, memberships, releases, repositories and the SBOMs go through the services (audited as
any change). The bulk rows (evidence with its revision and links, claims, commits and a repository's refs
as a scan would store them) are inserted in batches, each product's in its own transaction with one audit
event `bench:portfolio:load` naming what it added, so `sdl-tracker audit verify` passes on the result.
Every bulk row keeps the invariants the services keep: evidence details validated by the kind's schema,
review states with a submitter and (accepted, rejected) a reviewer other than the submitter, release links
only for release-scoped evidence and to the product's own releases, 4-1 links to the product's edition;
claims only for items that apply to the product's component type, with statuses that need no
justification; commits chained by their parents with the releases' tags on them.

The users are the demo's (officer@, lead@, dev@, auditor@ and admin@example.com, the demo password in
the data directory), so `bench/load.py --data-dir DIR` signs in the same way as on the demo. Prints how
long each part took and the data directory. `--postgres` creates a database on 127.0.0.1:5432 (user
postgres) and keeps it (its URL is printed; drop it when done); `--database-url` names another empty one.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sbom_import import generate  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from sdl_tracker import create_app, schema  # noqa: E402
from sdl_tracker.accounts.services import add_member, create_user, find_user  # noqa: E402
from sdl_tracker.app_access import app_db  # noqa: E402
from sdl_tracker.audit.services import record  # noqa: E402
from sdl_tracker.auth import Principal  # noqa: E402
from sdl_tracker.catalog.models import Requirement  # noqa: E402
from sdl_tracker.catalog.rules import ItemKind  # noqa: E402
from sdl_tracker.catalog.services import load_packaged  # noqa: E402
from sdl_tracker.claims.models import Claim  # noqa: E402
from sdl_tracker.claims.rules import ClaimStatus  # noqa: E402
from sdl_tracker.claims.terms import product_catalog  # noqa: E402
from sdl_tracker.demo import DEMO_ADMIN, DEMO_MEMBERS, demo_password  # noqa: E402
from sdl_tracker.evidence.details import validate_details  # noqa: E402
from sdl_tracker.evidence.inputs import Upload  # noqa: E402
from sdl_tracker.evidence.models import Evidence, EvidenceRevision, RevisionRelease, RevisionRequirement  # noqa: E402
from sdl_tracker.evidence.scoping import edition_4_1  # noqa: E402
from sdl_tracker.evidence.vocabulary import EvidenceKind, EvidenceScope, ReviewState  # noqa: E402
from sdl_tracker.gitlink.models import Commit  # noqa: E402
from sdl_tracker.products.models import Product, Repository  # noqa: E402
from sdl_tracker.products.repositories import add_repository  # noqa: E402
from sdl_tracker.products.services import create_product, create_release  # noqa: E402
from sdl_tracker.sboms.services import import_sbom  # noqa: E402

FULL = {"products": 50, "evidence": 50_000, "claims": 100_000, "components": 500_000, "commits": 200_000}
RELEASES_PER_PRODUCT = 10
BATCH = 2_000
KINDS = (
    EvidenceKind.DESIGN_DOCUMENT,
    EvidenceKind.DESIGN_REVIEW,
    EvidenceKind.CODE_REVIEW,
    EvidenceKind.STATIC_ANALYSIS,
    EvidenceKind.PROCESS_RECORD,
    EvidenceKind.SECURITY_TRAINING,
    EvidenceKind.OTHER,
)
STATES = (ReviewState.ACCEPTED, ReviewState.ACCEPTED, ReviewState.SUBMITTED, ReviewState.DRAFT, ReviewState.REJECTED)
CLAIM_STATUSES = (ClaimStatus.IMPLEMENTED, ClaimStatus.PARTIALLY_IMPLEMENTED, ClaimStatus.NOT_IMPLEMENTED)
TYPES = ("EDR", "HDR", "NDR", "SAR")


def _valid_kinds() -> list[tuple[EvidenceKind, dict[str, Any]]]:
    """The kinds whose details may be empty, with the details their schema makes of nothing."""
    valid = []
    for kind in KINDS:
        try:
            valid.append((kind, validate_details(kind, {})))
        except Exception:  # noqa: S112 - a kind that needs details is left out
            continue
    assert valid, "no evidence kind takes empty details"
    return valid


def _batches(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]


def _insert_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for batch in _batches(rows):
        ids += list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), batch))
    return ids


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        session.execute(insert(model), batch)


def _users(session: Session, operator: Principal, password: str) -> dict[str, tuple[int, str]]:
    """The demo's users (made when missing): email -> (id, audit label)."""
    if find_user(session, DEMO_ADMIN) is None:
        create_user(session, operator, email=DEMO_ADMIN, password=password, name="Demo Admin", is_admin=True)
    for email, name, _role in DEMO_MEMBERS:
        if find_user(session, email) is None:
            create_user(session, operator, email=email, password=password, name=name)
    found = {}
    for email, *_rest in DEMO_MEMBERS:
        user = find_user(session, email)
        assert user is not None
        found[email] = (user.id, f"user:{user.email}")
    return found


def _product(session: Session, operator: Principal, n: int) -> tuple[int, list[int]]:
    """One product with the demo's members, its releases (tagged v<version>) and a repository."""
    product = create_product(
        session,
        operator,
        name=f"Portfolio {n:03d} {uuid.uuid4().hex[:6]}",
        component_type=TYPES[n % len(TYPES)],
        target_sl={f"FR{i}": 1 + (n + i) % 3 for i in range(1, 8)},
        vendor="Northwind Automation",
    )
    for email, _name, role in DEMO_MEMBERS:
        add_member(session, operator, product.id, email=email, role=role)
    releases = [
        create_release(session, operator, product.id, version=f"{k}.0", git_ref=f"v{k}.0").id
        for k in range(1, RELEASES_PER_PRODUCT + 1)
    ]
    add_repository(session, operator, product.id, name="firmware", location=f"/srv/git/portfolio-{n:03d}.git")
    return product.id, releases


def _evidence(
    session: Session, product: Product, releases: list[int], count: int, users: dict[str, tuple[int, str]], seed: int
) -> int:
    edition = edition_4_1(product)
    assert edition is not None
    refs = list(
        session.scalars(
            select(Requirement.id).where(
                Requirement.edition_id == edition.id, Requirement.kind == ItemKind.PROCESS_REQUIREMENT
            )
        )
    )
    kinds = _valid_kinds()
    dev_id, dev = users["dev@example.com"]
    officer_id, officer = users["officer@example.com"]
    today = date.today()
    now = datetime.now(UTC)
    scopes = [EvidenceScope.PRODUCT if (seed + i) % 3 else EvidenceScope.RELEASES for i in range(count)]
    ids = _insert_ids(
        session,
        Evidence,
        [
            {
                "product_id": product.id,
                "scope": scopes[i],
                "kind": kinds[(seed + i) % len(kinds)][0],
                "created_at": now,
                "created_by": dev,
            }
            for i in range(count)
        ],
    )
    revisions = []
    for i, _evidence_id in enumerate(ids):
        state = STATES[(seed + i) % len(STATES)]
        reviewed = state in (ReviewState.ACCEPTED, ReviewState.REJECTED)
        revisions.append(
            {
                "evidence_id": ids[i],
                "number": 1,
                "title": f"{kinds[(seed + i) % len(kinds)][0].value} record {i}",
                "description": f"Portfolio record {i} of {product.name}",
                "effective_date": today - timedelta(days=(seed + i * 7) % 300),
                "author": "Dana Developer",
                "review_due": None,
                "details": kinds[(seed + i) % len(kinds)][1],
                "tester_independence": None,
                "state": state,
                "submitted_by_user_id": dev_id,
                "submitted_by": dev,
                "submitted_at": None if state is ReviewState.DRAFT else now,
                "reviewed_by_user_id": officer_id if reviewed else None,
                "reviewed_by": officer if reviewed else "",
                "reviewed_at": now if reviewed else None,
                "rejection_reason": "The record names no tool version." if state is ReviewState.REJECTED else "",
                "created_at": now,
            }
        )
    revision_ids = _insert_ids(session, EvidenceRevision, revisions)
    _insert(
        session,
        RevisionRequirement,
        [
            {"revision_id": revision_id, "requirement_id": refs[(seed + i) % len(refs)]}
            for i, revision_id in enumerate(revision_ids)
        ],
    )
    _insert(
        session,
        RevisionRelease,
        [
            {"revision_id": revision_id, "release_id": releases[(seed + i) % len(releases)]}
            for i, revision_id in enumerate(revision_ids)
            if scopes[i] is EvidenceScope.RELEASES
        ],
    )
    return count


def _claims(session: Session, product: Product, releases: list[int], per_release: int, officer: tuple[int, str]) -> int:
    items = product_catalog(session, product)
    applicable = [items.rows[item.ref].id for item in items.applicability.items][:per_release]
    now = datetime.now(UTC)
    rows = [
        {
            "release_id": release_id,
            "requirement_id": requirement_id,
            "status": CLAIM_STATUSES[(r + i) % len(CLAIM_STATUSES)],
            "verification": None,
            "justification": "",
            "countermeasure": "",
            "notes": "",
            "override_reason": "",
            "documentation_id": None,
            "updated_at": now,
            "updated_by": officer[1],
            "set_by_user_id": officer[0],
            "set_by": officer[1],
            "accepted_by": "",
            "carried_from": "",
            "confirmed_by": "",
        }
        for r, release_id in enumerate(releases)
        for i, requirement_id in enumerate(applicable)
    ]
    _insert(session, Claim, rows)
    return len(rows)


def _commits(session: Session, product_id: int, count: int) -> int:
    """A linear history; release k's tag sits at the k-th tenth of it (as a scan would store it)."""
    repository = session.scalar(select(Repository).where(Repository.product_id == product_id))
    assert repository is not None
    start = datetime(2025, 1, 1, tzinfo=UTC)
    shas = [hashlib.sha1(f"{product_id}:{n}".encode(), usedforsecurity=False).hexdigest() for n in range(count)]
    rows = [
        {
            "repository_id": repository.id,
            "sha": sha,
            "parents": [shas[n - 1]] if n else [],
            "author_name": "Dana Developer",
            "author_email": "dev@example.com",
            "authored_at": start + timedelta(minutes=30 * n),
            "committer_name": "Dana Developer",
            "committer_email": "dev@example.com",
            "committed_at": start + timedelta(minutes=30 * n),
            "subject": f"Change {n}",
            "trailers": [["Reviewed-by", "Lars Lead <lead@example.com>"]] if n % 2 else [],
            "paths": [f"src/module{n % 40}.c"],
            "reachable": True,
        }
        for n, sha in enumerate(shas)
    ]
    _insert(session, Commit, rows)
    step = max(1, count // RELEASES_PER_PRODUCT)
    repository.refs = {
        "refs/heads/main": shas[-1],
        **{f"refs/tags/v{k}.0": shas[min(count - 1, k * step - 1)] for k in range(1, RELEASES_PER_PRODUCT + 1)},
    }
    return count


def build(database_url: str, data_dir: Path, scale: float) -> None:
    """Migrate, then build the portfolio product by product, printing the time each part took."""
    figures = {name: max(1, round(value * scale)) for name, value in FULL.items()}
    products = figures["products"]
    per_product = {name: max(1, figures[name] // products) for name in ("evidence", "components", "commits")}
    claims_per_release = max(1, figures["claims"] // (products * RELEASES_PER_PRODUCT))
    config: dict[str, object] = {"DATA_DIR": str(data_dir), "MAX_UPLOAD_BYTES": 2 * 1024**3}
    if database_url:
        config["DATABASE_URL"] = database_url
    database = app_db(create_app(config))
    schema.upgrade(database)
    operator = Principal.operator("bench")
    timings: dict[str, float] = dict.fromkeys(("setup", "products", "evidence", "claims", "sboms", "commits"), 0.0)
    started = time.monotonic()
    with database.unit_of_work() as session:
        load_packaged(session, operator)
        users = _users(session, operator, demo_password(data_dir))
    timings["setup"] = time.monotonic() - started
    document = json.dumps(generate(per_product["components"])).encode()
    totals = dict.fromkeys(("evidence", "claims", "components", "commits"), 0)
    for n in range(products):
        mark = time.monotonic()
        with database.unit_of_work() as session:
            product_id, releases = _product(session, operator, n)
        timings["products"] += time.monotonic() - mark
        added: dict[str, int] = {}
        with database.unit_of_work() as session:
            product = session.get(Product, product_id)
            assert product is not None
            mark = time.monotonic()
            added["evidence"] = _evidence(session, product, releases, per_product["evidence"], users, n)
            timings["evidence"] += time.monotonic() - mark
            mark = time.monotonic()
            added["claims"] = _claims(session, product, releases, claims_per_release, users["officer@example.com"])
            timings["claims"] += time.monotonic() - mark
            mark = time.monotonic()
            added["commits"] = _commits(session, product_id, per_product["commits"])
            timings["commits"] += time.monotonic() - mark
            record(
                session,
                operator,
                "bench:portfolio:load",
                target_type="product",
                target_id=product_id,
                product_id=product_id,
                details=added,
            )
        mark = time.monotonic()
        with database.unit_of_work() as session:
            upload = Upload("portfolio.cdx.json", "application/json", io.BytesIO(document))
            sbom = import_sbom(session, operator, releases[-1], upload, primary=True).sbom
            added["components"] = sbom.component_count
        timings["sboms"] += time.monotonic() - mark
        for name, value in added.items():
            totals[name] += value
        print(f"product {n + 1}/{products}: {added}", flush=True)
    database.dispose()
    print(
        f"\nbuilt in {sum(timings.values()):.0f} s: {products} products, {products * RELEASES_PER_PRODUCT} releases, ",
        end="",
    )
    print(", ".join(f"{value:,} {name}" for name, value in totals.items()))
    print("seconds per part: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items()))


def main() -> None:
    """Parse the options, make the database when asked, build, and say where the result is."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data-dir", help="where the installation goes (default: a new temporary directory)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="a new database on 127.0.0.1:5432 (user postgres)")
    where.add_argument("--database-url", default="", help="an empty database (default: SQLite in the data directory)")
    args = parser.parse_args()
    if not 0 < args.scale <= 10:
        parser.error("--scale must be above 0 and at most 10")
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="sdl-portfolio-")) / "data"
    database_url = args.database_url
    if args.postgres:
        name = f"sdl_portfolio_{uuid.uuid4().hex[:8]}"
        admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    build(database_url, data_dir, args.scale)
    print(f"data directory: {data_dir}")
    if database_url:
        print(f"database: {database_url}")
    print(
        f"load it: python bench/load.py --data-dir {data_dir}"
        + (f" --database-url {database_url}" if database_url else "")
    )


if __name__ == "__main__":
    main()
