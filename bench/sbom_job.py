"""A big SBOM imported as a job: `python bench/sbom_job.py [--components 500000] [--database-url URL]`.

Generates a CycloneDX 1.6 JSON document (slimmer components than bench/sbom_import.py, so 500,000 of
them fit in memory), submits it as a big upload (a job), runs the job here as a worker would, and
prints the time of each phase's work and the write transactions (count, p50, p95, longest). Target:
no job write transaction over 100 ms on SQLite. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fresh import fresh_product
from txtimer import WriteTimer

from sdl_tracker.evidence.services import Upload
from sdl_tracker.jobs.models import Job
from sdl_tracker.jobs.worker import run_one
from sdl_tracker.products.services import create_release
from sdl_tracker.sboms.importer import submit_sbom


def generate(components: int, seed: int = 62443) -> dict[str, Any]:
    """A CycloneDX 1.6 document with `components` libraries and a dependency graph."""
    rng = random.Random(seed)
    items = []
    for n in range(components):
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"
        items.append(
            {
                "type": "library",
                "bom-ref": f"c{n}",
                "group": f"@scope{n % 97}",
                "name": f"package-{n}",
                "version": version,
                "purl": f"pkg:npm/%40scope{n % 97}/package-{n}@{version}",
                "hashes": [{"alg": "SHA-256", "content": f"{rng.getrandbits(256):064x}"}],
                "licenses": [{"license": {"id": "MIT"}}],
            }
        )
    dependencies = [{"ref": f"c{n}", "dependsOn": [f"c{(n * 7 + 1) % components}"]} for n in range(components)]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "bench-app", "version": "1"}},
        "components": items,
        "dependencies": dependencies,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=500_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdl-bench-"))
    started = time.perf_counter()
    raw = json.dumps(generate(args.components)).encode()
    print(
        f"generated {args.components:,} components, {len(raw) / 1e6:.0f} MB, in {time.perf_counter() - started:.1f} s"
    )
    database, operator, product_id = fresh_product(work, args.database_url, "SAR", max_upload_bytes=len(raw) + 1)
    with database.unit_of_work() as session:
        release_id = create_release(session, operator, product_id, version="1.0").id
    timer = WriteTimer().attach(database.engine)
    started = time.perf_counter()
    submitted = submit_sbom(database, operator, release_id, Upload("big.json", "", io.BytesIO(raw)), inline_max_bytes=0)
    assert submitted.job is not None
    queued = time.perf_counter() - started
    started = time.perf_counter()
    run_one(database, "bench", job_id=submitted.job.id)
    ran = time.perf_counter() - started
    with database.unit_of_work(read_only=True) as session:
        job = session.get(Job, submitted.job.id)
        assert job is not None
        print(f"job {job.id}: {job.state.value} {job.error} result={job.result}")
    print(f"database: {database.safe_url()}")
    print(f"queue (blob written, job row): {queued:.2f} s; job (validate, read, stage, publish): {ran:.1f} s")
    print(f"import: {timer.report()} (target: none over 100 ms on SQLite)")


if __name__ == "__main__":
    main()
