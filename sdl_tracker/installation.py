"""The installation: the resources beyond the database that services need, in one object.

One `Installation` is built per app (and so per CLI command, which runs in an app) by
`sdl_tracker.app.create_app`, and every session the app makes carries it under one key, so services
reach the data directory, blob store, keys, git policy and clock through `installation(session)`
and never through the app's config or another feature's internals. Side effects that must wait for
the commit go through the session's after-commit outbox (`db.after_commit`).

The app's extension keys and their accessors live here too, below `web/` and `api/`, because those
libraries need the database but may not import the application module that registers every feature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session

    from .blobs import BlobStore
    from .config import Settings
    from .db import Database
    from .keys import Keyring

SESSION_KEY = "sdl_tracker.installation"
DB_EXTENSION = "sdl_tracker.db"
SETTINGS_EXTENSION = "sdl_tracker.settings"
INSTALLATION_EXTENSION = "sdl_tracker.installation"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GitPolicy:
    """Which remote locations repositories may be mirrored from."""

    schemes: frozenset[str]


@dataclass(frozen=True)
class Installation:
    """Data directory, blob store, keys, git policy and clock of one installation."""

    data_dir: Path
    blobs: BlobStore
    keys: Keyring
    git: GitPolicy
    clock: Callable[[], datetime] = field(default=_utcnow)

    def now(self) -> datetime:
        """The installation's current time, aware, in UTC (tests may give a fixed clock)."""
        return self.clock()

    @property
    def mirrors_dir(self) -> Path:
        """Where remote repositories are mirrored."""
        return self.data_dir / "mirrors"


def installation(session: Session) -> Installation:
    """The installation the session belongs to."""
    found = session.info.get(SESSION_KEY)
    if found is None:
        raise RuntimeError("this session carries no installation; make it through Database(..., installation=...)")
    return cast(Installation, found)


def _app(app: Flask | None) -> Flask:
    if app is not None:
        return app
    from flask import current_app

    return current_app


def app_db(app: Flask | None = None) -> Database:
    """The app's (or the current app's) Database."""
    return cast("Database", _app(app).extensions[DB_EXTENSION])


def app_installation(app: Flask | None = None) -> Installation:
    """The app's (or the current app's) Installation."""
    return cast(Installation, _app(app).extensions[INSTALLATION_EXTENSION])


def app_settings(app: Flask | None = None) -> Settings:
    """The app's (or the current app's) validated settings."""
    return cast("Settings", _app(app).extensions[SETTINGS_EXTENSION])
