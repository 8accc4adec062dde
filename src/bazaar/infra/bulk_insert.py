"""Multi-row inserts straight through the database driver, for the bulk write paths.

``conn.execute(table.insert(), rows)`` builds and type-processes a parameter set per row, which
for narrow rows costs more than the database's own work. :func:`insert_rows` compiles the
statement once per table and column set, converts the values a column at a time with the
columns' own bind processors (the same JSON, datetime and cast handling as the ordinary path,
so the stored values are identical) and hands every row to the driver's ``executemany``, or
on PostgreSQL to a ``COPY`` (:func:`copy_rows`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Plan:
    sql: str
    keys: tuple[str, ...]  # in the statement's parameter order
    processors: tuple[tuple[int, Processor, bool], ...]  # (position, processor, memoise)
    positional: bool
    copy: str | None  # "table (column, ..)" when the rows go in by COPY (PostgreSQL)


# Below this many rows an INSERT costs less than a COPY's set-up: a unit of work's few events
# (an order, a stock change) keep the ordinary statement, and its statement count.
COPY_MIN_ROWS = 32

_Plans = dict[tuple[sa.Table, tuple[str, ...]], _Plan | None]  # by table and column keys
# per dialect: each engine's own (its JSON serialiser, its paramstyle)
_plans: weakref.WeakKeyDictionary[Dialect, _Plans] = weakref.WeakKeyDictionary()


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys, column keys of ``table``) in one statement.

    Stores exactly what ``conn.execute(table.insert(), rows)`` would. Columns left out get
    their database default; a table with Python-side defaults takes the ordinary path.
    """
    if not rows:
        return
    plan = _plan(conn.dialect, table, tuple(rows[0]))
    if plan is None:
        conn.execute(table.insert(), list(rows))
        return
    get = itemgetter(*plan.keys)
    values: list[Any] = list(map(get, rows)) if len(plan.keys) > 1 else [(get(r),) for r in rows]
    if plan.processors:
        columns = list(zip(*values, strict=True))
        for position, process, memoise in plan.processors:
            column = columns[position]
            if memoise:  # a batch shares a few timestamps: convert each distinct one once
                converted = {v: process(v) for v in set(column)}
                columns[position] = tuple(map(converted.__getitem__, column))
            else:
                columns[position] = tuple(map(process, column))
        values = list(zip(*columns, strict=True))
    if plan.copy is not None and len(values) >= COPY_MIN_ROWS:
        copy_rows(conn, plan.copy, values)
    elif plan.positional:
        conn.exec_driver_sql(plan.sql, values)
    else:
        conn.exec_driver_sql(plan.sql, [dict(zip(plan.keys, v, strict=True)) for v in values])


def copy_rows(conn: Connection, into: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``COPY <into> FROM STDIN`` the ``rows`` (PostgreSQL through psycopg), in their order.

    The same rows as an INSERT, for a third of the client's CPU of a pipelined
    ``executemany`` and less of the server's: no statement per row to bind and execute.
    ``into`` is ``table (column, ..)``. A failure is raised as SQLAlchemy's exception (an
    ``IntegrityError`` for a unique violation), as the INSERT would have raised it. The COPY
    is announced to SQLAlchemy's cursor events as one statement (no execution context), so
    statement counters and tracing see it like the INSERT it replaces.
    """
    if not rows:
        return
    dialect = conn.dialect
    statement = f"COPY {into} FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    conn.dispatch.before_cursor_execute(conn, cursor, statement, rows, None, True)
    try:
        with cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
        conn.dispatch.after_cursor_execute(conn, cursor, statement, rows, None, True)
    except dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    finally:
        cursor.close()


def _plan(dialect: Dialect, table: sa.Table, keys: tuple[str, ...]) -> _Plan | None:
    plans = _plans.setdefault(dialect, {})
    if (table, keys) not in plans:
        plans[table, keys] = _make_plan(dialect, table, keys)
    return plans[table, keys]


def _make_plan(dialect: Dialect, table: sa.Table, keys: tuple[str, ...]) -> _Plan | None:
    compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
    positional = dialect.paramstyle == "qmark"
    order = tuple(compiled.positiontup or ()) if positional else keys
    if dialect.paramstyle not in ("qmark", "pyformat") or sorted(compiled.params) != sorted(keys):
        return None  # defaults computed in Python, or a paramstyle not handled here
    processors = []
    for position, key in enumerate(order):
        column_type = table.c[key].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            impl = getattr(column_type, "impl", column_type)
            memoise = isinstance(impl, sa.DateTime | sa.Date)
            processors.append((position, process, memoise))
    copy = None
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        names = ", ".join(dialect.identifier_preparer.quote(table.c[k].name) for k in order)
        copy = f"{dialect.identifier_preparer.format_table(table)} ({names})"
    return _Plan(compiled.string, order, tuple(processors), positional, copy)
