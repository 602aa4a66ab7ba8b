"""Revisions made before `submitted_at` existed get it from their creation, drafts none; the schema then
holds every revision to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from sdl_tracker import schema
from sdl_tracker.db import Database

BEFORE = "c1d2e3f40003"
AFTER = "c1d2e3f40004"
REVISION = (
    "INSERT INTO evidence_revision (evidence_id, number, title, description, effective_date, author, details, "
    "state, submitted_by, reviewed_by, rejection_reason, created_at{extra}) VALUES (:e, :n, 'Policy', '', "
    "'2026-11-01', '', '{{}}', :state, 'user:dev@example.com', '', '', :at{values})"
)


def test_existing_revisions_count_as_submitted_when_they_were_made(backend: str, fresh_database_url: Any) -> None:
    database = Database(fresh_database_url(backend))
    try:
        schema.upgrade(database, BEFORE)
        made = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
        with database.engine.begin() as connection:
            for _ in range(4):
                connection.execute(
                    text(
                        "INSERT INTO evidence (scope, kind, created_at, created_by) "
                        "VALUES ('organisation', 'process-document', :at, 'user:dev@example.com')"
                    ),
                    {"at": made.isoformat()},
                )
            ids = list(connection.execute(text("SELECT id FROM evidence ORDER BY id")).scalars())
            for evidence_id, state, days in zip(
                ids, ("draft", "submitted", "accepted", "rejected"), range(4), strict=True
            ):
                connection.execute(
                    text(REVISION.format(extra="", values="")),
                    {"e": evidence_id, "n": 1, "state": state, "at": (made + timedelta(days=days)).isoformat()},
                )
        schema.upgrade(database, AFTER)  # (the schema at the head is held to the models by tests/test_db.py)
        with database.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT state, created_at, submitted_at FROM evidence_revision ORDER BY evidence_id")
            ).all()
        assert [r.state for r in rows] == ["draft", "submitted", "accepted", "rejected"]
        assert rows[0].submitted_at is None
        assert all(str(r.submitted_at) == str(r.created_at) for r in rows[1:])
        with database.engine.connect() as connection:
            for state, submitted in (("submitted", None), ("draft", made.isoformat())):
                with pytest.raises(IntegrityError), connection.begin():  # the schema refuses what services never write
                    connection.execute(
                        text(REVISION.format(extra=", submitted_at", values=", :submitted")),
                        {"e": ids[0], "n": 2, "state": state, "at": made.isoformat(), "submitted": submitted},
                    )
        schema.downgrade(database, BEFORE)
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM evidence_revision")).scalar_one() == 4
    finally:
        database.dispose()
