"""A release's BOM exported as CycloneDX 1.6 JSON or XML: read in a short read unit, written outside any
transaction, validated against the library's 1.6 schema before it is returned. The validated bytes of each
content are kept (a blob named on its `sbom_export` row): a later export of the same content serves them.

The BOM version is the ordinal of the exported content among the release's: recorded (and audited) the first
time a content is exported, in a short write of its own, so a read of the same content never writes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Principal
from ..blobs import BlobStore, CorruptBlob, record_blob, session_blobs
from ..db import Database, lock_row
from ..errors import Invalid, NotFound
from ..jobs.registry import collector_paused
from ..products.models import Release
from ..products.services import get_release
from . import writer
from .models import Sbom, SbomDependency, SbomExport, SbomState
from .services import component_rows
from .validation import Rejected, SbomFormat, json_verdict, safe_parser, xml_verdict

MEDIA_TYPES = {
    SbomFormat.JSON: "application/vnd.cyclonedx+json; version=1.6",
    SbomFormat.XML: "application/vnd.cyclonedx+xml; version=1.6",
}


@dataclass(frozen=True)
class BomExport:
    """An exported BOM: its bytes and what identifies them."""

    data: bytes
    format: SbomFormat
    filename: str
    serial_number: str
    version: int
    sbom_id: int

    @property
    def media_type(self) -> str:
        """CycloneDX's registered media type for the format, with the spec version."""
        return MEDIA_TYPES[self.format]


def _source(session: Session, release: Release, sbom_id: int | None) -> Sbom:
    """The SBOM a release's BOM is read from: the one named (of this release), else its primary one."""
    query = select(Sbom).where(Sbom.release_id == release.id, Sbom.state == SbomState.PUBLISHED)
    query = query.where(Sbom.id == sbom_id) if sbom_id is not None else query.where(Sbom.is_primary.is_(True))
    found = session.scalars(query).first()
    if found is None:
        if sbom_id is not None:
            raise NotFound(f"release {release.version} has no SBOM {sbom_id}")
        raise Invalid.field("sbom", f"release {release.version} has no primary SBOM to export: import or choose one")
    return found


def export_bom(
    database: Database, actor: Principal, release_id: int, fmt: SbomFormat, *, sbom_id: int | None = None
) -> BomExport:
    """The release's components (its primary SBOM's, or the SBOM named) as CycloneDX 1.6, validated; whoever may
    read the release may export it. The caller holds no transaction."""
    with collector_paused(collect=False):  # tens of thousands of small dicts: no cyclic collection over them
        return _export(database, actor, release_id, fmt, sbom_id)


def source_key(sbom: Sbom, release: Release) -> str:
    """What an export's bytes are a function of: the SBOM (whose rows never change), the product's name and type
    and the release's version (the subject when the SBOM names none), and the writer's revision."""
    parts = [str(sbom.id), release.product.name, release.product.component_type.value, release.version]
    return hashlib.sha256("\0".join([*parts, str(writer.WRITER_REVISION)]).encode()).hexdigest()


def _export(database: Database, actor: Principal, release_id: int, fmt: SbomFormat, sbom_id: int | None) -> BomExport:
    """Read, write, version and validate the release's BOM (export_bom)."""
    cached_column = SbomExport.json_sha256 if fmt is SbomFormat.JSON else SbomExport.xml_sha256
    with database.unit_of_work(read_only=True) as session:
        release = get_release(session, actor, release_id)
        sbom = _source(session, release, sbom_id)
        key = source_key(sbom, release)
        filename = f"{release.product.name}-{release.version}.cdx.{fmt.value}".replace("/", "_")
        blobs = session_blobs(session)
        done = session.execute(
            select(SbomExport.version, SbomExport.content_sha256, cached_column).where(
                SbomExport.release_id == release_id, SbomExport.source_key == key, cached_column.is_not(None)
            )
        ).first()
        if done is not None and done[2]:  # exported from this very source before: its kept bytes (if intact)
            kept = _kept(blobs, done[2])
            if kept is not None:
                serial = writer.serial_number(release_id, done[1])
                return BomExport(kept, fmt, filename, serial, done[0], sbom.id)
        rows = writer.ExportRows(
            product=release.product.name,
            component_type=release.product.component_type.value,
            release=release.version,
            subject=sbom.subject,
            components=component_rows(session, sbom.id),
            dependencies=[
                (ref, target)
                for ref, target in session.execute(
                    select(SbomDependency.ref, SbomDependency.depends_on)
                    .where(SbomDependency.sbom_id == sbom.id)
                    .order_by(SbomDependency.id)
                )
            ],
        )
        product_id, source_id = release.product_id, sbom.id
    body = writer.bom_body(rows)
    content = writer.content_json(body)
    digest = writer.content_digest(content)
    with database.unit_of_work(read_only=True) as session:
        known = session.execute(
            select(SbomExport.version, cached_column).where(
                SbomExport.release_id == release_id, SbomExport.content_sha256 == digest
            )
        ).first()
    version = known[0] if known else _record_version(database, actor, release_id, product_id, digest, source_id)
    serial = writer.serial_number(release_id, digest)
    kept = _kept(blobs, known[1]) if known and known[1] else None  # the same content from another source
    if kept is not None:
        return BomExport(kept, fmt, filename, serial, version, source_id)
    data = _validated(body, content, fmt, serial, version)
    stored = blobs.put(io.BytesIO(data))  # durable before a row names it, and outside any transaction
    with database.unit_of_work() as session:
        record_blob(session, stored)
        session.execute(
            update(SbomExport)
            .where(SbomExport.release_id == release_id, SbomExport.content_sha256 == digest)
            .values({cached_column.key: stored.sha256, "source_key": key})
        )
    return BomExport(data, fmt, filename, serial, version, source_id)


def _kept(blobs: BlobStore, sha256: str) -> bytes | None:
    """The bytes an earlier export kept (written and validated then), None when the file is gone or damaged
    (`blobs verify` reports it; the export is then written and validated again)."""
    try:
        with blobs.open_verified(sha256) as stream:
            return stream.read()
    except (NotFound, CorruptBlob):
        return None


def _validated(body: dict[str, Any], content: bytes, fmt: SbomFormat, serial: str, version: int) -> bytes:
    """The BOM's bytes in the format, once validated against the 1.6 schema; Invalid when they are not valid."""
    try:
        if fmt is SbomFormat.JSON:
            document = writer.json_document(body, serial, version)
            checked = json_verdict(document, writer.SPEC_VERSION)
            data = writer.json_bytes(content, serial, version)
        else:
            data = writer.xml_bytes(body, serial, version)
            # Parsed back as an upload is (no DTD, no entities), and validated against the 1.6 XSD.
            checked = xml_verdict(etree.fromstring(data, parser=safe_parser()), writer.SPEC_VERSION)
    except Rejected as exc:
        raise Invalid.field("sbom", f"the SBOM's content is not valid CycloneDX 1.6: {exc}") from None
    except etree.XMLSyntaxError as exc:  # text a JSON SBOM may carry and XML may not (a control character)
        raise Invalid.field("sbom", f"the SBOM's content cannot be written as XML: {exc}") from None
    if checked.warnings:
        first = checked.warnings[0]
        raise Invalid.field("sbom", f"the SBOM's content is not valid CycloneDX 1.6: {first.path}: {first.message}")
    return data


def _record_version(
    database: Database, actor: Principal, release_id: int, product_id: int, digest: str, sbom_id: int
) -> int:
    """The version a new content of the release's BOM gets (one more than the last), recorded and audited."""
    with database.unit_of_work() as session:
        lock_row(session, Release.id, release_id)  # two first exports of one content record one version
        known = session.scalar(
            select(SbomExport.version).where(SbomExport.release_id == release_id, SbomExport.content_sha256 == digest)
        )
        if known is not None:
            return int(known)
        last = session.scalar(select(func.max(SbomExport.version)).where(SbomExport.release_id == release_id)) or 0
        row = SbomExport(
            release_id=release_id,
            content_sha256=digest,
            version=last + 1,
            sbom_id=sbom_id,
            first_exported_by=actor.label[:400],
        )
        session.add(row)
        session.flush()
        record(
            session,
            actor,
            "sboms:export:version",
            target_type="release",
            target_id=release_id,
            product_id=product_id,
            details={"version": row.version, "content_sha256": digest, "sbom": sbom_id},
        )
        return row.version
