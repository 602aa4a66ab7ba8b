"""Evidence through pages, API and CLI, with real files; downloads that can never render inline."""

from __future__ import annotations

import io
import json
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.blobs import session_blobs
from sdl_tracker.cli import cli
from sdl_tracker.evidence.models import Evidence, ReviewState
from tests.factories import ApiClient, csrf_token, login, make_product, make_release, member


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, list(args))


def test_attach_review_and_download_through_the_pages(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    dev = app.test_client()
    login(dev, "dev@example.com")
    path = f"/products/{product.id}/evidence/new"
    data = {
        "kind": "threat-model",
        "title": "STRIDE model",
        "requirements": "SR-2, SR-3",
        "releases": ["4.2.0"],
        "effective_date": "2026-11-01",
        "description": "## Scope\n<script>x()</script>",
        "files": [(io.BytesIO(b"<html><script>alert(1)</script></html>"), "model.html")],
        "details-threats_total": "3",
        "csrf_token": csrf_token(dev, path),
    }
    created = dev.post(path, data=data, content_type="multipart/form-data", follow_redirects=True)
    page = created.get_data(as_text=True)
    assert "Evidence “STRIDE model” attached." in page and "<h2>Scope</h2>" in page and "<script>x()" not in page
    evidence = session.scalars(select(Evidence)).one()
    artifact = evidence.current.artifacts[0]
    download = dev.get(f"/artifacts/{artifact.id}")
    assert download.headers["Content-Disposition"].startswith('attachment; filename="model.html"')
    assert download.mimetype == "application/octet-stream"  # HTML is never served as HTML
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.data == b"<html><script>alert(1)</script></html>"
    assert "Record review" not in page  # developers do not review
    officer = app.test_client()
    login(officer, "so@example.com")
    detail = f"/evidence/{evidence.id}"
    reviewed = officer.post(
        f"{detail}/review",
        data={"decision": "accept", "csrf_token": csrf_token(officer, detail)},
        follow_redirects=True,
    )
    assert "Revision 1 accepted." in reviewed.get_data(as_text=True)
    session.refresh(evidence.current)
    assert evidence.current.state is ReviewState.ACCEPTED


def test_page_form_errors(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    path = f"/products/{product.id}/evidence/new"
    base = {
        "kind": "threat-model",
        "title": "T",
        "requirements": "SR-2",
        "effective_date": "2026-11-01",
        "details-threats_total": "3",
    }
    for changes, message in (
        ({"requirements": "SR-99"}, "unknown requirement &#39;SR-99&#39;"),
        ({"effective_date": "2099-01-01"}, "is in the future"),
        ({}, "attach at least one file"),
        ({"files": [(io.BytesIO(b""), "empty.txt")]}, "the file is empty"),
    ):
        response = client.post(
            path, data={**base, **changes, "csrf_token": csrf_token(client, path)}, content_type="multipart/form-data"
        )
        assert response.status_code == 200 and message in response.get_data(as_text=True), message
    assert session.scalar(select(Evidence)) is None


def test_oversize_upload_is_413(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    app.config["MAX_CONTENT_LENGTH"] = 2048
    path = f"/products/{product.id}/evidence/new"
    response = client.post(
        path,
        data={
            "kind": "other",
            "title": "T",
            "requirements": "SR-2",
            "csrf_token": csrf_token(client, path),
            "files": [(io.BytesIO(b"x" * 4096), "big.bin")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "larger than this server accepts" in response.get_data(as_text=True)


def test_evidence_through_the_api(api: ApiClient, session: Session) -> None:
    product = make_product(session, "P")
    member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    dev, so = api.as_user("dev@example.com"), api.as_user("so@example.com")
    path = f"/api/v1/products/{product.id}/evidence"
    meta = {
        "kind": "fuzz-campaign",
        "title": "Modbus fuzzing",
        "requirements": ["SVV-3"],
        "effective_date": "2026-10-30",
        "details": {"target_interface": "eth0", "protocol": "Modbus TCP", "tool": "boofuzz", "duration_hours": 72},
    }
    files = [(io.BytesIO(b"crashes: 0"), "report.txt"), (io.BytesIO(b"{}"), "stats.json")]
    created = api.call(
        "POST", path, dev, data={"metadata": json.dumps(meta), "file": files}, content_type="multipart/form-data"
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert [a["filename"] for a in body["current"]["artifacts"]] == ["report.txt", "stats.json"]
    evidence_id = body["id"]
    bad = api.call(
        "POST",
        path,
        dev,
        data={"metadata": json.dumps({**meta, "requirements": ["SVV-9"]}), "file": [(io.BytesIO(b"x"), "x.txt")]},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "requirements"
    no_meta = api.call(
        "POST", path, dev, data={"file": [(io.BytesIO(b"x"), "x.txt")]}, content_type="multipart/form-data"
    )
    assert no_meta.status_code == 422 and no_meta.get_json()["errors"][0]["field"] == "metadata"
    revised = api.call(
        "POST",
        f"/api/v1/evidence/{evidence_id}/revisions",
        dev,
        data={"metadata": json.dumps({"title": "Modbus fuzzing, 72 h"})},
        content_type="multipart/form-data",
    )
    assert revised.status_code == 201 and len(revised.get_json()["revisions"]) == 2
    own = api.call("POST", f"/api/v1/evidence/{evidence_id}/review", dev, json={"decision": "accept"})
    assert own.status_code == 403
    accepted = api.call("POST", f"/api/v1/evidence/{evidence_id}/review", so, json={"decision": "accept"})
    assert accepted.get_json()["current"]["state"] == "accepted"
    listed = api.call("GET", path, dev).get_json()
    assert listed["total"] == 1 and listed["items"][0]["current"]["title"] == "Modbus fuzzing, 72 h"
    artifact_id = body["current"]["artifacts"][0]["id"]
    download = api.call("GET", f"/api/v1/artifacts/{artifact_id}", dev)
    assert download.data == b"crashes: 0" and download.headers["Content-Disposition"].startswith("attachment")


def test_evidence_cli(app: Flask, session: Session, tmp_path: Path) -> None:
    product = make_product(session, "P")
    make_release(session, product, "1.0")
    member(session, product, "security_officer", email="so@example.com")
    report = tmp_path / "pentest report.pdf"
    report.write_bytes(b"%PDF-1.7 findings")
    added = run(
        app,
        "evidence",
        "add",
        "P",
        "--kind",
        "penetration-test",
        "--title",
        "External pentest",
        "--requirement",
        "SVV-4",
        "--requirement",
        "SVV-5",
        "--release",
        "1.0",
        "--file",
        str(report),
        "--effective-date",
        "2026-09-15",
        "--detail",
        "tool=Acme Security",
        "--detail",
        "findings.high=2",
    )
    assert added.exit_code == 0, added.output
    evidence_id = int(added.output.strip())
    shown = json.loads(run(app, "evidence", "show", str(evidence_id), "--json").output)
    assert shown["current"]["artifacts"][0]["filename"] == "pentest report.pdf"
    assert [r["id"] for r in shown["current"]["requirements"]] == ["SVV-4", "SVV-5"]
    listed = json.loads(run(app, "evidence", "list", "P", "--release", "1.0", "--json").output)
    assert [e["id"] for e in listed] == [evidence_id]
    assert run(app, "evidence", "review", str(evidence_id), "reject").exit_code == 2
    rejected = run(
        app, "evidence", "review", str(evidence_id), "reject", "--reason", "No retest", "--as", "so@example.com"
    )
    assert rejected.output.strip() == f"evidence {evidence_id} revision 1: rejected"
    for args, fragment in (
        (["--requirement", "SVV-9"], "unknown requirement 'SVV-9'"),
        (["--requirement", "SVV-4", "--effective-date", "2099-01-01"], "in the future"),
        (["--requirement", "SVV-4", "--release", "7.7"], "has no release '7.7'"),
    ):
        result = run(app, "evidence", "add", "P", "--kind", "other", "--title", "x", "--file", str(report), *args)
        assert result.exit_code == 2 and fragment in result.output, result.output
    assert (
        run(
            app, "evidence", "add", "--kind", "other", "--title", "x", "--requirement", "SM-1", "--file", str(report)
        ).exit_code
        == 2
    )


def test_blobs_verify_finds_a_damaged_file(app: Flask, session: Session) -> None:
    product = make_product(session, "P")
    report_path = Path(app.instance_path) / "unused"
    _ = report_path
    from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
    from tests.factories import OPERATOR

    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="other",
        data=EvidenceInput(
            title="x", requirements=["SM-1"], files=[Upload("a.txt", "text/plain", io.BytesIO(b"original evidence"))]
        ),
    )
    session.commit()
    assert run(app, "blobs", "verify").exit_code == 0
    sha = evidence.current.artifacts[0].blob_sha256
    path = session_blobs(session).path_for(sha)
    original = path.read_bytes()
    try:
        path.write_bytes(b"tampered evidence")
        result = run(app, "blobs", "verify")
        assert result.exit_code == 1 and f"corrupt {sha}" in result.output
        client = app.test_client()
        from tests.factories import make_user

        make_user(session, "admin@example.com", admin=True)
        session.commit()
        login(client, "admin@example.com")
        assert client.get(f"/artifacts/{evidence.current.artifacts[0].id}").status_code == 500  # never served damaged
        path.unlink()
        missing = run(app, "blobs", "verify")
        assert missing.exit_code == 1 and f"missing {sha}" in missing.output
    finally:
        path.write_bytes(original)
