"""A fresh installation for a benchmark run: a migrated database with the catalogs and one product."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdl_tracker import create_app, schema
from sdl_tracker.app_access import app_db
from sdl_tracker.auth import Principal
from sdl_tracker.catalog.services import load_packaged
from sdl_tracker.db import Database
from sdl_tracker.products.services import create_product


def fresh_product(
    work: Path, database_url: str, component_type: str, *, max_upload_bytes: int = 0
) -> tuple[Database, Principal, int]:
    """The database (SQLite in `work` unless a URL is given), the operator, and a new product's id."""
    config: dict[str, object] = {"DATA_DIR": str(work / "data")}
    if database_url:
        config["DATABASE_URL"] = database_url
    if max_upload_bytes:
        config["MAX_UPLOAD_BYTES"] = max_upload_bytes
    database = app_db(create_app(config))
    schema.upgrade(database)
    operator = Principal.operator("bench")
    with database.unit_of_work() as session:
        load_packaged(session, operator)
        product = create_product(
            session,
            operator,
            name=f"Bench {time.time_ns()}",
            component_type=component_type,
            target_sl=dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 2),
        )
        return database, operator, product.id
