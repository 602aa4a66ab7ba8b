"""The CI templates in integrations/ci/: each is valid against its platform's published schema, and the shell
steps it runs, run with bash as the platform would (its variables set), deliver the SBOM, the test reports
and the artifact digests of a tagged build to a live tracker; run again, they record nothing twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy import select

from sdl_tracker.app_access import app_db
from sdl_tracker.builds.models import BuildArtifact
from sdl_tracker.evidence.models import Evidence, EvidenceKind
from sdl_tracker.gates.evaluations import set_policy
from sdl_tracker.gates.policy import policy_from_document
from sdl_tracker.products.models import Release
from sdl_tracker.sboms.models import Sbom
from tests.client.live import Live, served, with_ci_token
from tests.factories import OPERATOR
from tests.gates.builders import lenient
from tests.sboms.builders import dumps, json_bom

TEMPLATES = Path(__file__).resolve().parents[2] / "integrations" / "ci"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
GITHUB = TEMPLATES / "github-actions.yml"
GITLAB = TEMPLATES / "gitlab-ci.yml"


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as true; GitHub reads it as the string "on".
    if True in document:
        document["on"] = document.pop(True)
    return document  # type: ignore[no-any-return]


def _problems(template: Path, schema: str, document: dict[str, Any] | None = None) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / schema).read_text(encoding="utf-8")))
    found = validator.iter_errors(document if document is not None else _load(template))
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in found]


@pytest.mark.parametrize(("template", "schema"), [(GITHUB, "github-workflow.json"), (GITLAB, "gitlab-ci.json")])
def test_each_template_is_valid_against_its_platforms_schema(template: Path, schema: str) -> None:
    assert _problems(template, schema) == []


def test_the_schemas_do_refuse_a_broken_template() -> None:
    workflow = _load(GITHUB)
    workflow["jobs"]["sdl-tracker"]["stepz"] = workflow["jobs"]["sdl-tracker"].pop("steps")
    assert _problems(GITHUB, "github-workflow.json", workflow)
    pipeline = _load(GITLAB)
    pipeline["sdl-tracker"]["scripts"] = pipeline["sdl-tracker"].pop("script")
    assert _problems(GITLAB, "gitlab-ci.json", pipeline)


def github_steps() -> tuple[dict[str, str], str]:
    """The sdl-tracker job's plain variables and its `run:` steps as one bash script (the install step left
    out: the client under test is installed here already)."""
    job = _load(GITHUB)["jobs"]["sdl-tracker"]
    plain = {key: str(value) for key, value in job["env"].items() if "${{" not in str(value)}
    runs = [step["run"] for step in job["steps"] if "run" in step and step.get("id") != "install"]
    # GitHub runs each step as `bash --noprofile --norc -eo pipefail {0}`; a failing step stops the job.
    return plain, "\n".join(f"( set -eo pipefail\n{run}\n) || exit $?" for run in runs)


def gitlab_steps() -> tuple[dict[str, str], str]:
    """The job's variables and its `script:` lines as one script (before_script installs the client)."""
    job = _load(GITLAB)["sdl-tracker"]
    # The runner stops the job at the first line that fails.
    return {key: str(value) for key, value in job["variables"].items()}, "set -eo pipefail\n" + "\n".join(job["script"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with served(tmp_path_factory.mktemp("templates"), "--no-job-worker") as tracker:
        live = with_ci_token(tracker, versions=("4.2.0", "4.3.0"))
        # A gate policy the tagged releases pass (every rule off but CRA I(2)(a), with nothing matched).
        with app_db(live.app).unit_of_work() as session:
            set_policy(session, OPERATOR, live.product_id, policy_from_document(lenient()))
        yield live


def _workspace(root: Path, version: str) -> None:
    """What a tagged build leaves behind: an SBOM, JUnit reports, release files."""
    (root / "build" / "test-reports").mkdir(parents=True)
    (root / "dist").mkdir()
    (root / "build" / "sbom.cdx.json").write_bytes(dumps(json_bom(components=2, version="1.5")))
    (root / "build" / "test-reports" / "unit.xml").write_text(f"<testsuite name='unit {version}' tests='40'/>")
    (root / "build" / "test-reports" / "integration.xml").write_text("<testsuite name='integration' tests='7'/>")
    (root / "dist" / f"plc-{version}.bin").write_bytes(b"\x7fELF" + version.encode() * 100)
    (root / "dist" / f"plc-{version}.bin.sig").write_bytes(b"signature of " + version.encode())


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_the_template_steps_deliver_a_tagged_build(live: Live, tmp_path: Path, platform: str) -> None:
    version = "4.2.0" if platform == "github" else "4.3.0"
    _workspace(tmp_path, version)
    variables, script = github_steps() if platform == "github" else gitlab_steps()
    if platform == "github":
        run_url = "https://github.com/northwind/plc/actions/runs/4242"
        platform_env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "northwind/plc",
                        "GITHUB_RUN_ID": "4242", "GITHUB_REF_NAME": f"v{version}"}  # fmt: skip
    else:
        run_url = "https://gitlab.example.com/northwind/plc/-/pipelines/77"
        platform_env = {"CI_PIPELINE_URL": run_url, "CI_COMMIT_TAG": f"v{version}",
                        "CI_JOB_URL": "https://gitlab.example.com/northwind/plc/-/jobs/991"}  # fmt: skip
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "SDL_TRACKER_SERVER": live.url,
        "SDL_TRACKER_PRODUCT": "NW-PLC 5000",
        "SDL_TRACKER_TOKEN": live.token,
        **platform_env,
        **variables,
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", script],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    first = run()
    assert first.returncode == 0, (first.stdout, first.stderr)
    # The gate step: the product's policy (set below) passes a release with nothing matched; on current facts.
    assert f"NW-PLC 5000 {version}: pass (current)" in first.stdout
    again = run()
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "already imported" in again.stdout and "already attached as #" in again.stdout
    assert "0 artifacts recorded, 2 already there" in again.stdout
    with app_db(live.app).unit_of_work(read_only=True) as session:
        sboms = session.scalars(select(Sbom).join(Release).where(Release.version == version)).all()
        assert [s.component_count for s in sboms] == [3]
        tests = session.scalars(select(Evidence).where(Evidence.kind == EvidenceKind.REQUIREMENTS_TEST)).all()
        reports = [e for e in tests if e.current.title.endswith(version)]
        assert len(reports) == 1
        report = reports[0].current
        assert sorted(a.filename for a in report.artifacts) == ["integration.xml", "unit.xml"]
        assert [r.version for r in report.releases] == [version]
        assert report.effective_date == datetime.now(UTC).date()
        artifacts = session.scalars(
            select(BuildArtifact).join(Release).where(Release.version == version).order_by(BuildArtifact.name)
        ).all()
        assert [(a.name, a.ci_run_url) for a in artifacts] == [
            (f"plc-{version}.bin", run_url),
            (f"plc-{version}.bin.sig", run_url),
        ]
