"""Vulnerability files through their doors: the API (200 with the counts, 202 and a job for a big file, 403 for
who may not), the pages (the upload form, the list, the vulnerability's page), the command line (`vuln import`
FILE, DIR or the configured directory; `vuln affected` with its exit codes), and the VULN_DIR setting."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from sdl_tracker.app_access import SETTINGS_EXTENSION, app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.auth import Principal
from sdl_tracker.cli import cli
from sdl_tracker.config import ConfigError, load_settings
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.worker import run_worker
from sdl_tracker.products.models import Product
from sdl_tracker.vex.importer import authorize_import_vulnerabilities, may_import_vulnerabilities
from sdl_tracker.vex.models import VexDecision
from sdl_tracker.vex.schemas import ImportResultOut
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_user
from tests.vex.test_importer import DEVELOPER, FEEDS, OFFICER, STRANGER, actor, feed, osv_list, portfolio, run

pytestmark = pytest.mark.db
KEV = "kev-trimmed.json"
SUPPLIER = "cyclonedx-vex.json"
ADMIN = "admin@example.com"


@pytest.fixture
def vuln_dir(tmp_path: Path) -> Path:
    """The configured directory: the KEV catalog, two OSV records, a hidden file and a folder (both ignored)."""
    folder = tmp_path / "vulns"
    folder.mkdir()
    for name in (KEV, "osv-GHSA-jfh8-c2jp-5v3q.json", "osv-GHSA-35jh-r3h4-6jhm.json"):
        shutil.copy(FEEDS / name, folder / name)
    (folder / ".partial.json").write_text("{")
    (folder / "old").mkdir()
    return folder


@pytest.fixture
def app_config(vuln_dir: Path) -> dict[str, object]:
    """Every app of this module has the directory configured."""
    return {"VULN_DIR": str(vuln_dir)}


@pytest.fixture
def plc(session: Session) -> Product:
    """The importer tests' portfolio, and an administrator."""
    product = portfolio(session)
    make_user(session, ADMIN, admin=True)
    session.commit()
    return product


def decided(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(VexDecision)) or 0


def upload(api: ApiClient, token: str, name: str, content: bytes | None = None) -> TestResponse:
    data = {"file": (io.BytesIO(content if content is not None else feed(name)), name)}
    return api.call("POST", "/api/v1/vulnerabilities/import", token, data=data)


# --- the API -----------------------------------------------------------------------------------------------------


def test_the_api_imports_a_file_and_answers_which_releases_it_affects(
    api: ApiClient, session: Session, plc: Product
) -> None:
    admin = api.as_user(ADMIN)
    imported = upload(api, admin, "osv.json", osv_list())
    assert imported.status_code == 200, imported.get_data(as_text=True)
    body = imported.get_json()
    assert (body["format"], body["decisions_proposed"], body["undecidable"]) == ("osv-list", 6, 1)
    assert body["undecidable_matches"][0]["vulnerability"] == "OSV-2023-162"
    officer = api.as_user(OFFICER)
    answer = api.call("GET", "/api/v1/vulnerabilities/GHSA-35jh-r3h4-6jhm/affected", officer)
    assert answer.status_code == 200
    found = answer.get_json()
    assert found["vulnerability"]["name"] == "CVE-2021-23337" and found["exposed"]
    assert found["releases"] == {"affected": 0, "under_investigation": 1, "fixed": 0, "not_affected": 0}
    (group,) = [g for g in found["groups"] if g["releases"]]
    assert group["status"] == "under_investigation"
    assert [(r["product"], r["release"], r["confirmed"]) for r in group["releases"]] == [("PLC", "1.0", False)]
    assert group["releases"][0]["decisions"][0]["origin"] == "match"
    # Elsewhere's officer sees Elsewhere's release only.
    theirs = api.call("GET", "/api/v1/vulnerabilities/CVE-2021-23337/affected", api.as_user(STRANGER)).get_json()
    assert [r["product"] for g in theirs["groups"] for r in g["releases"]] == ["Elsewhere"]
    listed = api.call("GET", "/api/v1/vulnerabilities?q=lodash", officer).get_json()
    assert [(i["name"], i["releases"]["under_investigation"]) for i in listed["items"]] == [("CVE-2021-23337", 1)]
    everything = api.call("GET", "/api/v1/vulnerabilities?everything=true&per_page=2", officer).get_json()
    assert (everything["total"], len(everything["items"])) == (5, 2)
    missing = api.call("GET", "/api/v1/vulnerabilities/CVE-1999-0001/affected", officer)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_the_api_refuses_who_may_not_import_and_bad_files_with_nothing_written(
    api: ApiClient, session: Session, plc: Product
) -> None:
    before = decided(session)
    assert upload(api, api.as_user(DEVELOPER), SUPPLIER).status_code == 403
    officer = api.as_user(OFFICER)
    refused = upload(api, officer, KEV)
    assert refused.status_code == 403
    assert "only administrators import OSV" in refused.get_json()["detail"]
    bad = upload(api, api.as_user(ADMIN), "sbom.json", b'{"bomFormat": "CycloneDX", "specVersion": "1.6"}')
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "file"
    assert decided(session) == before
    allowed = upload(api, officer, SUPPLIER)
    assert allowed.status_code == 200 and allowed.get_json()["decisions_proposed"] == 1


def test_a_big_file_is_imported_by_a_job(app: Flask, api: ApiClient, session: Session, plc: Product) -> None:
    settings = app.extensions[SETTINGS_EXTENSION]
    app.extensions[SETTINGS_EXTENSION] = dataclasses.replace(settings, VULN_INLINE_MAX_BYTES=1024)
    admin = api.as_user(ADMIN)
    queued = upload(api, admin, "osv.json", osv_list())
    assert queued.status_code == 202
    job = queued.get_json()
    assert job["kind"] == "vex.import" and queued.headers["Location"] == job["location"]
    again = upload(api, admin, "osv.json", osv_list())
    assert again.get_json()["id"] == job["id"]  # the same file: the same job
    assert decided(session) == 0
    assert run_worker(app_db(app), once=True) == 1
    done = api.call("GET", job["location"], admin).get_json()
    assert done["state"] == "succeeded" and done["result"]["decisions_proposed"] == 6
    assert ImportResultOut.model_validate(done["result"]).undecidable == 1
    assert decided(session) == 6
    session.expire_all()
    assert session.scalar(select(func.count()).where(AuditEvent.action == "vex:feed:queue-import")) == 1
    # An officer's big file must be a supplier's VEX: an OSV file is refused in the request, not in the worker.
    refused = upload(api, api.as_user(OFFICER), "osv.json", osv_list())
    assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(Job).where(Job.state == JobState.QUEUED)) == 0


# --- the pages ---------------------------------------------------------------------------------------------------


def test_the_pages_import_list_and_answer(client: FlaskClient, app: Flask, session: Session, plc: Product) -> None:
    login(client, DEVELOPER)
    assert client.get("/vulnerabilities/import").status_code == 403
    assert "Import a file" not in client.get("/vulnerabilities").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, ADMIN)
    token = csrf_token(client, "/vulnerabilities/import")
    page = client.post(
        "/vulnerabilities/import",
        data={"csrf_token": token, "file": (io.BytesIO(osv_list()), "osv.json")},
        content_type="multipart/form-data",
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "6 proposed" in text and "OSV-2023-162" in text and "GIT range" in text
    refused = client.post(
        "/vulnerabilities/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"[]"), "empty.json")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 200 and "empty JSON list" in refused.get_data(as_text=True)
    listing = client.get("/vulnerabilities").get_data(as_text=True)
    assert "Import a file" in listing and "CVE-2021-44228" in listing and "OSV-2023-162" not in listing
    assert "CVE-2021-44228" in client.get("/vulnerabilities?q=log4j").get_data(as_text=True)
    answer = client.get("/vulnerabilities/GHSA-jfh8-c2jp-5v3q").get_data(as_text=True)
    assert "CVE-2021-44228" in answer and "PLC 1.0" in answer and "matched, unconfirmed" in answer
    assert client.get("/vulnerabilities/CVE-1999-0001").status_code == 404


# --- the command line --------------------------------------------------------------------------------------------


def test_vuln_import_a_file_a_directory_and_the_configured_one(
    app: Flask, session: Session, plc: Product, vuln_dir: Path, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    one = runner.invoke(cli, ["vuln", "import", str(FEEDS / SUPPLIER), "--json"])
    assert one.exit_code == 0, one.output
    assert json.loads(one.output)["decisions_proposed"] == 1
    configured = runner.invoke(cli, ["vuln", "import"])
    assert configured.exit_code == 0, configured.output
    lines = configured.output.splitlines()
    assert lines[0].startswith("kev-trimmed.json (kev, 3 read): 3 vulnerabilities new")
    assert sum(1 for line in lines if not line.startswith(" ")) == 3  # the hidden file and the folder are not read
    # A directory with a bad file: the others are imported, the refusal named, exit 2.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a-bad.json").write_text("[]")
    shutil.copy(FEEDS / "osv-GHSA-w596-4wvx-j9j6.json", mixed / "b-py.json")
    result = runner.invoke(cli, ["vuln", "import", str(mixed), "--json"])
    assert result.exit_code == 2
    data = json.loads(result.output[: result.output.rindex("}") + 1])
    assert [r["file"] for r in data["results"]] == ["b-py.json"] and data["results"][0]["decisions_proposed"] == 2
    assert data["errors"] == [
        {"file": "a-bad.json", "error": "the file is an empty JSON list: no vulnerabilities in it"}
    ]
    assert result.output.endswith("error: a-bad.json: the file is an empty JSON list: no vulnerabilities in it\n")
    single = runner.invoke(cli, ["vuln", "import", str(mixed / "a-bad.json"), "--json"])
    assert (single.exit_code, single.output) == (
        2,
        "error: a-bad.json: the file is an empty JSON list: no vulnerabilities in it\n",
    )
    developer = runner.invoke(cli, ["vuln", "import", str(FEEDS / SUPPLIER), "--as", DEVELOPER])
    assert developer.exit_code == 2
    assert developer.output == "error: only administrators and security officers import vulnerability data\n"
    settings = app.extensions[SETTINGS_EXTENSION]
    app.extensions[SETTINGS_EXTENSION] = dataclasses.replace(settings, VULN_DIR="")
    unset = runner.invoke(cli, ["vuln", "import"])
    assert unset.exit_code == 2 and "SDL_TRACKER_VULN_DIR" in unset.output


def test_vuln_affected_answers_with_its_exit_code(app: Flask, session: Session, plc: Product) -> None:
    run(app, osv_list())
    run(app, feed(KEV))
    runner = app.test_cli_runner()
    exposed = runner.invoke(cli, ["vuln", "affected", "GHSA-jfh8-c2jp-5v3q", "--as", OFFICER])
    assert exposed.exit_code == 1, exposed.output
    assert exposed.output.startswith("CVE-2021-44228 (known exploited since 2021-12-10): ")
    assert "under_investigation  PLC 1.0" in exposed.output
    as_json = runner.invoke(cli, ["vuln", "affected", "CVE-2021-44228", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["known_exploited"] is True
    quiet = runner.invoke(cli, ["vuln", "affected", "CVE-2025-48384"])
    assert quiet.exit_code == 0 and "affected 0, under investigation 0" in quiet.output
    unknown = runner.invoke(cli, ["vuln", "affected", "CVE-1999-0001"])
    assert unknown.exit_code == 2 and unknown.output.strip() == "error: no vulnerability CVE-1999-0001"


# --- who may, and the setting ------------------------------------------------------------------------------------


def test_the_import_predicate_agrees_with_the_service(session: Session, plc: Product) -> None:
    actors: dict[str, Principal] = {
        "operator": OPERATOR,
        "officer": actor(session, OFFICER),
        "developer": actor(session, DEVELOPER),
        "read token": Principal(label="token:r", is_admin=True, scopes=frozenset()),
    }
    allowed = set()
    for name, who in actors.items():
        try:
            authorize_import_vulnerabilities(who)
        except Exception:
            assert not may_import_vulnerabilities(who)
        else:
            assert may_import_vulnerabilities(who)
            allowed.add(name)
    assert allowed == {"operator", "officer"}


def test_vuln_dir_must_be_a_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert str(tmp_path) == load_settings(str(data), {"VULN_DIR": str(tmp_path / "." / "")}, environ={}).VULN_DIR
    assert load_settings(str(data), environ={}).VULN_DIR == ""
    (tmp_path / "file").write_text("x")
    for wrong in (tmp_path / "missing", tmp_path / "file"):
        with pytest.raises(ConfigError, match=r"^VULN_DIR: .* is not a directory$"):
            load_settings(str(data), environ={"SDL_TRACKER_VULN_DIR": str(wrong)})
    with pytest.raises(ConfigError, match="VULN_INLINE_MAX_BYTES"):
        load_settings(str(data), {"VULN_INLINE_MAX_BYTES": -1}, environ={})
