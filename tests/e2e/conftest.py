"""A live server on its own fresh database, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from sdl_tracker import create_app
from sdl_tracker.app_access import app_db
from tests.factories import PASSWORD, make_user

CHROMIUM = os.environ.get("SDL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine has no network; don't let chromium try
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class LiveServer:
    """A running app: its URL and an admin's login."""

    url: str
    email: str
    password: str
    app: Any


def _closed_before_sending(app: Any) -> Any:
    """The app with each response read and closed before the server writes it.

    Werkzeug's development server skips closing a response when the browser has already dropped the
    connection (a favicon request cut short by a navigation, say), and the open static file then
    fails the run as an unraisable ResourceWarning. Test responses are small enough to buffer.
    """

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        iterable = app(environ, start_response)
        try:
            return list(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture(scope="module")
def live_server(
    backend: str, fresh_database_url: Any, catalogued: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server on a fresh database of its own, a copy of the migrated one with the catalogs (tests/conftest.py)."""
    data = tmp_path_factory.mktemp("live") / "data"
    shutil.copytree(catalogued.data_dir, data)
    app = create_app({"DATABASE_URL": fresh_database_url(backend, copy_of=catalogued.url), "DATA_DIR": str(data)})
    database = app_db(app)
    with database.unit_of_work() as session:
        make_user(session, "admin@example.com", admin=True)
    server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", "admin@example.com", PASSWORD, app)
    server.shutdown()
    thread.join(timeout=5)
    database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One chromium for every browser test (each gets a context of its own, see `page`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
