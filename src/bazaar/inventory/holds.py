"""Stock held for orders: reserve, allocate, release and ship, inside the caller's transaction.

These steps run in a unit of work the caller owns (checkout's transaction 1 creates the order
and reserves its stock atomically), so they take a connection and never commit. Every stock
row is touched with a conditional update, in the order of ``(warehouse id, SKU)``: concurrent
orders sharing SKUs then lock rows in one global order and queue instead of deadlocking on
PostgreSQL. Every reservation moves with a compare-and-set on its status, so a payment and the
expiry sweeper racing for the same hold cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from bazaar.inventory import hold_store, store
from bazaar.inventory.allocation import Allocation, AllocationLine, choose_allocation
from bazaar.inventory.events import HeldUnits
from bazaar.inventory.model import (
    HoldReleased,
    Reservation,
    ReservationStatus,
    StockBusy,
    StockLevel,
    Warehouse,
)
from bazaar.kernel.errors import Conflict, FieldError
from bazaar.kernel.ids import new_id

# Attempts to hold an allocation when other checkouts keep taking the units it chose. Each
# retry re-reads the counts, so the loop ends with the stock held or InsufficientStock.
RESERVE_ATTEMPTS = 5

__all__ = ["HoldReleased", "StockBusy"]  # raised here; defined with the rules in model.py


@dataclass(frozen=True)
class HeldStock:
    """What a reservation decided and wrote: checkout keeps it to allocate at payment."""

    allocation: Allocation
    reservations: tuple[Reservation, ...]


class BrokenStockInvariant(RuntimeError):
    """A conditional update that the reservation records guarantee failed: data corruption."""


def held_units(r: Reservation, quantity: int | None = None) -> HeldUnits:
    assert r.warehouse_id is not None  # stored reservations always name their warehouse
    return HeldUnits(r.sku, r.warehouse_id, r.quantity if quantity is None else quantity)


def reserve(
    conn: Connection,
    order_id: str,
    lines: Sequence[AllocationLine],
    warehouses: Sequence[Warehouse],
    *,
    destination_country: str,
    now: datetime,
    ttl: timedelta,
    levels: Sequence[StockLevel] | None = None,
) -> tuple[Allocation, list[Reservation]]:
    """Choose warehouses for ``lines`` and hold exactly the units the allocation takes.

    ``levels``, when given, are the counts just read for these SKUs and warehouses (the
    first attempt chooses from them; a retry re-reads). Raises ``InsufficientStock``
    (nothing is held then) or ``StockBusy``.
    """
    skus = sorted({line.sku for line in lines})
    warehouse_ids = [w.id for w in warehouses]
    for _ in range(RESERVE_ATTEMPTS):
        stock = list(levels) if levels is not None else store.levels(conn, skus, warehouse_ids)
        levels = None
        allocation = choose_allocation(
            lines, stock, warehouses, destination_country=destination_country
        )
        held = []
        # In Allocation.draws() order (warehouse id, then SKU): see the module docstring.
        for draw in allocation.draws():
            if not hold_store.reserve_units(conn, draw.sku, draw.warehouse_id, draw.quantity, now):
                break
            held.append(draw)
        else:
            reservations = [
                Reservation.hold(
                    new_id("rsv"),
                    order_id,
                    d.sku,
                    d.quantity,
                    now=now,
                    warehouse_id=d.warehouse_id,
                    ttl=ttl,
                )
                for d in held
            ]
            hold_store.insert_reservations(conn, reservations, now)
            return allocation, reservations
        # Another order took units between our read and our update: give back what this
        # attempt holds and choose again from fresh counts.
        for draw in held:
            if not hold_store.unreserve_units(
                conn, draw.sku, draw.warehouse_id, draw.quantity, now
            ):
                raise BrokenStockInvariant(f"cannot give back {draw}")
    raise StockBusy("Other orders are taking the same units; try again")


def allocate(conn: Connection, rows: Sequence[Reservation], now: datetime) -> list[HeldUnits]:
    """Reserved units of one order become allocated; already allocated ones are left alone.

    ``rows`` are the order's reservations as last read (or as just written by
    :func:`reserve`). Every reserved row moves in one compare-and-set statement; if any of
    them moved meanwhile (the sweeper released an expired hold) this raises
    ``HoldReleased`` and the caller's unit of work rolls back, so nothing moves.
    """
    if any(r.status is ReservationStatus.RELEASED for r in rows):
        order_id = rows[0].order_id
        raise HoldReleased(
            f"The stock held for order {order_id} was released",
            errors=[FieldError("order_id", "Reservation released", "reservation_released")],
        )
    reserved = [r for r in rows if r.status is ReservationStatus.RESERVED]
    if not reserved:
        return []
    moved = hold_store.move_reserved(
        conn, [r.id for r in reserved], ReservationStatus.ALLOCATED, now
    )
    if moved != len(reserved):
        raise HoldReleased(f"The stock held for order {reserved[0].order_id} was moved meanwhile")
    for r in reserved:
        if not hold_store.allocate_units(conn, r.sku, _warehouse(r), r.quantity, now):
            raise BrokenStockInvariant(f"reservation {r.id} holds units the level lacks")
    return [held_units(r) for r in reserved]


def release(conn: Connection, rows: Sequence[Reservation], now: datetime) -> list[HeldUnits]:
    """Give back the reserved and the allocated-but-unshipped units of ``rows``.

    Rows another writer moved first are skipped; the caller re-reads and calls again.
    """
    released: list[HeldUnits] = []
    for r in rows:
        if r.status is ReservationStatus.RESERVED:
            give_back = hold_store.unreserve_units
        elif r.status is ReservationStatus.ALLOCATED:
            give_back = hold_store.deallocate_units
        else:
            continue
        if not hold_store.move_reservation(conn, r, ReservationStatus.RELEASED, now):
            continue
        if not give_back(conn, r.sku, _warehouse(r), r.unshipped, now):
            raise BrokenStockInvariant(f"reservation {r.id} holds units the level lacks")
        released.append(held_units(r, r.unshipped))
    return released


def ship(
    conn: Connection, rows: Sequence[Reservation], sku: str, quantity: int, now: datetime
) -> list[HeldUnits]:
    """Allocated units of ``sku`` leave their warehouses, in warehouse order."""
    allocated = [r for r in rows if r.sku == sku and r.status is ReservationStatus.ALLOCATED]
    left = sum(r.unshipped for r in allocated)
    if quantity > left:
        raise Conflict(
            f"Only {left} allocated units of sku {sku} are left to ship",
            errors=[FieldError("quantity", f"At most {left}", "exceeds_allocated")],
        )
    shipped: list[HeldUnits] = []
    for r in allocated:
        take = min(quantity, r.unshipped)
        if take == 0:
            continue
        done = r.shipped + take
        status = ReservationStatus.SHIPPED if done == r.quantity else ReservationStatus.ALLOCATED
        if not hold_store.move_reservation(conn, r, status, now, shipped=done):
            raise Conflict(f"The stock of order {r.order_id} changed meanwhile; try again")
        if not hold_store.ship_units(conn, r.sku, _warehouse(r), take, now):
            raise BrokenStockInvariant(f"reservation {r.id} holds units the level lacks")
        shipped.append(held_units(r, take))
        quantity -= take
    return shipped


def _warehouse(r: Reservation) -> str:
    assert r.warehouse_id is not None
    return r.warehouse_id
