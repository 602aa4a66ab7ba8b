"""SPDX documents through the service and the three doors, on the real database: stored as CycloneDX ones are,
compared with them, refused with nothing stored."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.blobs import Blob
from sdl_tracker.cli import cli
from sdl_tracker.errors import Invalid
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.evidence.services import Upload
from sdl_tracker.products.models import Release
from sdl_tracker.sboms.models import Sbom, SbomComponent, SbomDependency
from sdl_tracker.sboms.services import (
    ComponentQuery,
    DiffSide,
    compare_sboms,
    dependencies_of,
    import_sbom,
    list_components,
    open_original,
)
from tests.factories import OPERATOR, ApiClient, csrf_token, login, make_product, make_release, member
from tests.sboms.builders import SPDX_FIXTURES, changed, dumps, json_bom, spdx_json, spdx_tag_value

pytestmark = pytest.mark.db


@pytest.fixture
def release(session: Session) -> Release:
    return make_release(session, make_product(session, "PLC"), "4.2.0")


def upload(raw: bytes, name: str) -> Upload:
    return Upload(name, "application/octet-stream", io.BytesIO(raw))


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Sbom, SbomComponent, SbomDependency, Blob, Evidence)
    )


@pytest.mark.parametrize("encoding", ["json", "tag-value"])
def test_an_spdx_document_is_kept_byte_for_byte_in_the_same_rows(
    session: Session, release: Release, encoding: str
) -> None:
    raw = dumps(spdx_json()) if encoding == "json" else spdx_tag_value(spdx_json())
    sbom = import_sbom(session, OPERATOR, release.id, upload(raw, "")).sbom
    assert sbom.format_label == f"SPDX 2.3 {'JSON' if encoding == 'json' else 'tag-value'}"
    assert sbom.filename == ("sbom.spdx.json" if encoding == "json" else "sbom.spdx")
    assert (sbom.title, sbom.serial_number, sbom.bom_version) == (
        "plc-firmware 4.2.0",
        "https://example.com/spdx/plc-firmware-4.2.0-3e671687",
        1,
    )
    assert sbom.sha256 == hashlib.sha256(raw).hexdigest() and sbom.is_primary
    _, stream = open_original(session, OPERATOR, sbom.id)
    with stream:
        assert stream.read() == raw
    page = list_components(session, OPERATOR, sbom.id, ComponentQuery(text="lib1"))
    assert page.total == 1 and page.items[0].purl == "pkg:generic/org.example/lib1@1.1.0"
    assert page.items[0].supplier == "Example Corp" and page.items[0].licenses == [{"id": "MIT"}]
    assert (sbom.component_count, sbom.dependency_count) == (4, 5)
    assert dependencies_of(session, OPERATOR, sbom.id)[0] == ("SPDXRef-fw", "SPDXRef-lib0")
    evidence = session.get(Evidence, sbom.evidence_id)
    assert evidence is not None and evidence.current.details["format"] == sbom.format_label
    assert evidence.current.artifacts[0].blob_sha256 == sbom.sha256


def test_a_cyclonedx_release_and_an_spdx_release_of_the_same_firmware_diff_as_one(
    session: Session, release: Release
) -> None:
    """The same components written by two generators: matched by purl, hashes and licences compared across."""
    import_sbom(session, OPERATOR, release.id, upload(dumps(json_bom()), "fw.cdx.json"))
    later = make_release(session, release.product, "4.3.0")
    document = changed(spdx_json(), "packages/4/versionInfo", "1.2.1")  # lib2 upgraded
    document = changed(document, "packages/4/externalRefs/0/referenceLocator", "pkg:generic/org.example/lib2@1.2.1")
    import_sbom(session, OPERATOR, later.id, upload(dumps(document), "fw.spdx.json"))
    comparison = compare_sboms(session, OPERATOR, release.product_id, DiffSide("4.2.0"), DiffSide("4.3.0"))
    found = comparison.diff
    assert (found.added, found.removed, found.downgraded, found.license_changed, found.hash_changed) == (
        (),
        (),
        (),
        (),
        (),
    )
    assert [(c.before.component.version, c.after.component.version) for c in found.upgraded] == [  # type: ignore[union-attr]
        ("1.2.0", "1.2.1")
    ]
    # The CycloneDX document names no suppliers; the SPDX one does.
    assert len(found.supplier_changed) == 3 and found.unchanged == 1  # the nested part, matched by name


def bad_documents() -> list[object]:
    document = spdx_json()
    return [
        pytest.param(b"SPDXVersion: SPDX-2.3\nnot a tag\n", "not valid SPDX-2.3 tag-value", id="tag-value-garbage"),
        pytest.param(
            json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}).encode(),
            "SPDX 3 (JSON-LD) is not supported",
            id="spdx-3",
        ),
        pytest.param(dumps(changed(document, "packages", [])), "lists no packages", id="no-packages"),
        pytest.param(
            dumps(changed(document, "packages/2/SPDXID", "SPDXRef-fw")), "SPDXID is used more than once", id="dup"
        ),
        pytest.param(
            dumps(changed(document, "relationships/1/relatedSpdxElement", "SPDXRef-ghost")),
            "'SPDXRef-ghost' names no package, file or snippet",
            id="unknown-id",
        ),
    ]


@pytest.mark.parametrize(("raw", "reason"), bad_documents())
def test_bad_spdx_is_refused_and_nothing_is_stored(session: Session, release: Release, raw: bytes, reason: str) -> None:
    before = counts(session)
    with pytest.raises(Invalid) as refused:
        import_sbom(session, OPERATOR, release.id, upload(raw, "bad.spdx"))
    assert reason in refused.value.one_line()
    assert counts(session) == before


def test_a_strict_import_refuses_what_the_library_finds(session: Session, release: Release) -> None:
    raw = dumps(changed(spdx_json(), "packages/3/licenseConcluded", "NotALicence"))
    with pytest.raises(Invalid, match="strict"):
        import_sbom(session, OPERATOR, release.id, upload(raw, "fw.spdx.json"), strict=True)
    sbom = import_sbom(session, OPERATOR, release.id, upload(raw, "fw.spdx.json")).sbom
    assert [w["path"] for w in sbom.warnings] == ["SPDXRef-lib1"]


def test_the_api_the_command_line_and_the_page_take_spdx_with_no_new_option(
    app: Flask, api: ApiClient, session: Session, tmp_path: Path
) -> None:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "developer", email="dev@example.com")
    session.commit()
    dev = api.as_user("dev@example.com")
    url = f"/api/v1/releases/{release.id}/sboms"
    created = api.call("POST", url, dev, data={"file": (io.BytesIO(spdx_tag_value(spdx_json())), "fw.spdx")})
    assert created.status_code == 201, created.json
    assert (created.json["format"], created.json["format_label"], created.json["components"]) == (
        "spdx-tag-value",
        "SPDX 2.3 tag-value",
        4,
    )
    bad = api.call("POST", url, dev, data={"file": (io.BytesIO(b"SPDXVersion: SPDX-2.3\nnonsense\n"), "x.spdx")})
    assert bad.status_code == 422 and bad.json["detail"] == "not valid SPDX-2.3 tag-value"

    runner = app.test_cli_runner()
    real = SPDX_FIXTURES / "example11-sbom.spdx.json"
    imported = runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(real)])
    assert imported.exit_code == 0, imported.output
    assert "SPDX 2.3 JSON, 3 components" in imported.output
    garbage = tmp_path / "garbage.spdx"
    garbage.write_bytes(b"SPDXVersion: SPDX-2.3\nnonsense\n")
    refused = runner.invoke(cli, ["sbom", "import", "PLC", "4.2.0", str(garbage)])
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1
    assert refused.output.startswith("error: not valid SPDX-2.3 tag-value")

    page = app.test_client()
    login(page, "dev@example.com")
    path = f"/releases/{release.id}/sboms"
    raw = (SPDX_FIXTURES / "example6-lib.spdx").read_bytes()
    posted = page.post(
        path,
        data={"file": (io.BytesIO(raw), "go-lib.spdx"), "csrf_token": csrf_token(page, path)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "imported: 4 components" in posted.get_data(as_text=True)
    sbom = session.scalars(select(Sbom).where(Sbom.filename == "go-lib.spdx")).one()
    assert "SPDX 2.2 tag-value" in page.get(f"/sboms/{sbom.id}").get_data(as_text=True)
    assert page.get(f"/sboms/{sbom.id}/original").data == raw
    assert session.scalar(select(func.count()).select_from(Sbom)) == 3
