"""The CI commands against a real tracker (`sdl-tracker serve` on loopback, its job worker running): evidence,
SBOMs (inline and through an import job), build artifacts; each upload idempotent; every failure one line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sdl_tracker.app_access import app_db
from sdl_tracker.builds.models import BuildArtifact
from sdl_tracker.evidence.models import Evidence
from tests.client.live import Live, served, with_ci_token
from tests.sboms.builders import dumps, json_bom

pytestmark = pytest.mark.slow
INLINE_MAX = 4096  # bytes: a bigger SBOM goes to the import job


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with served(tmp_path_factory.mktemp("ci"), SBOM_INLINE_MAX_BYTES=str(INLINE_MAX)) as tracker:
        yield with_ci_token(tracker, versions=("4.2.0", "4.3.0"))


def _one_line_error(result, fragment: str, code: int = 2) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_evidence_add_attaches_once(live: Live, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_bytes(b"<testsuite name='fw' tests='12' failures='0'/>")
    args = ["evidence-add", "--product", "NW-PLC 5000", "--kind", "requirements-test", "--title", "Unit tests 4.2.0",
            "--requirement", "SVV-1", "--release", "4.2.0", "--effective-date", "2026-11-30", str(report)]  # fmt: skip
    first = live.client(*args)
    assert first.returncode == 0, first.stderr
    evidence_id = int(first.stdout.split("#")[1].split()[0])
    again = live.client(*args, "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["created"] is False
    assert json.loads(again.stdout)["current"]["effective_date"] == "2026-11-30"  # not the upload's day
    assert live.client(*args).stdout.strip() == f"already attached as #{evidence_id}"
    refused = live.client(*args, "--release", "4.3.0")
    _one_line_error(refused, f"already evidence #{evidence_id}; edit that item to add releases")
    with app_db(live.app).unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Evidence)) == 1
    _one_line_error(live.client(*args[:-1], str(tmp_path / "missing.xml")), "cannot read")
    _one_line_error(live.client(*args[:-3], "--effective-date", "30.11.2026", str(report)), "not a date")
    _one_line_error(live.client(*args[:3], "--kind", "nonsense", *args[5:]), "kind")


def test_sbom_upload_inline_and_through_the_job(live: Live, tmp_path: Path) -> None:
    small = tmp_path / "small.cdx.json"
    bom = json_bom(components=2)
    bom["components"][1]["externalReferences"] = [{"type": "vcs", "url": "git@github.com:example/lib.git"}]
    small.write_bytes(dumps(bom))
    assert small.stat().st_size < INLINE_MAX
    args = ["sbom-upload", "--product", "NW-PLC 5000", "--release", "4.2.0"]
    first = live.client(*args, str(small))
    assert first.returncode == 0, first.stderr
    assert "imported into release 4.2.0: 3 components, 1 warning" in first.stdout
    assert "warning: /components/1/externalReferences/0/url:" in first.stdout
    assert "already imported" in live.client(*args, str(small)).stdout
    big = tmp_path / "big.cdx.json"
    big.write_bytes(dumps(json_bom(components=60)))
    assert big.stat().st_size > INLINE_MAX
    queued = live.client(*args, "--json", str(big))
    assert queued.returncode == 0, queued.stderr
    verdict = json.loads(queued.stdout)
    assert verdict["verdict"] == "imported" and isinstance(verdict["job"], int)
    assert verdict["sbom"]["components"] == 61  # with the nested part
    broken = tmp_path / "broken.cdx.json"
    broken.write_bytes(dumps(json_bom(components=60, specVersion="9.9")))
    failed = live.client(*args, str(broken))
    assert failed.returncode == 1 and failed.stdout == "", (failed.stdout, failed.stderr)
    assert failed.stderr.count("\n") == 1 and "import failed (job " in failed.stderr, failed.stderr
    strict = live.client(*args, "--strict", "--release", "4.3.0", str(small))
    assert strict.returncode == 1 and "strict" in strict.stderr


def test_artifact_add_records_names_sizes_and_digests_with_the_run(live: Live, tmp_path: Path) -> None:
    files = []
    for name, data in (("firmware.bin", b"\x7fELF" + b"\0" * 5000), ("firmware.bin.sig", b"signature")):
        path = tmp_path / name
        path.write_bytes(data)
        files.append(str(path))
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "northwind/plc", "GITHUB_RUN_ID": "77"}
    args = ["artifact-add", "--product", "NW-PLC 5000", "--release", "4.2.0", *files]
    first = live.client(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("release 4.2.0: 2 artifacts recorded, 0 already there")
    assert live.client(*args, env=env).stdout.startswith("release 4.2.0: 0 artifacts recorded, 2 already there")
    with app_db(live.app).unit_of_work(read_only=True) as session:
        rows = session.scalars(select(BuildArtifact).order_by(BuildArtifact.name)).all()
        assert [(r.name, r.size, r.sha256, r.ci_run_url) for r in rows] == [
            ("firmware.bin", 5004, hashlib.sha256(Path(files[0]).read_bytes()).hexdigest(),
             "https://github.com/northwind/plc/actions/runs/77"),
            ("firmware.bin.sig", 9, hashlib.sha256(b"signature").hexdigest(),
             "https://github.com/northwind/plc/actions/runs/77"),
        ]  # fmt: skip
    Path(files[1]).write_bytes(b"another signature")
    _one_line_error(live.client(*args, env=env), "409")
    _one_line_error(live.client(*args[:4], "9.9.9", *files), "has no release '9.9.9'")


def test_a_token_without_the_scope_is_one_line(live: Live, tmp_path: Path) -> None:
    report = tmp_path / "r.txt"
    report.write_bytes(b"r")
    result = live.client(
        "evidence-add", "--product", "NW-PLC 5000", "--kind", "other", "--title", "t", "--requirement", "SVV-1",
        str(report), env={"SDL_TRACKER_TOKEN": "sdlt_0123456789_" + "X" * 43},
    )  # fmt: skip
    _one_line_error(result, "401")
