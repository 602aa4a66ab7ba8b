"""SBOM import speed: `python bench/sbom_import.py [--database-url URL] [--sizes 10000,50000] [--library-validator]`.

Imports the real 2 MB sample (tests/sboms/fixtures) and generated CycloneDX 1.6 JSON documents with
10,000 and 50,000 components (hashes, licenses, purls, external references, a dependency graph),
each in a fresh process, and prints for validate + parse + store: components per second, the ratio to
cyclonedx-python-lib's `Bom.from_json` and to `json.load` on the same file, and peak memory of each.
`--library-validator` also runs the library's strict JSON validator on the sample (about 90 s) and
compares its verdict with ours. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "tests" / "sboms" / "fixtures" / "juice-shop-11.1.2-npm.cdx-1.4.json"
LICENSES = ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "GPL-2.0-only", "LGPL-2.1-or-later", "MPL-2.0"]


def generate(components: int, seed: int = 62443) -> dict[str, Any]:
    """A CycloneDX 1.6 document shaped like a real npm or Maven SBOM, with `components` components."""
    rng = random.Random(seed)
    items = []
    for n in range(components):
        group = f"@scope{n % 97}"
        name = f"package-{n}"
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"
        items.append(
            {
                "type": "library",
                "bom-ref": f"{group}/{name}@{version}",
                "group": group,
                "name": name,
                "version": version,
                "description": f"Generated package {n} for the import benchmark",
                "hashes": [{"alg": "SHA-512", "content": f"{rng.getrandbits(512):0128x}"}],
                "licenses": [{"license": {"id": rng.choice(LICENSES)}}]
                if n % 5
                else [{"expression": "MIT OR Apache-2.0"}],
                "purl": f"pkg:npm/%40scope{n % 97}/{name}@{version}",
                "externalReferences": [
                    {
                        "type": "distribution",
                        "url": f"https://registry.example.com/{group}/{name}/-/{name}-{version}.tgz",
                    },
                    {"type": "vcs", "url": f"git+https://git.example.com/{group}/{name}.git"},
                ],
                "properties": [{"name": "cdx:npm:package:path", "value": f"node_modules/{group}/{name}"}],
            }
        )
    refs = [item["bom-ref"] for item in items]
    dependencies = [
        {"ref": ref, "dependsOn": sorted({rng.choice(refs) for _ in range(rng.randint(0, 3))} - {ref})} for ref in refs
    ]
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-01T12:00:00Z",
            "tools": {"components": [{"type": "application", "name": "bench-generator", "version": "1.0"}]},
            "component": {"type": "application", "bom-ref": "app", "name": "bench-app", "version": "1.0.0"},
        },
        "components": items,
        "dependencies": [{"ref": "app", "dependsOn": refs[:50]}, *dependencies],
    }


def _peak_mb() -> float:
    # VmHWM starts afresh with each exec; ru_maxrss would carry the parent's peak across fork.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_json_load(path: Path) -> dict[str, float]:
    """The baseline: json.load of the file."""
    started = time.perf_counter()
    with path.open("rb") as stream:
        json.load(stream)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}


def worker_library(path: Path) -> dict[str, float]:
    """cyclonedx-python-lib's object model: Bom.from_json on the loaded document."""
    from cyclonedx.model.bom import Bom

    started = time.perf_counter()
    with path.open("rb") as stream:
        Bom.from_json(json.load(stream))  # type: ignore[attr-defined]
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}


def worker_import(path: Path, database_url: str) -> dict[str, float]:
    """Our import (validate, parse, store rows, blob and evidence) into a fresh product and release."""
    from fresh import fresh_product

    from sdl_tracker.evidence.services import Upload
    from sdl_tracker.products.services import create_release
    from sdl_tracker.sboms.services import import_sbom

    database, operator, product_id = fresh_product(Path(tempfile.mkdtemp(prefix="sdl-bench-")), database_url, "SAR")
    with database.unit_of_work() as session:
        release_id = create_release(session, operator, product_id, version="1.0").id
    raw = path.read_bytes()
    baseline_mb = _peak_mb()
    started = time.perf_counter()
    with database.unit_of_work() as session:
        sbom = import_sbom(session, operator, release_id, Upload(path.name, "", io.BytesIO(raw))).sbom
        components = sbom.component_count
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": _peak_mb(), "before_mb": baseline_mb, "components": components}


def worker_library_validator(path: Path) -> dict[str, Any]:
    """The library's strict JSON validator: its verdict and time."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = path.read_text()
    validator = JsonStrictValidator(SchemaVersion.from_version(json.loads(text)["specVersion"]))
    started = time.perf_counter()
    error = validator.validate_str(text)
    return {"seconds": time.perf_counter() - started, "valid": error is None}


WORKERS = {
    "json": lambda path, url: worker_json_load(path),
    "library": lambda path, url: worker_library(path),
    "import": worker_import,
    "validator": lambda path, url: worker_library_validator(path),
}


def run_worker(mode: str, path: Path, database_url: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter, so peak memory is its own."""
    command = [sys.executable, __file__, "--worker", mode, str(path), "--database-url", database_url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--library-validator", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, file = args.worker
        print(json.dumps(WORKERS[mode](Path(file), args.database_url)))
        return

    work = Path(tempfile.mkdtemp(prefix="sdl-bench-"))
    files = [("real sample (1.4)", SAMPLE)]
    for size in (int(s) for s in args.sizes.split(",") if s):
        path = work / f"generated-{size}.cdx.json"
        path.write_text(json.dumps(generate(size)))
        files.append((f"generated {size:,}", path))
    print(f"database: {args.database_url or 'SQLite (a fresh file per run)'}")
    header = (
        f"{'document':<20} {'MB':>6} {'comps':>7} {'json.load':>9} {'from_json':>9} {'import':>8} "
        f"{'comps/s':>8} {'/from_json':>10} {'/json.load':>10} {'peak MB':>8} {'lib MB':>7}"
    )
    print(header)
    for label, path in files:
        baseline = run_worker("json", path, args.database_url)
        library = run_worker("library", path, args.database_url)
        ours = run_worker("import", path, args.database_url)
        print(
            f"{label:<20} {path.stat().st_size / 1e6:>6.1f} {ours['components']:>7,} {baseline['seconds']:>8.2f}s "
            f"{library['seconds']:>8.2f}s {ours['seconds']:>7.2f}s {ours['components'] / ours['seconds']:>8,.0f} "
            f"{ours['seconds'] / library['seconds']:>9.2f}x {ours['seconds'] / baseline['seconds']:>9.1f}x "
            f"{ours['peak_mb']:>8.0f} {library['peak_mb']:>7.0f}"
        )
    print("targets: the sample under 3 s; import within 2x of from_json; peak under 1 GB at 50,000 components")
    if args.library_validator:
        verdict = run_worker("validator", SAMPLE, args.database_url)
        print(
            f"library strict validator on the sample: {'valid' if verdict['valid'] else 'invalid'} "
            f"in {verdict['seconds']:.1f} s (ours: valid, see the import above)"
        )


if __name__ == "__main__":
    main()
