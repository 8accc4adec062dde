"""Inventory queries of stock feeds: per-source locks, last sequences and idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import dialect_insert
from bazaar.inventory.store import (
    stock_sync_keys,
    stock_sync_sequences,
    stock_sync_sources,
)

# --- stock feeds ------------------------------------------------------------------------------


def lock_source(conn: Connection, source: str, now: datetime) -> None:
    """Serialise batches of one source: the upserted row stays locked until commit.

    Within one source's batch the sequences and keys read next are then exact (SQLite's
    write transaction already serialises everything).
    """
    statement = dialect_insert(conn, stock_sync_sources).values(source=source, last_batch_at=now)
    conn.execute(
        statement.on_conflict_do_update(index_elements=["source"], set_={"last_batch_at": now})
    )


def last_sequences(
    conn: Connection, source: str, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    wanted = set(keys)
    if not wanted:
        return {}
    q = stock_sync_sequences
    query = sa.select(q.c.sku, q.c.warehouse_id, q.c.last_sequence).where(
        q.c.source == source, q.c.sku.in_(sorted({sku for sku, _ in wanted}))
    )
    found = {
        (row["sku"], row["warehouse_id"]): int(row["last_sequence"])
        for row in conn.execute(query).mappings()
    }
    return {key: seq for key, seq in found.items() if key in wanted}


def seen_keys(conn: Connection, source: str, keys: Iterable[str]) -> set[str]:
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    k = stock_sync_keys
    query = sa.select(k.c.idempotency_key).where(
        k.c.source == source, k.c.idempotency_key.in_(wanted)
    )
    return set(conn.scalars(query))


def save_sequence(
    conn: Connection, source: str, sku: str, warehouse_id: str, sequence: int, now: datetime
) -> None:
    statement = dialect_insert(conn, stock_sync_sequences).values(
        source=source, sku=sku, warehouse_id=warehouse_id, last_sequence=sequence, updated_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["source", "sku", "warehouse_id"],
            set_={"last_sequence": sequence, "updated_at": now},
        )
    )


def save_key(conn: Connection, source: str, key: str, now: datetime) -> None:
    conn.execute(
        stock_sync_keys.insert().values(source=source, idempotency_key=key, created_at=now)
    )


def purge_keys(conn: Connection, older_than: datetime) -> int:
    k = stock_sync_keys
    return int(conn.execute(k.delete().where(k.c.created_at < older_than)).rowcount)
