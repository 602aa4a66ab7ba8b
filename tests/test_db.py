"""The database layer: migrations, UTC times, SQLite settings, constraints in the schema."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from sdl_tracker import schema
from sdl_tracker.audit.models import AuditEvent
from sdl_tracker.db import Database
from sdl_tracker.products.models import Product
from tests.factories import make_product


def test_migrations_have_a_single_head() -> None:
    assert len(schema.heads()) == 1


def test_migration_files_sort_in_chain_order() -> None:
    """Reading the folder top to bottom is reading the schema's history."""
    from alembic.script import ScriptDirectory

    from sdl_tracker.resources import resource_dir

    scripts = ScriptDirectory.from_config(schema.alembic_config())
    chain = [Path(s.path).name for s in reversed(list(scripts.walk_revisions()))]
    on_disk = sorted(p.name for p in (resource_dir("migrations") / "versions").glob("*.py"))
    assert chain == on_disk
    assert len(chain) >= 11


def test_upgrade_downgrade_upgrade_and_no_drift(backend: str, fresh_database_url: Any) -> None:
    database = Database(fresh_database_url(backend))
    try:
        schema.upgrade(database)
        assert schema.current_revision(database) == schema.heads()[0]
        assert schema.check(database) is None
        schema.downgrade(database, "base")
        assert schema.current_revision(database) is None
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        schema.upgrade(database)
        assert schema.check(database) is None
    finally:
        database.dispose()


def test_times_come_back_aware_in_utc(session: Session) -> None:
    product = make_product(session)
    plus_two = timezone(timedelta(hours=2))
    product.created_at = datetime(2026, 9, 11, 12, 0, tzinfo=plus_two)
    session.flush()
    session.expire_all()
    loaded = session.get(Product, product.id)
    assert loaded is not None
    assert loaded.created_at == datetime(2026, 9, 11, 10, 0, tzinfo=UTC)
    assert loaded.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(session: Session) -> None:
    product = make_product(session)
    product.created_at = datetime(2026, 1, 1)
    with pytest.raises(StatementError, match="naive"):
        session.flush()
    session.rollback()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=1234)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    database.dispose()


def test_sqlite_connections_are_reused_and_a_shorter_lock_wait_ends_with_its_unit(tmp_path: Path) -> None:
    """Connections are pooled (no pragmas per request), so a unit's shorter busy_timeout must not stay on
    the connection for the next unit that takes it from the pool."""
    database = Database(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=4321)
    with database.unit_of_work(lock_wait_ms=50) as session:
        first = session.connection().connection.dbapi_connection
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 50
    with database.unit_of_work(read_only=True) as session:
        assert session.connection().connection.dbapi_connection is first  # the same connection, reused
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 4321
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


def test_a_forked_child_opens_its_own_sqlite_connections(tmp_path: Path) -> None:
    """A child process must never use a connection its parent opened (SQLite forbids it across a fork)."""
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.unit_of_work() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
        session.connection().connection.info["opened in"] = "parent"
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            with database.unit_of_work() as session:
                session.execute(text("INSERT INTO t VALUES (1)"))
                fresh = "opened in" not in session.connection().connection.info
            os.write(writer, b"fresh" if fresh else b"inherited")
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert os.read(reader, 16) == b"fresh"
    with database.unit_of_work(read_only=True) as session:  # the parent's pooled connection still works
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
    database.dispose()


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path: Path) -> None:
    """Write transactions take the lock up front (BEGIN IMMEDIATE), so a read-then-write never
    dies with 'database is locked' while another writer holds the lock."""
    database = Database(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=10_000)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")

    def bump(_: int) -> None:
        with database.unit_of_work() as session:
            current = session.execute(text("SELECT n FROM counter")).scalar_one()
            time.sleep(0.005)  # widen the window between the read and the write
            session.execute(text("UPDATE counter SET n = :n"), {"n": current + 1})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(40)))
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 40  # no lost update
    database.dispose()


def test_read_only_sessions_do_not_take_the_write_lock(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=100)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    writer = database.session()
    writer.execute(text("INSERT INTO t VALUES (1)"))  # holds the write lock
    reader = database.session(read_only=True)
    assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0  # WAL: the reader is not blocked
    reader.close()
    writer.rollback()
    writer.close()
    database.dispose()


def _product_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": "Raw",
        "name_key": "raw",
        "vendor": "",
        "description": "",
        "component_type": "EDR",
        "cra_category": "default",
        "security_contact": "",
        "cvd_policy_url": "",
        "created_at": datetime.now(UTC),
        **{f"target_sl_fr{i}": 2 for i in range(1, 8)},
    }
    row.update(overrides)
    return row


@pytest.mark.parametrize(
    "overrides",
    [{"target_sl_fr3": 5}, {"target_sl_fr1": 0}, {"component_type": "PLC"}, {"cra_category": "huge"}],
)
def test_the_schema_itself_rejects_bad_values(connection: Connection, overrides: dict[str, Any]) -> None:
    """Invariants hold even for writes that bypass the services."""
    row = _product_row(**overrides)
    row["created_at"] = row["created_at"].isoformat()
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    nested = connection.begin_nested()
    with pytest.raises(IntegrityError):  # raw SQL, so only the database's CHECK can refuse it
        connection.execute(text(f"INSERT INTO product ({columns}) VALUES ({values})"), row)  # noqa: S608 - fixed names
    nested.rollback()


def test_foreign_keys_are_enforced(connection: Connection) -> None:
    nested = connection.begin_nested()
    with pytest.raises(IntegrityError):
        connection.execute(
            text(
                "INSERT INTO release (product_id, version, status, git_ref, created_at) "
                "VALUES (987654, '1.0', 'planned', '', :at)"
            ),
            {"at": datetime.now(UTC).isoformat()},
        )
    nested.rollback()


def test_each_test_starts_clean(session: Session) -> None:
    """The rolled-back transaction leaves nothing behind for the next test."""
    assert session.scalar(select(Product).where(Product.name == "Leftover")) is None
    assert session.scalars(select(AuditEvent).where(AuditEvent.action.like("products:%"))).first() is None
    make_product(session, "Leftover")


def test_each_test_starts_clean_again(session: Session) -> None:
    assert session.scalar(select(Product).where(Product.name == "Leftover")) is None
    make_product(session, "Leftover")


def test_upgrading_a_database_that_holds_data(backend: str, fresh_database_url: Any) -> None:
    """Every migration after the first runs over real rows (SQLite rebuilds tables that rows refer to)."""
    database = Database(fresh_database_url(backend))
    try:
        first = "083ac79a6429"
        schema.upgrade(database, first)
        now = datetime.now(UTC).isoformat()
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO product (name, vendor, description, component_type, target_sl_fr1, target_sl_fr2, "
                    "target_sl_fr3, target_sl_fr4, target_sl_fr5, target_sl_fr6, target_sl_fr7, cra_category, "
                    "security_contact, cvd_policy_url, created_at) VALUES ('Ölwächter PLC', '', '', 'EDR', 2, 2, 2, 2, "
                    "2, 2, 2, 'default', '', '', :now)"
                ),
                {"now": now},
            )
            product_id = connection.execute(text("SELECT id FROM product")).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO release (product_id, version, status, git_ref, created_at) "
                    "VALUES (:p, '1.0', 'released', '', :now)"
                ),
                {"p": product_id, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO repository (product_id, name, location, created_at) VALUES (:p, 'fw', '/srv/fw', :now)"
                ),
                {"p": product_id, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO interface (product_id, name, kind, protocol) "
                    "VALUES (:p, 'eth0', 'network', 'Modbus TCP')"
                ),
                {"p": product_id},
            )
        schema.upgrade(database)
        assert schema.check(database) is None
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT name_key FROM product")).scalar_one() == "ölwächter plc"
            assert connection.execute(text("SELECT count(*) FROM release")).scalar_one() == 1
        schema.downgrade(database, first)
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM interface")).scalar_one() == 1
    finally:
        database.dispose()


def test_slow_write_transactions_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = Database(f"sqlite:///{tmp_path / 'slow.db'}", slow_write_ms=50)
    try:
        with database.unit_of_work() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        with caplog.at_level("WARNING", logger="sdl_tracker.db"):
            with database.unit_of_work() as session:
                session.execute(text("INSERT INTO t VALUES (1)"))
                time.sleep(0.08)
            with database.unit_of_work(read_only=True) as session:
                session.execute(text("SELECT count(*) FROM t"))
                time.sleep(0.08)
            with database.unit_of_work() as session:
                session.execute(text("INSERT INTO t VALUES (2)"))
        held = [r.getMessage() for r in caplog.records if "write transaction held" in r.getMessage()]
        assert len(held) == 1, held  # the slow write only: not the read, not the quick write
    finally:
        database.dispose()


def test_a_failing_after_commit_step_neither_undoes_nor_hides_the_commit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sdl_tracker.db import after_commit

    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    ran: list[str] = []

    def broken() -> None:
        raise OSError(28, "No space left on device")

    try:
        with caplog.at_level("ERROR", logger="sdl_tracker.db"), database.unit_of_work() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            after_commit(session, broken)
            after_commit(session, lambda: ran.append("second"))
        assert ran == ["second"]  # the steps after a failing one still run
        assert any("after a committed transaction failed" in r.getMessage() for r in caplog.records)
        with database.unit_of_work(read_only=True) as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0  # the table exists: committed
    finally:
        database.dispose()


def test_after_commit_steps_wait_for_the_transaction_itself(tmp_path: Path) -> None:
    """Releasing a savepoint commits nothing: a file written then could name rows that never commit."""
    from sdl_tracker.db import after_commit

    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    ran: list[str] = []
    try:
        with database.unit_of_work() as session:
            with session.begin_nested():
                after_commit(session, lambda: ran.append("after"))
            assert ran == []
        assert ran == ["after"]
    finally:
        database.dispose()


def test_a_named_before_commit_step_runs_once_inside_the_transaction(tmp_path: Path) -> None:
    from sdl_tracker.db import before_commit

    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    seen: list[object] = []

    def count_rows(session: Session) -> None:
        seen.append(session.scalar(text("SELECT count(*) FROM t")))

    try:
        with database.unit_of_work() as session:
            session.execute(text("CREATE TABLE t (x INTEGER NOT NULL)"))
            for _ in range(3):
                before_commit(session, "count", lambda: count_rows(session))
            with session.begin_nested():
                session.execute(text("INSERT INTO t VALUES (1)"))
            with pytest.raises(IntegrityError), session.begin_nested():
                session.execute(text("INSERT INTO t VALUES (NULL)"))
            assert seen == []  # not at a savepoint's release, nor dropped by a savepoint's rollback
        assert seen == [1]
    finally:
        database.dispose()
