"""Start-up of the client commands: `python bench/client_start.py [--runs 20]`.

A git hook runs on every commit, so `sdl-tracker client ...` must start about as fast as the bare
interpreter. Times, as whole processes, the bare interpreter (`python -c pass`, the baseline), the
client entry (`python -m sdl_tracker client --help`) and a server command for contrast
(`python -m sdl_tracker --version`, which loads Flask, SQLAlchemy and every feature), and prints
each median and its ratio to the baseline. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "sdl-tracker client --help": [sys.executable, "-m", "sdl_tracker", "client", "--help"],
    "sdl-tracker --version (server)": [sys.executable, "-m", "sdl_tracker", "--version"],
}


def median_ms(command: list[str], runs: int) -> float:
    """The median wall time of `runs` runs after one warm-up, in milliseconds."""
    times = []
    for n in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if n:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Time each command and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    results = {name: median_ms(command, args.runs) for name, command in COMMANDS.items()}
    baseline = results["python -c pass (baseline)"]
    for name, ms in results.items():
        print(f"{name:<34} median {ms:7.1f} ms   {ms / baseline:5.2f}x the bare interpreter")


if __name__ == "__main__":
    main()
