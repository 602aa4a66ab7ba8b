"""Crash safety of the blob store: kill -9 a writer at random points, many times; nothing is ever
corrupt, and no row names a missing blob (an unreferenced leftover is allowed, and collected)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sdl_tracker import schema
from sdl_tracker.app import open_installation
from sdl_tracker.blobs import check_store, collect_garbage
from sdl_tracker.db import Database

WRITER = """
import io, os, sys
from pathlib import Path
from sdl_tracker.app import open_installation
from sdl_tracker.blobs import store_blob
from sdl_tracker.db import Database

installation = open_installation(Path(sys.argv[2]), max_upload_bytes=64 * 1024 * 1024)
database = Database(sys.argv[1], installation=installation)
print("ready", flush=True)
while True:
    with database.unit_of_work() as session:
        for _ in range(3):
            store_blob(session, io.BytesIO(os.urandom(int.from_bytes(os.urandom(3), "big") % (3 * 1024 * 1024) + 1)))
"""

KILLS = 25


def test_kill_9_during_writes_never_corrupts_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    installation = open_installation(tmp_path, max_upload_bytes=64 * 1024 * 1024)
    store = installation.blobs
    database = Database(url, installation=installation)
    schema.upgrade(database)
    rng = random.Random(62443)
    for _ in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(tmp_path)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.01, 0.4))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    with database.unit_of_work() as session:
        report = check_store(session)
        assert report.checked > 0
        assert report.corrupt == [] and report.missing == []
        removed = collect_garbage(session, min_age_seconds=0)
        assert sorted(removed) == report.unreferenced
        assert check_store(session).unreferenced == []
        assert not any(store.tmp.iterdir())  # half-written temporary files are gone too
    database.dispose()
