"""SBOM export speed: `python bench/sbom_export.py [--database-url URL] [--components 50000] [--runs 3]`.

Imports one generated CycloneDX 1.6 SBOM of `--components` components (npm-shaped, as bench/sbom_diff.py makes
them, with a chain of dependencies) as a release's primary SBOM, then measures in the same run: `json.dumps` of
the release's component rows (the baseline); the whole export as JSON and as XML (read, write, validate against
the 1.6 schema) the first time, and again (served from the bytes the first one kept); and the parts: writing
the JSON alone and validating it alone. Each is printed as a ratio to `json.dumps`; the best of `--runs` runs
counts, but for the first exports (one run each: the next ones serve the kept bytes). Not a test: nothing is
asserted. Target: export within 10x of `json.dumps`.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--components", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from fresh import fresh_product
    from sbom_diff import best, components

    from sdl_tracker.evidence.services import Upload
    from sdl_tracker.products.services import create_release
    from sdl_tracker.sboms import writer
    from sdl_tracker.sboms.exports import export_bom
    from sdl_tracker.sboms.services import component_rows, import_sbom
    from sdl_tracker.sboms.validation import SbomFormat, json_verdict

    database, operator, product_id = fresh_product(
        Path(tempfile.mkdtemp(prefix="sdl-bench-")), args.database_url, "SAR"
    )
    items = components(args.components)
    refs = [item["bom-ref"] for item in items]
    raw = json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "bench", "version": "1.0"}},
            "components": items,
            "dependencies": [{"ref": "app", "dependsOn": refs[:100]}]
            + [{"ref": a, "dependsOn": [b]} for a, b in itertools.pairwise(refs)],
        }
    ).encode()
    with database.unit_of_work() as session:
        release = create_release(session, operator, product_id, version="1.0")
        sbom_id = import_sbom(
            session, operator, release.id, Upload("1.0.json", "", io.BytesIO(raw)), primary=True
        ).sbom.id
        release_id = release.id
    with database.unit_of_work(read_only=True) as session:
        rows = component_rows(session, sbom_id)
    dumps_s, _ = best(args.runs, lambda: json.dumps(rows))
    started = time.perf_counter()
    exported = export_bom(database, operator, release_id, SbomFormat.JSON)
    json_s = time.perf_counter() - started
    started = time.perf_counter()
    exported_xml = export_bom(database, operator, release_id, SbomFormat.XML)
    xml_s = time.perf_counter() - started
    json_again_s, _ = best(args.runs, lambda: export_bom(database, operator, release_id, SbomFormat.JSON))
    xml_again_s, _ = best(args.runs, lambda: export_bom(database, operator, release_id, SbomFormat.XML))
    document = json.loads(exported.data)
    body = {key: value for key, value in document.items() if key in ("metadata", "components", "dependencies")}
    write_s, _ = best(args.runs, lambda: writer.json_bytes(writer.content_json(body), exported.serial_number, 1))
    check_s, _ = best(args.runs, lambda: json_verdict(document, writer.SPEC_VERSION))
    print(f"database: {args.database_url or 'SQLite (a fresh file)'}; {len(rows):,} components")
    print(f"{'measure':<40} {'seconds':>8} {'/ json.dumps':>12}")
    for label, seconds in (
        ("json.dumps of the component rows", dumps_s),
        (f"first export as JSON ({len(exported.data) / 1e6:.1f} MB, validated)", json_s),
        (f"first export as XML ({len(exported_xml.data) / 1e6:.1f} MB, validated)", xml_s),
        ("export again as JSON (kept bytes)", json_again_s),
        ("export again as XML (kept bytes)", xml_again_s),
        ("  writing the JSON alone", write_s),
        ("  validating the JSON value alone", check_s),
    ):
        print(f"{label:<40} {seconds:>8.3f} {seconds / dumps_s:>11.1f}x")
    worst = max(json_s, xml_s) / dumps_s
    print(f"target: export within 10x of json.dumps ({'met' if worst <= 10 else 'missed'}: {worst:.1f}x at worst)")


if __name__ == "__main__":
    main()
