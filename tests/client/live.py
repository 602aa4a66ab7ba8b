"""A real tracker for the client's tests: `sdl-tracker serve` on loopback over a fresh SQLite database, with a
product, a release and a CI token in it."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from sdl_tracker import create_app, schema
from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.app_access import app_db
from sdl_tracker.catalog.services import load_packaged
from tests.client.repos import SDL, environment
from tests.factories import OPERATOR, make_product, make_release, member
from tests.test_serve import start_serve

# What a CI job's token may do: attach evidence, import SBOMs, record build artifacts, read the product.
CI_SCOPES = ["evidence:attach", "sbom:upload", "artifact:record", "product:read"]


@dataclass
class Live:
    """A served tracker: its URL, the app over its database (to look at what arrived), and a CI token."""

    url: str
    app: Flask
    token: str = ""
    product_id: int = 0

    def client(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`sdl-tracker client --server URL ARGS...` in a fresh process with the CI token."""
        return subprocess.run(
            [*SDL, "client", "--server", self.url, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**environment(self.token), **(env or {})},
        )


@contextmanager
def served(tmp_path: Path, *options: str, **settings: str) -> Iterator[Live]:
    """A fresh tracker served on loopback (with `settings` on top of its data folder and database)."""
    settings = {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}", **settings}
    app = create_app(settings)
    schema.upgrade(app_db(app))
    app_db(app).dispose()
    env = {"PATH": environment()["PATH"], **{f"SDL_TRACKER_{key}": value for key, value in settings.items()}}
    process, url = start_serve(env, "--workers", "1", *options)
    try:
        yield Live(url, app)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        app_db(app).dispose()


def with_ci_token(live: Live, product: str = "NW-PLC 5000", versions: tuple[str, ...] = ("4.2.0",)) -> Live:
    """Give the tracker a product with releases and a developer, and `live` that developer's CI token."""
    with app_db(live.app).unit_of_work() as session:
        load_packaged(session, OPERATOR)  # the requirement ids evidence names
        made = make_product(session, product)
        for version in versions:
            make_release(session, made, version)
        developer = member(session, made, "developer", email="ci@example.com")
        live.token = create_token(
            session, OPERATOR, user_id=developer.user_id or 0, name="ci", product_ids=[made.id], scopes=CI_SCOPES
        ).secret
        live.product_id = made.id
    return live
