"""The wheel: templates, migrations and package data travel inside the package, and an app started from it works."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and installs it in a virtual environment

ROOT = Path(__file__).resolve().parents[1]

CHECK_INSTALLED_APP = """
import sys
from pathlib import Path
import sdl_tracker
from sdl_tracker import create_app, schema
from sdl_tracker.resources import resource_dir
from sdl_tracker.app_access import app_db

site = Path(sys.argv[1]).resolve()
assert Path(sdl_tracker.__file__).resolve().is_relative_to(site), sdl_tracker.__file__
assert resource_dir("templates").is_relative_to(site)
assert resource_dir("migrations").is_relative_to(site)
app = create_app({"DATA_DIR": sys.argv[2]})
schema.upgrade(app_db(app))
assert schema.current_revision(app_db(app)) == schema.heads()[0]
response = app.test_client().get("/login")
assert response.status_code == 200 and b"Sign in" in response.data, response.status_code
assert app.test_client().get("/static/app.css").status_code == 200
from sdl_tracker.psirt.vocabulary import cwe_label
assert cwe_label(79).startswith("CWE-79: Improper Neutralization of Input"), cwe_label(79)
from sdl_tracker.vex.validity import schema_failures
assert [f.test for f in schema_failures({})] == ["schema"], schema_failures({})
print("installed app ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("sdl_tracker-*.whl")
    return built


def test_wheel_maps_templates_and_migrations_into_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "sdl_tracker/templates/base.html" in names
    assert "sdl_tracker/migrations/env.py" in names
    assert any(n.startswith("sdl_tracker/migrations/versions/") and n.endswith(".py") for n in names)
    assert "sdl_tracker/web/static/app.css" in names
    assert "sdl_tracker/psirt/data/cwe.json" in names  # the CWE list that CWE ids are checked against
    assert "sdl_tracker/vex/data/openvex_json_schema_0.2.0.json" in names  # OpenVEX documents are checked against it
    assert "sdl_tracker/vex/data/openvex-LICENSE" in names
    assert "sdl_tracker/vex/data/provider_json_schema.json" in names  # provider-metadata.json is checked against it
    for schema in ("csaf_json_schema.json", "cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json"):
        assert f"sdl_tracker/vex/data/{schema}" in names  # CSAF documents are validated offline against these
    top_level = {n.split("/", 1)[0] for n in names}
    assert top_level <= {"sdl_tracker", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}, top_level
    assert not any(n.startswith("tests/") for n in names)


def test_app_from_the_installed_wheel_finds_templates_and_migrations(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", CHECK_INSTALLED_APP, str(site), str(tmp_path / "data")],
        cwd=tmp_path,  # not the checkout, so nothing can be found there by accident
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "installed app ok" in result.stdout
