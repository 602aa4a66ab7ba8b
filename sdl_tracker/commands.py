"""Shared machinery of the server commands: one transaction, an actor, one-line errors, --json, and the
only way they print (`say`, `echo_lines`, `emit`): control characters in what they print are shown
escaped, so stored text cannot drive the operator's terminal (a test holds every command to this)."""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .app_access import app_db
from .auth import Principal
from .boundary import DAY_EXPECTED, day_problem, int_problem, parse_day, text_problem
from .client.terminal import escape_controls
from .errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])

# Resolves --as EMAIL to that user's principal; accounts provides it, the app module installs it.
PrincipalResolver = Callable[..., Principal]
PRINCIPAL_RESOLVER = "sdl_tracker.principal_resolver"


def set_principal_resolver(app: Flask, resolver: PrincipalResolver) -> None:
    """Install the function that turns --as EMAIL into a Principal: resolver(session, email, origin=...)."""
    app.extensions[PRINCIPAL_RESOLVER] = resolver


def say(line: str = "", *, err: bool = False) -> None:
    """Print one line for a person, its control characters escaped (`\\x1b`, `\\r`, `\\n`, `\\u202e`):
    stored text in it can neither drive the terminal nor start a line of its own."""
    click.echo(escape_controls(line), err=err)


def say_progress(text: str, width: int) -> None:
    """Redraw the one progress line on standard error: the carriage return is the command's, `text` is escaped."""
    click.echo(f"\r{escape_controls(text)[:width]:<{width}}", err=True, nl=False)


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit with `code` (2: error, 1: a negative answer)."""
    say(f"error: {message}", err=True)
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
            say(line)

    return text


def say_json(data: Any) -> None:
    """Print `data` as JSON: ASCII only (json's default), so every control character is a `\\u` escape."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str, ensure_ascii=True))


def write_document(data: bytes, output: Path | None = None) -> None:
    """Write a document's bytes (an exported BOM) as they are to `output`, or to standard output for a file or a
    pipe; a terminal is refused, as the bytes are the document's own text, not escaped for a terminal."""
    if output is not None:
        try:
            output.write_bytes(data)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
        return
    stdout = sys.stdout.buffer
    if stdout.isatty():
        fail("the document is not printed on a terminal: give -o FILE, or redirect standard output")
        return
    stdout.write(data)
    stdout.flush()


def emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    """Print `data` as JSON, or call `text` to print it for people."""
    if as_json:
        say_json(data)
    else:
        text()


# --- The input boundary on the command line ---------------------------------------------------------


class ArgumentError(click.ClickException):
    """A refused argument: one line, `error: NAME: why`, exit 2, like every other refusal here."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the one line (click's usage errors print the usage and a hint as well)."""
        click.echo(escape_controls(f"error: {self.format_message()}"), err=True, file=file)


class UsageLine(ArgumentError):
    """A click usage error (unknown option or command, missing or bad argument) as one line with a hint."""


@contextlib.contextmanager
def one_line_usage() -> Iterator[None]:
    """Turn click's usage errors (usage, hint and message over several lines) into one line, exit 2:
    `error: no such option '--x' (try: sdl-tracker repo scan --help)`. A group called with nothing
    still prints its help."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise
    except click.UsageError as exc:
        message = " ".join(line.strip() for line in exc.format_message().splitlines() if line.strip())
        message = message[:1].lower() + message[1:]
        hint = f" (try: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        raise UsageLine(message.removesuffix(".") + hint) from None


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return "argument"
    return (
        f"--{param.name.replace('_', '-')}"
        if isinstance(param, click.Option) and param.name
        else str(param.human_readable_name)
    )


class Line(click.ParamType):
    """One line of text: no control characters (the default for every text argument)."""

    name = "text"
    multi_line = False

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The text, or exit 2 naming the first control character."""
        if isinstance(value, str):
            problem = text_problem(value, multi_line=self.multi_line)
            if problem:
                raise ArgumentError(f"{_name(param)}: {problem}")
        return value


class Text(Line):
    """Text that may span lines (a description, a justification): tabs and line breaks are kept."""

    multi_line = True


class DatabaseInt(click.ParamType):
    """A whole number that fits the database's integer columns (the default for every integer argument)."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number, or exit 2 saying the range."""
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise ArgumentError(f"{_name(param)}: {value!r} is not a whole number") from None
        problem = int_problem(number)
        if problem:
            raise ArgumentError(f"{_name(param)}: {problem}")
        return number


class Day(click.ParamType):
    """A day as YYYY-MM-DD within the range the tracker records."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The date, or exit 2 saying what is expected."""
        if isinstance(value, date):
            day: date | None = value
        else:
            day = parse_day(str(value))
        if day is None:
            raise ArgumentError(f"{_name(param)}: expected {DAY_EXPECTED}, got {value!r}")
        problem = day_problem(day)
        if problem:
            raise ArgumentError(f"{_name(param)}: {problem}")
        return day


LINE = Line()
TEXT = Text()
DATABASE_INT = DatabaseInt()
DAY = Day()


def bound_parameters(command: click.Command) -> None:
    """Give every argument and option of `command` and its subcommands the input boundary: plain text
    becomes one line, plain integers must fit the database. Run once on the root group, so a command
    added later is bounded without remembering to be; text that may span lines is declared TEXT."""
    for param in command.params:
        if param.type is click.STRING:
            param.type = LINE
        elif param.type is click.INT:
            param.type = DATABASE_INT
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            bound_parameters(sub)
