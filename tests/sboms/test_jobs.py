"""Big SBOM imports run as jobs, staged invisibly and published in one transaction; failures leave nothing."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.app_access import SETTINGS_EXTENSION, app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.cli import cli
from sdl_tracker.evidence.services import Upload
from sdl_tracker.jobs.models import Job, JobState
from sdl_tracker.jobs.registry import JobContext
from sdl_tracker.jobs.services import claim
from sdl_tracker.jobs.worker import run_worker
from sdl_tracker.sboms import importer
from sdl_tracker.sboms.importer import ImportRequest, submit_sbom
from sdl_tracker.sboms.models import Sbom, SbomComponent, SbomDependency
from sdl_tracker.sboms.services import list_sboms
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member
from tests.sboms.builders import dumps, json_bom


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def actions(session: Session, action: str) -> int:
    return count(session, AuditEvent, AuditEvent.action == action)


@pytest.fixture
def small_limit(app: Flask) -> None:
    """Every upload over 1 KiB is big."""
    settings = app.extensions[SETTINGS_EXTENSION]
    app.extensions[SETTINGS_EXTENSION] = dataclasses.replace(settings, SBOM_INLINE_MAX_BYTES=1024)


def test_a_big_upload_is_queued_then_published_once(
    app: Flask, api: ApiClient, session: Session, small_limit: None
) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    token = api.as_user("dev@example.com")
    document = dumps(json_bom(components=300))
    parts = {"file": (io.BytesIO(document), "big.json")}
    queued = api.call("POST", f"/api/v1/releases/{release.id}/sboms", token, data=parts)
    assert queued.status_code == 202, queued.get_data(as_text=True)
    job = queued.get_json()
    assert queued.headers["Location"] == job["location"] and job["kind"] == "sboms.import"
    again = api.call("POST", f"/api/v1/releases/{release.id}/sboms", token, data={"file": (io.BytesIO(document), "b")})
    assert again.status_code == 202 and again.get_json()["id"] == job["id"]  # the same bytes: the same job
    assert api.call("GET", f"/api/v1/products/{product.id}/sboms", token).get_json()["total"] == 0
    assert run_worker(app_db(app), once=True) == 1
    done = api.call("GET", job["location"], token).get_json()
    assert done["state"] == "succeeded" and done["progress"]["done"] == done["progress"]["total"] > 300
    listed = api.call("GET", f"/api/v1/products/{product.id}/sboms", token).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == done["result"]["sbom_id"]
    assert listed["items"][0]["components"] == 301 and listed["items"][0]["evidence_id"] is not None
    assert count(session, SbomComponent) == 301
    assert (actions(session, "sbom:document:queue-import"), actions(session, "sbom:document:import")) == (1, 1)


def test_a_small_upload_is_imported_at_once(app: Flask, api: ApiClient, session: Session) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    answer = api.call(
        "POST",
        f"/api/v1/releases/{release.id}/sboms",
        api.as_user("dev@example.com"),
        data={"file": (io.BytesIO(dumps(json_bom())), "small.json")},
    )
    assert answer.status_code == 201 and answer.get_json()["components"] == 4
    assert count(session, Job) == 0


def test_a_refused_big_document_fails_its_job_and_leaves_nothing(
    app: Flask, session: Session, small_limit: None
) -> None:
    release = make_release(session, make_product(session, "PLC"), "4.2.0")
    session.commit()
    bad = json_bom(components=100)
    bad["components"][5]["type"] = "gadget"
    submitted = submit_sbom(
        app_db(app), OPERATOR, release.id, Upload("bad.json", "", io.BytesIO(dumps(bad))), inline_max_bytes=1024
    )
    assert submitted.job is not None
    run_worker(app_db(app), once=True)
    session.expire_all()
    job = session.get(Job, submitted.job.id)
    assert job is not None and (job.state, job.attempts) == (JobState.FAILED, 1)
    assert "/components/5/type" in job.error and job.idempotency_key is None
    assert (count(session, Sbom), count(session, SbomComponent)) == (0, 0)


def test_a_failure_after_staging_removes_the_staged_rows_and_the_retry_publishes(
    app: Flask, session: Session, small_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = make_release(session, make_product(session, "PLC"), "4.2.0")
    session.commit()
    real_publish = importer._publish
    seen: list[tuple[int, int, int]] = []

    def publish_fails_once(s: Session, *args: Any) -> dict[str, Any]:
        # Staged: the rows exist, yet no query shows the SBOM.
        seen.append((count(s, Sbom), count(s, SbomComponent), len(list_sboms(s, OPERATOR, release.product_id))))
        if len(seen) == 1:
            raise RuntimeError("disk full")
        return real_publish(s, *args)

    monkeypatch.setattr(importer, "_publish", publish_fails_once)
    document = dumps(json_bom(components=2500))  # more than one staging batch
    submit_sbom(app_db(app), OPERATOR, release.id, Upload("big.json", "", io.BytesIO(document)), inline_max_bytes=1024)
    assert run_worker(app_db(app), once=True) == 2  # failed once, retried
    assert seen == [(1, 2501, 0), (1, 2501, 0)]  # the first attempt's rows were removed before the second's
    session.expire_all()
    assert count(session, Sbom) == 1 and count(session, SbomComponent) == 2501
    assert count(session, SbomDependency) == session.scalars(select(Sbom.dependency_count)).one()
    assert actions(session, "sbom:document:import") == 1


def test_rows_a_dead_worker_staged_are_removed_before_the_retry(
    app: Flask, session: Session, small_limit: None
) -> None:
    release = make_release(session, make_product(session, "PLC"), "4.2.0")
    session.commit()
    document = dumps(json_bom(components=50))
    database = app_db(app)
    submitted = submit_sbom(
        database, OPERATOR, release.id, Upload("big.json", "", io.BytesIO(document)), inline_max_bytes=1024
    )
    assert submitted.job is not None
    with database.unit_of_work() as s:
        claimed = claim(s, "dead", lease_seconds=-1)  # its lease has already run out
        assert claimed is not None
        arguments = dict(claimed.arguments)
    # The dead worker got as far as staging every row, then vanished.
    dead = JobContext(database, submitted.job.id, "dead", importer.SBOM_IMPORT_KIND, arguments, 1)
    request = ImportRequest(**arguments)
    from sdl_tracker.sboms import document as reader
    from sdl_tracker.sboms.validation import check

    content = reader.read(check(document))
    staged = importer._stage(dead, OPERATOR, request, content, False, submitted.job.id)
    importer._stage_rows(dead, staged, content)
    assert count(session, SbomComponent) == 51 and list_sboms(session, OPERATOR, release.product_id) == []
    assert run_worker(database, once=True) == 1
    session.expire_all()
    job = session.get(Job, submitted.job.id)
    assert job is not None and (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
    assert count(session, Sbom) == 1 and count(session, SbomComponent) == 51
    assert session.scalar(select(Sbom.id)) == (job.result or {})["sbom_id"]


def test_the_page_and_the_command_queue_big_uploads(
    app: Flask, session: Session, small_limit: None, tmp_path: Path
) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    browser = app.test_client()
    login(browser, "dev@example.com")
    path = f"/releases/{release.id}/sboms"
    posted = browser.post(
        path,
        data={"file": (io.BytesIO(dumps(json_bom(components=50))), "fw.json"), "csrf_token": csrf_token(browser, path)},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 302 and "/jobs/" in posted.headers["Location"]
    assert "imported by a job" in browser.get(posted.headers["Location"]).get_data(as_text=True)
    big = tmp_path / "big.json"
    big.write_bytes(dumps(json_bom(components=60)))
    runner = app.test_cli_runner()
    queued = runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(big)])
    assert queued.exit_code == 0 and queued.output.startswith("queued job ")
    waited = runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(big), "--wait", "--json"])
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.output)["state"] == "succeeded"  # the same bytes: the same job, run here
    assert count(session, Sbom) == 1 and count(session, SbomComponent) == 61
