"""SBOM diff speed: `python bench/sbom_diff.py [--database-url URL] [--components 50000] [--runs 5]`.

Imports two generated CycloneDX 1.6 SBOMs of `--components` components each (npm-shaped: scoped purls,
a few packages at several versions, nested parts) as two releases of one product, the second with
upgrades, downgrades, additions, removals, licence, supplier and hash changes, then measures in the
same run: the pure diff over the rows (with the collector on, and paused as the service runs it), the
query of both SBOMs' rows alone, the whole service (query + diff), and `json.dumps` of the same rows,
and prints each as a ratio to `json.dumps`. The
best of `--runs` runs counts. Not a test: nothing is asserted. Target: the diff under 1 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

LICENSES = ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "GPL-2.0-only", "LGPL-2.1-or-later", "MPL-2.0"]


def components(count: int, seed: int = 62443) -> list[dict[str, Any]]:
    """The first release's components: every 50th package also at a second, older major version, and every
    100th with a nested part."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    total = n = 0  # nested parts count as components too
    while total < count:
        scope, name = f"@scope{n % 97}", f"package-{n}"
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"
        items.append(_component(scope, name, version, rng, f"{n}"))
        total += 1
        if n % 50 == 0 and total < count:
            items.append(_component(scope, name, f"0.{rng.randint(0, 9)}.0", rng, f"{n}-old"))
            total += 1
        if n % 100 == 0 and total < count:
            items[-1]["components"] = [
                {"type": "file", "bom-ref": f"{n}-part", "name": f"{name}.node", "version": version}
            ]
            total += 1
        n += 1
    return items


def _component(scope: str, name: str, version: str, rng: random.Random, ref: str) -> dict[str, Any]:
    return {
        "type": "library",
        "bom-ref": ref,
        "group": scope,
        "name": name,
        "version": version,
        "supplier": {"name": f"{scope} maintainers"},
        "hashes": [{"alg": "SHA-512", "content": f"{rng.getrandbits(512):0128x}"}],
        "licenses": [{"license": {"id": rng.choice(LICENSES)}}],
        "purl": f"pkg:npm/%40{scope[1:]}/{name}@{version}",
    }


def next_release(items: list[dict[str, Any]], seed: int = 4241) -> list[dict[str, Any]]:
    """The second release: 5% upgraded, 0.5% downgraded, 1% rebuilt (other hashes), 1% relicensed, 0.5% with
    another supplier, 1% removed and as many new."""
    rng = random.Random(seed)
    out = []
    for index, item in enumerate(json.loads(json.dumps(items))):
        roll = rng.random()
        if roll < 0.05:
            major, minor, patch = (int(p) for p in item["version"].split("."))
            _set_version(item, f"{major}.{minor}.{patch + 1}")
        elif roll < 0.055:
            major, minor, patch = (int(p) for p in item["version"].split("."))
            _set_version(item, f"{major}.{max(minor - 1, 0)}.{patch + 30}")
        elif roll < 0.065:
            item["hashes"] = [{"alg": "SHA-512", "content": f"{rng.getrandbits(512):0128x}"}]
        elif roll < 0.075:
            item["licenses"] = [{"expression": "MIT OR Apache-2.0"}]
        elif roll < 0.08:
            item["supplier"] = {"name": "a mirror"}
        elif roll < 0.09:
            continue  # removed
        if roll > 0.99:
            out.append(_component("@new", f"new-{index}", "1.0.0", rng, f"new-{index}"))
        out.append(item)
    return out


def _set_version(item: dict[str, Any], version: str) -> None:
    item["purl"] = item["purl"].rsplit("@", 1)[0] + "@" + version
    item["version"] = version


def document(items: list[dict[str, Any]], version: str) -> bytes:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "bench", "version": version}},
            "components": items,
        }
    ).encode()


def best(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `runs` runs, and the last result."""
    seconds, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        seconds = min(seconds, time.perf_counter() - started)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--components", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from fresh import fresh_product

    from sdl_tracker.evidence.services import Upload
    from sdl_tracker.jobs.registry import collector_paused
    from sdl_tracker.products.services import create_release
    from sdl_tracker.sboms.diff import HEADINGS, diff
    from sdl_tracker.sboms.services import DiffSide, compare_sboms, diff_rows, import_sbom

    database, operator, product_id = fresh_product(
        Path(tempfile.mkdtemp(prefix="sdl-bench-")), args.database_url, "SAR"
    )
    first = components(args.components)
    second = next_release(first)
    started = time.perf_counter()
    ids = []
    for version, items in (("1.0", first), ("1.1", second)):
        with database.unit_of_work() as session:
            release = create_release(session, operator, product_id, version=version)
            raw = document(items, version)
            ids.append(
                import_sbom(session, operator, release.id, Upload(f"{version}.json", "", io.BytesIO(raw))).sbom.id
            )
    database_name = args.database_url or "SQLite (a fresh file)"
    print(f"database: {database_name}; imported two SBOMs in {time.perf_counter() - started:.0f} s")

    with database.unit_of_work(read_only=True) as session:
        query_s, (old, new) = best(args.runs, lambda: (diff_rows(session, ids[0]), diff_rows(session, ids[1])))
        plain = [dataclasses.asdict(c) for c in old] + [dataclasses.asdict(c) for c in new]
        dumps_s, _ = best(args.runs, lambda: json.dumps(plain))
        diff_s, result = best(args.runs, lambda: diff(old, new))
        with collector_paused(collect=False):
            paused_s, _ = best(args.runs, lambda: diff(old, new))
        whole_s, _ = best(
            args.runs,
            lambda: compare_sboms(session, operator, product_id, DiffSide("1.0"), DiffSide("1.1")),
        )
    counts = ", ".join(f"{len(getattr(result, h)):,} {h.replace('_', ' ')}" for h in HEADINGS)
    print(f"components: {len(old):,} and {len(new):,}; {counts}, {result.unchanged:,} unchanged")
    print(f"{'measure':<34} {'seconds':>8} {'/ json.dumps':>12}")
    for label, seconds in (
        ("json.dumps of both SBOMs' rows", dumps_s),
        ("diff (pure function)", diff_s),
        ("diff, collector paused (as served)", paused_s),
        ("query of both rows (collector on)", query_s),
        ("query + diff (compare_sboms)", whole_s),
    ):
        print(f"{label:<34} {seconds:>8.3f} {seconds / dumps_s:>11.1f}x")
    verdict = "met" if paused_s < 1 else "missed"
    print(f"target: the diff under 1 s ({verdict}: {paused_s:.2f} s as served, {diff_s:.2f} s with the collector on)")


if __name__ == "__main__":
    main()
