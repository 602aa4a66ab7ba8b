"""The hooks against the real tracker (`sdl-tracker serve` on loopback): installed with a developer's token,
they deliver commits to the commit intake, which stores each once.

Skipped while the intake is not in the tracker's OpenAPI document (it is built in parallel).
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from sdl_tracker import create_app
from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.app_access import app_db
from sdl_tracker.gitlink.models import Commit
from sdl_tracker.products.repositories import add_repository
from tests.client.live import served as live_tracker
from tests.client.repos import HookedRepo, environment
from tests.factories import OPERATOR, make_product, member

pytestmark = pytest.mark.slow
INTAKE = re.compile(r"/products/\{[^}]+\}/repositories/\{[^}]+\}/commits$")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh tracker served on loopback; its URL and the settings that name its data."""
    with live_tracker(tmp_path, "--no-job-worker") as live:
        yield live.url, {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}"}


def test_the_hooks_deliver_to_the_real_intake(
    served: tuple[str, dict[str, str]], repository: Callable[..., HookedRepo]
) -> None:
    url, settings = served
    with urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=10) as response:  # noqa: S310 - loopback
        paths = json.loads(response.read())["paths"]
    assert any(INTAKE.search(path) for path in paths)  # the hooks' one call is the documented intake
    repo = repository()
    app = create_app(settings)
    with app_db(app).unit_of_work() as session:
        product = make_product(session, "NW-PLC 5000")
        developer = member(session, product, "developer", email="dev@example.com")
        repository_id = add_repository(session, OPERATOR, product.id, name="firmware", location=str(repo.path)).id
        token = create_token(
            session, OPERATOR, user_id=developer.user_id, name="hooks", product_ids=[product.id],
            scopes=["commits:submit", "product:read"],
        ).secret  # fmt: skip
        product_id = product.id
    repo.env = environment(token)
    installed = repo.install(url, "--product", str(product_id))
    assert "requirement ids cached" in installed.stdout
    shas = [repo.commit_hooked(f"Change {n}\n\nSecurity-Requirement: CR 3.4\n")[0] for n in range(2)]
    assert repo.queued() == set() and repo.rejected() == set()
    assert repo.hook("flush").returncode == 0
    with app_db(app).unit_of_work(read_only=True) as session:
        stored = session.scalars(select(Commit.sha).where(Commit.repository_id == repository_id)).all()
    assert sorted(stored) == sorted(shas)
    app_db(app).dispose()
