"""One statement over many rows, straight through the driver, for both engines.

The bulk write paths of the index (documents and their rows, the full-text tables, the facet
counters) all insert or update narrow rows by the thousand; how that is cheapest differs by
engine (statement per row on SQLite, ``COPY`` or one ``unnest`` statement on PostgreSQL), and
is decided here once rather than in each of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.infra.bulk_insert import copy_rows

_NAMED = re.compile(r":(\w+)")


def insert_many(
    conn: Connection,
    into: str,
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    suffix: str = "",
) -> None:
    """``INSERT INTO <into> VALUES ..`` for every row; ``types`` are the columns' PostgreSQL
    types, ``suffix`` an ON CONFLICT clause.

    SQLite runs the statement once per row (:func:`executemany_rows`): it is in-process and
    cheap per statement. PostgreSQL takes plain inserts by ``COPY`` (bulk_insert.copy_rows),
    and the rows of an ON CONFLICT insert as one array per column in one statement
    (``unnest``), in the order given: executed row by row, each costs a server round of
    parse, plan and execute, which on these narrow rows is most of the time of a bulk write.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" * len(types))
        executemany_rows(conn, f"INSERT INTO {into} VALUES ({marks}){suffix}", rows)
        return
    if not suffix and conn.dialect.driver == "psycopg":
        copy_rows(conn, into, rows)
        return
    names = [f"c{i}" for i in range(len(types))]
    # "%b": psycopg sends the arrays in the binary format, element by element in C; as text
    # ("%s") it quotes each element in Python, several times the client's CPU for the same values
    arrays = ", ".join(f"CAST(%b AS {t}[])" for t in types)
    conn.exec_driver_sql(
        f"INSERT INTO {into} SELECT {', '.join(names)}"
        f" FROM unnest({arrays}) WITH ORDINALITY AS u({', '.join(names)}, n)"
        f" ORDER BY n{suffix}",
        tuple(list(column) for column in zip(*rows, strict=True)),
    )


def executemany(conn: Connection, statement: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement`` (":name" parameters) once per row straight through the driver.

    The hot bulk path skips SQLAlchemy's per-row parameter processing, which costs more than
    the database's work for these narrow rows; values must be plain str/int/None.
    """
    if not rows:
        return
    if conn.dialect.paramstyle == "pyformat":
        statement = _NAMED.sub(r"%(\1)s", statement)
    conn.exec_driver_sql(statement, list(rows))


def executemany_rows(conn: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """:func:`executemany` for positional rows ("?" parameters): cheaper to build and bind."""
    if not rows:
        return
    if conn.dialect.paramstyle == "pyformat":
        statement = statement.replace("?", "%s")
    conn.exec_driver_sql(statement, list(rows))
