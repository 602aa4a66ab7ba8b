"""Shared machinery of the server commands: one transaction, an actor, one-line errors, --json."""

from __future__ import annotations

import functools
import getpass
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .app_access import app_db
from .auth import Principal
from .errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])

# Resolves --as EMAIL to that user's principal; accounts provides it, the app module installs it.
PrincipalResolver = Callable[..., Principal]
PRINCIPAL_RESOLVER = "sdl_tracker.principal_resolver"


def set_principal_resolver(app: Flask, resolver: PrincipalResolver) -> None:
    """Install the function that turns --as EMAIL into a Principal: resolver(session, email, origin=...)."""
    app.extensions[PRINCIPAL_RESOLVER] = resolver


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit with `code` (2: error, 1: a negative answer)."""
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


def acting_principal(session: Session, as_email: str | None) -> Principal:
    """The operator (audited as cli:<os user>), or the user named by --as with their own rights."""
    if not as_email:
        return Principal.operator(getpass.getuser())
    resolver: PrincipalResolver = current_app.extensions[PRINCIPAL_RESOLVER]
    return resolver(session, as_email, origin="cli")


def server_command(*, read_only: bool = False) -> Callable[[F], F]:
    """Run the command as f(session, actor, **options) in one transaction, with --as and error handling."""

    def decorate(f: F) -> F:
        @click.option("--as", "as_email", metavar="EMAIL", help="Act as this user, with their permissions.")
        @functools.wraps(f)
        def wrapper(*args: Any, as_email: str | None = None, **kwargs: Any) -> Any:
            database = app_db(current_app)
            try:
                with database.unit_of_work(read_only=read_only) as session:
                    actor = acting_principal(session, as_email)
                    return f(session, actor, *args, **kwargs)
            except DomainError as exc:
                fail(exc.one_line())
            except SQLAlchemyError as exc:
                # The operator needs the cause, on one line; the trace would only hide it.
                fail(f"database: {str(exc.orig if hasattr(exc, 'orig') and exc.orig else exc).splitlines()[0]}")
            return None

        return wrapper  # type: ignore[return-value]

    return decorate


def json_option(f: F) -> F:
    """Add --json: print machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def echo_lines(lines: list[str], empty: str) -> Callable[[], None]:
    """A text printer for emit(): the lines, or `empty` when there are none."""

    def text() -> None:
        for line in lines or [empty]:
            click.echo(line)

    return text


def emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    """Print `data` as JSON, or call `text` to print it for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
    else:
        text()
