"""Database engine, shared metadata and column types, for SQLite and PostgreSQL alike.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on. Write
transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the database lock at the
start instead of failing with "database is locked" when a deferred read transaction tries to
upgrade. Writers first queue for their turn, threads on a lock and processes on a file lock
(:mod:`bazaar.infra.write_turn`), so SQLite's busy handler, which sleeps and polls, is the
last resort. PostgreSQL uses psycopg 3 with a connection pool.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine

from bazaar.infra.write_turn import WriteTurn, sqlite_file

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

Json = sa.JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite has no time zone type)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def IdColumn(name: str = "id", **kwargs: Any) -> sa.Column[str]:  # noqa: N802 - column factory
    return sa.Column(name, sa.String(40), primary_key=True, **kwargs)


def create_db_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, busy_timeout_ms: int = 5000
) -> Engine:
    """Create an engine tuned for ``url``'s database (see module docstring)."""
    if url.startswith("sqlite"):
        path = sa.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _tune_sqlite(engine, busy_timeout_ms)
        return engine
    engine = sa.create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it sat idle for ``IDLE_PING_S``.

    ``pool_pre_ping`` would send a ``SELECT 1`` round trip at every checkout, several per
    order. A connection dies while idle (a server restart, a proxy's idle timeout), so only
    those are checked; one that breaks while in use fails its statement, and the pool is
    then invalidated as a whole, pre-ping or not.
    """

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < IDLE_PING_S:
            return
        try:
            ok = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (up to three tries).
            raise sa.exc.DisconnectionError(str(exc)) from exc
        if not ok:
            raise sa.exc.DisconnectionError("the connection did not answer a ping")


IDLE_PING_S = 5.0
_IDLE_SINCE = "bazaar_idle_since"


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Search and catalog reads walk large indexes: a 64 MiB page cache per connection and
        # a 256 MiB memory map (shared through the OS page cache) cut search p95 several-fold
        # at a million products (bench/README.md, search_index).
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("bazaar_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """The engine plus the two ways in: a read transaction and a write transaction."""

    def __init__(self, engine: Engine, *, write_wait_s: float = 5.0) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite: one writer at a time, queued (see writer())
        self._write_turn = (
            WriteTurn(sqlite_file(engine.url.database), write_wait_s) if self.is_sqlite else None
        )
        # The read transaction that ``reading()`` opened in this thread or task, if any.
        self._shared: ContextVar[Connection | None] = ContextVar(f"read-{id(self)}", default=None)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (deferred on SQLite), rolled back at the end.

        Inside :meth:`reading` it is that block's transaction instead.
        """
        shared = self._shared.get()
        if shared is not None:
            yield shared
            return
        with self.engine.connect() as conn, conn.begin() as tx:
            yield conn
            tx.rollback()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Every :meth:`read` inside this block shares one read transaction.

        A use case that reads through several services (checkout loads the cart, its offers,
        shipping rules and VAT classes) then pays for one BEGIN and sees one consistent
        snapshot. Writes are not affected: a unit of work always has its own connection.
        """
        if self._shared.get() is not None:
            yield
            return
        with self.read() as conn:
            token = self._shared.set(conn)
            try:
                yield
            finally:
                self._shared.reset(token)

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A connection whose next transaction takes the write lock at BEGIN on SQLite.

        On SQLite the block first waits for its turn: this process's other writers (up to
        ``write_wait_s``, the busy timeout; after that SQLite's own lock decides), then other
        processes' (:class:`~bazaar.infra.write_turn.WriteTurn`). SQLite lets one writer in
        at a time anyway, and a writer that waits on it inside ``BEGIN IMMEDIATE`` sleeps in
        growing steps (up to 100 ms) between tries: under load, requests queued that way
        finish late and out of turn. Queued, the next writer starts as soon as the last one
        commits.
        """
        turn = self._write_turn() if self._write_turn is not None else nullcontext()
        with turn, self.engine.connect().execution_options(bazaar_write=True) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction without events, committed unless the block raises."""
        with self.writer() as conn, conn.begin():
            yield conn

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_turn is not None:
            self._write_turn.close()


def dialect_insert(conn: Connection, table: sa.Table) -> Any:
    """``INSERT`` into ``table`` built for ``conn``'s dialect, so that ``on_conflict_do_*``
    and ``returning`` are available.

    ON CONFLICT is spelled the same on both engines, but SQLAlchemy builds it per dialect.
    Whether a row was inserted is read from RETURNING: an INSERT's rowcount is not reported
    by every driver (psycopg through SQLAlchemy answers -1).
    """
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def violates_unique(exc: sa.exc.IntegrityError, table: str, column: str) -> bool:
    """True when ``exc`` is the unique constraint on ``table.column`` (named by convention).

    Stores insert and let the database decide uniqueness: a check-then-insert would still race
    with a concurrent insert of the same key, and costs a query.
    """
    diag = getattr(exc.orig, "diag", None)  # psycopg
    if diag is not None:
        return bool(getattr(diag, "constraint_name", None) == f"uq_{table}_{column}")
    return f"UNIQUE constraint failed: {table}.{column}" in str(exc.orig)  # sqlite3
