"""Many uploads to one release at the same instant: each document once, one primary, clean answers, no leftovers."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter, defaultdict
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.app_access import SETTINGS_EXTENSION, app_db
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.blobs import Blob
from sdl_tracker.evidence.models import Evidence
from sdl_tracker.jobs.models import Job
from sdl_tracker.sboms.models import Sbom, SbomComponent, SbomPolicy, SbomState
from sdl_tracker.sboms.services import set_policy
from tests.concurrency import at_once
from tests.contract import contract_for
from tests.factories import OPERATOR, make_product, make_release, member
from tests.sboms.builders import dumps, json_bom

pytestmark = pytest.mark.db

DOCUMENTS = 12  # distinct documents, each sent COPIES times
COPIES = 5
PRIMARY = {0, 1, 2}  # every copy of these asks to be the release's primary SBOM


def _document(n: int) -> bytes:
    bom = json_bom(components=2 + n)
    bom["metadata"]["component"]["version"] = f"4.2.{n}"
    return dumps(bom)


def test_sixty_uploads_at_once_import_each_document_once_and_leave_one_primary(shared_app: Flask) -> None:
    # On PostgreSQL the imports really overlap; on SQLite their writes take turns, and the answers must be the same.
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        release_id = make_release(session, product, "4.2.0").id
        developer = member(session, product, "developer", email="dev@example.com")
        assert developer.user_id is not None
        token = create_token(
            session, OPERATOR, user_id=developer.user_id, name="ci", product_ids=[product.id], scopes=["sbom:upload"]
        ).secret
    contract_for(shared_app)  # built once, before the threads
    documents = [_document(n) for n in range(DOCUMENTS)]

    def upload(n: int) -> tuple[int, int, dict[str, Any]]:
        metadata = json.dumps({"primary": n in PRIMARY})
        response = shared_app.test_client().post(
            f"/api/v1/releases/{release_id}/sboms",
            data={"file": (io.BytesIO(documents[n]), f"sbom-{n}.json"), "metadata": metadata},
            headers={"Authorization": f"Bearer {token}"},
        )
        return n, response.status_code, response.get_json()

    answers = at_once([lambda n=n: upload(n) for n in range(DOCUMENTS) for _ in range(COPIES)])

    failures = [a for a in answers if isinstance(a, BaseException)]
    assert not failures, f"{len(failures)} uploads failed: {Counter(type(f).__name__ for f in failures)}: {failures[0]}"
    by_document: dict[int, Counter[int]] = defaultdict(Counter)
    ids: dict[int, set[int]] = defaultdict(set)
    for answer in answers:
        assert not isinstance(answer, BaseException)
        n, status, body = answer
        by_document[n][status] += 1
        if status in (200, 201):
            ids[n].add(body["id"])
            assert body["created"] is (status == 201)
        else:  # the same bytes being staged by another request this instant: try again shortly
            assert status == 409, (status, body)
            assert body["detail"] == "the same document is being imported for this release right now"
    for n, statuses in by_document.items():
        assert statuses[201] == 1, (n, statuses)  # each document imported exactly once
        assert len(ids[n]) == 1  # every "already imported" names that one import

    with database.unit_of_work(read_only=True) as session:
        sboms = session.scalars(select(Sbom).where(Sbom.release_id == release_id)).all()
        assert all(s.state is SbomState.PUBLISHED for s in sboms)  # nothing staged is left behind
        assert sorted(s.id for s in sboms) == sorted(i for n in ids for i in ids[n])
        primaries = [s.id for s in sboms if s.is_primary]
        assert len(primaries) == 1 and primaries[0] in {i for n in PRIMARY for i in ids[n]}
        for sbom in sboms:
            rows = session.scalar(
                select(func.count()).select_from(SbomComponent).where(SbomComponent.sbom_id == sbom.id)
            )
            assert rows == sbom.component_count
        imports = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sbom:document:import")
        )
        assert imports == DOCUMENTS
        assert session.scalar(select(func.count()).select_from(Evidence)) == DOCUMENTS
        assert session.scalar(select(func.count()).select_from(Blob)) == DOCUMENTS

    # Then every SBOM of the release is made primary at the same instant: one of them ends up so.
    def make_primary(sbom_id: int) -> int:
        response = shared_app.test_client().post(
            f"/api/v1/sboms/{sbom_id}/primary", headers={"Authorization": f"Bearer {token}"}
        )
        return response.status_code

    chosen = at_once([lambda i=i: make_primary(i) for n in ids for i in ids[n]])
    assert chosen == [200] * DOCUMENTS
    with database.unit_of_work(read_only=True) as session:
        primary = session.scalars(select(Sbom.id).where(Sbom.release_id == release_id, Sbom.is_primary)).all()
        assert len(primary) == 1


def test_big_uploads_of_one_document_at_once_queue_one_job(shared_app: Flask) -> None:
    settings = shared_app.extensions[SETTINGS_EXTENSION]
    shared_app.extensions[SETTINGS_EXTENSION] = dataclasses.replace(settings, SBOM_INLINE_MAX_BYTES=1024)
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product = make_product(session, "PLC")
        earlier, release_id = (make_release(session, product, v).id for v in ("4.1.0", "4.2.0"))
        developer = member(session, product, "developer", email="dev@example.com")
        assert developer.user_id is not None
        token = create_token(
            session, OPERATOR, user_id=developer.user_id, name="ci", product_ids=[product.id], scopes=["sbom:upload"]
        ).secret
    contract_for(shared_app)
    document = dumps(json_bom(components=50))

    def upload(release_id: int = release_id) -> tuple[int, int]:
        response = shared_app.test_client().post(
            f"/api/v1/releases/{release_id}/sboms",
            data={"file": (io.BytesIO(document), "big.json")},
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code, response.get_json()["id"]

    upload(earlier)  # the bytes are stored already (so the blob's row does not make the uploads take turns)
    answers = at_once([upload] * 20)
    with database.unit_of_work(read_only=True) as session:
        jobs = session.scalars(select(Job.id).where(Job.arguments["release_id"].as_integer() == release_id)).all()
        queued = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sbom:document:queue-import")
        )
    assert len(jobs) == 1 and answers == [(202, jobs[0])] * 20, answers
    assert queued == 2  # the earlier release's and this one's


def test_a_product_s_sbom_policy_set_from_several_places_at_once_is_stored_once(shared_app: Flask) -> None:
    database = app_db(shared_app)
    with database.unit_of_work() as session:
        product_id = make_product(session, "PLC").id

    def set_strict() -> bool:
        with database.unit_of_work() as session:
            return set_policy(session, OPERATOR, product_id, strict=True).strict

    assert at_once([set_strict] * 4) == [True] * 4
    with database.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(SbomPolicy)) == 1
        changes = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sbom:policy:update")
        )
    assert changes == 1  # the others found it strict already
