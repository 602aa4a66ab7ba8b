"""Tampering in the database is caught by `sdl-tracker audit verify`; concurrent writers never fork the chain."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from sdl_tracker import schema
from sdl_tracker.app import open_installation
from sdl_tracker.audit.services import record, seal_unchained, verify
from sdl_tracker.auth import Principal
from sdl_tracker.db import Database
from tests.audit.helpers import broken, run
from tests.factories import OPERATOR


def test_a_changed_field_is_detected(app: Flask, connection: Connection, history: list[int]) -> None:
    connection.execute(text("UPDATE audit_event SET actor = 'user:someone-else' WHERE seq = :s"), {"s": history[4]})
    assert f"event seq {history[4]} " in broken(app) and "modified" in broken(app)


def test_a_hash_changed_to_text_that_is_no_digest_is_detected(
    app: Flask, session: Session, connection: Connection, history: list[int]
) -> None:
    connection.execute(text("UPDATE audit_event SET hash = :h WHERE seq = :s"), {"h": "\u00e9" * 64, "s": history[-1]})
    assert f"seq {history[-1]}" in broken(app)
    record(session, OPERATOR, "tests:audit:append", target_type="test", target_id=1)
    session.commit()  # writes go on (the seal stays where it was, as evidence)
    assert f"seq {history[-1]}" in broken(app)


def test_a_row_deleted_in_the_middle_is_detected(app: Flask, connection: Connection, history: list[int]) -> None:
    connection.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": history[4]})
    assert f"event seq {history[4]} deleted" in broken(app)


def test_rows_deleted_after_a_checkpoint_are_detected(
    app: Flask, connection: Connection, history: list[int], tmp_path: Path
) -> None:
    exported = tmp_path / "checkpoint.json"
    assert run(app, "audit", "checkpoint", "--output", str(exported)).exit_code == 0
    head = json.loads(exported.read_text())["seq"]
    connection.execute(text("DELETE FROM audit_event WHERE seq > :s"), {"s": head - 3})
    connection.execute(text("DELETE FROM audit_checkpoint"))  # the attacker also removes the stored checkpoints
    # The newest checkpoint is also kept in the data directory, out of the database's reach...
    assert f"events after seq {head - 3} are missing" in broken(app)
    # ...so is the sealed head (tests/audit/test_seal.py)...
    data_dir = Path(app.extensions["sdl_tracker.settings"].DATA_DIR)
    (data_dir / "audit-checkpoint.json").unlink()
    assert f"events after seq {head - 3} are missing" in broken(app)
    # ...and an exported checkpoint proves the same on its own, whoever also removed both files.
    (data_dir / "audit-head.json").unlink()
    assert "seal" in broken(app) and "is missing" in broken(app)
    result = run(app, "audit", "verify", "--checkpoint", str(exported))
    assert result.exit_code == 1 and f"events after seq {head - 3} are missing" in result.output


def test_emptied_hashes_are_not_resealed(
    app: Flask, session: Session, connection: Connection, history: list[int]
) -> None:
    """Edit rows, blank their hashes and hope `db upgrade` seals them again with the real key: it will not."""
    connection.execute(
        text("UPDATE audit_event SET actor = 'user:nobody', hash = '' WHERE seq >= :s"), {"s": history[5]}
    )
    assert seal_unchained(session) == 0
    assert f"event seq {history[5]} " in broken(app)


def test_swapped_rows_are_detected(app: Flask, connection: Connection, history: list[int]) -> None:
    a, b = history[3], history[4]
    connection.execute(text("UPDATE audit_event SET seq = -1 WHERE seq = :a"), {"a": a})
    connection.execute(text("UPDATE audit_event SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    connection.execute(text("UPDATE audit_event SET seq = :b WHERE seq = -1"), {"b": b})
    # seq is covered by the hash, so renumbered events no longer verify; exchanging two numbers looks
    # exactly like an event slipped in before its successor, and is reported at the first of them.
    message = broken(app)
    assert f"(seq {a})" in message or f"seq {a} " in message
    assert "modified" in message or "inserted" in message


def test_a_row_moved_in_storage_order_is_detected(app: Flask, connection: Connection, history: list[int]) -> None:
    """Swap two whole rows (every column but the id): the chain, read in storage order, is out of order."""
    columns = "seq, at, actor, origin, action, target_type, target_id, product_id, details, digest, prev_hash, hash"
    ids = [
        connection.execute(text("SELECT id FROM audit_event WHERE seq = :s"), {"s": s}).scalar_one()
        for s in history[3:5]
    ]
    rows = [connection.execute(text(f"SELECT {columns} FROM audit_event WHERE id = :i"), {"i": i}).one() for i in ids]  # noqa: S608
    connection.execute(text("UPDATE audit_event SET seq = -seq WHERE id IN (:a, :b)"), {"a": ids[0], "b": ids[1]})
    names = [c.strip() for c in columns.split(",")]
    for target, row in zip(ids, reversed(rows), strict=True):
        values = dict(zip(names, row, strict=True))
        values["details"] = (
            json.dumps(values["details"]) if not isinstance(values["details"], str) else values["details"]
        )
        assignments = ", ".join(f"{n} = :{n}" for n in names)
        connection.execute(
            text(f"UPDATE audit_event SET {assignments} WHERE id = :target"),  # noqa: S608 - fixed column names
            {**values, "target": target},
        )
    assert "rows were moved" in broken(app)


def test_an_inserted_row_is_detected(app: Flask, connection: Connection, history: list[int]) -> None:
    connection.execute(text("UPDATE audit_event SET seq = seq + 1000000 WHERE seq > :s"), {"s": history[4]})
    prev = connection.execute(text("SELECT hash FROM audit_event WHERE seq = :s"), {"s": history[4]}).scalar_one()
    connection.execute(
        text(
            "INSERT INTO audit_event (seq, at, actor, origin, action, target_type, target_id, details, digest, "
            "prev_hash, hash) VALUES (:seq, :at, 'user:attacker', 'cli', 'products:product:delete', "
            "'product', '1', '{}', :d, :p, :h)"
        ),
        {"seq": history[4] + 1, "at": "2026-11-26 12:00:00+00:00", "d": "0" * 64, "p": prev, "h": "f" * 64},
    )
    connection.execute(text("UPDATE audit_event SET seq = seq - 1000000 + 1 WHERE seq > 1000000"))
    assert f"(seq {history[4] + 1}) was inserted" in broken(app)


def test_a_chain_recomputed_without_the_key_is_detected(
    app: Flask, session: Session, connection: Connection, history: list[int]
) -> None:
    from sdl_tracker.audit.chain import GENESIS, chain_hash, event_content
    from sdl_tracker.audit.models import AuditEvent

    prev = GENESIS
    for event in session.query(AuditEvent).order_by(AuditEvent.seq):
        forged = chain_hash(b"not the installation key" * 2, event_content(event.chained()), prev)
        connection.execute(
            text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": prev, "h": forged, "i": event.id},
        )
        prev = forged
    assert "recomputed without the key" in broken(app)


def test_a_checkpoint_file_from_elsewhere_is_refused(app: Flask, tmp_path: Path, history: list[int]) -> None:
    exported = tmp_path / "checkpoint.json"
    run(app, "audit", "checkpoint", "--output", str(exported))
    document = json.loads(exported.read_text())
    document["head_hash"] = "0" * 64
    exported.write_text(json.dumps(document))
    result = run(app, "audit", "verify", "--checkpoint", str(exported))
    assert result.exit_code == 2 and "signature does not verify" in result.output
    exported.write_text("{}")
    assert (
        "not a sdl-tracker audit checkpoint file" in run(app, "audit", "verify", "--checkpoint", str(exported)).output
    )
    # Hostile numbers are refused with the reason (exit 2: an error), never a crash read as a verdict (1).
    for seq in ("Infinity", "1e400", "true", '"12"', "-3"):
        exported.write_text(json.dumps({**document, "head_hash": "x"})[:-1] + f', "seq": {seq}}}')
        result = run(app, "audit", "verify", "--checkpoint", str(exported))
        assert result.exit_code == 2 and "seq is not a positive whole number" in result.output, (seq, result.output)


def test_twenty_concurrent_writers_never_fork_the_chain(backend: str, fresh_database_url: Any, tmp_path: Path) -> None:
    database = Database(fresh_database_url(backend), installation=open_installation(tmp_path))
    schema.upgrade(database)
    writers, each = 20, 5

    def write(worker: int) -> None:
        for n in range(each):
            with database.unit_of_work() as session:
                record(
                    session,
                    Principal.operator(f"w{worker}"),
                    "tests:audit:append",
                    target_type="test",
                    target_id=f"{worker}-{n}",
                )

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(write, range(writers)))
    with database.unit_of_work(read_only=True) as session:
        result = verify(session, Principal.operator("tests"))
        seqs = [row[0] for row in session.execute(text("SELECT seq FROM audit_event ORDER BY seq"))]
    database.dispose()
    assert result.problem is None
    assert result.events == writers * each and seqs == list(range(1, writers * each + 1))


def test_events_from_before_the_chain_are_sealed_on_upgrade(
    backend: str, fresh_database_url: Any, tmp_path: Path
) -> None:
    database = Database(fresh_database_url(backend), installation=open_installation(tmp_path))
    schema.upgrade(database, "bf814493301e")  # the schema before the chain
    with database.engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_event (at, actor, origin, action, target_type, target_id, details, digest) "
                    "VALUES (:at, 'cli:old', 'cli', 'products:product:create', 'product', :n, '{}', :d)"
                ),
                {"at": f"2026-11-0{n + 1} 10:00:00+00:00", "n": str(n), "d": "0" * 64},
            )
    schema.upgrade(database)
    with database.unit_of_work() as session:
        assert seal_unchained(session) == 3
        record(session, OPERATOR, "tests:audit:append", target_type="test", target_id="after")
    with database.unit_of_work(read_only=True) as session:
        result = verify(session, OPERATOR)
    database.dispose()
    assert result.problem is None and result.events == 4
