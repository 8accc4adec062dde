"""Inventory's order steps: hold, allocate, ship, release and restock an order's units, in
the caller's unit of work, so checkout creates an order and holds its stock in one
transaction and a failure anywhere rolls both back; and the sweeper of expired holds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory import hold_store, holds, store
from bazaar.inventory.allocation import AllocationLine
from bazaar.inventory.changes import record_stock_changes
from bazaar.inventory.events import (
    HeldUnits,
    ReservationsExpired,
    ReservationsReleased,
    StockAllocated,
    StockReserved,
    StockRestocked,
    StockShipped,
)
from bazaar.inventory.holds import HeldStock
from bazaar.inventory.model import (
    Reservation,
    ReservationStatus,
    check_count,
    check_sku,
    require_aware,
)
from bazaar.inventory.service_core import InventoryCore
from bazaar.inventory.snapshot import read_snapshot
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor

_REASON = re.compile(r"[a-z0-9_]{1,40}")


class OrderHolds(InventoryCore):
    """The order steps and the expiry sweeper of
    :class:`~bazaar.inventory.service.InventoryService`."""

    def restock(self, uow: SqlUnitOfWork, sku: str, warehouse_id: str, quantity: int) -> None:
        """Put ``quantity`` units (a return, a delivery) back on hand, in the caller's unit
        of work. Not idempotent by itself: callers restock once per return they record."""
        check_sku(sku, "sku")
        check_count(quantity, "quantity", positive=True)
        conn, now = uow.conn, self._clock.now()
        warehouse = self._warehouse(conn, warehouse_id)
        before = store.available_totals(conn, [sku])
        if not store.add_on_hand(conn, sku, warehouse.id, quantity, now) and not (
            store.insert_level(conn, sku, warehouse.id, quantity, now)
        ):
            # created concurrently between the two statements: add to it
            store.add_on_hand(conn, sku, warehouse.id, quantity, now)
        uow.record(
            StockRestocked(
                sku=sku,
                fulfiller_ids=(warehouse.owner,),
                warehouse_id=warehouse.id,
                quantity=quantity,
            )
        )
        self._record_changes(uow, before, {sku: {warehouse.owner}})

    def reserve(
        self,
        uow: SqlUnitOfWork,
        order_id: str,
        lines: Sequence[AllocationLine],
        *,
        destination_country: str,
        now: datetime,
        new_order: bool = False,
    ) -> HeldStock:
        """Choose the warehouses for an order's lines and hold exactly those units.

        The allocation is decided now, so the reservation holds the units payment will
        allocate (see docs/inventory.md). Holds expire after ``reservation_ttl``. Raises
        ``InsufficientStock`` naming every short line (``lines[i].quantity``) and nothing is
        held: the caller's unit of work rolls back, its order with it. A second reservation
        for the same order is a 409; ``new_order`` says the caller created the order in this
        unit of work, so it cannot have one yet and the check is skipped.
        """
        require_aware(now, "now")
        if not lines:
            raise ValidationFailed.on("lines", "Reserve at least one line", "required")
        for i, line in enumerate(lines):
            check_sku(line.sku, f"lines[{i}].sku")
        conn = uow.conn
        if not new_order and hold_store.reservations_of_order(conn, order_id):
            raise Conflict(
                f"Stock is already reserved for order {order_id}",
                errors=[FieldError("order_id", "Already reserved", "already_reserved")],
            )
        seen = read_snapshot(conn, {line.sku for line in lines})
        houses = seen.warehouses_of({line.fulfiller_id for line in lines})
        allocation, held = holds.reserve(
            conn,
            order_id,
            lines,
            houses,
            destination_country=destination_country,
            now=now,
            ttl=self.reservation_ttl,
            levels=seen.levels_in(w.id for w in houses),
        )
        units = tuple(holds.held_units(r) for r in held)
        uow.record(StockReserved(order_id=order_id, units=units, expires_at=held[0].expires_at))
        before = seen.available()
        after = dict(before)
        owners: dict[str, set[str]] = {}
        for u in units:
            after[u.sku] -= u.quantity
            owners.setdefault(u.sku, set()).add(seen.warehouses[u.warehouse_id].owner)
        record_stock_changes(
            uow,
            before,
            owners,
            default_threshold=self._low_stock_threshold,
            after=after,
            thresholds=seen.thresholds,
        )
        return HeldStock(allocation, tuple(held))

    def allocate(
        self, uow: SqlUnitOfWork, order_id: str, held: Sequence[Reservation] | None = None
    ) -> None:
        """At payment: the order's reserved units become allocated. Repeating it does nothing.

        ``held`` are the order's reservations as :meth:`reserve` returned them, when the
        caller still has them; otherwise they are read. A hold that expired but was not swept
        yet is still allocated. A released hold (expired and swept, or cancelled) raises
        ``HoldReleased`` (409), and the caller refunds instead of shipping units nobody holds.
        """
        rows = (
            list(held) if held is not None else hold_store.reservations_of_order(uow.conn, order_id)
        )
        if not rows:
            raise NotFound(f"No stock is reserved for order {order_id}")
        moved = holds.allocate(uow.conn, rows, self._clock.now())
        if moved:
            uow.record(StockAllocated(order_id=order_id, units=tuple(moved)))

    def release(self, uow: SqlUnitOfWork, order_id: str, *, reason: str) -> int:
        """Give back the order's reserved and allocated-but-unshipped units; return how many.

        For a cancelled order, a declined payment or an expired hold. Repeating it returns 0
        and records nothing. Shipped units stay shipped (returns use :meth:`restock`).
        """
        if not _REASON.fullmatch(reason):
            raise ValidationFailed.on("reason", "Use a short snake_case reason", "invalid")
        return self._release(uow, order_id, reason=reason, only_expired_at=None)

    def ship(self, uow: SqlUnitOfWork, order_id: str, sku: str, quantity: int) -> None:
        """``quantity`` allocated units of ``sku`` leave the warehouse (on hand drops too).

        Not idempotent by itself: the fulfillment records each shipment once. Shipping more
        than is allocated and unshipped is a 409 naming ``quantity``.
        """
        check_sku(sku, "sku")
        check_count(quantity, "quantity", positive=True)
        rows = hold_store.reservations_of_order(uow.conn, order_id)
        shipped = holds.ship(uow.conn, rows, sku, quantity, self._clock.now())
        uow.record(StockShipped(order_id=order_id, units=tuple(shipped)))

    def restock_returned(self, uow: SqlUnitOfWork, order_id: str, sku: str, quantity: int) -> None:
        """Put returned units of an order back in the warehouse they were shipped from (the
        first that held the SKU for the order), in the caller's unit of work."""
        held = [r for r in hold_store.reservations_of_order(uow.conn, order_id) if r.sku == sku]
        warehouse_id = next((r.warehouse_id for r in held if r.warehouse_id), None)
        if warehouse_id is None:
            raise NotFound(f"Order {order_id} never held {sku}")
        self.restock(uow, sku, warehouse_id, quantity)

    def sweep_expired(self, now: datetime | None = None, batch: int = 500) -> int:
        """Release every hold that expired by ``now``; return the number of orders.

        One unit of work per ``batch`` orders, each recording ``ReservationsExpired`` (the
        orders context cancels the unpaid order on it). Safe to run in many processes: a hold
        a payment allocates meanwhile is left alone.
        """
        now = now or self._clock.now()
        require_aware(now, "now")
        swept = 0
        while True:
            with self._uow(Actor.system("inventory-sweeper")) as uow:
                orders = hold_store.orders_with_expired_holds(uow.conn, now, batch)
                for order_id in orders:
                    self._release(uow, order_id, reason="expired", only_expired_at=now)
                uow.commit()
            swept += len(orders)
            if len(orders) < batch:
                return swept

    def _release(
        self, uow: SqlUnitOfWork, order_id: str, *, reason: str, only_expired_at: datetime | None
    ) -> int:
        conn, now = uow.conn, self._clock.now()
        released: list[HeldUnits] = []
        before: dict[str, int] = {}
        # Re-read after each pass: a row another writer moved meanwhile (a payment allocating
        # a hold while we release it) is released in the state it is in now.
        for _ in range(holds.RESERVE_ATTEMPTS):
            live = [
                r
                for r in hold_store.reservations_of_order(conn, order_id)
                if r.status is ReservationStatus.RESERVED
                or (r.status is ReservationStatus.ALLOCATED and only_expired_at is None)
            ]
            if only_expired_at is not None:
                live = [r for r in live if r.is_expired(only_expired_at)]
            if not live:
                break
            if not before:
                before = store.available_totals(conn, {r.sku for r in live})
            released += holds.release(conn, live, now)
        if not released:
            return 0
        units = tuple(released)
        if only_expired_at is not None:
            uow.record(ReservationsExpired(order_id=order_id, units=units))
        else:
            uow.record(ReservationsReleased(order_id=order_id, reason=reason, units=units))
        self._record_changes(uow, before, self._owners(conn, released))
        return sum(u.quantity for u in released)
