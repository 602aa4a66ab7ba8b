"""What the git hooks add to `git commit`: `python bench/hooks.py [--runs 30] [--server URL --product ID]`.

In one run, in turns, times `git commit` in three repositories: without hooks (the baseline), with
the hooks installed and the tracker away (connection refused), and with the hooks installed and the
tracker up; with a message carrying trailers (the commit-msg hook checks it: two hooks start Python)
and, with the tracker away, also without (the commit-msg hook skips Python: one does). Once the tracker
was away, the hooks leave it alone for a minute or more, and post-commit queues in the shell without
starting Python; the first commit of each such pause is timed on its own (its pause is lifted before
each run, so post-commit starts Python, finds the tracker away and pauses again). The tracker
is the stand-in the tests use (a standard-library HTTP server speaking the commit intake), or a real
one with `--server URL --product ID` (token in SDL_TRACKER_TOKEN). Prints each median (wall, and CPU
time of the processes, which a busy machine inflates less), the time the hooks add and the ratio to
the baseline; then the start-up of the hook command against the bare interpreter. Not a test:
nothing is asserted. Targets: under 50 ms added with the tracker away, the client's start-up under
100 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.client.fake_tracker import FakeTracker, free_port  # noqa: E402

TOKEN = "sdlt_0123456789_bench-token-bench-token-bench-token-bench-tok"  # noqa: S105 - the stand-in's
MESSAGE = "Fix the Modbus length check\n\nSecurity-Review: sofia@northwind.example\nSecurity-Requirement: CR 3.4\n"
PLAIN = "Fix the Modbus length check\n\nFrames shorter than their header were read past their end.\n"
BASELINE = "git commit, no hooks (baseline)"
IDENTITY = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com"}


def _environment(token: str) -> dict[str, str]:
    return {
        **os.environ,
        **IDENTITY,
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "SDL_TRACKER_TOKEN": token,
    }


def _repository(path: Path, env: dict[str, str], server: str | None, product: str) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    if server is not None:
        subprocess.run(
            [sys.executable, "-m", "sdl_tracker", "hook", "install", "--repo", str(path), "--server", server,
             "--product", product, "--repository", "firmware"],
            check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return path


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU of the processes) in milliseconds for one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def _summary(name: str, samples: list[tuple[float, float]], baseline: list[tuple[float, float]] | None) -> str:
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    line = f"{name:<40} wall {wall:7.1f} ms  cpu {cpu:6.1f} ms"
    if baseline is not None:
        base_wall = statistics.median(s[0] for s in baseline)
        base_cpu = statistics.median(s[1] for s in baseline)
        line += f"   added: wall {wall - base_wall:6.1f} ms, cpu {cpu - base_cpu:6.1f} ms   {wall / base_wall:5.2f}x"
    return line


def main() -> None:
    """Time the three kinds of commit in turns and print medians, added times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--server", help="a real tracker (token in SDL_TRACKER_TOKEN); default: the stand-in")
    parser.add_argument("--product", default="7", help="the product id on --server")
    args = parser.parse_args()
    stand_in = None
    if args.server:
        up_url, token = args.server, os.environ.get("SDL_TRACKER_TOKEN", "")
    else:
        stand_in = FakeTracker(TOKEN).start()
        up_url, token = stand_in.url, TOKEN
    env = _environment(token)
    away_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    with tempfile.TemporaryDirectory() as tmp:
        away = _repository(Path(tmp) / "away", env, away_url, args.product)
        unpaused = _repository(Path(tmp) / "unpaused", env, away_url, args.product)
        runs = {  # name: (repository, message)
            BASELINE: (_repository(Path(tmp) / "plain", env, None, args.product), MESSAGE),
            "git commit, hooks, tracker away": (away, MESSAGE),
            "  the same, a message without trailers": (away, PLAIN),
            "  the first commit of a pause": (unpaused, MESSAGE),
            "git commit, hooks, tracker up": (_repository(Path(tmp) / "up", env, up_url, args.product), MESSAGE),
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for n in range(args.runs + 1):
            for name, (path, message) in runs.items():
                if path == unpaused:
                    _lift_pause(path)
                timing = _timed(["git", "commit", "-q", "--allow-empty", "-m", message], path, env)
                if n:  # the first round warms the caches
                    samples[name].append(timing)
        baseline = samples[BASELINE]
        for name, timings in samples.items():
            print(_summary(name, timings, None if name == BASELINE else baseline))
        queued = len(list((away / ".git" / "sdl-tracker" / "queue").iterdir()))
        print(f"  (tracker away: {queued} commits queued; tracker up: {_delivered(stand_in)} delivered)")
        message = Path(tmp) / "MESSAGE"
        message.write_text(MESSAGE)
        bare = [_timed([sys.executable, "-I", "-c", "pass"], away, env) for _ in range(args.runs)]
        hook = [
            _timed([sys.executable, "-I", "-m", "sdl_tracker", "hook", "commit-msg", str(message)], away, env)
            for _ in range(args.runs)
        ]
        print(_summary("python -I -c pass (baseline)", bare, None))
        print(_summary("sdl-tracker hook commit-msg (start-up)", hook, bare))
    if stand_in is not None:
        stand_in.stop()


def _lift_pause(repository: Path) -> None:
    """End the pause the hooks keep after the tracker was away, as if its time had passed."""
    for name in ("away", "state.json"):
        (repository / ".git" / "sdl-tracker" / name).unlink(missing_ok=True)


def _delivered(stand_in: FakeTracker | None) -> str:
    return "?" if stand_in is None else str(len(stand_in.stored))


if __name__ == "__main__":
    main()
