"""Crash safety of the blob store: kill -9 a writer at random points, many times; nothing is ever
corrupt, and no row names a missing blob (an unreferenced leftover is allowed, and collected); a
half-written upload is reported by `blobs verify` and collected once it is old enough."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from sdl_tracker import schema
from sdl_tracker.app import open_installation
from sdl_tracker.blobs import CHUNK, STALE_AFTER_SECONDS, BlobStore, check_store, collect_garbage, session_blobs
from sdl_tracker.cli import cli
from sdl_tracker.db import Database

# The writer loads the blob store and the database layer only, not the whole application (sdl_tracker.app,
# whose import took most of each round), and so builds its installation as sdl_tracker.app does.
WRITER = """
import io, os, sys
from pathlib import Path
from sdl_tracker.blobs import BlobStore, store_blob
from sdl_tracker.db import Database
from sdl_tracker.installation import GitPolicy, Installation
from sdl_tracker.keys import Keyring

data = Path(sys.argv[2])
blobs = BlobStore(data / "blobs", 64 * 1024 * 1024)
installation = Installation(data_dir=data, blobs=blobs, keys=Keyring(data), git=GitPolicy(frozenset()))
database = Database(sys.argv[1], installation=installation)
print("ready", flush=True)
while True:
    with database.unit_of_work() as session:
        for _ in range(3):
            store_blob(session, io.BytesIO(os.urandom(int.from_bytes(os.urandom(3), "big") % (3 * 1024 * 1024) + 1)))
"""

KILLS = 25


@pytest.mark.slow
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
        assert sorted(removed.blobs) == report.unreferenced
        assert check_store(session).unreferenced == []
        assert not any(store.tmp.iterdir())  # half-written temporary files are gone too
    database.dispose()


# Stores standard input; the test feeds it more than a chunk, then kills it while it waits for the rest.
UPLOAD = """
import sys
from pathlib import Path
from sdl_tracker.blobs import BlobStore
BlobStore(Path(sys.argv[1]), max_bytes=1 << 30).put(sys.stdin.buffer)
"""


def _killed_upload(store: BlobStore) -> Path:
    """The temporary file of an upload killed half-way: one chunk written, the rest never came."""
    before = {f.path for f in store.temporary_files()}
    upload = subprocess.Popen([sys.executable, "-c", UPLOAD, str(store.root)], stdin=subprocess.PIPE)
    assert upload.stdin is not None
    upload.stdin.write(os.urandom(CHUNK + 4096))
    upload.stdin.flush()
    deadline = time.monotonic() + 60
    while not [f for f in store.temporary_files() if f.path not in before and f.size == CHUNK]:
        assert time.monotonic() < deadline and upload.poll() is None, "the upload never wrote its first chunk"
        time.sleep(0.05)
    upload.send_signal(signal.SIGKILL)
    upload.wait()
    upload.stdin.close()
    (path,) = {f.path for f in store.temporary_files()} - before
    return path


@pytest.mark.slow
def test_blobs_verify_names_half_written_uploads_and_gc_removes_the_stale_ones(app: Flask, session: Session) -> None:
    store = session_blobs(session)
    stale, fresh = _killed_upload(store), _killed_upload(store)
    two_hours_ago = time.time() - 2 * STALE_AFTER_SECONDS
    os.utime(stale, (two_hours_ago, two_hours_ago))
    runner = app.test_cli_runner()

    verified = runner.invoke(cli, ["blobs", "verify"])
    assert verified.exit_code == 0, verified.output  # a leftover is no damage to the evidence
    lines = verified.output.splitlines()
    assert (
        f"half-written temporary file, left by a killed upload (`sdl-tracker blobs gc` removes it): {stale}, "
        f"{CHUNK:,} bytes, 2 h old" in lines
    )
    in_flight = f"temporary file of an upload in flight (or killed less than 60 min ago): {fresh}, {CHUNK:,} bytes, "
    assert [line for line in lines if line.startswith(in_flight) and line.endswith(" s old")], lines
    reported = json.loads(runner.invoke(cli, ["blobs", "verify", "--json"]).output)["temporary"]
    assert [(t["path"], t["size"], t["stale"]) for t in reported] == [
        (str(stale), CHUNK, True),
        (str(fresh), CHUNK, False),
    ]
    assert reported[0]["age_seconds"] >= 2 * STALE_AFTER_SECONDS

    # gc removes what is old enough not to be an upload in flight, and keeps the rest.
    collected = runner.invoke(cli, ["blobs", "gc"])
    assert collected.exit_code == 0, collected.output
    assert f"and 1 half-written temporary file(s) ({CHUNK:,} bytes)" in collected.output
    assert not stale.exists() and fresh.exists()
    assert [f.path for f in check_store(session).temporary] == [fresh]
    fresh.unlink()
