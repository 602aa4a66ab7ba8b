"""`sdl-tracker serve` is a real server (gunicorn), and the client commands talk to it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sdl_tracker import create_app, schema
from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.app_access import app_db
from tests.factories import OPERATOR, make_product, make_user

pytestmark = pytest.mark.slow
CHECKOUT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Served:
    """A running `sdl-tracker serve` and a token for it."""

    url: str
    token: str
    process: subprocess.Popen[str]
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"serve exited with {process.returncode}: {output}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback test server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def start_serve(env: dict[str, str], *options: str, log: bool = False) -> tuple[subprocess.Popen[str], str]:
    """`sdl-tracker serve options...` on a free loopback port, once it answers: (it, its URL). Its output is
    discarded, or (`log`) kept to be read from its stdout."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sdl_tracker", "serve", "--port", str(port), *options],
        env=env,
        cwd=CHECKOUT,
        stdout=subprocess.PIPE if log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/health", process)
    except AssertionError:
        process.kill()
        process.wait(timeout=40)
        raise
    return process, url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("served")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SDL_TRACKER_DATA_DIR": str(data_dir),
        "SDL_TRACKER_DATABASE_URL": f"sqlite:///{data_dir / 'tracker.db'}",
    }
    app = create_app({"DATA_DIR": env["SDL_TRACKER_DATA_DIR"], "DATABASE_URL": env["SDL_TRACKER_DATABASE_URL"]})
    schema.upgrade(app_db(app))
    with app_db(app).unit_of_work() as session:
        admin = make_user(session, "admin@example.com", admin=True)
        make_product(session, "NW-PLC 5000")
        token = create_token(
            session, OPERATOR, user_id=admin.id, name="ci", product_ids=[], scopes=["product:read"], all_products=True
        ).secret
    app_db(app).dispose()
    process, url = start_serve(env, "--workers", "2", "--no-job-worker", log=True)
    try:
        yield Served(url, token, process, env)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=40)
        if process.stdout is not None:
            process.stdout.close()


def _client(served: Served, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sdl_tracker", "client", "--server", served.url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": served.env["PATH"], "SDL_TRACKER_TOKEN": served.token if token is None else token},
        cwd=CHECKOUT,
    )


def test_serve_answers_pages_and_the_api(served: Served) -> None:
    with urllib.request.urlopen(f"{served.url}/login", timeout=5) as response:  # noqa: S310 - loopback
        assert response.status == 200 and b"Sign in" in response.read()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{served.url}/api/v1/products", headers={"Authorization": f"Bearer {served.token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        assert response.status == 200


def test_client_check_against_a_real_server(served: Served) -> None:
    result = _client(served, "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{served.url}: token accepted; products it sees (1): NW-PLC 5000"
    as_json = _client(served, "check", "--json")
    assert as_json.returncode == 0 and '"products": ["NW-PLC 5000"]' in as_json.stdout


def test_client_check_with_a_bad_token_is_one_line(served: Served) -> None:
    result = _client(served, "check", token="sdlt_nope_nope")
    assert result.returncode == 2
    assert result.stderr == f"error: {served.url} answered 401: the token is unknown, expired or revoked\n"


def test_serve_stops_cleanly_on_sigterm(served: Served) -> None:
    # Last in the module: the fixture's server is stopped here and its log read.
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=40) == 0
    log = served.process.stdout.read() if served.process.stdout else ""
    assert "Booting worker" in log and '"GET /health HTTP/1.1" 200' in log  # gunicorn, with an access log
    assert "WARNING: This is a development server" not in log


def test_the_development_server_needs_debug() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sdl_tracker", "run"], capture_output=True, text=True, timeout=60, cwd=CHECKOUT
    )
    assert result.returncode == 2 and "pass --debug, or use `sdl-tracker serve`" in result.stderr


def test_a_worker_that_keeps_dying_is_restarted_ever_more_slowly() -> None:
    from sdl_tracker.serve import RESTART_DELAY_CAP, RESTART_DELAY_FIRST, next_restart_delay

    delay = RESTART_DELAY_FIRST
    delays = []
    for _ in range(8):
        delay = next_restart_delay(delay, ran_seconds=1.0)
        delays.append(delay)
    assert delays[:3] == [4.0, 8.0, 16.0] and delays[-1] == RESTART_DELAY_CAP
    assert next_restart_delay(RESTART_DELAY_CAP, ran_seconds=3600) == RESTART_DELAY_FIRST


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_serve_runs_the_job_worker_alongside_and_stops_it(tmp_path: Path) -> None:
    from sdl_tracker.products.repositories import add_repository
    from sdl_tracker.products.services import get_product_by_name

    repo = tmp_path / "firmware"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for n in range(3):
        (repo / "main.c").write_text(f"int v = {n};\n")
        _git(repo, "add", "main.c")
        _git(repo, "commit", "-q", "-m", f"change {n}")
    data_dir = tmp_path / "data"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SDL_TRACKER_DATA_DIR": str(data_dir),
        "SDL_TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
    }
    app = create_app({"DATA_DIR": env["SDL_TRACKER_DATA_DIR"], "DATABASE_URL": env["SDL_TRACKER_DATABASE_URL"]})
    schema.upgrade(app_db(app))
    with app_db(app).unit_of_work() as session:
        admin = make_user(session, "admin@example.com", admin=True)
        make_product(session, "NW-PLC 5000")
        product = get_product_by_name(session, OPERATOR, "NW-PLC 5000")
        repository_id = add_repository(session, OPERATOR, product.id, name="firmware", location=str(repo)).id
        token = create_token(
            session,
            OPERATOR,
            user_id=admin.id,
            name="ci",
            product_ids=[],
            scopes=["repository:manage"],
            all_products=True,
        ).secret
    app_db(app).dispose()
    process, url = start_serve(env, "--workers", "1")
    try:
        headers = {"Authorization": f"Bearer {token}"}
        queued = urllib.request.Request(  # noqa: S310 - loopback
            f"{url}/api/v1/repositories/{repository_id}/scan", method="POST", headers=headers
        )
        with urllib.request.urlopen(queued, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 202
            location = response.headers["Location"]
        deadline = time.monotonic() + 90
        state: dict[str, object] = {}
        while time.monotonic() < deadline:
            job = urllib.request.Request(f"{url}{location}", headers=headers)  # noqa: S310 - loopback
            with urllib.request.urlopen(job, timeout=10) as response:  # noqa: S310 - loopback
                state = json.loads(response.read())
            if state["state"] in ("succeeded", "failed"):
                break
            time.sleep(0.5)
        assert state["state"] == "succeeded", state
        assert state["result"]["new_commits"] == 3  # type: ignore[index]
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 2  # a web process and the job worker
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    time.sleep(0.5)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
