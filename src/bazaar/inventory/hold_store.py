"""Inventory queries of stock held for orders: the stock moves of checkout, payment,
shipping and release, and the reservation rows that record which units an order holds.

Every move is a conditional update stating the invariant it keeps (see
:mod:`bazaar.inventory.store`); False means the row count says the condition did not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import UtcDateTime
from bazaar.inventory.model import Reservation, ReservationStatus
from bazaar.inventory.store import change_level, stock_levels, stock_reservations

# The two stock moves of every checkout, built once: a statement constant skips building and
# hashing the expression on each call (SQLAlchemy then finds its compiled form by identity).
_RESERVE = (
    stock_levels.update()
    .where(
        stock_levels.c.sku == sa.bindparam("sku_"),
        stock_levels.c.warehouse_id == sa.bindparam("warehouse_id_"),
        stock_levels.c.on_hand - stock_levels.c.reserved - stock_levels.c.allocated
        >= sa.bindparam("n", type_=sa.Integer),
    )
    .values(
        reserved=stock_levels.c.reserved + sa.bindparam("n", type_=sa.Integer),
        updated_at=sa.bindparam("now", type_=UtcDateTime()),
    )
)
_ALLOCATE = (
    stock_levels.update()
    .where(
        stock_levels.c.sku == sa.bindparam("sku_"),
        stock_levels.c.warehouse_id == sa.bindparam("warehouse_id_"),
        stock_levels.c.reserved >= sa.bindparam("n", type_=sa.Integer),
    )
    .values(
        reserved=stock_levels.c.reserved - sa.bindparam("n", type_=sa.Integer),
        allocated=stock_levels.c.allocated + sa.bindparam("n", type_=sa.Integer),
        updated_at=sa.bindparam("now", type_=UtcDateTime()),
    )
)


def _move(
    conn: Connection, statement: Any, sku: str, warehouse_id: str, n: int, now: datetime
) -> bool:
    params = {"sku_": sku, "warehouse_id_": warehouse_id, "n": n, "now": now}
    return bool(conn.execute(statement, params).rowcount == 1)


def reserve_units(conn: Connection, sku: str, warehouse_id: str, n: int, now: datetime) -> bool:
    """Hold ``n`` available units; False when fewer are available."""
    return _move(conn, _RESERVE, sku, warehouse_id, n, now)


def unreserve_units(conn: Connection, sku: str, warehouse_id: str, n: int, now: datetime) -> bool:
    s = stock_levels
    return change_level(
        conn, sku, warehouse_id, s.c.reserved >= n, reserved=s.c.reserved - n, updated_at=now
    )


def allocate_units(conn: Connection, sku: str, warehouse_id: str, n: int, now: datetime) -> bool:
    """Turn ``n`` reserved units into allocated ones (available does not change)."""
    return _move(conn, _ALLOCATE, sku, warehouse_id, n, now)


def deallocate_units(conn: Connection, sku: str, warehouse_id: str, n: int, now: datetime) -> bool:
    s = stock_levels
    return change_level(
        conn, sku, warehouse_id, s.c.allocated >= n, allocated=s.c.allocated - n, updated_at=now
    )


def ship_units(conn: Connection, sku: str, warehouse_id: str, n: int, now: datetime) -> bool:
    """Allocated units leave: ``allocated`` and ``on_hand`` both drop by ``n``."""
    s = stock_levels
    return change_level(
        conn,
        sku,
        warehouse_id,
        s.c.allocated >= n,
        allocated=s.c.allocated - n,
        on_hand=s.c.on_hand - n,
        updated_at=now,
    )


# --- reservations -----------------------------------------------------------------------------


def _reservation(row: Mapping[Any, Any]) -> Reservation:
    return Reservation(
        id=row["id"],
        order_id=row["order_id"],
        sku=row["sku"],
        warehouse_id=row["warehouse_id"],
        quantity=row["quantity"],
        expires_at=row["expires_at"],
        status=ReservationStatus(row["status"]),
        shipped=row["shipped"],
    )


_INSERT_RESERVATIONS = stock_reservations.insert()


def insert_reservations(conn: Connection, items: Sequence[Reservation], now: datetime) -> None:
    if items:
        conn.execute(
            _INSERT_RESERVATIONS,
            [
                {
                    "id": r.id,
                    "order_id": r.order_id,
                    "sku": r.sku,
                    "warehouse_id": r.warehouse_id,
                    "quantity": r.quantity,
                    "shipped": r.shipped,
                    "status": r.status.value,
                    "expires_at": r.expires_at,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in items
            ],
        )


def reservations_of_order(conn: Connection, order_id: str) -> list[Reservation]:
    """The order's reservations, sorted by warehouse then SKU (the stock-row lock order)."""
    r = stock_reservations
    query = sa.select(r).where(r.c.order_id == order_id).order_by(r.c.warehouse_id, r.c.sku)
    return [_reservation(row) for row in conn.execute(query).mappings()]


def move_reservation(
    conn: Connection,
    reservation: Reservation,
    to: ReservationStatus,
    now: datetime,
    *,
    shipped: int | None = None,
) -> bool:
    """Move a reservation on from the state it was read in; False when another writer moved
    it first (the sweeper and a payment racing for the same hold: exactly one wins)."""
    r = stock_reservations
    values: dict[str, Any] = {"status": to.value, "updated_at": now}
    if shipped is not None:
        values["shipped"] = shipped
    result = conn.execute(
        r.update()
        .where(
            r.c.id == reservation.id,
            r.c.status == reservation.status.value,
            r.c.shipped == reservation.shipped,
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)


_MOVE_RESERVED = (
    stock_reservations.update()
    .where(
        stock_reservations.c.id.in_(sa.bindparam("ids", expanding=True)),
        stock_reservations.c.status == ReservationStatus.RESERVED.value,
    )
    .values(status=sa.bindparam("to"), updated_at=sa.bindparam("now", type_=UtcDateTime()))
)


def move_reserved(
    conn: Connection, ids: Sequence[str], to: ReservationStatus, now: datetime
) -> int:
    """Move the still-reserved ones of ``ids`` on in one statement; how many moved."""
    result = conn.execute(_MOVE_RESERVED, {"ids": sorted(ids), "to": to.value, "now": now})
    return int(result.rowcount)


def orders_with_expired_holds(conn: Connection, now: datetime, limit: int) -> list[str]:
    r = stock_reservations
    query = (
        sa.select(r.c.order_id)
        .where(r.c.status == ReservationStatus.RESERVED.value, r.c.expires_at <= now)
        .group_by(r.c.order_id)
        .order_by(sa.func.min(r.c.expires_at), r.c.order_id)
        .limit(limit)
    )
    return list(conn.scalars(query))
