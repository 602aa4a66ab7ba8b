"""A busy database: reads with a token still answer, writes answer 503 with Retry-After, nothing is half-written."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text

from sdl_tracker import create_app, schema
from sdl_tracker.accounts.models import ApiToken
from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.app_access import app_db
from sdl_tracker.audit.services import AUDIT_LOCK_KEY
from sdl_tracker.products.models import Product
from tests.conftest import BACKENDS
from tests.factories import OPERATOR, make_product, make_user


@pytest.fixture
def own_app(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """An app on its own SQLite file (the rolled-back test connection cannot be locked from outside)."""
    db_file = tmp_path / "busy.db"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{db_file}",
            "DATA_DIR": str(tmp_path / "data"),
            "TESTING": True,
            "SQLITE_BUSY_TIMEOUT_MS": 200,
        }
    )
    schema.upgrade(app_db(app))
    yield app, db_file
    app_db(app).dispose()


def _token(app: Flask) -> str:
    with app_db(app).unit_of_work() as session:
        user = make_user(session, "admin@example.com", admin=True)
        make_product(session, "PLC")
        return create_token(
            session, OPERATOR, user_id=user.id, name="ci", product_ids=[], scopes=["product:read"], all_products=True
        ).secret


def _hold_write_lock(db_file: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_token_read_answers_while_another_writer_holds_the_lock(own_app: tuple[Flask, Path]) -> None:
    app, db_file = own_app
    secret = _token(app)
    holder = _hold_write_lock(db_file)
    try:
        response = app.test_client().get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200
        assert [p["name"] for p in response.get_json()["items"]] == ["PLC"]
        response.close()  # the best-effort last-use write gives up quietly: the lock is still held
    finally:
        holder.rollback()
        holder.close()
    with app_db(app).unit_of_work(read_only=True) as session:
        token = session.scalars(select(ApiToken)).one()
        assert token.last_used_at is None
    # Once the database is free, the next use is recorded.
    app.test_client().get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"}).close()
    with app_db(app).unit_of_work(read_only=True) as session:
        assert session.scalars(select(ApiToken)).one().last_used_at is not None


def test_a_write_against_a_locked_database_is_503_with_retry_after(own_app: tuple[Flask, Path]) -> None:
    app, db_file = own_app
    with app_db(app).unit_of_work() as session:
        admin = make_user(session, "admin@example.com", admin=True)
        secret = create_token(
            session,
            OPERATOR,
            user_id=admin.id,
            name="ci",
            product_ids=[],
            scopes=["product:create", "product:read"],
            all_products=True,
        ).secret
    holder = _hold_write_lock(db_file)
    try:
        response = app.test_client().post(
            "/api/v1/products",
            json={"name": "Switch", "component_type": "NDR", "target_sl": {f"FR{n}": 2 for n in range(1, 8)}},
            headers={"Authorization": f"Bearer {secret}"},
        )
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.mimetype == "application/problem+json"
    assert "busy" in response.get_json()["detail"]
    with app_db(app).unit_of_work(read_only=True) as session:
        assert session.scalars(select(Product.name)).all() == []


def test_a_page_against_a_locked_database_is_a_503_page(own_app: tuple[Flask, Path]) -> None:
    app, db_file = own_app
    with app_db(app).unit_of_work() as session:
        make_user(session, "officer@example.com")
    client = app.test_client()
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    holder = _hold_write_lock(db_file)
    try:
        response = client.post("/login", data={"email": "officer@example.com", "password": "x", "csrf_token": token})
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "busy" in response.get_data(as_text=True)


@pytest.fixture
def postgres_app(fresh_database_url: Any, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """An app on a fresh PostgreSQL database whose writers wait at most 300 ms for a lock."""
    if "postgresql" not in BACKENDS:
        pytest.skip("needs PostgreSQL (SDL_TEST_POSTGRES_URL; CI always sets it)")
    url = fresh_database_url("postgresql")
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "TESTING": True, "LOCK_TIMEOUT_MS": 300})
    schema.upgrade(app_db(app))
    yield app, url
    app_db(app).dispose()


def test_a_postgres_writer_that_cannot_get_its_lock_answers_503(postgres_app: tuple[Flask, str]) -> None:
    app, url = postgres_app
    with app_db(app).unit_of_work() as session:
        admin = make_user(session, "admin@example.com", admin=True)
        secret = create_token(
            session, OPERATOR, user_id=admin.id, name="ci", product_ids=[], scopes=["product:create"], all_products=True
        ).secret
    engine = create_engine(url)
    holder = engine.connect()
    transaction = holder.begin()
    holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})  # an audit append in flight
    try:
        started = time.monotonic()
        response = app.test_client().post(
            "/api/v1/products",
            json={"name": "Switch", "component_type": "NDR", "target_sl": {f"FR{n}": 2 for n in range(1, 8)}},
            headers={"Authorization": f"Bearer {secret}"},
        )
        waited = time.monotonic() - started
    finally:
        transaction.rollback()
        holder.close()
        engine.dispose()
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert waited < 10
    with app_db(app).unit_of_work(read_only=True) as session:
        assert session.scalars(select(Product.name)).all() == []


def test_an_unreachable_postgres_answers_503(tmp_path: Path) -> None:
    app = create_app(
        {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none", "DATA_DIR": str(tmp_path / "data")}
    )
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 503 and health.headers["Retry-After"] == "2"
    well_formed = "sdlt_0123456789_" + "A" * 43  # checked against the database, which is down
    api = client.get("/api/v1/products", headers={"Authorization": f"Bearer {well_formed}"})
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
