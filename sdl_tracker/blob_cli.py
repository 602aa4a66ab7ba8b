"""`sdl-tracker blobs`: verify the artifact store and collect what a crash left behind."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from .auth import Permission, Principal, authorize
from .blobs import check_store, collect_garbage
from .commands import emit, fail, json_option, say, server_command

blobs = AppGroup("blobs", help="The content-addressed artifact store.")


@blobs.command("verify")
@json_option
@server_command(read_only=True)
def blobs_verify(session: Session, actor: Principal, as_json: bool) -> None:
    """Exit 1 on a blob whose content no longer matches its name, or a row whose blob is missing."""
    authorize(actor, Permission.ORGANISATION_MANAGE)
    report = check_store(session)
    data = {
        "checked": report.checked,
        "corrupt": report.corrupt,
        "missing": report.missing,
        "unreferenced": report.unreferenced,
    }

    def text() -> None:
        say(f"{report.checked} blobs checked")
        for name in report.unreferenced:
            say(f"unreferenced (a crash leftover; `sdl-tracker blobs gc` removes it): {name}")

    emit(data, as_json, text)
    if report.corrupt or report.missing:
        fail(
            f"{len(report.corrupt)} corrupt, {len(report.missing)} missing: "
            + ", ".join([*(f"corrupt {n}" for n in report.corrupt), *(f"missing {n}" for n in report.missing)][:5]),
            code=1,
        )


@blobs.command("gc")
@click.option(
    "--min-age",
    default=3600,
    show_default=True,
    type=click.IntRange(0),
    help="Only files older than this many seconds (a younger one may be a write in flight).",
)
@server_command()
def blobs_gc(session: Session, actor: Principal, min_age: int) -> None:
    """Remove blob files that no row names."""
    authorize(actor, Permission.ORGANISATION_MANAGE)
    removed = collect_garbage(session, min_age_seconds=min_age)
    say(f"removed {len(removed)} unreferenced blob(s)")
