"""sdl-tracker: evidence for IEC 62443-4-1/4-2 and the EU Cyber Resilience Act.

Importing the package loads no third-party module (and not even importlib.metadata until the version
is asked for): the git hooks and CI clients start from here and must start fast. The application
(Flask, SQLAlchemy and every feature) loads when `create_app` is called.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs every git hook milliseconds at start-up; mypy reads this name as typing's
if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: defaults, then SDL_TRACKER_* environment, then `config` (see sdl_tracker.app)."""
    from .app import create_app as build

    return build(config)


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed distribution when first asked for."""
    if name != "__version__":
        raise AttributeError(f"module 'sdl_tracker' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("sdl-tracker")
    except PackageNotFoundError:  # running from a checkout that was never installed
        found = "0.0.0+checkout"
    globals()["__version__"] = found
    return found
