"""The documented standard-library client delivers a commit to a live tracker over HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.app_access import app_db
from sdl_tracker.evidence.models import EvidenceRevision
from sdl_tracker.products.repositories import add_repository
from tests.factories import OPERATOR, make_product, member
from tests.gitlink.repo import GitRepo

pytestmark = pytest.mark.db

OPERATIONS = Path(__file__).parent.parent.parent / "docs" / "operations.md"


@pytest.fixture
def live(shared_app: Flask) -> Iterator[str]:
    """The tracker served on a free local port, as a hook would reach it."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, shared_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def test_the_documented_client_delivers_a_commit(shared_app: Flask, live: str, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "plc")
    sha = repo.commit("Harden login\n\nSecurity-Review: so@example.com\n")
    with app_db(shared_app).unit_of_work() as session:
        product = make_product(session, "PLC")
        developer = member(session, product, "developer", email="dev@example.com")
        add_repository(session, OPERATOR, product.id, name="plc", location="https://git.example.com/plc.git")
        assert developer.user_id is not None
        secret = create_token(
            session,
            developer,
            user_id=developer.user_id,
            name="hook",
            product_ids=[product.id],
            scopes=["commits:submit"],
        ).secret
        product_id = product.id
    snippets = re.findall(r"```python\n(.*?)```", OPERATIONS.read_text(encoding="utf-8"), re.DOTALL)
    [snippet] = [text for text in snippets if "def deliver(" in text]  # the guide's client, among its examples
    # Run as a hook would: a fresh interpreter without site-packages (-S), in the repository, twice.
    program = snippet + f"print(deliver({product_id}, 'plc', {sha!r})['state'])\n"
    env = {"SDL_TRACKER_SERVER": live, "SDL_TRACKER_TOKEN": secret, "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        ran = subprocess.run(
            [sys.executable, "-I", "-S", "-c", program],
            cwd=repo.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 0 and ran.stdout == "delivered\n", ran.stderr
    with app_db(shared_app).unit_of_work(read_only=True) as session:
        revision = session.scalars(select(EvidenceRevision)).one()
        assert revision.submitted_by.endswith(":dev@example.com") and revision.details["change"] == sha
