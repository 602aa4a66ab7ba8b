"""Fixtures: the schema migrated once per backend, each database test rolled back at its end.

Database tests run on SQLite and, when SDL_TEST_POSTGRES_URL names a server, on PostgreSQL
too (CI always sets it). Tests that use no database fixture run once.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
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
TEST_CONNECTION = "sdl_tracker.test_connection"  # the app's extension key of the test's connection
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_report_header() -> str:
    """Say which databases this run covers, so a run without PostgreSQL is visible as such."""
    if POSTGRES_URL:
        return f"databases: sqlite, postgresql ({make_url(POSTGRES_URL).render_as_string(hide_password=True)})"
    return "databases: sqlite only (set SDL_TEST_POSTGRES_URL to add PostgreSQL)"


def _create_postgres_database(template: str | None = None) -> tuple[str, str]:
    """A fresh, uniquely named database on the test server, empty or a copy of `template` (a database no one
    is connected to): (its URL, its name)."""
    name = f"sdl_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
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
    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts_services, "_hasher", hasher)
        # An unknown email still costs what a wrong password costs.
        patch.setattr(accounts_services, "_DUMMY_HASH", hasher.hash("no such user"))
        yield


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A factory of databases of their own, dropped at the end: fresh_database_url(backend) -> URL of an empty
    one; fresh_database_url(backend, copy_of=URL) -> URL of a copy of a database no one is connected to."""
    created: list[str] = []

    def make(backend: str, copy_of: str | None = None) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "test.db"
            if copy_of:
                original = make_url(copy_of).database or ""
                with closing(sqlite3.connect(original)) as source, closing(sqlite3.connect(path)) as target:
                    source.backup(target)
            return f"sqlite:///{path}"
        url, name = _create_postgres_database(make_url(copy_of).database if copy_of else None)
        created.append(name)
        return url

    yield make
    # Each drop waits for a checkpoint (seconds on a busy server); drops at once share them.
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(_drop_postgres_database, created))


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


@contextmanager
def _rolled_back_app(
    migrated_url: str, data_dir: Path, own: Path, config: dict[str, object] | None = None
) -> Iterator[Flask]:
    """An app on the migrated database whose every session joins one transaction, rolled back at the end.

    Its data directory `own` is its own (blobs and the kept audit checkpoint are files, outside the
    rolled-back transaction) but holds the shared installation's keys, which chained the shared events.
    """
    own.mkdir()
    for name in (AUDIT_KEY_FILE, SIGNING_KEY_FILE):
        shutil.copy2(data_dir / name, own / name)
    shutil.copytree(data_dir / KEYRING_DIR, own / KEYRING_DIR)
    application = create_app({"DATABASE_URL": migrated_url, "DATA_DIR": str(own), "TESTING": True, **(config or {})})
    database = app_db(application)
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    application.extensions[TEST_CONNECTION] = connection
    yield application
    transaction.rollback()
    connection.close()
    database.dispose()


@pytest.fixture
def app_config() -> dict[str, object]:
    """Settings a test package gives its `app` besides the test database's (its conftest overrides this)."""
    return {}


@pytest.fixture
def app(migrated_url: str, data_dir: Path, tmp_path: Path, app_config: dict[str, object]) -> Iterator[Flask]:
    """An app on the migrated database whose every session joins one transaction, rolled back at the end."""
    with _rolled_back_app(migrated_url, data_dir, tmp_path / "data", app_config) as application:
        yield application


@pytest.fixture(scope="module")
def module_app(migrated_url: str, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app like `app` whose transaction spans a module, for data that its tests only read and that takes
    seconds to make: the module extends this fixture to make it once, and takes its `app` from `savepoint_app`."""
    with _rolled_back_app(migrated_url, data_dir, tmp_path_factory.mktemp("module") / "data") as application:
        yield application


@pytest.fixture
def savepoint_app(module_app: Flask) -> Iterator[Flask]:
    """The module's app, with whatever one test changes rolled back to a savepoint at the test's end."""
    savepoint = module_app.extensions[TEST_CONNECTION].begin_nested()
    yield module_app
    savepoint.rollback()


@dataclass(frozen=True)
class Original:
    """A database migrated and with the catalogs loaded, committed, and its installation's data directory."""

    url: str
    data_dir: Path


@pytest.fixture(scope="session")
def catalogued(backend: str, fresh_database_url: Any, tmp_path_factory: pytest.TempPathFactory) -> Original:
    """Made once per run and backend and never opened again: each `shared_app` starts from a copy of it
    (migrating and loading the catalogs took seconds a test; a copy takes a fraction of one)."""
    url = str(fresh_database_url(backend))
    data = tmp_path_factory.mktemp(f"catalogued-{backend}") / "data"
    database = app_db(create_app({"DATABASE_URL": url, "DATA_DIR": str(data)}))
    schema.upgrade(database)
    with database.unit_of_work() as session:  # as `sdl-tracker db upgrade` does
        load_packaged(session, Principal.operator("tests"))
    database.dispose()
    return Original(url, data)


@pytest.fixture
def shared_app(
    backend: str, fresh_database_url: Any, catalogued: Original, tmp_path: Path, app_config: dict[str, object]
) -> Iterator[Flask]:
    """An app on a fresh database of its own, migrated and with the catalogs loaded (a copy of `catalogued`,
    with a copy of its data directory), that many threads may use at once: each request commits for real
    (nothing is rolled back; the database is dropped)."""
    data = tmp_path / "data"
    shutil.copytree(catalogued.data_dir, data)
    url = fresh_database_url(backend, copy_of=catalogued.url)
    application = create_app({"DATABASE_URL": url, "DATA_DIR": str(data), **app_config})
    yield application
    app_db(application).dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside the test's transaction."""
    db_session = app_db(app).session()
    yield db_session
    db_session.close()


@pytest.fixture
def connection(app: Flask) -> Connection:
    """The test's connection (for raw SQL checks)."""
    return app.extensions[TEST_CONNECTION]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like test client (cookies kept)."""
    return app.test_client()


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> ApiClient:
    """A client that calls the API with real tokens (see ApiClient.as_user)."""
    return ApiClient(client, app)
