"""The chain head sealed outside the database: deleting, truncating or rolling back the newest events is named.

The tampering is done as a database administrator would, with SQL on the tables; the seal lives in
the data directory (and, optionally, a witness file), which that administrator cannot reach.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from sdl_tracker import create_app, schema
from sdl_tracker.app import open_installation
from sdl_tracker.app_access import app_db, app_installation, app_settings
from sdl_tracker.audit.chain import make_seal, seal_document
from sdl_tracker.audit.seal import SEAL_FILE, advance_seal, read_seal
from sdl_tracker.audit.services import record, verify
from sdl_tracker.auth import Principal
from sdl_tracker.db import Database
from sdl_tracker.installation import installation
from tests.audit.helpers import broken, run
from tests.audit.processes import SEALED_AT, advance_many, append_events
from tests.factories import OPERATOR, ApiClient, make_user

pytestmark = pytest.mark.db


def seal_path(app: Flask) -> Path:
    return Path(app_settings(app).DATA_DIR) / SEAL_FILE


def sealed(path: Path) -> tuple[int, str]:
    found = read_seal(path)
    assert found is not None, f"no seal at {path}"
    return found.seq, found.head_hash


def verdict(app: Flask, *args: str) -> dict[str, Any]:
    """`audit verify --json`: exit 1 when tampering is found, else 0."""
    result = run(app, "audit", "verify", "--json", *args)
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["intact"] else 1), result.output
    return report  # type: ignore[no-any-return]


def problem_kind(app: Flask, *args: str) -> str:
    problem = verdict(app, *args)["problem"]
    assert problem is not None
    return str(problem["kind"])


def append(session: Session, count: int) -> int:
    """Commit `count` new events as the tracker would; returns the newest seq."""
    seqs = [record(session, OPERATOR, "tests:audit:append", target_type="test", target_id=n).seq for n in range(count)]
    session.commit()
    return seqs[-1]


def head(connection: Connection) -> tuple[int, str]:
    row = connection.execute(text("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")).one()
    return int(row[0]), str(row[1])


def test_every_commit_that_appends_events_seals_its_head(
    app: Flask, connection: Connection, history: list[int]
) -> None:
    assert sealed(seal_path(app)) == head(connection) and head(connection)[0] == history[-1]
    report = verdict(app)
    assert report["seals"] == [{"file": str(seal_path(app)), "seq": history[-1], "state": "agrees"}]
    assert f"head sealed at seq {history[-1]}" in run(app, "audit", "verify").output


def test_deleting_the_newest_events_is_named(app: Flask, connection: Connection, history: list[int]) -> None:
    connection.execute(text("DELETE FROM audit_event WHERE seq > :s"), {"s": history[6]})
    message = broken(app)
    assert f"events after seq {history[6]} are missing" in message and f"up to seq {history[-1]}" in message
    assert "the newest events were deleted" in message
    assert problem_kind(app) == "tail-deleted"


def test_truncating_the_table_is_named(app: Flask, backend: str, connection: Connection, history: list[int]) -> None:
    connection.execute(text("TRUNCATE audit_event" if backend == "postgresql" else "DELETE FROM audit_event"))
    connection.execute(text("DELETE FROM audit_checkpoint"))
    assert "the table was truncated" in broken(app)
    assert problem_kind(app) == "truncated"


def test_restoring_an_earlier_copy_is_named_and_never_sealed_over(
    app: Flask, session: Session, connection: Connection, history: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    connection.execute(text("CREATE TABLE audit_event_copy AS SELECT * FROM audit_event"))
    newest = append(session, 5)
    assert sealed(seal_path(app))[0] == newest
    connection.execute(text("DELETE FROM audit_event"))
    connection.execute(text("INSERT INTO audit_event SELECT * FROM audit_event_copy"))
    assert "or the table was rolled back to an earlier state" in broken(app)
    # The tracker writes on over the restored table, past the sealed seq: the seal stays where it was,
    # so the rollback is still named, and every commit says so in the log.
    with caplog.at_level(logging.ERROR, logger="sdl_tracker.audit.services"):
        append(session, 8)
    assert "audit log tampering" in caplog.text
    assert sealed(seal_path(app))[0] == newest
    message = broken(app)
    assert f"the event at seq {newest} is not the one" in message and "rolled back to an earlier state" in message
    assert problem_kind(app) == "rolled-back"


def test_a_restore_made_on_purpose_is_recorded_and_sealed(
    app: Flask, session: Session, connection: Connection, history: list[int]
) -> None:
    refused = run(app, "audit", "reseal")
    assert refused.exit_code == 2 and "nothing to accept: no seal contradicts the database" in refused.output
    connection.execute(text("DELETE FROM audit_event WHERE seq > :s"), {"s": history[4]})
    result = run(app, "audit", "reseal")
    assert result.exit_code == 0, result.output
    assert verdict(app)["intact"]
    event = connection.execute(text("SELECT seq, details FROM audit_event WHERE action = 'audit:seal:reset'")).one()
    details = event[1] if isinstance(event[1], dict) else json.loads(event[1])
    assert event[0] == history[5] and details["restored_head_seq"] == history[4]
    assert details["contradicted"][0]["kind"] == "tail-deleted"


def test_a_forged_seal_is_named_and_kept(app: Flask, session: Session, history: list[int]) -> None:
    path = seal_path(app)
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "seq": history[-1] + 5}))
    assert "does not verify with this installation's key: it was forged or edited" in broken(app)
    assert problem_kind(app) == "seal-forged"
    forged = path.read_text()
    append(session, 1)
    assert path.read_text() == forged  # evidence is not overwritten by the next commit
    path.write_text("not json")
    assert "holds no seal" in broken(app) and problem_kind(app) == "seal-forged"


def test_a_missing_seal_is_named(app: Flask, history: list[int]) -> None:
    seal_path(app).unlink()
    message = broken(app)
    assert "seal" in message and f"is missing although the log holds events up to seq {history[-1]}" in message
    assert problem_kind(app) == "unsealed"


def test_a_seal_behind_the_log_is_a_warning_not_tampering(
    app: Flask, session: Session, connection: Connection, history: list[int]
) -> None:
    """As after a crash between a commit and its seal: the seal is older than the newest events."""
    key = installation(session).keys.audit_hmac_key
    at = connection.execute(text("SELECT hash FROM audit_event WHERE seq = :s"), {"s": history[5]}).scalar_one()
    seal_path(app).write_text(json.dumps(seal_document(make_seal(key, history[5], at, SEALED_AT))))
    result = run(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and f"is behind the log (sealed at seq {history[5]}" in result.output
    report = verdict(app)
    assert report["seals"][0]["state"] == "seal-behind" and len(report["warnings"]) == 1
    newest = append(session, 1)  # the next commit catches up
    assert sealed(seal_path(app))[0] == newest and verdict(app)["warnings"] == []


def test_a_failed_seal_write_is_logged_and_the_request_still_succeeds(
    app: Flask, api: ApiClient, session: Session, history: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    make_user(session, "admin@example.com", admin=True)
    session.commit()
    token = api.as_user("admin@example.com")
    lock = seal_path(app).with_name(f"{SEAL_FILE}.lock")
    lock.unlink()
    lock.mkdir()  # the seal cannot be written now
    body = {"name": "Sealed or not", "component_type": "EDR", "target_sl": {f"FR{i}": 2 for i in range(1, 8)}}
    with caplog.at_level(logging.ERROR, logger="sdl_tracker.audit.services"):
        assert api.call("POST", "/api/v1/products", token, json=body).status_code == 201
    assert "could not be sealed" in caplog.text
    report = verdict(app)
    assert report["intact"] and report["seals"][0]["state"] == "seal-behind"
    lock.rmdir()
    newest = append(session, 1)
    assert sealed(seal_path(app))[0] == newest and verdict(app)["warnings"] == []


@pytest.fixture
def installation_dirs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A data directory and, elsewhere, a directory for the witness."""
    data, elsewhere = tmp_path / "data", tmp_path / "witness"
    data.mkdir()
    elsewhere.mkdir()
    yield data, elsewhere


def _fresh_app(url: str, data: Path, witness: Path | None = None) -> Flask:
    config: dict[str, object] = {"DATABASE_URL": url, "DATA_DIR": str(data)}
    if witness is not None:
        config["AUDIT_WITNESS"] = str(witness)
    return create_app(config)


def test_the_witness_names_what_the_data_directory_no_longer_can(
    backend: str, fresh_database_url: Any, installation_dirs: tuple[Path, Path]
) -> None:
    """Someone who can reach the database and the data directory deletes the newest events and re-seals
    the shortened chain with the installation's key; the witness, out of their reach, still names it."""
    data, elsewhere = installation_dirs
    witness = elsewhere / "audit-head.json"
    url = fresh_database_url(backend)
    app = _fresh_app(url, data, witness)
    assert run(app, "db", "upgrade").exit_code == 0
    assert witness.read_text() == (data / SEAL_FILE).read_text()
    newest = sealed(witness)[0]
    with app_db(app).engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq > :s"), {"s": newest - 2})
        seq, at = head(connection)
    key = app_installation(app).keys.audit_hmac_key
    advance_seal(data / SEAL_FILE, key, make_seal(key, seq, at, SEALED_AT), replace=True)
    message = broken(app)
    assert f"the witness ({witness}) sealed the log up to seq {newest}" in message
    # An installation that does not write the witness checks it when asked to.
    plain = _fresh_app(url, data)
    assert run(plain, "audit", "verify").exit_code == 0
    assert f"the witness ({witness}) sealed the log up to seq {newest}" in broken(plain, "--witness", str(witness))
    missing = run(plain, "audit", "verify", "--witness", str(elsewhere / "nope.json"))
    assert missing.exit_code == 2 and "--witness: cannot read" in missing.output
    app_db(app).dispose()
    app_db(plain).dispose()


def test_an_installation_from_before_sealed_heads_is_sealed_by_db_upgrade(
    backend: str, fresh_database_url: Any, installation_dirs: tuple[Path, Path]
) -> None:
    data, _ = installation_dirs
    app = _fresh_app(fresh_database_url(backend), data)
    assert run(app, "db", "upgrade").exit_code == 0
    (data / SEAL_FILE).unlink()  # as an installation upgraded from before this version has none
    assert "is missing although the log holds events" in broken(app)
    assert run(app, "db", "upgrade").exit_code == 0
    assert run(app, "audit", "verify").exit_code == 0
    app_db(app).dispose()


def test_concurrent_commits_never_move_the_seal_back(backend: str, fresh_database_url: Any, tmp_path: Path) -> None:
    url = fresh_database_url(backend)
    database = Database(url, installation=open_installation(tmp_path))
    schema.upgrade(database)
    path = tmp_path / SEAL_FILE
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            found = read_seal(path)
            if found is not None:
                seen.append(found.seq)
            done.wait(0.001)

    def write(worker: int) -> None:
        for n in range(5):
            with database.unit_of_work() as session:
                record(session, Principal.operator(f"w{worker}"), "tests:audit:append", target_type="t", target_id=n)

    watcher = threading.Thread(target=watch)
    watcher.start()
    spawn = multiprocessing.get_context("spawn")
    others = [spawn.Process(target=append_events, args=(url, str(tmp_path), 10)) for _ in range(2)]
    for process in others:
        process.start()
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(write, range(12)))
    for process in others:
        process.join(timeout=120)
        assert process.exitcode == 0
    done.set()
    watcher.join()

    assert seen and seen == sorted(seen), "the seal moved back"
    with database.unit_of_work(read_only=True) as session:
        result = verify(session, Principal.operator("tests"))
        newest = session.execute(text("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")).one()
    database.dispose()
    assert result.problem is None and result.warnings == () and result.events == 12 * 5 + 2 * 10
    assert sealed(path) == (newest[0], newest[1])


def test_a_late_seal_never_replaces_a_newer_one(tmp_path: Path) -> None:
    """Processes sealing out of order, as commits whose seal writes overtake each other."""
    key = b"k" * 32
    path = tmp_path / SEAL_FILE
    spawn = multiprocessing.get_context("spawn")
    orders = [list(range(1, 201))[offset::2][::direction] for offset in range(2) for direction in (1, -1)]
    processes = [spawn.Process(target=advance_many, args=(str(path), key, seqs)) for seqs in orders]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert sealed(path) == (200, f"{200:064x}")
    assert not advance_seal(path, key, make_seal(key, 199, "0" * 64, SEALED_AT))
    assert sealed(path)[0] == 200


@pytest.mark.parametrize("mac", ["\u00e9" * 64, "\x00"])
def test_a_seal_whose_mac_is_no_hex_is_named_as_forged(
    app: Flask, session: Session, history: list[int], mac: str
) -> None:
    path = seal_path(app)
    path.write_text(json.dumps({**json.loads(path.read_text()), "mac": mac}))
    assert problem_kind(app) == "seal-forged"
    forged = path.read_text()
    append(session, 1)  # commits go on, and leave the evidence where it is
    assert path.read_text() == forged
