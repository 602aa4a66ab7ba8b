"""`sdl-tracker blobs`: verify the artifact store and collect what a crash left behind."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from .auth import Permission, Principal, authorize
from .blobs import STALE_AFTER_SECONDS, TemporaryFile, check_store, collect_garbage
from .commands import emit, fail, json_option, say, server_command

blobs = AppGroup("blobs", help="The content-addressed artifact store.")


def _age(seconds: float) -> str:
    """An age as a person reads it: 40 s, 25 min, 3 h, 5 days."""
    minutes = int(seconds // 60)
    if minutes < 2:
        return f"{int(seconds)} s"
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def _temporary_line(leftover: TemporaryFile) -> str:
    what = (
        "half-written temporary file, left by a killed upload (`sdl-tracker blobs gc` removes it)"
        if leftover.stale
        else f"temporary file of an upload in flight (or killed less than {_age(STALE_AFTER_SECONDS)} ago)"
    )
    return f"{what}: {leftover.path}, {leftover.size:,} bytes, {_age(leftover.age_seconds)} old"


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
        "temporary": [
            {"path": str(f.path), "size": f.size, "age_seconds": int(f.age_seconds), "stale": f.stale}
            for f in report.temporary
        ],
    }

    def text() -> None:
        say(f"{report.checked} blobs checked")
        for name in report.unreferenced:
            say(f"unreferenced (a crash leftover; `sdl-tracker blobs gc` removes it): {name}")
        for leftover in report.temporary:
            say(_temporary_line(leftover))

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
    default=STALE_AFTER_SECONDS,
    show_default=True,
    type=click.IntRange(0),
    help="Only files older than this many seconds (a younger one may be a write in flight).",
)
@server_command()
def blobs_gc(session: Session, actor: Principal, min_age: int) -> None:
    """Remove blob files that no row names, and temporary files that killed uploads left half-written."""
    authorize(actor, Permission.ORGANISATION_MANAGE)
    removed = collect_garbage(session, min_age_seconds=min_age)
    say(
        f"removed {len(removed.blobs)} unreferenced blob(s) and {len(removed.temporary)} half-written "
        f"temporary file(s) ({sum(f.size for f in removed.temporary):,} bytes)"
    )
