"""The `sdl-tracker` server commands: Flask's group (routes, shell), `info`, `db`, `run --debug` and every
feature's commands (named in the application module's registry)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext

from . import __version__, schema
from .app import COMMANDS, create_app
from .app_access import app_db, app_installation, app_settings
from .audit.services import seal_head_on_commit, seal_unchained
from .auth import Principal
from .catalog.services import load_packaged
from .commands import bound_parameters, fail, one_line_usage, say
from .config import ConfigError
from .serve import serve


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        say(f"error: setting {exc}", err=True)
        sys.exit(2)


# Flask's own options of its `flask` command: which app to load (-A/--app), a .env file to read
# (-e/--env-file) and debug mode (--debug). This script has one app, reads its settings from SDL_TRACKER_*
# only, and debugs through `run --debug`: they would only mislead, so they are not offered.
FLASK_OPTIONS = frozenset({"app", "env_file", "debug"})


class TrackerGroup(FlaskGroup):
    """Flask's command group without Flask's own options, FLASK_* variables or debug flag, and with usage
    errors as one line (`error: no such option '--x' (try: sdl-tracker repo scan --help)`, exit 2) for
    every command below it, as every other refusal is printed."""

    def __init__(self, **extra: Any) -> None:
        # FlaskGroup reads every option of every command from FLASK_<COMMAND>_<OPTION> variables too
        # (FLASK_USER_LIST_AS_JSON=1 would add --json): an option is only what is typed.
        extra["context_settings"] = {**extra.get("context_settings", {}), "auto_envvar_prefix": None}
        super().__init__(set_debug_flag=False, **extra)
        self.params = [p for p in self.params if p.name not in FLASK_OPTIONS]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Click's parsing, without FlaskGroup's early look at FLASK_APP and FLASK_ENV_FILE."""
        return click.Group.parse_args(self, ctx, args)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        """The root context; a usage error in the root's own arguments is one line."""
        with one_line_usage():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command named; a usage error of any command or group below is one line."""
        with one_line_usage():
            return super().invoke(ctx)


@click.group(
    "sdl-tracker",  # also what a test runner's messages call it
    cls=TrackerGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
@click.version_option(__version__, prog_name="sdl-tracker")
def cli() -> None:
    """sdl-tracker: evidence for IEC 62443-4-1/4-2 and the EU Cyber Resilience Act."""


@cli.command()
@with_appcontext
def info() -> None:
    """Print the version, the database URL (without password), the data directory and the e-mail relay."""
    settings = app_settings(current_app)
    database = app_db(current_app)
    relay = app_installation(current_app).smtp
    say(f"sdl-tracker {__version__}")
    say(f"database:       {database.safe_url()}")
    say(f"data directory: {settings.DATA_DIR}")
    mail = f"{relay.host}:{relay.port} ({relay.security}) from {relay.sender}" if relay else "not configured"
    say(f"e-mail:         {mail}")


@cli.group()
def db() -> None:
    """Migrate the database schema."""


@db.command()
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Migrate up to REVISION (default: the newest); at the newest, load the packaged catalogs too."""
    database = app_db(current_app)
    _alembic(lambda: schema.upgrade(database, revision))
    at = schema.current_revision(database)
    say(f"database at {at or 'base'}")
    if at in schema.heads():
        with database.unit_of_work() as session:
            sealed = seal_unchained(session)
            seal_head_on_commit(session)  # an installation from before sealed heads gets its first one here
            results = load_packaged(session, Principal.operator(getpass.getuser()))
        loaded = [r.what for r in results if r.created]
        say(f"catalogs: loaded {', '.join(loaded)}" if loaded else "catalogs: up to date")
        if sealed:
            say(f"audit: {sealed} earlier event(s) sealed into the chain")


@db.command()
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Migrate down to REVISION (`base` removes every table)."""
    _alembic(lambda: schema.downgrade(app_db(current_app), revision))
    say(f"database at {schema.current_revision(app_db(current_app)) or 'base'}")


@db.command()
@with_appcontext
def current() -> None:
    """Print the revision the database is at, and whether it is the newest."""
    revision = schema.current_revision(app_db(current_app))
    state = "head" if revision in schema.heads() else "behind: run `sdl-tracker db upgrade`"
    say(f"{revision or 'base'} ({state})")


@db.command()
@with_appcontext
def check() -> None:
    """Exit 1 if the models and the migrated schema differ."""
    drift = schema.check(app_db(current_app))
    if drift:
        fail(f"schema drift: {drift}", code=1)
    say("no drift: the models match the migrations")


@db.command()
@click.option("-m", "--message", required=True, help="What the revision does.")
@with_appcontext
def revision(message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    _alembic(lambda: schema.revision(app_db(current_app), message))


def _alembic(action: object) -> None:
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    try:
        action()  # type: ignore[operator]
    except (CommandError, SQLAlchemyError) as exc:
        fail(str(exc).splitlines()[0])


@cli.command("run")
@click.option("--debug", is_flag=True, help="Required: this is the development server, with reloader and debugger.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@with_appcontext
def run(debug: bool, host: str, port: int) -> None:
    """The development server, for --debug only; `sdl-tracker serve` serves for real."""
    if not debug:
        fail("the development server is for debugging only: pass --debug, or use `sdl-tracker serve`")
    current_app.run(host=host, port=port, debug=True, use_reloader=True)


cli.add_command(serve)
cli.add_command(routes_command)
cli.add_command(shell_command)
for _command in COMMANDS:
    cli.add_command(_command)
bound_parameters(cli)


def main() -> None:
    """Console script entry point."""
    cli.main(prog_name="sdl-tracker")
