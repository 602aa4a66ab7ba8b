"""Clients while long jobs run: `python bench/contention.py [--postgres] [--components N] [--commits N]`.

Serves a fresh installation with `sdl-tracker serve` (gunicorn) and has `--clients` clients (20)
keep creating evidence through the API and reading pages (the product page and the evidence record
just created, signed in through the login form). First with nothing else running (idle), then while a
`--components`-component SBOM import (500,000) and a scan of a `--commits`-commit history (100,000)
run as jobs: one after the other on SQLite (one worker, as `serve` runs it), together on
PostgreSQL (two workers). Every process logs each write transaction it holds (SLOW_WRITE_MS=0), so
the longest transaction of the jobs and of the web workers is read from their logs.

Prints, for each phase, the clients' read and write p50/p95/max latency and their error count, then
the jobs' times and longest write transactions, and the issue's targets beside the figures. Not a
test: nothing is asserted. `--postgres` creates (and drops) a database on 127.0.0.1:5432 (user
postgres); `--database-url` names another empty one.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from git_scan import build_history  # noqa: E402
from sbom_import import generate  # noqa: E402

from sdl_tracker import create_app, schema  # noqa: E402
from sdl_tracker.accounts.services import create_user  # noqa: E402
from sdl_tracker.accounts.tokens import create_token  # noqa: E402
from sdl_tracker.app_access import app_db  # noqa: E402
from sdl_tracker.auth import Permission, Principal  # noqa: E402
from sdl_tracker.catalog.services import load_packaged  # noqa: E402
from sdl_tracker.products.repositories import add_repository  # noqa: E402
from sdl_tracker.products.services import create_product, create_release  # noqa: E402

EMAIL = "bench@example.com"
HELD = re.compile(r"write transaction held (\d+) ms")
# Between a client's requests: people and pipelines pause; with none, 20 clients saturate two cores
# and the figures measure the CPU, not what the jobs' transactions do to the clients.
THINK_SECONDS = 1.0


@dataclass
class Latencies:
    """One phase's client figures."""

    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        """Record one request."""
        with self.lock:
            (self.reads if kind == "read" else self.writes).append(seconds)
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local server, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"sdl_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Setup:
    """What the clients and the jobs need."""

    env: dict[str, str]
    password: str
    token: str
    product_id: int
    product_name: str
    repository_id: int


def prepare(work: Path, database_url: str, repository: Path) -> Setup:
    """Migrate, load the catalogs, and create a user, a token, a product with a release and a repository."""
    env = {
        **os.environ,
        "SDL_TRACKER_DATA_DIR": str(work / "data"),
        "SDL_TRACKER_DATABASE_URL": database_url,
        # The SBOM upload must fit, and every job takes the job path.
        "SDL_TRACKER_MAX_UPLOAD_BYTES": str(2 * 1024**3),
        "SDL_TRACKER_SBOM_INLINE_MAX_BYTES": "1048576",
        "SDL_TRACKER_LOG_LEVEL": "WARNING",
    }
    app = create_app({"DATA_DIR": env["SDL_TRACKER_DATA_DIR"], "DATABASE_URL": database_url})
    database = app_db(app)
    schema.upgrade(database)
    operator = Principal.operator("bench")
    password = secrets.token_urlsafe(16)
    with database.unit_of_work() as session:
        load_packaged(session, operator)
        user = create_user(session, operator, email=EMAIL, password=password, name="bench", is_admin=True)
        product = create_product(
            session,
            operator,
            name="Bench PLC",
            component_type="EDR",
            target_sl=dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 2),
        )
        create_release(session, operator, product.id, version="1.0")
        repo = add_repository(session, operator, product.id, name="firmware", location=str(repository))
        token = create_token(
            session,
            operator,
            user_id=user.id,
            name="bench",
            product_ids=[],
            scopes=[p.value for p in Permission],
            all_products=True,
        ).secret
        ids = (product.id, product.name, repo.id)
    database.dispose()
    return Setup(env, password, token, ids[0], ids[1], ids[2])


def _multipart(metadata: dict[str, object], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = f"bench{secrets.token_hex(8)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n'
        f"Content-Type: application/json\r\n\r\n{json.dumps(metadata)}\r\n".encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + content
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client(threading.Thread):
    """Signs in, then alternates: attach evidence through the API, read two pages."""

    def __init__(self, n: int, base: str, setup: Setup, stop: threading.Event, think: float) -> None:
        super().__init__(daemon=True)
        self.n, self.base, self.setup, self.stop, self.think = n, base, setup, stop, think
        self.phase: Latencies | None = None
        jar = http.cookiejar.CookieJar()
        self.browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def sign_in(self) -> None:
        """The login form, with its CSRF token, as a browser does."""
        page = self.browser.open(f"{self.base}/login", timeout=30).read().decode()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert csrf, "no CSRF token on the login page"
        form = urllib.parse.urlencode({"email": EMAIL, "password": self.setup.password, "csrf_token": csrf.group(1)})
        self.browser.open(f"{self.base}/login", data=form.encode(), timeout=30).read()

    def _timed(self, kind: str, request: urllib.request.Request | str) -> bytes:
        started = time.monotonic()
        error = None
        body = b""
        try:
            opener = self.browser if kind == "read" else urllib.request.build_opener()
            with opener.open(request, timeout=120) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            error = f"{kind} {exc.code}"
        except OSError as exc:
            error = f"{kind} {type(exc).__name__}"
        if self.phase is not None:
            self.phase.add(kind, time.monotonic() - started, error)
        return body

    def run(self) -> None:
        count = 0
        while not self.stop.is_set():
            count += 1
            body, content_type = _multipart(
                {"kind": "other", "title": f"Client {self.n} record {count}", "requirements": ["SR-2"]},
                "record.txt",
                f"client {self.n} record {count}\n".encode(),
            )
            write = urllib.request.Request(  # noqa: S310 - loopback
                f"{self.base}/api/v1/products/{self.setup.product_id}/evidence",
                data=body,
                headers={"Authorization": f"Bearer {self.setup.token}", "Content-Type": content_type},
            )
            created = self._timed("write", write)
            time.sleep(self.think)
            # Pages whose cost does not grow with the evidence the clients keep adding: the product,
            # and the record this client just created (a list of everything would measure the data's
            # growth over the run, not what the jobs do to the clients).
            self._timed("read", f"{self.base}/products/{self.setup.product_id}")
            if created:
                self._timed("read", f"{self.base}/evidence/{json.loads(created)['id']}")
            time.sleep(self.think)


def _cli(setup: Setup, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "sdl_tracker", *args, "--json"],
        env=setup.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"sdl-tracker {' '.join(args)}: {result.stderr.strip()}")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _job_state(base: str, token: str, job_id: int) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())  # type: ignore[no-any-return]


def _held_ms(log: Path) -> list[int]:
    return [int(m.group(1)) for m in HELD.finditer(log.read_text(errors="replace"))] if log.exists() else []


def _row(name: str, phase: Latencies, seconds: float) -> str:
    ms = 1000
    return (
        f"{name:<8} {len(phase.reads) + len(phase.writes):>6} req in {seconds:5.0f} s | "
        f"read p50 {_pct(phase.reads, 0.5) * ms:6.0f} p95 {_pct(phase.reads, 0.95) * ms:6.0f} "
        f"max {max(phase.reads, default=0) * ms:6.0f} ms | "
        f"write p50 {_pct(phase.writes, 0.5) * ms:6.0f} p95 {_pct(phase.writes, 0.95) * ms:6.0f} "
        f"max {max(phase.writes, default=0) * ms:6.0f} ms | errors {sum(phase.errors.values())} {phase.errors or ''}"
    )


def run(args: argparse.Namespace, database_url: str, work: Path) -> None:
    """Build the data, serve, measure idle, then measure while the jobs run; print the figures."""
    on_postgres = database_url.startswith("postgresql")
    repository = work / "history.git"
    print(f"building a {args.commits:,}-commit history and a {args.components:,}-component SBOM ...", flush=True)
    build_history(repository, args.commits)
    sbom = work / "big.cdx.json"
    with sbom.open("w") as handle:
        json.dump(generate(args.components), handle)
    print(f"  SBOM: {sbom.stat().st_size / 1e6:.0f} MB", flush=True)
    setup = prepare(work, database_url, repository)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = work / "server.log"
    server_env = {**setup.env, "SDL_TRACKER_SLOW_WRITE_MS": "0"}
    with server_log.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "sdl_tracker", "serve", "--port", str(port), "--no-job-worker"],
            env=server_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).read()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.5)
        stop = threading.Event()
        clients = [Client(n, base, setup, stop, args.think) for n in range(args.clients)]
        for client in clients:
            client.sign_in()
        idle = Latencies()
        for client in clients:
            client.phase = idle
            client.start()
        started = time.monotonic()
        time.sleep(args.idle_seconds)
        idle_seconds = time.monotonic() - started
        web_idle_held = max(_held_ms(server_log), default=0)

        loaded = Latencies()
        for client in clients:
            client.phase = loaded
        started = time.monotonic()
        jobs = {
            "sbom import": int(_cli(setup, "sbom", "import", setup.product_name, "1.0", str(sbom))["job"]),  # type: ignore[call-overload]
            "repo scan": int(_cli(setup, "repo", "scan", str(setup.repository_id))["job"]),  # type: ignore[call-overload]
        }
        queued = time.monotonic() - started
        worker_logs = [work / f"worker{n}.log" for n in range(2 if on_postgres else 1)]
        for path in worker_logs:
            with path.open("w") as log:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "sdl_tracker", "worker"],
                        env=server_env,
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        finished: dict[str, dict[str, object]] = {}
        while len(finished) < len(jobs):
            time.sleep(1)
            for name, job_id in jobs.items():
                if name not in finished:
                    state = _job_state(base, setup.token, job_id)
                    if state["state"] in ("succeeded", "failed"):
                        finished[name] = state
        loaded_seconds = time.monotonic() - started
        stop.set()
        for client in clients:
            client.join(timeout=150)
        job_held = [ms for path in worker_logs for ms in _held_ms(path)]
        web_held = max(_held_ms(server_log), default=0)

        print()
        print(
            f"{'SQLite' if not on_postgres else 'PostgreSQL'}, {args.clients} clients, serve (gunicorn) "
            f"with {'one worker: jobs one after the other' if not on_postgres else 'two workers: jobs together'}"
        )
        print(_row("idle", idle, idle_seconds))
        print(_row("jobs", loaded, loaded_seconds))
        print(f"queueing both jobs (CLI, including writing the SBOM blob): {queued:.1f} s")
        for name, state in finished.items():
            print(f"job {name}: {state['state']} {state.get('error') or ''} (result {state.get('result')})")
        print(
            f"job write transactions: {len(job_held)}, p95 {_pct([float(m) for m in job_held], 0.95):.0f} ms, "
            f"longest {max(job_held, default=0)} ms"
        )
        print(f"web write transactions: longest {web_held} ms (idle phase: {web_idle_held} ms)")
        longest_job = max(job_held, default=0) / 1000
        read_ok = _pct(loaded.reads, 0.95) <= 3 * _pct(idle.reads, 0.95)
        write_ok = _pct(loaded.writes, 0.95) <= _pct(idle.writes, 0.95) + 2 * longest_job
        print("targets:")
        print(f"  no errors: {'met' if not loaded.errors and not idle.errors else 'MISSED'}")
        print(
            f"  read p95 within 3x idle: {'met' if read_ok else 'MISSED'} "
            f"({_pct(loaded.reads, 0.95) / _pct(idle.reads, 0.95):.2f}x)"
        )
        bound_ms = (_pct(idle.writes, 0.95) + 2 * longest_job) * 1000
        print(
            f"  write p95 within idle + 2 x longest job transaction: {'met' if write_ok else 'MISSED'} "
            f"({_pct(loaded.writes, 0.95) * 1000:.0f} ms <= {bound_ms:.0f} ms)"
        )
        if not on_postgres:
            print(
                f"  no job write transaction over 100 ms on SQLite: "
                f"{'met' if max(job_held, default=0) <= 100 else 'MISSED'} ({max(job_held, default=0)} ms)"
            )
    finally:
        for process in [*workers, server]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*workers, server]:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    """Parse the arguments and run on SQLite (default) or PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="A fresh database on 127.0.0.1:5432 (user postgres).")
    parser.add_argument("--database-url", default="", help="An empty database to use instead.")
    parser.add_argument("--components", type=int, default=500_000)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=THINK_SECONDS, help="Seconds a client pauses between requests.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sdl-contention-") as tmp:
        work = Path(tmp)
        if args.database_url:
            run(args, args.database_url, work)
        elif args.postgres:
            with postgres_database() as url:
                run(args, url, work)
        else:
            run(args, f"sqlite:///{work / 'tracker.db'}", work)


if __name__ == "__main__":
    main()
