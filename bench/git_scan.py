"""Scan speed against plain `git log`: `python bench/git_scan.py [REPO] [--database-url URL] [--commits N]`.

With no REPO, a realistic history is built first with `git fast-import` (50,000 commits by default:
messages, trailers on some, several changed paths each). Prints commits per second, the ratio to
`git log --branches --tags --name-only` on the same repository in the same run, the time of a rescan
with nothing new, and peak memory. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fresh import fresh_product
from txtimer import WriteTimer

from sdl_tracker.auth import Principal
from sdl_tracker.db import Database
from sdl_tracker.gitlink.log import LogFormat
from sdl_tracker.gitlink.services import queue_scan
from sdl_tracker.jobs.models import Job
from sdl_tracker.jobs.worker import run_one
from sdl_tracker.products.repositories import add_repository

WORDS = [
    "fix", "add", "update", "refactor", "harden", "parse", "validate",
    "modbus", "opcua", "login", "session", "firmware", "signature",
]  # fmt: skip


def build_history(path: Path, commits: int, seed: int = 62443) -> None:
    """A linear history with tags every 5,000 commits, streamed into `git fast-import`."""
    rng = random.Random(seed)
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    process = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert process.stdin is not None
    out = process.stdin
    for n in range(1, commits + 1):
        subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
        body = f"{subject}\n\n{' '.join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))}\n"
        if n % 50 == 0:
            body += f"\nSecurity-Requirement: CR {rng.randint(1, 7)}.{rng.randint(1, 12)}\n"
        if n % 500 == 0:
            body += "\nSecurity-Review: reviewer@example.com\n"
        message = body.encode()
        when = 1_700_000_000 + n * 60
        out.write(
            f"commit refs/heads/main\nmark :{n}\nauthor Dev {n % 17} <dev{n % 17}@example.com> {when} +0000\n"
            f"committer Dev {n % 17} <dev{n % 17}@example.com> {when} +0000\ndata {len(message)}\n".encode()
        )
        out.write(message)
        if n > 1:
            out.write(f"from :{n - 1}\n".encode())
        for _ in range(rng.randint(1, 5)):
            content = f"{n} {rng.random()}\n".encode()
            name = f"src/{rng.choice(WORDS)}/{rng.choice(WORDS)}{rng.randint(1, 40)}.c"
            out.write(f"M 644 inline {name}\ndata {len(content)}\n".encode())
            out.write(content)
        if n % 5000 == 0:
            out.write(f"reset refs/tags/v{n // 5000}.0\nfrom :{n}\n".encode())
        out.write(b"\n")
    out.close()
    process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", type=Path)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--commits", type=int, default=50_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdl-bench-"))
    repo = args.repo
    if repo is None:
        repo = work / "history.git"
        started = time.perf_counter()
        build_history(repo, args.commits)
        print(f"built {args.commits:,} commits with git fast-import in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    subprocess.run(
        ["git", *LogFormat.fresh().args, "--branches", "--tags"], cwd=repo, check=True, stdout=subprocess.DEVNULL
    )
    baseline = time.perf_counter() - started

    database, operator, product_id = fresh_product(work, args.database_url, "EDR")
    with database.unit_of_work() as session:
        repository_id = add_repository(session, operator, product_id, name="history", location=str(repo)).id
    timer = WriteTimer().attach(database.engine)
    started = time.perf_counter()
    summary = _scan(database, operator, repository_id)
    scan = time.perf_counter() - started
    scan_transactions = timer.report()
    started = time.perf_counter()
    again = _scan(database, operator, repository_id)
    rescan = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"database: {database.safe_url()}")
    print(f"git log --name-only (baseline): {baseline:.2f} s")
    print(
        f"full scan: {summary.new_commits:,} commits, {summary.trailers:,} trailers, "
        f"{summary.evidence_created} evidence in {scan:.2f} s = {summary.new_commits / scan:,.0f} commits/s"
    )
    print(f"ratio scan / git log: {scan / baseline:.2f}x (target: within 3x)")
    print(f"rescan with nothing new: {again.new_commits} commits in {rescan:.2f} s (target: under 1 s)")
    print(f"peak memory: {peak_mb:.0f} MB")
    print(f"scan job: {scan_transactions} (target: none over 100 ms on SQLite)")


def _scan(database: Database, operator: Principal, repository_id: int) -> SimpleNamespace:
    """Queue a scan and run its job here, as `repo scan --wait` does without a worker."""
    with database.unit_of_work() as session:
        job_id = queue_scan(session, operator, repository_id).id
    run_one(database, "bench", job_id=job_id)
    with database.unit_of_work(read_only=True) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.result is not None, job and job.error
        return SimpleNamespace(**job.result)


if __name__ == "__main__":
    main()
