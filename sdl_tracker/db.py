"""One declarative base, the UTC type, and the engine and sessions of an app."""

from __future__ import annotations

import enum
import logging
import os
import re
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, inspect, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.types import Enum as SAEnum
from sqlalchemy.types import TypeDecorator

from .boundary import leaves
from .errors import Invalid
from .installation import SESSION_KEY

if TYPE_CHECKING:
    from .installation import Installation

log = logging.getLogger(__name__)
_Row = TypeVar("_Row", bound="Base")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The base of every model; constraint names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def str_enum(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """An enum stored by value as a string with a CHECK constraint, visible to `alembic check`."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        length=max(len(m.value) for m in enum_cls),
    )


def lock_row(session: Session, key: InstrumentedAttribute[int], value: int) -> bool:
    """Lock the row whose `key` is `value` until the transaction ends (whether it exists), so writers
    that decide on what hangs below it (a release's SBOMs, a product's release versions) go one at a
    time, each seeing what the one before committed. FOR NO KEY UPDATE leaves rows that merely refer
    to it free to be inserted meanwhile. SQLite has no row locks and needs none: BEGIN IMMEDIATE
    already serialises its writers."""
    return session.execute(select(key).where(key == value).with_for_update(key_share=True)).first() is not None


def locked(session: Session, row: _Row) -> _Row:
    """`row` with its database row locked until the transaction ends (as lock_row) and read again, so a
    decision made on its state (accept, withdraw) stands on what the decision before it committed, never
    on an older copy this session loaded before the lock."""
    state = inspect(row)
    key = state.mapper.primary_key
    session.execute(
        select(*key)
        .where(*(c == v for c, v in zip(key, state.identity or (), strict=True)))
        .with_for_update(key_share=True)
    )
    session.refresh(row)
    return row


# Execution option that marks a read-only unit of work, so SQLite need not take the write lock.
READ_ONLY = "sdl_tracker_read_only"
# Execution option: how long this unit of work may wait for a lock (best-effort writes give up early).
LOCK_WAIT_MS = "sdl_tracker_lock_wait_ms"
# The busy_timeout a pooled SQLite connection was last given (in its info), when not the engine's default.
_BUSY_TIMEOUT = "sdl_tracker_busy_timeout"


class Database:
    """The engine of one app and the factory of its sessions."""

    def __init__(
        self,
        url: str,
        *,
        installation: Installation | None = None,
        busy_timeout_ms: int = 15_000,
        lock_timeout_ms: int = 15_000,
        slow_write_ms: int | None = None,
    ) -> None:
        self.url = make_url(url)
        # Sessions carry the installation (keys, blob store, git policy, clock), so services reach
        # them through `installation(session)` without reading the app's config.
        self._info: dict[str, object] = {SESSION_KEY: installation}
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, busy_timeout_ms)
        else:
            self.engine = _postgres_engine(url, lock_timeout_ms)
        if slow_write_ms is not None:
            _log_slow_writes(self.engine, slow_write_ms)
        event.listen(self.engine, "before_cursor_execute", _refuse_unstorable_values)
        self._factory = _factory(bind=self.engine, expire_on_commit=False, info=self._info)
        self._bound = False

    def session(self, *, read_only: bool = False, lock_wait_ms: int | None = None) -> Session:
        """A new session; read-only ones begin without the SQLite write lock; `lock_wait_ms` bounds lock waits."""
        options: dict[str, object] = {}
        if read_only:
            options[READ_ONLY] = True
        if lock_wait_ms is not None:
            options[LOCK_WAIT_MS] = int(lock_wait_ms)
        if options and not self._bound:
            return self._factory(bind=self.engine.execution_options(**options))
        return self._factory()

    def read_connection(self) -> Connection:
        """A connection for reading only (no SQLite write lock)."""
        return self.engine.execution_options(**{READ_ONLY: True}).connect()

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False, lock_wait_ms: int | None = None) -> Iterator[Session]:
        """A session that commits once at the end, or rolls back on any error."""
        session = self.session(read_only=read_only, lock_wait_ms=lock_wait_ms)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def bind_to(self, connection: Connection) -> None:
        """Make every session join `connection`'s transaction (tests roll it back at the end)."""
        self._factory = _factory(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint", info=self._info
        )
        self._bound = True

    @property
    def bound(self) -> bool:
        """Whether sessions share one test connection (so no second thread may use the database)."""
        return self._bound

    def safe_url(self) -> str:
        """The database URL without its password."""
        return self.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


# PostgreSQL states that mean "busy, try again": lock not available, serialization failure,
# deadlock, too many connections, starting up or shutting down; class 08 is a lost connection.
_BUSY_SQLSTATES = frozenset({"55P03", "40001", "40P01", "53300", "57P03", "57P01"})
_SQLITE_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")

# Seconds a client is told to wait before it tries again after a busy answer.
RETRY_AFTER_SECONDS = 2


def _insert_or_nothing(session: Session, target: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING into a model or table, in the session's dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(target).on_conflict_do_nothing()


def insert_missing(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose key is not stored yet, as two sessions at once may (ON CONFLICT DO NOTHING)."""
    if rows:
        session.execute(_insert_or_nothing(session, model), rows)


def insert_if_missing(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert one row unless a row with its key is stored (ON CONFLICT DO NOTHING); whether this session
    inserted it, so of two sessions inserting the same key at once exactly one says so."""
    # The inserted row's key comes back only when this statement inserted it (the row count is not reported
    # alike by every driver).
    mapper = inspect(model)
    statement = _insert_or_nothing(session, mapper.local_table).values(**values).returning(*mapper.primary_key)
    return session.execute(statement).first() is not None


def is_busy(error: BaseException) -> bool:
    """Whether a database error means the database is busy or unreachable for now (503), not a bug (500)."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in _BUSY_SQLSTATES or sqlstate.startswith("08")
    if hasattr(error.orig, "sqlstate") and isinstance(error, OperationalError):
        return True  # psycopg: no SQLSTATE means the server was never reached (refused, down, unresolvable)
    return isinstance(error, OperationalError) and any(w in str(error.orig).lower() for w in _SQLITE_BUSY_WORDS)


AFTER_COMMIT = "sdl_tracker.after_commit"
BEFORE_COMMIT = "sdl_tracker.before_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (side effects such as files)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


def before_commit(session: Session, name: str, callback: Callable[[], None]) -> None:
    """Run `callback` inside the transaction just before it commits (a last look at everything it wrote);
    the first callback asked for under `name` runs, once, however often it is asked for again."""
    session.info.setdefault(BEFORE_COMMIT, {}).setdefault(name, callback)


# NUL cannot be stored or even compared on PostgreSQL; a lone surrogate cannot be encoded for either
# driver (UnicodeEncodeError).
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def _refuse_unstorable_values(
    _connection: Connection, _cursor: Any, _statement: str, parameters: Any, _context: Any, _executemany: bool
) -> None:
    """The last line of the input boundary: a NUL character cannot be stored or even compared on
    PostgreSQL (SQLite takes it), a lone surrogate or an integer beyond 64 bits on neither. The doors
    refuse these per field; this refuses them, on both engines alike, from any path that missed (a file a command read,
    a foreign document), as Invalid instead of a database error."""
    for value in leaves(parameters):  # a row (tuple or dict), or many of them, as the driver takes them
        if isinstance(value, str) and _UNSTORABLE_TEXT.search(value):
            raise Invalid("text must not contain the NUL character (U+0000) or a lone surrogate (U+D800-U+DFFF)")
        elif isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise Invalid(f"the number {value} is too large to store")


def _factory(**kwargs: Any) -> sessionmaker[Session]:
    factory = sessionmaker(**kwargs)

    @event.listens_for(factory, "before_commit")
    def _prepare(session: Session) -> None:
        if session.in_nested_transaction():
            return  # releasing a savepoint commits nothing yet
        for callback in session.info.pop(BEFORE_COMMIT, {}).values():
            callback()

    @event.listens_for(factory, "after_commit")
    def _run(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released: nothing is committed until the transaction itself is
        # The transaction is committed: a failing side effect must not turn that into an error for
        # the caller (who would retry a write that was kept), nor stop the steps after it.
        for callback in session.info.pop(AFTER_COMMIT, []):
            try:
                callback()
            except Exception:
                log.exception("a side effect after a committed transaction failed")

    @event.listens_for(factory, "after_rollback")
    def _discard(session: Session) -> None:
        session.info.pop(AFTER_COMMIT, None)
        # After a savepoint's rollback the transaction goes on, and a step that looks at what it
        # leaves at its commit still has to run then.
        if not session.in_nested_transaction():
            session.info.pop(BEFORE_COMMIT, None)

    return factory


def _lower(value: object) -> object:
    """lower() for SQLite as PostgreSQL reads it: every letter folded, not only ASCII."""
    return value.lower() if isinstance(value, str) else value


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    # Pooled: opening a connection runs four pragmas and registers lower(), a fifth of a small page's time
    # when every request paid it. A forked child drops the pool it inherited without closing the parent's
    # connections (SQLite connections must never cross a fork); threads each take their own from the pool.
    engine = create_engine(url, pool_size=8, max_overflow=24)
    _forget_pool_in_forked_children(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The documented pysqlite workaround: let SQLAlchemy, not the driver, emit BEGIN, so
        # savepoints work and write transactions can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's own lower() folds ASCII only, so a search for "évaluation" missed "Évaluation" there while
        # PostgreSQL found it: searches lower both sides, and both engines must fold alike. No index is built
        # on lower(), so replacing it changes no stored order.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # A pooled connection keeps its busy_timeout: a unit that asked for a shorter wait must not leave it
        # to the next one, so each unit sets the wait it wants when it differs from the connection's.
        asked = options.get(LOCK_WAIT_MS)
        wait = busy_timeout_ms if asked is None else int(asked)
        if connection.info.get(_BUSY_TIMEOUT, busy_timeout_ms) != wait:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wait}")
            connection.info[_BUSY_TIMEOUT] = wait
        # A deferred transaction that later writes fails at once with SQLITE_BUSY when another
        # writer holds the lock (busy_timeout cannot help); IMMEDIATE waits for it instead.
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


_BEGAN = "sdl_tracker_began"


def _forget_pool_in_forked_children(engine: Engine) -> None:
    """After a fork, the child starts a pool of its own and leaves the parent's connections to the parent."""
    reference = weakref.ref(engine)

    def forget() -> None:
        inherited = reference()
        if inherited is not None:
            inherited.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def _log_slow_writes(engine: Engine, slow_ms: int) -> None:
    """Log every write transaction held longer than `slow_ms` (it blocked other writers meanwhile)."""

    @event.listens_for(engine, "begin")
    def _began(connection: Connection) -> None:
        if not connection.get_execution_options().get(READ_ONLY):
            connection.info[_BEGAN] = time.monotonic()

    def _ended(connection: Connection) -> None:
        began = connection.info.pop(_BEGAN, None)
        if began is not None:
            held_ms = (time.monotonic() - began) * 1000
            if held_ms >= slow_ms:
                log.warning("write transaction held %.0f ms (pid %d)", held_ms, os.getpid())

    event.listen(engine, "commit", _ended)
    event.listen(engine, "rollback", _ended)


def _postgres_engine(url: str, lock_timeout_ms: int) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        wait = options.get(LOCK_WAIT_MS)
        if wait is None and not options.get(READ_ONLY):
            wait = lock_timeout_ms  # a writer never waits without end: past this it fails, and answers 503
        if wait is not None:
            # SET LOCAL ends with the transaction, so the pooled connection keeps the server's default.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait)}")

    return engine
