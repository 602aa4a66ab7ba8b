"""sdl-tracker: evidence for IEC 62443-4-1/4-2 and the EU Cyber Resilience Act.

Importing the package loads no third-party module: the git hooks and CI clients start from here and
must start fast. The application (Flask, SQLAlchemy and every feature) loads when `create_app` is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

try:
    __version__ = version("sdl-tracker")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: defaults, then SDL_TRACKER_* environment, then `config` (see sdl_tracker.app)."""
    from .app import create_app as build

    return build(config)
