"""sdl-tracker: evidence for IEC 62443-4-1/4-2 and the EU Cyber Resilience Act."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .blobs import BlobStore
from .config import load_settings
from .db import Database
from .keys import load_installation_keys
from .resources import resource_dir

try:
    __version__ = version("sdl-tracker")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"

DB_EXTENSION = "sdl_tracker.db"
SETTINGS_EXTENSION = "sdl_tracker.settings"


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: defaults, then SDL_TRACKER_* environment, then `config`; fail fast on bad settings."""
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder="web/static",
        instance_relative_config=False,
    )
    settings = load_settings(app.instance_path, config)
    app.config.update(settings.flask_config())
    app.extensions[SETTINGS_EXTENSION] = settings
    app.extensions[DB_EXTENSION] = Database(
        settings.DATABASE_URL,
        keys=load_installation_keys(Path(settings.DATA_DIR)),
        blobs=BlobStore(Path(settings.DATA_DIR) / "blobs", settings.MAX_UPLOAD_BYTES),
        git_schemes=settings.git_schemes,
        busy_timeout_ms=settings.SQLITE_BUSY_TIMEOUT_MS,
    )
    logging.getLogger("sdl_tracker").setLevel(settings.LOG_LEVEL)
    if settings.TRUSTED_PROXIES:
        # Client addresses (throttling, audit origins) come from the proxies' headers, and only
        # from as many hops as are trusted.
        n = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    # Imported here, not at module level, so that importing the package builds nothing.
    from .api import init_api
    from .web import init_web

    init_web(app)
    init_api(app)
    _connect_signals()
    return app


def _connect_signals() -> None:
    """Let higher features react to lower ones' events (DESIGN.md); connecting twice is harmless."""
    from .claims.services import copy_claims_forward
    from .products.signals import release_created

    release_created.connect(copy_claims_forward, weak=False)
    _register_job_kinds()


def _register_job_kinds() -> None:
    """Each feature registers the job kinds it owns (jobs/ imports no feature)."""
    from .gitlink.scan import register_jobs as gitlink_jobs
    from .sboms.importer import register_jobs as sbom_jobs

    gitlink_jobs()
    sbom_jobs()
