"""Inventory tables, and the queries of warehouses and stock counts.

Stock held for orders is queried in :mod:`bazaar.inventory.hold_store`, feed bookkeeping in
:mod:`bazaar.inventory.feed_store`; both use the tables and helpers defined here.

Stock rows change only through conditional updates whose ``WHERE`` clause states the invariant
the change must keep (``on_hand - reserved - allocated >= n`` to reserve ``n``); a function
returns False when the row count says the condition did not hold. CHECK constraints back the
same invariants, so even a bug in this module cannot store negative stock. Nothing here relies
on ``SELECT … FOR UPDATE`` (a no-op on SQLite): on PostgreSQL a conditional ``UPDATE`` waits
for a concurrent writer of the row and re-evaluates its condition on the committed row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import IdColumn, UtcDateTime, dialect_insert, metadata
from bazaar.inventory.model import StockLevel, Warehouse

warehouses = sa.Table(
    "warehouses",
    metadata,
    IdColumn(),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("owner", sa.String(40), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    # set to the owner on the one warehouse that takes stock of offers without a feed
    sa.Column("default_for", sa.String(40), nullable=True, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "owner", "priority"),
)

stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse_id", sa.String(40), sa.ForeignKey("warehouses.id"), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False),
    sa.Column("allocated", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    sa.CheckConstraint("allocated >= 0", name="allocated_not_negative"),
    sa.CheckConstraint("reserved + allocated <= on_hand", name="committed_within_on_hand"),
    sa.Index(None, "warehouse_id", "sku"),
)

stock_thresholds = sa.Table(
    "stock_thresholds",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("low_stock_threshold", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
)

stock_reservations = sa.Table(
    "stock_reservations",
    metadata,
    IdColumn(),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("warehouse_id", sa.String(40), sa.ForeignKey("warehouses.id"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("shipped", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("order_id", "sku", "warehouse_id"),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint("shipped >= 0 AND shipped <= quantity", name="shipped_within_quantity"),
    sa.CheckConstraint(
        "status IN ('reserved', 'allocated', 'shipped', 'released')", name="status_known"
    ),
    sa.Index(None, "status", "expires_at"),
)

stock_sync_sources = sa.Table(
    "stock_sync_sources",
    metadata,
    sa.Column("source", sa.String(120), primary_key=True),
    sa.Column("last_batch_at", UtcDateTime(), nullable=False),
)

stock_sync_sequences = sa.Table(
    "stock_sync_sequences",
    metadata,
    sa.Column("source", sa.String(120), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse_id", sa.String(40), primary_key=True),
    sa.Column("last_sequence", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

stock_sync_keys = sa.Table(
    "stock_sync_keys",
    metadata,
    sa.Column("source", sa.String(120), primary_key=True),
    sa.Column("idempotency_key", sa.String(200), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "created_at"),
)


def in_chunks(values: Iterable[str], size: int = 1000) -> list[list[str]]:
    # Bounded IN lists: a warehouse toggled inactive may hold 100,000 SKUs, past SQLite's and
    # PostgreSQL's limits on bound parameters.
    wanted = sorted(set(values))
    return [wanted[i : i + size] for i in range(0, len(wanted), size)]


# --- warehouses -------------------------------------------------------------------------------


def _warehouse(row: Mapping[Any, Any]) -> Warehouse:
    return Warehouse(
        id=row["id"],
        owner=row["owner"],
        country=row["country"],
        priority=row["priority"],
        active=bool(row["active"]),
        name=row["name"],
    )


def insert_warehouse(
    conn: Connection, w: Warehouse, now: datetime, *, default_for: str | None = None
) -> bool:
    """Insert a warehouse; False when ``default_for`` already has a default warehouse."""
    values = {
        "id": w.id,
        "name": w.name,
        "owner": w.owner,
        "country": w.country,
        "priority": w.priority,
        "active": w.active,
        "default_for": default_for,
        "created_at": now,
        "updated_at": now,
    }
    statement = (
        dialect_insert(conn, warehouses)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(warehouses.c.id)
    )
    return conn.execute(statement).first() is not None


def update_warehouse(conn: Connection, w: Warehouse, now: datetime) -> None:
    conn.execute(
        warehouses.update()
        .where(warehouses.c.id == w.id)
        .values(
            name=w.name, country=w.country, priority=w.priority, active=w.active, updated_at=now
        )
    )


def warehouses_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, Warehouse]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(warehouses).where(warehouses.c.id.in_(wanted))).mappings()
    return {row["id"]: _warehouse(row) for row in rows}


def warehouses_of_owners(conn: Connection, owners: Iterable[str]) -> list[Warehouse]:
    wanted = sorted(set(owners))
    if not wanted:
        return []
    query = sa.select(warehouses).where(warehouses.c.owner.in_(wanted)).order_by(warehouses.c.id)
    return [_warehouse(row) for row in conn.execute(query).mappings()]


def default_warehouses(conn: Connection, owners: Iterable[str]) -> dict[str, Warehouse]:
    """The default warehouse of each owner that has one."""
    wanted = sorted(set(owners))
    if not wanted:
        return {}
    query = sa.select(warehouses).where(warehouses.c.default_for.in_(wanted))
    return {row["default_for"]: _warehouse(row) for row in conn.execute(query).mappings()}


def list_warehouses(
    conn: Connection, *, owner: str | None, after_id: str | None, limit: int
) -> list[Warehouse]:
    query = sa.select(warehouses).order_by(warehouses.c.id).limit(limit)
    if owner is not None:
        query = query.where(warehouses.c.owner == owner)
    if after_id is not None:
        query = query.where(warehouses.c.id > after_id)
    return [_warehouse(row) for row in conn.execute(query).mappings()]


def skus_in_warehouse(conn: Connection, warehouse_id: str) -> list[str]:
    query = sa.select(stock_levels.c.sku).where(stock_levels.c.warehouse_id == warehouse_id)
    return list(conn.scalars(query))


# --- stock levels -----------------------------------------------------------------------------


def _level(row: Mapping[Any, Any]) -> StockLevel:
    return StockLevel(
        sku=row["sku"],
        warehouse_id=row["warehouse_id"],
        on_hand=row["on_hand"],
        reserved=row["reserved"],
        allocated=row["allocated"],
    )


def levels(
    conn: Connection, skus: Iterable[str], warehouse_ids: Iterable[str] | None = None
) -> list[StockLevel]:
    """Stock levels of ``skus`` (in ``warehouse_ids`` when given), by SKU then warehouse."""
    wanted = sorted(set(skus))
    if not wanted:
        return []
    query = (
        sa.select(stock_levels)
        .where(stock_levels.c.sku.in_(wanted))
        .order_by(stock_levels.c.sku, stock_levels.c.warehouse_id)
    )
    if warehouse_ids is not None:
        query = query.where(stock_levels.c.warehouse_id.in_(sorted(set(warehouse_ids))))
    return [_level(row) for row in conn.execute(query).mappings()]


def level_rows(conn: Connection, skus: Iterable[str]) -> list[dict[str, Any]]:
    """Levels with their warehouse's owner and state, for the operator's stock view."""
    wanted = sorted(set(skus))
    if not wanted:
        return []
    s, w = stock_levels, warehouses
    query = (
        sa.select(s, w.c.owner, w.c.active, w.c.name.label("warehouse_name"))
        .join(w, w.c.id == s.c.warehouse_id)
        .where(s.c.sku.in_(wanted))
        .order_by(s.c.sku, w.c.owner, w.c.priority, w.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _available_by_owner() -> sa.Select[Any]:
    s, w = stock_levels, warehouses
    free = s.c.on_hand - s.c.reserved - s.c.allocated
    total = sa.func.sum(sa.case((w.c.active, free), else_=0)).label("available")
    return (
        sa.select(s.c.sku, w.c.owner, total)
        .join(w, w.c.id == s.c.warehouse_id)
        .where(s.c.sku.in_(sa.bindparam("skus", expanding=True)))
        .group_by(s.c.sku, w.c.owner)
    )


# Built once: carts, checkout and the catalog's stock projection ask it all the time.
_AVAILABLE_BY_OWNER = _available_by_owner()


def available_by_owner(conn: Connection, skus: Iterable[str]) -> dict[tuple[str, str], int]:
    """Available units per (SKU, owner) over active warehouses; 0 for an owner whose levels
    of the SKU are all in inactive warehouses."""
    found: dict[tuple[str, str], int] = {}
    for chunk in in_chunks(skus):
        for row in conn.execute(_AVAILABLE_BY_OWNER, {"skus": chunk}).mappings():
            found[(row["sku"], row["owner"])] = int(row["available"] or 0)
    return found


def available_totals(conn: Connection, skus: Iterable[str]) -> dict[str, int]:
    """Available units per SKU over all active warehouses; 0 for a SKU with no level."""
    totals = dict.fromkeys(sorted(set(skus)), 0)
    for (sku, _owner), n in available_by_owner(conn, totals).items():
        totals[sku] += n
    return totals


def insert_level(
    conn: Connection, sku: str, warehouse_id: str, on_hand: int, now: datetime
) -> bool:
    """Create a level; False when it already exists."""
    statement = (
        dialect_insert(conn, stock_levels)
        .values(
            sku=sku,
            warehouse_id=warehouse_id,
            on_hand=on_hand,
            reserved=0,
            allocated=0,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(stock_levels.c.sku)
    )
    return conn.execute(statement).first() is not None


def change_level(
    conn: Connection, sku: str, warehouse_id: str, condition: Any, **values: Any
) -> bool:
    s = stock_levels
    result = conn.execute(
        s.update()
        .where(s.c.sku == sku, s.c.warehouse_id == warehouse_id, condition)
        .values(**values)
    )
    return bool(result.rowcount == 1)


def set_on_hand(conn: Connection, sku: str, warehouse_id: str, on_hand: int, now: datetime) -> bool:
    """Set an absolute count; False when the level is missing or ``on_hand`` would not cover
    the units already reserved and allocated."""
    s = stock_levels
    return change_level(
        conn,
        sku,
        warehouse_id,
        s.c.reserved + s.c.allocated <= on_hand,
        on_hand=on_hand,
        updated_at=now,
    )


def add_on_hand(conn: Connection, sku: str, warehouse_id: str, delta: int, now: datetime) -> bool:
    """Add ``delta`` (may be negative) to an existing level; False when the level is missing
    or the result would not cover the units already reserved and allocated."""
    s = stock_levels
    return change_level(
        conn,
        sku,
        warehouse_id,
        s.c.on_hand + delta >= s.c.reserved + s.c.allocated,
        on_hand=s.c.on_hand + delta,
        updated_at=now,
    )


def thresholds(conn: Connection, skus: Iterable[str]) -> dict[str, int]:
    t = stock_thresholds
    found: dict[str, int] = {}
    for chunk in in_chunks(skus):
        query = sa.select(t.c.sku, t.c.low_stock_threshold).where(t.c.sku.in_(chunk))
        for row in conn.execute(query).mappings():
            found[row["sku"]] = int(row["low_stock_threshold"])
    return found


def set_threshold(conn: Connection, sku: str, threshold: int, now: datetime) -> None:
    statement = dialect_insert(conn, stock_thresholds).values(
        sku=sku, low_stock_threshold=threshold, updated_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["sku"],
            set_={"low_stock_threshold": threshold, "updated_at": now},
        )
    )
