"""Pages under load: `python bench/load.py [--data-dir DIR] [--database-url URL] [--clients 10 50]`.

Serves an installation with `sdl-tracker serve` (gunicorn) and has N client threads (10, then 50) request
one page at a time for `--seconds` each, every main page and API list in turn, side by side with the
sign-in page in the same run. By default the installation is the demo (`sdl-tracker demo` into a fresh
data directory); `--data-dir` (and `--database-url` for PostgreSQL) names one `bench/portfolio.py` built.
The pages are read as officer@example.com (the demo's officer, a member of every product there and in a
portfolio), through the login form; the API lists with a token of that user.

Prints per page p50/p95 latency, requests per second, the ratio of the sign-in page's throughput to the
page's (5x means the page serves a fifth as many requests), and the SQL statements the page runs. The
statements are counted in this process, not in the server: the same app on the same database, a Flask test
client signed in as the same user, and a `before_cursor_execute` listener on the app's engine; the app
itself carries no counting. Not a test: nothing is asserted.

The pages are one table, PAGES: a page another change adds is one more row.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from sdl_tracker import create_app  # noqa: E402
from sdl_tracker.accounts.models import Membership, User  # noqa: E402
from sdl_tracker.accounts.tokens import create_token  # noqa: E402
from sdl_tracker.app_access import app_db  # noqa: E402
from sdl_tracker.auth import Permission, Principal  # noqa: E402
from sdl_tracker.claims.models import Claim  # noqa: E402
from sdl_tracker.demo import demo_password  # noqa: E402
from sdl_tracker.products.models import Release  # noqa: E402
from sdl_tracker.sboms.models import Sbom, SbomComponent  # noqa: E402

EMAIL = "officer@example.com"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Target:
    """The rows the pages are about: the product, release and SBOM with the most rows."""

    product: int
    release: int
    sbom: int
    version: str


# name, path; the path is formatted with the Target's fields. "sign-in" is the baseline every page is compared with.
PAGES: list[tuple[str, str]] = [
    ("sign-in", "/login"),
    ("my work", "/"),
    ("portfolio", "/portfolio"),
    ("notifications", "/notifications"),
    ("readiness", "/releases/{release}/readiness"),
    ("product", "/products/{product}"),
    ("release", "/products/releases/{release}"),
    ("coverage", "/products/{product}/coverage"),
    ("coverage (release)", "/products/{product}/coverage?release={version}"),
    ("claims", "/releases/{release}/claims"),
    ("evidence", "/products/{product}/evidence"),
    ("evidence (release filter)", "/products/{product}/evidence?release={version}"),
    ("evidence (triage)", "/products/{product}/evidence?state=submitted&q=test&sort=expiry&order=asc"),
    ("sboms", "/releases/{release}/sboms"),
    ("sbom components", "/sboms/{sbom}"),
    ("component search", "/components?q=package-42+%3E%3D1.0"),  # 111 names in each of 50 products
    ("component search (one name)", "/components?q=package-4242"),
    ("commits", "/releases/{release}/commits"),
    ("product audit", "/products/{product}/audit"),
    ("api products", "/api/v1/products"),
    ("api releases", "/api/v1/products/{product}/releases"),
    ("api evidence", "/api/v1/products/{product}/evidence"),
    ("api claims", "/api/v1/releases/{release}/claims"),
    ("api coverage", "/api/v1/products/{product}/coverage"),
    ("api sboms", "/api/v1/products/{product}/sboms"),
    ("api components", "/api/v1/sboms/{sbom}/components"),
    ("api commits", "/api/v1/releases/{release}/commits"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def find_target(app: Any) -> Target:
    """The release with the most claims, its product, and that product's SBOM with the most components."""
    with app_db(app).unit_of_work(read_only=True) as session:
        release_id = session.scalar(
            select(Claim.release_id).group_by(Claim.release_id).order_by(func.count().desc()).limit(1)
        )
        if release_id is None:
            release_id = session.scalar(select(Release.id).order_by(Release.id).limit(1))
        release = session.get(Release, release_id)
        assert release is not None, "no release to load"
        sbom_id = session.scalar(
            select(Sbom.id)
            .join(SbomComponent, SbomComponent.sbom_id == Sbom.id)
            .join(Release, Release.id == Sbom.release_id)
            .where(Release.product_id == release.product_id)
            .group_by(Sbom.id)
            .order_by(func.count().desc())
            .limit(1)
        )
        return Target(release.product_id, release.id, sbom_id or 0, release.version)


def api_token(app: Any) -> str:
    """A read token of the officer for the products it is a member of (its creation is audited like any other)."""
    with app_db(app).unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == EMAIL))
        assert user is not None, f"{EMAIL} is not a user of this installation"
        return create_token(
            session,
            Principal.operator("bench"),
            user_id=user.id,
            name=f"load {time.time_ns()}",
            product_ids=list(session.scalars(select(Membership.product_id).where(Membership.user_id == user.id))),
            scopes=[Permission.PRODUCT_READ.value, Permission.AUDIT_READ.value],
        ).secret


def count_statements(app: Any, password: str, token: str, paths: list[tuple[str, str]]) -> dict[str, int | str]:
    """Statements each page runs, read through a test client on the same database (see the module text)."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    found = CSRF.search(page)
    assert found, "no CSRF token on the login page"
    client.post("/login", data={"email": EMAIL, "password": password, "csrf_token": found.group(1)})
    counts: dict[str, int | str] = {}
    seen: list[str] = []

    def listener(*_args: Any) -> None:
        seen.append("x")

    engine = app_db(app).engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for name, path in paths:
            anonymous = name == "sign-in"
            fresh = app.test_client() if anonymous else client
            headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
            fresh.get(path, headers=headers)  # warm: the catalog's cache and the like
            seen.clear()
            response = fresh.get(path, headers=headers)
            counts[name] = len(seen) if response.status_code == 200 else f"HTTP {response.status_code}"
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return counts


class Browser:
    """One keep-alive connection with a cookie or a bearer token."""

    def __init__(self, port: int, cookie: str = "", token: str = "") -> None:
        self.port, self.cookie, self.token = port, cookie, token
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, http.client.HTTPResponse]:
        """Send one request; reconnect once when the server closed the idle connection."""
        headers: dict[str, str] = {}
        if path.startswith("/api/") and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read().decode(errors="replace"), response
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _session_cookie(response: http.client.HTTPResponse) -> str:
    cookies = [value.split(";", 1)[0] for key, value in response.getheaders() if key.lower() == "set-cookie"]
    return "; ".join(cookies)


def sign_in(port: int, password: str) -> str:
    """Sign in through the login form; returns the session cookie."""
    browser = Browser(port)
    _status, page, response = browser.request("GET", "/login")
    browser.cookie = _session_cookie(response)
    found = CSRF.search(page)
    assert found, "no CSRF token on the login page"
    form = urllib.parse.urlencode({"email": EMAIL, "password": password, "csrf_token": found.group(1)})
    status, _body, response = browser.request("POST", "/login", form)
    assert status == 302, f"sign-in answered {status}"
    return _session_cookie(response)


def drive(port: int, path: str, clients: int, seconds: float, cookie: str, token: str) -> tuple[list[float], int]:
    """`clients` threads request `path` for `seconds`: the latencies and the count of non-200 answers."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    anonymous = path == "/login"

    def run() -> None:
        browser = Browser(port, "" if anonymous else cookie, token)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                status, _body, _response = browser.request("GET", path)
            except (http.client.HTTPException, OSError):
                status = 0
            mine.append(time.monotonic() - started)
            failed += status != 200
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit("the server exited; see its log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    """Serve, count statements, then load every page at each client count and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="an installation's data directory (default: a fresh demo)")
    parser.add_argument("--database-url", default="", help="its database (default: SQLite in the data directory)")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seconds", type=float, default=5.0, help="per page and client count")
    parser.add_argument("--only", nargs="*", default=[], help="page names to load (sign-in always runs)")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: serve's own)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdl-load-"))
    data_dir = Path(args.data_dir) if args.data_dir else work / "data"
    env = {**os.environ, "SDL_TRACKER_DATA_DIR": str(data_dir), "SDL_TRACKER_LOG_LEVEL": "WARNING"}
    if args.database_url:
        env["SDL_TRACKER_DATABASE_URL"] = args.database_url
    if not args.data_dir:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "sdl_tracker", "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"demo loaded in {time.monotonic() - started:.1f} s ({data_dir})")
    config: dict[str, object] = {"DATA_DIR": str(data_dir)}
    if args.database_url:
        config["DATABASE_URL"] = args.database_url
    app = create_app(config)
    password = demo_password(data_dir)
    target = find_target(app)
    token = api_token(app)
    pages = [(name, path.format(**target.__dict__)) for name, path in PAGES]
    if args.only:
        pages = [(name, path) for name, path in pages if name == "sign-in" or name in args.only]
    statements = count_statements(app, password, token, pages)
    app_db(app).dispose()

    port = _free_port()
    command = [sys.executable, "-m", "sdl_tracker", "serve", "--port", str(port), "--no-job-worker"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    with (work / "server.log").open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, server)
        cookie = sign_in(port, password)
        print(f"{os.cpu_count()} cores; target {target}; {args.seconds:.0f} s per page and client count")
        for clients in args.clients:
            rows: list[tuple[str, float, float, float, int]] = []
            for name, path in pages:
                drive(port, path, clients, 0.5, cookie, token)  # warm each worker
                latencies, errors = drive(port, path, clients, args.seconds, cookie, token)
                rows.append((name, _pct(latencies, 0.5), _pct(latencies, 0.95), len(latencies) / args.seconds, errors))
            baseline = rows[0][3]
            print(f"\n{clients} clients")
            print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'x sign-in':>9} {'SQL':>6} {'errors':>6}")
            for name, p50, p95, rate, errors in rows:
                ratio = baseline / rate if rate else float("inf")
                print(
                    f"{name:28} {p50 * 1000:8.1f} {p95 * 1000:8.1f} {rate:8.1f} {ratio:9.1f} "
                    f"{statements[name]!s:>6} {errors:6d}"
                )
    finally:
        server.terminate()
        server.wait(30)
    print(f"\nserver log: {work / 'server.log'}")


if __name__ == "__main__":
    main()
