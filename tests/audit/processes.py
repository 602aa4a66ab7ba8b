"""What the concurrency tests run in processes of their own (spawned, so this module stays light to import)."""

from __future__ import annotations

from pathlib import Path

from sdl_tracker.audit.chain import make_seal
from sdl_tracker.audit.seal import advance_seal

SEALED_AT = "2026-12-01T00:00:00+00:00"


def advance_many(path: str, key: bytes, seqs: list[int]) -> None:
    """Seal these seqs in this order, as commits whose seal writes overtake each other."""
    for seq in seqs:
        advance_seal(Path(path), key, make_seal(key, seq, f"{seq:064x}", SEALED_AT))


def append_events(url: str, data_dir: str, commits: int) -> None:
    """Commit one event at a time, as another process of the installation (a worker, a command) does."""
    # Imported here: the whole application comes with it, which only this process needs.
    from sdl_tracker.app import open_installation
    from sdl_tracker.audit.services import record
    from sdl_tracker.auth import Principal
    from sdl_tracker.db import Database

    database = Database(url, installation=open_installation(Path(data_dir)))
    for n in range(commits):
        with database.unit_of_work() as session:
            record(session, Principal.operator("other"), "tests:audit:append", target_type="test", target_id=n)
    database.dispose()
