"""The app's extension keys and the doors' accessors to what the app holds (database, installation, settings).

Only doors use these (views, API endpoints, commands, their helpers, the demo, tests and benchmarks):
they read Flask's current app. Services, models and the core never import Flask; they get a session,
and the session carries the installation (`installation.installation(session)`).

This module sits below `web/`, `api/` and `commands.py` (which need the database but may not import the
application module that registers every feature) and above the core, which it only names in types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from .config import Settings
    from .db import Database
    from .installation import Installation

DB_EXTENSION = "sdl_tracker.db"
SETTINGS_EXTENSION = "sdl_tracker.settings"
INSTALLATION_EXTENSION = "sdl_tracker.installation"


def _app(app: Flask | None) -> Flask:
    return current_app if app is None else app


def app_db(app: Flask | None = None) -> Database:
    """The app's (or the current app's) Database."""
    return cast("Database", _app(app).extensions[DB_EXTENSION])


def app_installation(app: Flask | None = None) -> Installation:
    """The app's (or the current app's) Installation."""
    return cast("Installation", _app(app).extensions[INSTALLATION_EXTENSION])


def app_settings(app: Flask | None = None) -> Settings:
    """The app's (or the current app's) validated settings."""
    return cast("Settings", _app(app).extensions[SETTINGS_EXTENSION])
