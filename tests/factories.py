"""Test data through the real services (so every row is as valid as the app would make it)."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import User
from sdl_tracker.accounts.services import add_member, create_user, find_user, principal_for
from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.app_access import app_db
from sdl_tracker.auth import ACCOUNT_PERMISSIONS, ROLE_PERMISSIONS, Permission, Principal
from sdl_tracker.demo_evidence import recorded_on as recorded_on  # dates a record as if made on a past day
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.gates.signoff import import_legacy_release
from sdl_tracker.products.interfaces import InterfaceData
from sdl_tracker.products.models import Product, Release
from sdl_tracker.products.services import create_product, create_release, update_release

OPERATOR = Principal.operator("tests")
PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_user(session: Session, email: str | None = None, *, admin: bool = False) -> User:
    """A user with PASSWORD."""
    email = email or f"user{next(_counter)}@example.com"
    return create_user(session, OPERATOR, email=email, password=PASSWORD, name=email.split("@")[0], is_admin=admin)


def make_product(session: Session, name: str | None = None, **fields: Any) -> Product:
    """A product with sensible defaults."""
    values: dict[str, Any] = {
        "component_type": "EDR",
        "target_sl": dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 2),
        "vendor": "Test Vendor",
        "interfaces": [InterfaceData("eth0", "network", "Modbus TCP", 502)],
    }
    values.update(fields)
    return create_product(session, OPERATOR, name=name or f"Product {next(_counter)}", **values)


LEGACY_REASON = "test fixture: shipped before gates"


def make_release(session: Session, product: Product, version: str, **fields: Any) -> Release:
    """A release of `product`; one released or withdrawn is recorded as shipped before gates existed (a legacy
    import), since nothing else may ship without a signed-off gate."""
    status = fields.pop("status", "planned")
    if status not in ("released", "withdrawn"):
        return create_release(session, OPERATOR, product.id, version=version, status=status, **fields)
    release = import_legacy_release(
        session,
        OPERATOR,
        product.id,
        version,
        release_date=fields.pop("release_date", None),
        reason=LEGACY_REASON,
        git_ref=fields.pop("git_ref", ""),
    )
    assert not fields, f"make_release cannot ship a release with {sorted(fields)}"
    if status == "withdrawn":
        update_release(session, OPERATOR, release.id, status="withdrawn")
    return release


def member(session: Session, product: Product, role: str, email: str | None = None) -> Principal:
    """A new user with `role` in `product`, as a Principal."""
    user = make_user(session, email)
    add_member(session, OPERATOR, product.id, email=user.email, role=role)
    return principal_for(session, user)


def attach(
    session: Session,
    actor: Principal,
    product: Product | None,
    title: str,
    *,
    kind: str = "other",
    requirements: Sequence[str] = ("SM-2",),
    description: str = "",
    effective: date | None = None,
    review_due: date | None = None,
    draft: bool = False,
    releases: Sequence[str] = (),
    files: Sequence[Upload] | None = None,
    today: date | None = None,
) -> Evidence:
    """Evidence attached by `actor` (to the organisation for product None), submitted unless `draft`; its
    artifact is a small text file unless `files` are given."""
    uploads = files if files is not None else [Upload("note.txt", "text/plain", io.BytesIO(title.encode()))]
    return create_evidence(
        session,
        actor,
        product_id=product.id if product is not None else None,
        kind=kind,
        draft=draft,
        data=EvidenceInput(
            title=title,
            description=description,
            requirements=list(requirements),
            effective_date=effective,
            review_due=review_due,
            release_versions=list(releases),
            files=list(uploads),
        ),
        today=today,
    )


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile (a page's count must not grow with the rows it shows)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    engine = app_db(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on `path`."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form."""
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def signed_in(app: Flask, email: str) -> FlaskClient:
    """A new client of `app`, signed in as `email` through the login form."""
    client = app.test_client()
    login(client, email)
    return client


class ApiClient:
    """A test client that sends `Authorization: Bearer <token>` with real API tokens."""

    def __init__(self, client: FlaskClient, app: Flask) -> None:
        self.client = client
        self.app = app

    def as_user(self, email: str, *, scopes: list[str] | None = None, product_ids: list[int] | None = None) -> str:
        """A real token for `email`: by default every permission they hold on every product they are in
        (an administrator's covers all products). Committed, as a real client would find it."""
        with app_db(self.app).unit_of_work() as session:
            user = find_user(session, email)
            assert user is not None, email
            if user.is_admin and product_ids is None:
                everything = scopes or [p.value for p in Permission]
                new = create_token(
                    session,
                    OPERATOR,
                    user_id=user.id,
                    name="tests",
                    product_ids=[],
                    scopes=everything,
                    all_products=True,
                )
                return new.secret
            rights = principal_for(session, user)
            ids = sorted(rights.role_by_product) if product_ids is None else product_ids
            if scopes is None:
                held = [set(ROLE_PERMISSIONS[rights.role_by_product[p]]) for p in ids]
                common = set.intersection(*held) if held else {Permission.PRODUCT_READ}
                scopes = sorted(p.value for p in common | ACCOUNT_PERMISSIONS)
            return create_token(session, OPERATOR, user_id=user.id, name="tests", product_ids=ids, scopes=scopes).secret

    def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
        """Make a request with the token (if any)."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(path, method=method, headers=headers, **kwargs)
