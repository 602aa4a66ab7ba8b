"""Time the SBOM views on two releases of a generated SBOM: where a component is (by name with a range, by purl,
and a word too common to answer from), a release's licences, a component's dependency paths.

`python bench/sbom_views.py [--components 50000] [--database-url URL]`; docs/sboms.md has the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sbom_diff import best, components, next_release  # noqa: E402


def document(items: list[dict[str, object]], version: str) -> bytes:
    """The SBOM with a binary tree of dependencies under the subject (every component is reachable)."""
    refs = [str(item["bom-ref"]) for item in items]
    edges = [{"ref": "app", "dependsOn": refs[:1]}] + [
        {"ref": refs[i], "dependsOn": [refs[c] for c in (2 * i + 1, 2 * i + 2) if c < len(refs)]}
        for i in range(len(refs) // 2)
    ]
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "bench", "version": version}},
            "components": items,
            "dependencies": edges,
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--components", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from fresh import fresh_product

    from sdl_tracker.evidence.services import Upload
    from sdl_tracker.products.services import create_release
    from sdl_tracker.sboms.queries import component_paths, licence_summary, where_is
    from sdl_tracker.sboms.services import import_sbom

    database, operator, product_id = fresh_product(
        Path(tempfile.mkdtemp(prefix="sdl-bench-")), args.database_url, "SAR"
    )
    first = components(args.components)
    releases, sboms = [], []
    for version, items in (("1.0", first), ("1.1", next_release(first))):
        with database.unit_of_work() as session:
            release = create_release(session, operator, product_id, version=version)
            raw = document(items, version)
            sboms.append(
                import_sbom(session, operator, release.id, Upload(f"{version}.json", "", io.BytesIO(raw))).sbom.id
            )
            releases.append(release.id)
    print(f"database: {args.database_url or 'SQLite (a fresh file)'}; two releases of {args.components:,} components")
    deepest = args.components - 1000  # a leaf of the tree: its path to the root is the tree's height
    with database.unit_of_work(read_only=True) as session:
        for label, work in (
            ("where: name and range", lambda: where_is(session, operator, "package-4217 >=1.0")),
            ("where: purl, no version", lambda: where_is(session, operator, "pkg:npm/%40scope46/package-4217")),
            ("where: too common a word", lambda: where_is(session, operator, "package")),
            ("licences of a release (first)", lambda: licence_summary(session, operator, releases[0])),
            ("licences of a release (kept)", lambda: licence_summary(session, operator, releases[0])),
            ("dependency paths of a leaf", lambda: component_paths(session, operator, sboms[1], deepest)),
        ):
            seconds, result = best(1 if "(first)" in label else args.runs, work)
            extra = ""
            if hasattr(result, "total"):
                extra = f"{result.total:,} found{' (candidates cut)' if result.truncated else ''}"
            elif hasattr(result, "dependents"):
                extra = f"{len(result.dependents.paths)} path(s), {len(result.pulled):,} pulled in"
            print(f"{label:<30} {seconds:>7.3f} s  {extra}")


if __name__ == "__main__":
    main()
