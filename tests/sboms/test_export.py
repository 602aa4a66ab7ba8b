"""A release's BOM exported as CycloneDX 1.6: valid, deterministic, versioned by content, and the same
components when imported again."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.app_access import app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.blobs import session_blobs
from sdl_tracker.cli import cli
from sdl_tracker.evidence.services import Upload
from sdl_tracker.sboms.exports import export_bom
from sdl_tracker.sboms.models import SbomComponent, SbomExport
from sdl_tracker.sboms.services import import_sbom, set_primary
from sdl_tracker.sboms.validation import SbomFormat, check
from sdl_tracker.sboms.writer import SERIAL_NAMESPACE
from tests.factories import OPERATOR, ApiClient, make_product, make_release, member, statements
from tests.sboms.builders import dumps, json_bom, xml_bom

pytestmark = pytest.mark.db

COLUMNS = ("type", "group_name", "name", "version", "purl", "cpe", "scope", "supplier", "hashes", "licenses")


def rows(session: Session, sbom_id: int) -> list[tuple[Any, ...]]:
    """An SBOM's components as the comparison needs them: fields and the parent's name, in document order."""
    found = session.scalars(
        select(SbomComponent).where(SbomComponent.sbom_id == sbom_id).order_by(SbomComponent.position)
    )
    components = list(found)
    names = {c.position: c.name for c in components}
    return [
        (*(getattr(c, column) for column in COLUMNS), names.get(c.parent_position))
        for c in components  # type: ignore[arg-type]
    ]


@pytest.fixture
def release(session: Session) -> Any:
    product = make_product(session, "PLC")
    release = make_release(session, product, "4.2.0")
    member(session, product, "auditor", email="auditor@example.com")
    bom = json_bom(components=4)
    bom["components"][1]["supplier"] = {"name": "Example GmbH"}
    bom["components"][2].pop("bom-ref")  # a component without a bom-ref still gets one in the export
    bom["dependencies"] = [
        {"ref": d["ref"], "dependsOn": [r for r in d["dependsOn"] if r != "lib2"]}
        for d in bom["dependencies"]
        if d["ref"] not in ("lib1", "lib2")
    ]
    import_sbom(session, OPERATOR, release.id, Upload("fw.json", "", io.BytesIO(dumps(bom))), primary=True)
    session.commit()
    return release


def test_the_export_is_valid_deterministic_and_imports_back_as_the_same_components(
    app: Flask, session: Session, release: Any
) -> None:
    database = app_db(app)
    first = export_bom(database, OPERATOR, release.id, SbomFormat.JSON)
    again = export_bom(database, OPERATOR, release.id, SbomFormat.JSON)
    assert first.data == again.data and first.version == again.version == 1
    assert check(first.data).warnings == [] and check(first.data).spec_version == "1.6"
    document = json.loads(first.data)
    assert document["serialNumber"] == first.serial_number and document["version"] == 1
    assert uuid.UUID(first.serial_number.removeprefix("urn:uuid:")).version == 5
    assert "timestamp" not in document["metadata"]
    assert document["metadata"]["component"] == {
        "type": "firmware",
        "bom-ref": "fw",
        "name": "plc-firmware",
        "version": "4.2.0",
    }
    lib0 = document["components"][0]
    assert [c["name"] for c in lib0["components"]] == ["lib0-part.bin"]  # nesting kept in place
    assert document["components"][2]["bom-ref"] == "component-3"  # lib2, position 3 (after lib0's part)
    # The same content as XML: the same serial and version, valid 1.6 XML.
    xml = export_bom(database, OPERATOR, release.id, SbomFormat.XML)
    assert (xml.serial_number, xml.version) == (first.serial_number, 1)
    assert check(xml.data).format is SbomFormat.XML and check(xml.data).warnings == []
    root = etree.fromstring(xml.data)
    assert root.get("serialNumber") == first.serial_number and root.get("version") == "1"
    # Imported back (JSON and XML), the components are what the release's SBOM had.
    original = rows(session, first.sbom_id)
    for index, export in enumerate((first, xml)):
        back = import_sbom(
            session, OPERATOR, release.id, Upload(f"back.{index}", "", io.BytesIO(export.data)), title=f"back {index}"
        ).sbom
        assert rows(session, back.id) == original
    assert session.scalar(select(func.count()).where(AuditEvent.action == "sboms:export:version")) == 1


def test_a_content_exported_before_is_served_from_its_kept_bytes_and_written_again_when_they_are_damaged(
    app: Flask, session: Session, release: Any
) -> None:
    database = app_db(app)
    first = export_bom(database, OPERATOR, release.id, SbomFormat.XML)
    session.expire_all()
    row = session.scalars(select(SbomExport)).one()
    assert row.xml_sha256 == hashlib.sha256(first.data).hexdigest() and row.json_sha256 is None
    with statements(app) as seen:
        assert export_bom(database, OPERATOR, release.id, SbomFormat.XML).data == first.data
    assert not any("sbom_component" in statement for statement in seen)  # served unread from the kept bytes
    kept = session_blobs(session).path_for(row.xml_sha256)
    kept.chmod(0o644)
    kept.write_bytes(b"damaged")
    again = export_bom(database, OPERATOR, release.id, SbomFormat.XML)
    assert again.data == first.data  # written and validated again; `blobs verify` reports the damaged file


def test_the_version_rises_when_the_content_changes_and_the_same_content_keeps_its_own(
    app: Flask, session: Session, release: Any
) -> None:
    database = app_db(app)
    first = export_bom(database, OPERATOR, release.id, SbomFormat.JSON)
    other = import_sbom(session, OPERATOR, release.id, Upload("hmi.xml", "", io.BytesIO(xml_bom()))).sbom
    session.commit()
    # A chosen SBOM of the release is exported without changing its primary one.
    chosen = export_bom(database, OPERATOR, release.id, SbomFormat.JSON, sbom_id=other.id)
    assert chosen.version == 2 and chosen.serial_number != first.serial_number
    set_primary(session, OPERATOR, other.id)
    session.commit()
    assert export_bom(database, OPERATOR, release.id, SbomFormat.XML).version == 2
    set_primary(session, OPERATOR, first.sbom_id)
    session.commit()
    back = export_bom(database, OPERATOR, release.id, SbomFormat.JSON)
    assert (back.version, back.serial_number, back.data) == (1, first.serial_number, first.data)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "sboms:export:version")).all()
    assert [e.details["version"] for e in events] == [1, 2]
    expected = uuid.uuid5(SERIAL_NAMESPACE, f"{release.id}:{events[0].details['content_sha256']}")
    assert first.serial_number == f"urn:uuid:{expected}"


def test_the_doors_serve_it_as_an_attachment_and_refuse_what_they_cannot_export(
    app: Flask, session: Session, api: ApiClient, release: Any, tmp_path: Any
) -> None:
    token = api.as_user("auditor@example.com")  # whoever reads the release may export it
    answer = api.call("GET", f"/api/v1/releases/{release.id}/sbom-export?format=xml", token)
    assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("attachment;")
    assert answer.headers["X-BOM-Version"] == "1" and answer.headers["X-BOM-Serial-Number"].startswith("urn:uuid:")
    assert check(answer.data).format is SbomFormat.XML
    wrong = api.call("GET", f"/api/v1/releases/{release.id}/sbom-export?format=yaml", token)
    assert wrong.status_code == 422 and wrong.content_type == "application/problem+json"
    elsewhere = api.call("GET", f"/api/v1/releases/{release.id}/sbom-export?sbom=999999", token)
    assert elsewhere.status_code == 404
    empty = make_release(session, release.product, "5.0.0")
    session.commit()
    none = api.call("GET", f"/api/v1/releases/{empty.id}/sbom-export", token)
    assert none.status_code == 422 and "no primary SBOM" in none.get_json()["detail"] + json.dumps(none.get_json())
    runner = app.test_cli_runner()
    target = tmp_path / "bom.json"
    written = runner.invoke(cli, ["sbom", "export", "PLC", "4.2.0", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert json.loads(target.read_bytes())["version"] == 1 and "version 1" in written.output
    printed = runner.invoke(cli, ["sbom", "export", "PLC", "4.2.0", "--format", "xml"])
    assert printed.exit_code == 0 and printed.output.startswith("<?xml")
    refused = runner.invoke(cli, ["sbom", "export", "PLC", "5.0.0"])
    assert refused.exit_code != 0 and "no primary SBOM" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
