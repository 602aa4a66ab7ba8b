"""SBOM import through the service, on the real database and blob store: what is kept, what is refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.blobs import Blob, session_blobs
from sdl_tracker.errors import Forbidden, Invalid, NotFound
from sdl_tracker.evidence.models import Evidence, EvidenceKind
from sdl_tracker.evidence.services import Upload
from sdl_tracker.products.models import Release
from sdl_tracker.sboms.models import Sbom, SbomComponent, SbomDependency
from sdl_tracker.sboms.services import (
    ComponentQuery,
    dependencies_of,
    import_sbom,
    list_components,
    list_sboms,
    open_original,
    set_policy,
    set_primary,
)
from tests.factories import OPERATOR, make_product, make_release, member
from tests.sboms.builders import FIXTURES, SAMPLE, changed, dumps, json_bom, xml_bom

pytestmark = pytest.mark.db


@pytest.fixture
def release(session: Session) -> Release:
    product = make_product(session, "PLC")
    return make_release(session, product, "4.2.0")


def upload(raw: bytes, name: str = "sbom.json") -> Upload:
    return Upload(name, "application/json", io.BytesIO(raw))


def counts(session: Session) -> tuple[int, int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Sbom, SbomComponent, SbomDependency, Blob, Evidence)
    )


def test_real_sample_is_kept_byte_for_byte_with_its_components_and_evidence(session: Session, release: Release) -> None:
    raw = SAMPLE.read_bytes()
    result = import_sbom(session, OPERATOR, release.id, upload(raw, "juice-shop.cdx.json"))
    sbom = result.sbom
    assert result.created and sbom.is_primary
    assert (sbom.format.value, sbom.spec_version, sbom.warnings) == ("json", "1.4", [])
    assert sbom.sha256 == hashlib.sha256(raw).hexdigest()
    _, stream = open_original(session, OPERATOR, sbom.id)
    with stream:
        assert stream.read() == raw
    # 837 top-level components and 278 nested ones, in document order.
    assert sbom.component_count == 1115 == session.scalar(select(func.count()).where(SbomComponent.sbom_id == sbom.id))
    assert (
        session.scalar(
            select(func.count()).where(SbomComponent.sbom_id == sbom.id, SbomComponent.parent_position.is_(None))
        )
        == 837
    )
    assert sbom.subject == {
        "bom_ref": "juice-shop@14.1.1",
        "type": "application",
        "group": "",
        "name": "juice-shop",
        "version": "14.1.1",
        "purl": "pkg:npm/juice-shop@14.1.1?vcs_url=git%2Bhttps%3A//github.com/juice-shop/juice-shop.git",
    }
    assert [t["name"] for t in sbom.tools] == ["cyclonedx-library", "cyclonedx-npm"]
    page = list_components(session, OPERATOR, sbom.id, ComponentQuery(text="helper-string-parser"))
    assert page.total == 1
    component = page.items[0]
    assert (component.group_name, component.version, component.licenses) == ("@babel", "7.19.4", [{"id": "MIT"}])
    assert component.hashes[0]["alg"] == "SHA-512"
    assert len(dependencies_of(session, OPERATOR, sbom.id)) == sbom.dependency_count == 1775
    evidence = session.get(Evidence, sbom.evidence_id)
    assert evidence is not None and evidence.kind is EvidenceKind.SBOM
    assert sorted(r.ref for r in evidence.current.requirements) == ["II.1", "SM-10", "SM-9"]
    assert [r.version for r in evidence.current.releases] == ["4.2.0"]
    assert evidence.current.artifacts[0].blob_sha256 == sbom.sha256
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "sbom")).all() == [
        "sbom:document:import"
    ]


def test_identical_bytes_again_are_a_no_op(session: Session, release: Release) -> None:
    raw = dumps(json_bom())
    first = import_sbom(session, OPERATOR, release.id, upload(raw))
    before = counts(session)
    again = import_sbom(session, OPERATOR, release.id, upload(raw, "renamed.json"))
    assert not again.created and again.sbom.id == first.sbom.id
    assert counts(session) == before


def test_a_title_taken_from_the_document_is_one_line(session: Session, release: Release) -> None:
    # The subject's name is foreign text; the SBOM's and its evidence's titles are single lines.
    raw = dumps(changed(json_bom(), "metadata/component/name", "evil\x1b]0;owned\x07\r\nline\u2028two"))
    sbom = import_sbom(session, OPERATOR, release.id, upload(raw)).sbom
    assert sbom.title == "evil ]0;owned line two 4.2.0"
    titles = session.scalars(select(Evidence).where(Evidence.kind == EvidenceKind.SBOM)).one().current.title
    assert titles == f"SBOM: {sbom.title}"


def test_several_sboms_per_release_one_primary(session: Session, release: Release) -> None:
    firmware = import_sbom(session, OPERATOR, release.id, upload(dumps(json_bom())), title="Firmware").sbom
    app = import_sbom(session, OPERATOR, release.id, upload(xml_bom(), "app.xml"), title="Application").sbom
    assert (firmware.is_primary, app.is_primary) == (True, False)
    set_primary(session, OPERATOR, app.id)
    session.refresh(firmware)
    assert (firmware.is_primary, app.is_primary) == (False, True)
    newest = import_sbom(session, OPERATOR, release.id, upload(dumps(json_bom(components=5))), primary=True).sbom
    assert [s.id for s in list_sboms(session, OPERATOR, release.product_id) if s.is_primary] == [newest.id]
    assert list_sboms(session, OPERATOR, release.product_id, release.id)[0].title == newest.title


def test_xml_import_reads_nesting_licenses_suppliers_and_nested_dependencies(
    session: Session, release: Release
) -> None:
    sbom = import_sbom(session, OPERATOR, release.id, upload(xml_bom("1.4"), "fw.xml")).sbom
    assert (sbom.format.value, sbom.spec_version, sbom.bom_version) == ("xml", "1.4", 2)
    assert sbom.generated_at is not None and sbom.generated_at.isoformat() == "2026-10-01T12:00:00+00:00"
    rows = list_components(session, OPERATOR, sbom.id, ComponentQuery()).items
    assert [(c.name, c.position, c.parent_position) for c in rows] == [
        ("zlib", 0, None),
        ("zlib.h", 1, 0),
        ("openssl", 2, None),
    ]
    zlib = rows[0]
    assert (zlib.supplier, zlib.group_name, zlib.licenses) == ("zlib project", "net.zlib", [{"id": "Zlib"}])
    assert zlib.cpe.startswith("cpe:2.3:a:zlib") and zlib.hashes == [{"alg": "SHA-256", "content": "a" * 64}]
    assert rows[2].licenses == [{"expression": "Apache-2.0"}]
    assert sorted(dependencies_of(session, OPERATOR, sbom.id)) == [
        ("fw", "openssl"),
        ("fw", "zlib"),
        ("openssl", "zlib"),
    ]


def test_component_search_and_type_filter_page_in_the_database(session: Session, release: Release) -> None:
    sbom = import_sbom(session, OPERATOR, release.id, upload(dumps(json_bom(components=30)))).sbom
    page = list_components(session, OPERATOR, sbom.id, ComponentQuery(text="LIB1", per_page=5))
    assert page.total == 11 and [c.name for c in page.items] == ["lib1", "lib10", "lib11", "lib12", "lib13"]
    files = list_components(session, OPERATOR, sbom.id, ComponentQuery(type="file"))
    assert [c.name for c in files.items] == ["lib0-part.bin"] and files.types == ["file", "library"]
    # LIKE wildcards in the query are literal.
    assert list_components(session, OPERATOR, sbom.id, ComponentQuery(text="lib_")).total == 0


SCP_URL = "git@github.com:example/lib.git"


def with_scp_url() -> bytes:
    bom = json_bom()
    bom["components"][1]["externalReferences"] = [{"type": "vcs", "url": SCP_URL}]
    return dumps(bom)


def test_format_only_violations_import_with_warnings_unless_strict(session: Session, release: Release) -> None:
    before = counts(session)
    with pytest.raises(Invalid) as refused:
        import_sbom(session, OPERATOR, release.id, upload(with_scp_url()), strict=True)
    assert "strict" in refused.value.message
    assert refused.value.errors[0].field == "file"
    assert "/components/1/externalReferences/0/url" in refused.value.errors[0].message
    assert counts(session) == before
    sbom = import_sbom(session, OPERATOR, release.id, upload(with_scp_url())).sbom
    assert len(sbom.warnings) == 1 and sbom.warnings[0]["path"] == "/components/1/externalReferences/0/url"
    assert SCP_URL in sbom.warnings[0]["message"] and not sbom.strict


def test_product_policy_makes_every_import_strict(session: Session, release: Release) -> None:
    set_policy(session, OPERATOR, release.product_id, strict=True)
    with pytest.raises(Invalid, match="strict"):
        import_sbom(session, OPERATOR, release.id, upload(with_scp_url()))
    assert import_sbom(session, OPERATOR, release.id, upload(dumps(json_bom()))).sbom.strict
    assert "sbom:policy:update" in session.scalars(select(AuditEvent.action)).all()


def bad_documents() -> Iterator[Any]:
    bom = json_bom()
    yield pytest.param(b"{not json", "not valid JSON", id="malformed-json")
    yield pytest.param(b'{"bomFormat": "CycloneDX", "specVersion": NaN}', "not valid JSON", id="nan")
    yield pytest.param(b"[" * 100_000 + b"]" * 100_000, "", id="deeply-nested")
    yield pytest.param(b"<bom", "not well-formed XML", id="malformed-xml")
    yield pytest.param(dumps(changed(bom, "bomFormat", "SPDX")), "not a CycloneDX document", id="not-cyclonedx")
    yield pytest.param(dumps(changed(bom, "specVersion", "1.1")), "unsupported CycloneDX version '1.1'", id="1.1")
    yield pytest.param(dumps(changed(bom, "specVersion", "2.0")), "unsupported", id="2.0")
    yield pytest.param(dumps(changed(bom, "components/0/type", "gadget")), "/components/0/type", id="enum")
    yield pytest.param(dumps(changed(bom, "components/1/name", ...)), '"name" is a required property', id="required")
    yield pytest.param(dumps(changed(bom, "version", "one")), "/version", id="wrong-type")
    yield pytest.param(dumps(changed(bom, "components/1/bom-ref", "lib0")), "bom-ref 'lib0' is used more", id="dup")
    yield pytest.param(
        dumps(changed(bom, "dependencies/0/dependsOn/0", "ghost")), "'ghost' names no component", id="unknown-ref"
    )
    yield pytest.param(gzip.compress(dumps(bom)), "gzip-compressed", id="gzip")
    yield pytest.param(dumps(bom).decode().encode("utf-16"), "UTF-16-encoded; save it as UTF-8", id="utf-16")
    nested: object = []
    for _ in range(400):
        nested = [nested]
    yield pytest.param(dumps(changed(bom, "components", nested)), "nested too deeply", id="deep-for-validator")
    yield pytest.param(dumps(changed(bom, "components/0/name", "\ud800")), "/components/0/name", id="surrogate")
    yield pytest.param(dumps(changed(bom, "components/0/name", "a\x00b")), "NUL character", id="nul")
    yield pytest.param(dumps(changed(bom, "version", 2**31)), "BOM version 2147483648 is outside", id="bom-version")
    yield pytest.param(b"\x00\x01binary", "none of CycloneDX JSON or XML, SPDX JSON or SPDX tag-value", id="binary")
    yield pytest.param(xml_bom().replace(b'type="library"', b'type="gadget"', 1), "component[1]", id="xml-enum")
    yield pytest.param(
        xml_bom().replace(b"http://cyclonedx.org/schema/bom/1.6", b"http://example.com/bom"), "root", id="xml-ns"
    )
    yield pytest.param(
        xml_bom().replace(b'<?xml version="1.0" encoding="UTF-8"?>', b'<!DOCTYPE bom [<!ENTITY a "b">]>'),
        "DOCTYPE",
        id="xml-entity",
    )


@pytest.mark.parametrize(("raw", "reason"), list(bad_documents()))
def test_bad_documents_are_refused_with_the_reason_and_nothing_is_stored(
    session: Session, release: Release, raw: bytes, reason: str
) -> None:
    before = counts(session)
    with pytest.raises(Invalid) as refused:
        import_sbom(session, OPERATOR, release.id, upload(raw))
    text = refused.value.one_line()
    assert reason in text, text
    assert len(text) < 5000 and "Traceback" not in text
    assert counts(session) == before


def test_the_same_bytes_again_still_obey_strict_and_primary(session: Session, release: Release) -> None:
    lenient = import_sbom(session, OPERATOR, release.id, upload(with_scp_url())).sbom
    other = import_sbom(session, OPERATOR, release.id, upload(xml_bom()), primary=True).sbom
    with pytest.raises(Invalid, match="strict"):
        import_sbom(session, OPERATOR, release.id, upload(with_scp_url()), strict=True)
    again = import_sbom(session, OPERATOR, release.id, upload(with_scp_url()), primary=True)
    session.refresh(other)
    assert not again.created and again.sbom.id == lenient.id and again.sbom.is_primary and not other.is_primary


def test_timestamps_beyond_the_calendar_in_utc_import_without_a_date(session: Session, release: Release) -> None:
    bom = json_bom()
    bom["metadata"]["timestamp"] = "9999-12-31T23:59:59-01:00"  # year 10000 in UTC
    sbom = import_sbom(session, OPERATOR, release.id, upload(dumps(bom))).sbom
    assert sbom.generated_at is None and sbom.warnings == []


def test_an_scp_style_url_in_xml_is_a_warning_as_in_json(session: Session, release: Release) -> None:
    reference = b'<externalReferences><reference type="vcs"><url>git@github.com:example/lib.git</url></reference>'
    raw = xml_bom().replace(
        b"<purl>pkg:generic/openssl@3.0.13</purl>",
        b"<purl>pkg:generic/openssl@3.0.13</purl>" + reference + b"</externalReferences>",
    )
    sbom = import_sbom(session, OPERATOR, release.id, upload(raw, "fw.xml")).sbom
    assert [w["path"] for w in sbom.warnings] == [
        "/bom/components/component[2]/externalReferences/reference/url (line 23)"
    ]
    with pytest.raises(Invalid, match="strict"):
        import_sbom(
            session, OPERATOR, make_release(session, sbom.release.product, "4.3.0").id, upload(raw), strict=True
        )


def test_many_violations_are_counted_not_listed(session: Session, release: Release) -> None:
    bom = json_bom(components=40)
    for item in bom["components"]:
        item["type"] = "gadget"
    with pytest.raises(Invalid) as refused:
        import_sbom(session, OPERATOR, release.id, upload(dumps(bom)))
    messages = [e.message for e in refused.value.errors]
    assert len(messages) == 11 and messages[-1] == "… and 30 more"


def test_size_limit_and_empty_file(session: Session, release: Release) -> None:
    limit = session_blobs(session).max_bytes
    with pytest.raises(Invalid, match="larger than the limit"):
        import_sbom(session, OPERATOR, release.id, upload(b" " * (limit + 1)))
    with pytest.raises(Invalid, match="empty"):
        import_sbom(session, OPERATOR, release.id, upload(b""))


class _Recorder(BaseHTTPRequestHandler):
    calls: list[str] = []  # noqa: RUF012 - shared by the handler instances of one server

    def do_GET(self) -> None:
        self.calls.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"pwned")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("declaration", ["SYSTEM", "PARAMETER"])
def test_external_entities_are_refused_before_anything_fetches_them(
    session: Session, release: Release, declaration: str
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/entity"
    try:
        dtd = (
            f'<!DOCTYPE bom [<!ENTITY ext SYSTEM "{url}">]>'
            if declaration == "SYSTEM"
            else f'<!DOCTYPE bom [<!ENTITY % p SYSTEM "{url}"> %p;]>'
        )
        raw = (
            xml_bom()
            .replace(b'<?xml version="1.0" encoding="UTF-8"?>', dtd.encode())
            .replace(b"<name>zlib</name>", b"<name>&ext;</name>" if declaration == "SYSTEM" else b"<name>zlib</name>")
        )
        with pytest.raises(Invalid, match="DOCTYPE"):
            import_sbom(session, OPERATOR, release.id, upload(raw, "evil.xml"))
        # A direct request proves the endpoint works, so an empty log means nothing called it.
        import urllib.request

        urllib.request.urlopen(url + "-probe", timeout=5).read()  # noqa: S310 - a local test server
        assert _Recorder.calls == ["/entity-probe"]
    finally:
        _Recorder.calls.clear()
        server.shutdown()
        server.server_close()


def test_roles_and_other_products(session: Session, release: Release) -> None:
    product = session.get(Release, release.id).product  # type: ignore[union-attr]
    developer = member(session, product, "developer")
    auditor = member(session, product, "auditor")
    other = make_product(session, "Other")
    stranger = member(session, other, "security_officer")
    sbom = import_sbom(session, developer, release.id, upload(dumps(json_bom()))).sbom
    with pytest.raises(Forbidden):
        import_sbom(session, auditor, release.id, upload(xml_bom()))
    with pytest.raises(NotFound):
        import_sbom(session, stranger, release.id, upload(xml_bom()))
    with pytest.raises(NotFound):
        list_components(session, stranger, sbom.id, ComponentQuery())
    with pytest.raises(Forbidden):
        set_primary(session, auditor, sbom.id)
    with pytest.raises(Forbidden):
        set_policy(session, developer, product.id, strict=True)
    assert list_components(session, auditor, sbom.id, ComponentQuery()).total == 4


# Published examples our reference check refuses: a dependency names a component by its purl, which
# the component never declares as its bom-ref. The later versions of the same examples are consistent.
DANGLING_EXAMPLES = {
    "1.3/valid-compositions-1.3.json": "pkg:maven/acme/library@3.0",
    "1.5/valid-compositions-1.5.json": "pkg:maven/acme/library@3.0",
    "1.3/valid-service-1.3.json": "pkg:maven/com.acme/stock-java-client@1.0.12",
    "1.4/valid-service-1.4.json": "pkg:maven/com.acme/stock-java-client@1.0.12",
}


@pytest.mark.slow
def test_every_valid_cyclonedx_example_imports(session: Session, release: Release) -> None:
    entries = [e for e in json.loads((FIXTURES / "manifest.json").read_text()) if e["library_verdict"] == "valid"]
    assert len(entries) > 100
    for entry in entries:
        raw = (FIXTURES / entry["file"]).read_bytes()
        if entry["file"] in DANGLING_EXAMPLES:
            with pytest.raises(Invalid) as refused:
                import_sbom(session, OPERATOR, release.id, upload(raw))
            assert f"'{DANGLING_EXAMPLES[entry['file']]}' names no component" in refused.value.one_line()
            continue
        sbom = import_sbom(session, OPERATOR, release.id, upload(raw, entry["file"].split("/")[1])).sbom
        assert (sbom.format.value, sbom.spec_version, sbom.warnings) == (entry["format"], entry["spec_version"], [])
