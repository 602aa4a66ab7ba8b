"""Alembic environment: runs on the connection sdl-tracker hands it (see sdl_tracker/schema.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sdl_tracker.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    """Migrate on `connection`, in batch mode on SQLite so ALTERs work by table copy."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    # Plain `alembic` invocations: build the app's engine from the usual settings.
    from sdl_tracker import create_app
    from sdl_tracker.app_access import app_db

    engine = app_db(create_app()).engine
    with engine.begin() as own_connection:
        run_migrations(own_connection)
else:
    run_migrations(connection)
