"""Existing claims keep their data through the claim assurance migration, and are judged by the new rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from sdl_tracker import schema
from sdl_tracker.db import Database

BEFORE = "8ade4f6c4010"
AFTER = "a1c2e3f40001"


def test_claims_survive_and_copies_arrive_carried_forward(backend: str, fresh_database_url: Any) -> None:
    database = Database(fresh_database_url(backend))
    try:
        schema.upgrade(database, BEFORE)
        now = datetime.now(UTC).isoformat()
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO catalog_edition (catalog, standard, edition, title, published, meta, content_digest, "
                    "loaded_at) VALUES ('iec62443-4-2', 'IEC 62443-4-2', '2019', 't', '2019-02', '{}', 'x', :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO requirement (edition_id, ref, title, kind, applies_via, position) "
                    "VALUES (1, 'CR 1.3', 't', 'component_requirement', '[]', 0)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO product (name, name_key, vendor, description, component_type, target_sl_fr1, "
                    "target_sl_fr2, target_sl_fr3, target_sl_fr4, target_sl_fr5, target_sl_fr6, target_sl_fr7, "
                    "cra_category, security_contact, cvd_policy_url, created_at) VALUES ('P', 'p', '', '', 'EDR', "
                    "2, 2, 2, 2, 2, 2, 2, 'default', '', '', :now)"
                ),
                {"now": now},
            )
            for version in ("1.0", "1.1"):
                connection.execute(
                    text(
                        "INSERT INTO release (product_id, version, status, git_ref, created_at) "
                        "VALUES (1, :v, 'planned', '', :now)"
                    ),
                    {"v": version, "now": now},
                )
            for release_id, by in ((1, "user:so@example.com"), (2, "copied from 1.0")):
                connection.execute(
                    text(
                        "INSERT INTO claim (release_id, requirement_id, status, justification, countermeasure, notes, "
                        "updated_at, updated_by) VALUES (:r, 1, 'not_applicable', 'No users', '', '', :now, :by)"
                    ),
                    {"r": release_id, "now": now, "by": by},
                )
        schema.upgrade(database, AFTER)
        with database.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT release_id, status, justification, set_by, carried_from, accepted_at "
                    "FROM claim ORDER BY release_id"
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "not_applicable", "No users", "user:so@example.com", "", None),  # kept, not accepted
            (2, "not_applicable", "No users", "copied from 1.0", "1.0", None),
        ]
        schema.downgrade(database, BEFORE)
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM claim")).scalar_one() == 2
    finally:
        database.dispose()
