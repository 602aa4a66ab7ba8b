"""What the audit tests share: running commands, and the verdict of `audit verify`."""

from __future__ import annotations

from typing import Any

from flask import Flask

from sdl_tracker.cli import cli


def run(app: Flask, *args: str) -> Any:
    """Run an `sdl-tracker` command in the app."""
    return app.test_cli_runner().invoke(cli, list(args))


def broken(app: Flask, *args: str) -> str:
    """The one line `audit verify` exits 1 with."""
    result = run(app, "audit", "verify", *args)
    assert result.exit_code == 1, result.output
    line = result.output.strip()
    assert line.startswith("error: audit chain broken: ") and "\n" not in line
    return line
