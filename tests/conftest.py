"""Fixtures: the schema migrated once per backend, each database test rolled back at its end.

Database tests run on SQLite and, when SDL_TEST_POSTGRES_URL names a server, on PostgreSQL
too (CI always sets it). Tests that use no database fixture run once.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from sdl_tracker import create_app, schema
from sdl_tracker.accounts import services as accounts_services
from sdl_tracker.app import open_installation
from sdl_tracker.app_access import app_db
from sdl_tracker.auth import Principal
from sdl_tracker.catalog.services import load_packaged
from sdl_tracker.db import Database
from sdl_tracker.keys import AUDIT_KEY_FILE, KEYRING_DIR, SIGNING_KEY_FILE
from tests.contract import CHECKED, CheckedClient, unexercised
from tests.factories import ApiClient

POSTGRES_URL = os.environ.get("SDL_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_report_header() -> str:
    """Say which databases this run covers, so a run without PostgreSQL is visible as such."""
    if POSTGRES_URL:
        return f"databases: sqlite, postgresql ({make_url(POSTGRES_URL).render_as_string(hide_password=True)})"
    return "databases: sqlite only (set SDL_TEST_POSTGRES_URL to add PostgreSQL)"


def _create_postgres_database() -> tuple[str, str]:
    """A fresh, uniquely named database on the test server: (its URL, its name)."""
    name = f"sdl_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pytest_configure(config: pytest.Config) -> None:
    """Every test client of every app a test makes checks its API responses against the document."""
    Flask.test_client_class = CheckedClient


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many API responses were checked against the OpenAPI document (tests/contract.py)."""
    if CHECKED:
        routes = len({(method, path) for method, path, _ in CHECKED})
        terminalreporter.write_line(
            f"OpenAPI contract: {CHECKED.total()} API responses checked ({routes} operations, {len(CHECKED)} statuses)"
        )
        missing = unexercised()
        if missing:  # a partial run misses many: name them only when few
            named = ", ".join(missing) if len(missing) <= 10 else "(run the whole suite to see which)"
            terminalreporter.write_line(f"OpenAPI contract: {len(missing)} operations no test calls {named}")


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Passwords hashed in the tests' own process with argon2's parameters for tests (argon2-cffi's
    CHEAPEST profile) instead of the 64 MiB, three-pass production profile.

    Almost every test makes users and signs in; at up to half a second a hash on a busy machine, that was a
    third of the suite's time. The code path is the same (argon2id hashes, verified and read by their own
    parameters); what the production profile is, and that the unknown-email hash has it, is checked on the
    installed console script, whose process hashes as a server does (tests/test_cli.py).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts_services, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A factory of empty databases: fresh_database_url(backend) -> URL, dropped at the end."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        url, name = _create_postgres_database()
        created.append(name)
        return url

    yield make
    for name in created:
        _drop_postgres_database(name)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend this test runs on."""
    return str(request.param)


@pytest.fixture(scope="session")
def data_dir(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory (keys, blobs, the sealed audit head) of the shared test database: one installation
    per backend and run, as a sealed head belongs to one database."""
    return tmp_path_factory.mktemp(f"data-{backend}")


@pytest.fixture(scope="session")
def migrated_url(backend: str, fresh_database_url: Any, data_dir: Path) -> str:
    """A database migrated to head once per run and backend, shared by the rolled-back tests."""
    url = str(fresh_database_url(backend))
    database = Database(url, installation=open_installation(data_dir))
    schema.upgrade(database)
    with database.unit_of_work() as session:  # as `sdl-tracker db upgrade` does
        load_packaged(session, Principal.operator("tests"))
    database.dispose()
    return url


@pytest.fixture
def app(migrated_url: str, data_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on the migrated database whose every session joins one transaction, rolled back at the end.

    Its data directory is its own (blobs and the kept audit checkpoint are files, outside the
    rolled-back transaction) but holds the shared installation's keys, which chained the shared events.
    """
    own = tmp_path / "data"
    own.mkdir()
    for name in (AUDIT_KEY_FILE, SIGNING_KEY_FILE):
        shutil.copy2(data_dir / name, own / name)
    shutil.copytree(data_dir / KEYRING_DIR, own / KEYRING_DIR)
    application = create_app({"DATABASE_URL": migrated_url, "DATA_DIR": str(own), "TESTING": True})
    database = app_db(application)
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    application.extensions["sdl_tracker.test_connection"] = connection
    yield application
    transaction.rollback()
    connection.close()
    database.dispose()


@pytest.fixture
def shared_app(backend: str, fresh_database_url: Any, tmp_path: Path) -> Iterator[Flask]:
    """An app on a fresh database of its own, migrated and with the catalogs loaded, that many threads
    may use at once: each request commits for real (nothing is rolled back; the database is dropped)."""
    application = create_app({"DATABASE_URL": fresh_database_url(backend), "DATA_DIR": str(tmp_path / "data")})
    database = app_db(application)
    schema.upgrade(database)
    with database.unit_of_work() as session:
        load_packaged(session, Principal.operator("tests"))
    yield application
    database.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside the test's transaction."""
    db_session = app_db(app).session()
    yield db_session
    db_session.close()


@pytest.fixture
def connection(app: Flask) -> Connection:
    """The test's connection (for raw SQL checks)."""
    return app.extensions["sdl_tracker.test_connection"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like test client (cookies kept)."""
    return app.test_client()


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> ApiClient:
    """A client that calls the API with real tokens (see ApiClient.as_user)."""
    return ApiClient(client, app)
