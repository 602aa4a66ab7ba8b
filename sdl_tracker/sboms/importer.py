"""An SBOM import in phases: validate and read outside any write transaction, stage the rows invisibly in
short transactions, publish (state, evidence, audit event, job completion) in one short transaction.

Small uploads run these phases during the request; bigger ones (SBOM_INLINE_MAX_BYTES) run them in
a job. A failure, or a killed worker, leaves nothing visible: staged rows are removed when the
import fails and before a job's retry.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import Permission, Principal, authorize
from ..blobs import Blob, record_blob, session_blobs
from ..db import Database, insert_missing, utcnow
from ..errors import Conflict, Invalid
from ..evidence.rules import clean_filename
from ..evidence.services import Upload
from ..jobs.models import Job
from ..jobs.registry import DatabasePhases, JobContext, Phases, collector_paused, register
from ..jobs.services import enqueue
from ..products.models import Release
from ..products.services import get_release
from . import document
from .formats import Rejected
from .models import ComponentName, Sbom, SbomComponent, SbomDependency, SbomState
from .rules import search_keys
from .validation import check

SBOM_IMPORT_KIND = "sboms.import"
# Rows per write transaction: a few tens of milliseconds each on SQLite.
ROW_BATCH = 1000
DELETE_BATCH = 5000
# A staged import this old whose request died with its process is abandoned and may be replaced.
STALE_STAGING = timedelta(minutes=30)
BEING_IMPORTED = "the same document is being imported for this release right now"


@dataclass(frozen=True)
class ImportRequest:
    """What to import: a document already in the blob store, for a release, with the upload's options."""

    release_id: int
    sha256: str
    filename: str
    title: str = ""
    primary: bool = False
    strict: bool = False


@dataclass(frozen=True)
class Submitted:
    """What a submission did: imported at once (sbom_id, created), or queued (job)."""

    sbom_id: int | None = None
    created: bool = False
    job: Job | None = None


def import_in_phases(phases: Phases, request: ImportRequest, *, job_id: int | None = None) -> dict[str, Any]:
    """Validate, stage and publish one SBOM; {"sbom_id", "created"} (created false: the same bytes again)."""
    from .services import MAX_TITLE, _rejected, _strict_refusal, product_strict

    with phases.read() as session:
        actor = phases.actor(session)
        release = get_release(session, actor, request.release_id)
        authorize(actor, Permission.SBOM_UPLOAD, release.product_id)
        if len(request.title) > MAX_TITLE:
            raise Invalid.field("title", f"at most {MAX_TITLE} characters")
        strict = request.strict or product_strict(session, release.product_id)
        existing = _published(session, release.id, request.sha256)
        blobs = session_blobs(session)
    if existing is not None:
        return _repeat(phases, actor, existing, request, strict)

    # The slow part, outside every transaction: read the bytes, validate, read the rows.
    with blobs.open_verified(request.sha256) as stream:
        raw = stream.read()
    try:
        content = document.read(check(raw))
    except Rejected as exc:
        raise _rejected(exc) from None
    if strict and content.warnings:
        raise _rejected(_strict_refusal(content.warnings))

    # A job holds a big document and has its process to itself: a full collection first, none inside its
    # writes. An upload imported in the request is small, and a forced collection there would stall every
    # thread of the web worker (and with them the one holding the write lock) on each upload.
    with collector_paused() if isinstance(phases, JobContext) else nullcontext():
        try:
            sbom_id = _stage(phases, actor, request, content, strict, job_id)
        except _PublishedMeanwhile as same:  # another request imported these bytes since we looked
            return _repeat(phases, actor, same.sbom_id, request, strict)
        try:
            _stage_rows(phases, sbom_id, content)
            with phases.write() as session:
                out = _publish(session, actor, sbom_id, request, raw)
                phases.finish(session, out)
            return out
        except BaseException:
            if not isinstance(phases, JobContext):  # a job's cleanup runs from the worker, lease permitting
                discard_staged(phases, sbom_ids=[sbom_id])
            raise


def _published(session: Session, release_id: int, sha256: str) -> int | None:
    return session.scalar(
        select(Sbom.id).where(Sbom.release_id == release_id, Sbom.sha256 == sha256, Sbom.state == SbomState.PUBLISHED)
    )


def _repeat(phases: Phases, actor: Principal, sbom_id: int, request: ImportRequest, strict: bool) -> dict[str, Any]:
    """The same bytes again for the release: nothing new is stored (the primary flag may still move)."""
    from .services import _already_imported

    with phases.write() as session:
        same = session.get(Sbom, sbom_id)
        assert same is not None
        result = _already_imported(session, actor, same, strict=strict, primary=request.primary)
        out = {"sbom_id": result.sbom.id, "created": False}
        phases.finish(session, out)
    return out


class _PublishedMeanwhile(Exception):
    """The same bytes were published for the release by another import while this one validated them."""

    def __init__(self, sbom_id: int) -> None:
        super().__init__(sbom_id)
        self.sbom_id = sbom_id


def _stage(
    phases: Phases,
    actor: Principal,
    request: ImportRequest,
    content: document.SbomContent,
    strict: bool,
    job_id: int | None,
) -> int:
    """Add the SBOM's row, invisible (staging); Conflict while another import stages the same bytes."""
    from .services import lock_release_sboms

    size = len_of(phases, request.sha256)
    # Twice at most: a staged import found abandoned is removed (in transactions of its own), then looked for again.
    for _ in range(2):
        with phases.write() as session:
            # Under the release's lock what this finds stays true until the new row commits, so two imports
            # of the same bytes never both stage them (the unique constraint would refuse the second).
            if not lock_release_sboms(session, request.release_id):
                raise Invalid.field("release", "the release was removed during the import")
            found = session.scalar(
                select(Sbom).where(Sbom.release_id == request.release_id, Sbom.sha256 == request.sha256)
            )
            if found is None:
                release = session.get(Release, request.release_id)
                assert release is not None  # locked above
                sbom = _new_row(request, content, release.product_id, actor.label, size, strict=strict, job_id=job_id)
                session.add(sbom)
                session.flush()
                phases.progress(session, 0, len(content.components) + len(content.dependencies), "staging rows")
                return sbom.id
            if found.state is SbomState.PUBLISHED:
                raise _PublishedMeanwhile(found.id)
            ours = job_id is not None and found.staged_by_job_id == job_id  # an earlier attempt of this job
            if not ours and found.imported_at > utcnow() - STALE_STAGING:
                raise Conflict(BEING_IMPORTED)
            abandoned = found.id
        discard_staged(phases, sbom_ids=[abandoned])
    raise Conflict(BEING_IMPORTED)  # another import staged the bytes again once the abandoned one was gone


def _new_row(
    request: ImportRequest,
    content: document.SbomContent,
    product_id: int,
    imported_by: str,
    size: int,
    *,
    strict: bool,
    job_id: int | None,
) -> Sbom:
    """The staged SBOM row of a validated document."""
    from .services import DEFAULT_FILENAMES, _default_title

    filename = clean_filename(request.filename or DEFAULT_FILENAMES[content.format])
    return Sbom(
        product_id=product_id,
        release_id=request.release_id,
        title=request.title.strip() or _default_title(content, filename),
        filename=filename,
        sha256=request.sha256,
        size=size,
        format=content.format,
        spec_version=content.spec_version,
        serial_number=content.serial_number,
        bom_version=content.bom_version,
        generated_at=content.timestamp,
        subject=content.subject,
        tools=content.tools,
        warnings=[{"path": w.path, "message": w.message} for w in content.warnings],
        component_count=len(content.components),
        dependency_count=len(content.dependencies),
        service_count=content.services,
        is_primary=False,  # decided at publication, under the release's lock
        strict=strict,
        imported_by=imported_by,
        state=SbomState.STAGING,
        staged_by_job_id=job_id,
    )


def len_of(phases: Phases, sha256: str) -> int:
    """The stored size of a blob."""
    with phases.read() as session:
        blob = session.get(Blob, sha256)
        if blob is None:
            raise Invalid.field("file", "the uploaded document is no longer stored")
        return blob.size


def _stage_rows(phases: Phases, sbom_id: int, content: document.SbomContent) -> None:
    components = []
    for row in content.components:
        folded, purl_key = search_keys(row["name"], row["purl"])
        components.append({"sbom_id": sbom_id, **row, "name_folded": folded, "purl_key": purl_key})
    names = sorted({row["name_folded"] for row in components})
    for start in range(0, len(names), ROW_BATCH):  # before the rows: a search reads names, then rows with one
        with phases.write() as session:
            insert_missing(session, ComponentName, [{"name_folded": name} for name in names[start : start + ROW_BATCH]])
    edges = [{"sbom_id": sbom_id, "ref": ref, "depends_on": target} for ref, target in content.dependencies]
    total = len(components) + len(edges)
    done = 0
    for model, rows in ((SbomComponent, components), (SbomDependency, edges)):
        for start in range(0, len(rows), ROW_BATCH):
            batch = rows[start : start + ROW_BATCH]
            with phases.write() as session:
                session.execute(insert(model), batch)
                done += len(batch)
                phases.progress(session, done, total, "staging rows")


def _publish(session: Session, actor: Principal, sbom_id: int, request: ImportRequest, raw: bytes) -> dict[str, Any]:
    """Make the staged SBOM visible, with its evidence and audit event (the caller completes the job here too)."""
    from .services import _clear_primary, _create_evidence, lock_release_sboms

    # Publications and primary choices of one release take turns: each decides on the primary as the
    # one before left it (two at once would both find none, and the unique index refuse the second).
    lock_release_sboms(session, request.release_id)
    sbom = session.get(Sbom, sbom_id)
    if sbom is None or sbom.state is not SbomState.STAGING:
        raise Invalid.field("file", "the staged import was removed")
    release = get_release(session, actor, sbom.release_id)
    has_primary = session.scalar(
        select(Sbom.id).where(Sbom.release_id == release.id, Sbom.is_primary, Sbom.state == SbomState.PUBLISHED)
    )
    if request.primary and has_primary:
        _clear_primary(session, release.id)
    sbom.state = SbomState.PUBLISHED
    sbom.staged_by_job_id = None
    sbom.is_primary = request.primary or not has_primary
    sbom.imported_at = utcnow()
    session.flush()
    evidence = _create_evidence(session, actor, release, sbom, raw)
    sbom.evidence_id = evidence.id if evidence else None
    record(
        session,
        actor,
        "sbom:document:import",
        target_type="sbom",
        target_id=sbom.id,
        product_id=sbom.product_id,
        details={
            "release": release.version,
            "title": sbom.title,
            "sha256": sbom.sha256,
            "format": sbom.format_label,
            "components": sbom.component_count,
            "warnings": len(sbom.warnings),
            "primary": sbom.is_primary,
            "strict": sbom.strict,
        },
    )
    return {"sbom_id": sbom.id, "created": True}


def discard_staged(phases: Phases, *, sbom_ids: list[int] | None = None, job_id: int | None = None) -> None:
    """Remove staged SBOMs (never published ones) and their rows, in short transactions."""
    with phases.read() as session:
        query = select(Sbom.id).where(Sbom.state == SbomState.STAGING)
        if job_id is not None:
            query = query.where(Sbom.staged_by_job_id == job_id)
        if sbom_ids is not None:
            query = query.where(Sbom.id.in_(sbom_ids))
        staged = list(session.scalars(query))
    for sbom_id in staged:
        for model in (SbomComponent, SbomDependency):
            while True:
                with phases.write() as session:
                    ids = list(session.scalars(select(model.id).where(model.sbom_id == sbom_id).limit(DELETE_BATCH)))
                    if not ids:
                        break
                    session.execute(delete(model).where(model.id.in_(ids)))
        with phases.write() as session:
            session.execute(delete(Sbom).where(Sbom.id == sbom_id, Sbom.state == SbomState.STAGING))


def submit_sbom(
    database: Database,
    actor: Principal,
    release_id: int,
    upload: Upload,
    *,
    title: str = "",
    primary: bool = False,
    strict: bool = False,
    inline_max_bytes: int,
) -> Submitted:
    """Import a small SBOM at once (in phases), or queue a job for a big one (audited as queued)."""
    from .services import MAX_TITLE

    with database.unit_of_work(read_only=True) as session:
        release = get_release(session, actor, release_id)
        authorize(actor, Permission.SBOM_UPLOAD, release.product_id)
        blobs = session_blobs(session)
    if len(title) > MAX_TITLE:
        raise Invalid.field("title", f"at most {MAX_TITLE} characters")
    stored = blobs.put(upload.stream)  # the file is durable before any row names it, and outside the lock
    request = ImportRequest(release.id, stored.sha256, upload.filename, title, primary, strict)
    with database.unit_of_work() as session:
        record_blob(session, stored)
        if stored.size <= inline_max_bytes:
            session.flush()
        else:
            job, created = enqueue(
                session,
                actor,
                kind=SBOM_IMPORT_KIND,
                arguments=asdict(request),
                product_id=release.product_id,
                idempotency_key=f"sboms:import:{release.id}:{stored.sha256}",
            )
            if created:
                record(
                    session,
                    actor,
                    "sbom:document:queue-import",
                    target_type="release",
                    target_id=release.id,
                    product_id=release.product_id,
                    details={"job": job.id, "sha256": stored.sha256, "size": stored.size},
                )
            return Submitted(job=job)
    out = import_in_phases(DatabasePhases(database, actor), request)
    return Submitted(sbom_id=int(out["sbom_id"]), created=bool(out["created"]))


def _import_job(context: JobContext) -> dict[str, Any]:
    return import_in_phases(context, ImportRequest(**context.arguments), job_id=context.job_id)


def _discard_job(context: JobContext) -> None:
    discard_staged(context, job_id=context.job_id)


def register_jobs() -> None:
    """Let workers import big SBOMs."""
    register(SBOM_IMPORT_KIND, _import_job, _discard_job)
