"""SBOMs through the API, the command line and the pages: the same service, each door's error form."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from sdl_tracker.cli import cli
from sdl_tracker.sboms.models import Sbom
from tests.factories import ApiClient, csrf_token, login, make_product, make_release, member
from tests.sboms.builders import SAMPLE, dumps, json_bom, xml_bom

pytestmark = pytest.mark.db


def sbom_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Sbom)) or 0


def test_import_list_show_components_original_primary_and_policy_through_the_api(
    api: ApiClient, session: Session
) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    member(session, product, "security_officer", email="so@example.com")
    session.commit()
    dev, so = api.as_user("dev@example.com"), api.as_user("so@example.com")
    url = f"/api/v1/releases/{release.id}/sboms"
    raw = dumps(json_bom())
    created = api.call("POST", url, dev, data={"file": (io.BytesIO(raw), "fw.cdx.json")})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["created"], body["primary"], body["components"], body["title"]) == (
        True,
        True,
        4,
        "plc-firmware 4.2.0",
    )
    again = api.call("POST", url, dev, data={"file": (io.BytesIO(raw), "again.json")})
    assert again.status_code == 200 and again.json["created"] is False and again.json["id"] == body["id"]
    second = api.call(
        "POST",
        url,
        dev,
        data={"file": (io.BytesIO(xml_bom()), "app.xml"), "metadata": json.dumps({"title": "App", "primary": True})},
    )
    assert second.status_code == 201 and second.json["primary"] is True
    listed = api.call("GET", f"/api/v1/products/{product.id}/sboms?release=4.2.0", dev).json
    assert [(s["title"], s["primary"]) for s in listed["items"]] == [("App", True), ("plc-firmware 4.2.0", False)]
    shown = api.call("GET", f"/api/v1/sboms/{body['id']}", dev).json
    assert shown["subject"]["name"] == "plc-firmware" and shown["dependencies"] == 5
    page = api.call("GET", f"/api/v1/sboms/{body['id']}/components?search=lib2&per_page=1", dev).json
    assert page["total"] == 1 and page["items"][0]["purl"] == "pkg:generic/org.example/lib2@1.2.0"
    edges = api.call("GET", f"/api/v1/sboms/{body['id']}/dependencies", dev).json
    assert edges["total"] == 5 and edges["items"][0] == {"ref": "fw", "depends_on": "lib0"}
    original = api.call("GET", f"/api/v1/sboms/{body['id']}/original", dev)
    assert original.data == raw and original.headers["Content-Disposition"].startswith("attachment")
    assert original.mimetype == "application/json"  # the CycloneDX type is not on the safe list; JSON is
    assert api.call("POST", f"/api/v1/sboms/{body['id']}/primary", dev).json["primary"] is True
    assert api.call("PUT", f"/api/v1/products/{product.id}/sbom-policy", dev, json={"strict": True}).status_code == 403
    policy = api.call("PUT", f"/api/v1/products/{product.id}/sbom-policy", so, json={"strict": True})
    assert policy.json == {"product_id": product.id, "strict": True}
    assert api.call("GET", f"/api/v1/products/{product.id}/sbom-policy", dev).json["strict"] is True


def test_api_errors_are_problem_documents_and_store_nothing(api: ApiClient, session: Session) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    dev = api.as_user("dev@example.com")
    url = f"/api/v1/releases/{release.id}/sboms"
    bom = json_bom()
    bom["components"][0]["type"] = "gadget"
    bad = api.call("POST", url, dev, data={"file": (io.BytesIO(dumps(bom)), "bad.json")})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["detail"] == "not valid CycloneDX 1.6 JSON"
    assert bad.json["errors"][0]["field"] == "file" and bad.json["errors"][0]["message"].startswith(
        "/components/0/type"
    )
    missing = api.call("POST", url, dev, data={})
    assert missing.status_code == 422 and "exactly one `file` part" in missing.json["errors"][0]["message"]
    wrong_option = api.call(
        "POST",
        url,
        dev,
        data={"file": (io.BytesIO(dumps(json_bom())), "ok.json"), "metadata": json.dumps({"primary": "yes"})},
    )
    assert wrong_option.status_code == 422 and wrong_option.json["errors"][0]["field"] == "primary"
    assert sbom_count(session) == 0


def test_cli_import_list_show_components_primary_and_policy(app: Flask, session: Session, tmp_path: Path) -> None:
    product = make_product(session, "PLC")
    make_release(session, product, "4.2.0")
    session.commit()
    runner = app.test_cli_runner()
    imported = runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(SAMPLE), "--title", "Web UI", "--json"])
    assert imported.exit_code == 0, imported.output
    data = json.loads(imported.output)
    assert (data["created"], data["components"], data["spec_version"]) == (True, 1115, "1.4")
    again = runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(SAMPLE)])
    assert again.exit_code == 0 and "already imported, nothing changed" in again.output
    firmware = tmp_path / "fw.xml"
    firmware.write_bytes(xml_bom())
    assert runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(firmware), "--primary"]).exit_code == 0
    listed = json.loads(runner.invoke(cli, ["sbom", "list", "PLC", "--release", "4.2.0", "--json"]).output)
    assert [(s["title"], s["primary"]) for s in listed] == [("plc-firmware 4.2.0", True), ("Web UI", False)]
    shown = runner.invoke(cli, ["sbom", "show", str(data["id"])])
    assert "CycloneDX 1.4 JSON, 1115 components" in shown.output and "cyclonedx-npm" in shown.output
    found = json.loads(
        runner.invoke(cli, ["sbom", "components", str(data["id"]), "--search", "express", "--json"]).output
    )
    assert found and all("express" in (c["name"] + c["group"] + c["version"] + c["purl"]).lower() for c in found)
    assert "now the primary SBOM" in runner.invoke(cli, ["sbom", "primary", str(data["id"])]).output
    assert "strict" in runner.invoke(cli, ["sbom", "policy", "PLC", "--strict"]).output
    assert "lenient" in runner.invoke(cli, ["sbom", "policy", "PLC", "--lenient"]).output


def test_cli_errors_are_one_line_and_exit_2(app: Flask, session: Session, tmp_path: Path) -> None:
    product = make_product(session, "PLC")
    make_release(session, product, "4.2.0")
    session.commit()
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.xml"
    bad.write_bytes(xml_bom().replace(b"<name>zlib</name>", b"<nom>zlib</nom>"))
    result = runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: not valid CycloneDX 1.6 XML")
    assert "/bom/components/component[1]" in lines[0] and "Traceback" not in result.output
    assert runner.invoke(cli, ["sbom", "import", "PLC", "9.9", str(bad)]).exit_code == 2
    assert runner.invoke(cli, ["sbom", "show", "999999"]).exit_code == 2
    assert sbom_count(session) == 0


def test_pages_import_show_search_download_and_form_errors(app: Flask, session: Session) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    member(session, product, "auditor", email="audit@example.com")
    session.commit()
    dev = app.test_client()
    login(dev, "dev@example.com")
    path = f"/releases/{release.id}/sboms"
    bom = json_bom(components=3)
    bom["components"][1]["externalReferences"] = [{"type": "vcs", "url": "git@github.com:example/lib.git"}]
    imported = dev.post(
        path,
        data={"file": (io.BytesIO(dumps(bom)), "fw.json"), "title": "Firmware", "csrf_token": csrf_token(dev, path)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = imported.get_data(as_text=True)
    assert "SBOM “Firmware” imported: 4 components." in page
    assert "Format warnings (1)" in page and "/components/1/externalReferences/0/url" in page
    sbom = session.scalars(select(Sbom)).one()
    searched = dev.get(f"/sboms/{sbom.id}?q=lib2").get_data(as_text=True)
    assert "1 matching" in searched and "pkg:generic/org.example/lib2@1.2.0" in searched
    assert "pkg:generic/org.example/lib1@" not in searched
    download = dev.get(f"/sboms/{sbom.id}/original")
    assert download.headers["Content-Disposition"].startswith('attachment; filename="fw.json"')
    assert "sandbox" in download.headers["Content-Security-Policy"] and download.data == dumps(bom)
    strict = dev.post(
        path,
        data={
            "file": (io.BytesIO(dumps(bom)[:-1] + b" }"), "fw2.json"),
            "strict": "y",
            "csrf_token": csrf_token(dev, path),
        },
        content_type="multipart/form-data",
    )
    assert strict.status_code == 200 and "format violations are refused in strict mode" in strict.get_data(as_text=True)
    empty = dev.post(path, data={"csrf_token": csrf_token(dev, path)}, content_type="multipart/form-data")
    assert "This field is required." in empty.get_data(as_text=True)
    assert sbom_count(session) == 1
    auditor = app.test_client()
    login(auditor, "audit@example.com")
    assert "Import an SBOM" not in auditor.get(path).get_data(as_text=True)
    assert "Firmware" in auditor.get(f"/products/{product.id}/sboms").get_data(as_text=True)


def test_csrf_is_required_on_the_import_form(app: Flask, session: Session, client: FlaskClient) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    login(client, "dev@example.com")
    response = client.post(
        f"/releases/{release.id}/sboms",
        data={"file": (io.BytesIO(dumps(json_bom())), "fw.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and sbom_count(session) == 0


def test_a_two_megabyte_sbom_uploads_through_the_page(app: Flask, session: Session) -> None:
    """Regression: a 64 KiB form-memory limit made Werkzeug refuse every upload larger than its read buffer."""
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    client = app.test_client()
    login(client, "dev@example.com")
    path = f"/releases/{release.id}/sboms"
    # Encoded here: the test client would spool a body this large to a temporary file it never closes.
    upload = FileStorage(io.BytesIO(SAMPLE.read_bytes()), "juice-shop.json")
    boundary, body = encode_multipart({"file": upload, "csrf_token": csrf_token(client, path)})
    response = client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302 and sbom_count(session) == 1


def test_a_pipeline_token_scoped_to_sbom_upload_imports(api: ApiClient, session: Session) -> None:
    """The SBOM's evidence comes with the import: `sbom:upload` is all a pipeline's token needs."""
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="ci@example.com")
    session.commit()
    token = api.as_user("ci@example.com", scopes=["product:read", "sbom:upload"])
    created = api.call(
        "POST", f"/api/v1/releases/{release.id}/sboms", token, data={"file": (io.BytesIO(xml_bom()), "")}
    )
    assert created.status_code == 201, created.json
    assert created.json["filename"] == "sbom.xml" and created.json["evidence_id"] is not None
    metadata = json.dumps({"kind": "other", "title": "Not an SBOM", "requirements": ["SR-2"]})
    evidence = api.call("POST", f"/api/v1/products/{product.id}/evidence", token, data={"metadata": metadata})
    assert evidence.status_code == 403  # the token still cannot attach other evidence
