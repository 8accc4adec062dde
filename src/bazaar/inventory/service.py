"""Inventory use cases: warehouses, stock counts, stock held for orders, stock feeds.

Two kinds of entry point. Operator and partner actions (``create_warehouse``, ``set_stock``,
``sync``) and the expiry sweeper run one unit of work each. The order steps (``reserve``,
``allocate``, ``release``, ``ship``, ``restock``) run inside the caller's unit of work, so
checkout creates an order and holds its stock in one transaction, and a failure anywhere
rolls both back.

Every change of a SKU's available units records one ``StockChanged`` per SKU per unit of work
(and ``LowStock`` when it crosses its threshold); see :meth:`InventoryService._record_changes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory import feeds, holds, store
from bazaar.inventory.allocation import AllocationLine
from bazaar.inventory.changes import record_stock_changes
from bazaar.inventory.drafts import WarehouseDraft, WarehousePatch
from bazaar.inventory.events import (
    HeldUnits,
    ReservationsExpired,
    ReservationsReleased,
    StockAllocated,
    StockLevelSet,
    StockReserved,
    StockRestocked,
    StockShipped,
    StockSynced,
    WarehouseUpdated,
)
from bazaar.inventory.holds import HeldStock
from bazaar.inventory.model import (
    MAX_NAME,
    Reservation,
    ReservationStatus,
    StockLevel,
    Warehouse,
    check_count,
    check_owner,
    check_sku,
    require_aware,
)
from bazaar.inventory.offers import OfferRow, seed_levels, warehouse_created
from bazaar.inventory.snapshot import read_snapshot
from bazaar.inventory.sync import SyncDecision, SyncItem, SyncOutcome
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for

UowFactory = Callable[[Actor], SqlUnitOfWork]
SYSTEM = Actor.system("inventory")
_SOURCE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_REASON = re.compile(r"[a-z0-9_]{1,40}")


class OfferStock(Protocol):
    """An offer's stock as the catalog shows it (``CatalogService.offer_stocks`` rows)."""

    @property
    def offer_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def fulfiller_id(self) -> str: ...
    @property
    def stock(self) -> int: ...


# (after offer id, limit) -> the next page of offers in id order
OfferPages = Callable[[str | None, int], Sequence[OfferStock]]


@dataclass(frozen=True)
class LevelView:
    """A stock level with what the operator's stock view shows beside it."""

    level: StockLevel
    owner: str
    warehouse_name: str
    warehouse_active: bool
    low_stock_threshold: int
    updated_at: datetime


@dataclass(frozen=True)
class SyncReport:
    source: str
    decisions: list[SyncDecision]

    def count(self, outcome: SyncOutcome) -> int:
        return sum(1 for d in self.decisions if d.outcome is outcome)


class InventoryService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        cursors: CursorCodec,
        *,
        reservation_ttl: timedelta,
        low_stock_threshold: int,
        default_country: str,
        offers: OfferPages | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._cursors = cursors
        self.reservation_ttl = reservation_ttl
        self._low_stock_threshold = low_stock_threshold
        self._default_country = default_country
        self._offers = offers

    # --- warehouses ----------------------------------------------------------------------------

    def create_warehouse(self, principal: Principal, draft: WarehouseDraft) -> Warehouse:
        """Add a warehouse of a fulfiller (the retailer, a seller or a partner)."""
        principal.require_role(Role.OPERATOR)
        check_owner(draft.owner, "owner")
        warehouse = Warehouse(
            id=new_id("whs"),
            owner=draft.owner,
            country=draft.country,
            priority=draft.priority,
            active=draft.active,
            name=_name(draft.name),
        )
        with self._uow(principal.actor) as uow:
            store.insert_warehouse(uow.conn, warehouse, self._clock.now())
            uow.record(warehouse_created(warehouse))
            uow.commit()
        return warehouse

    def update_warehouse(
        self, principal: Principal, warehouse_id: str, patch: WarehousePatch
    ) -> Warehouse:
        """Rename, move, re-rank or (de)activate a warehouse; its owner never changes.

        Deactivating takes its units out of every SKU's available count (and so out of the
        catalog's offers); they stay on record and come back when it is activated again.
        """
        principal.require_role(Role.OPERATOR)
        given = patch.provided
        with self._uow(principal.actor) as uow:
            current = self._warehouse(uow.conn, warehouse_id)
            warehouse = replace(
                current,
                name=_name(patch.name or "") if "name" in given else current.name,
                country=patch.country or "" if "country" in given else current.country,
                priority=(
                    patch.priority
                    if "priority" in given and patch.priority is not None
                    else current.priority
                ),
                active=(
                    patch.active
                    if "active" in given and patch.active is not None
                    else current.active
                ),
            )
            changed = tuple(
                k
                for k in ("name", "country", "priority", "active")
                if getattr(warehouse, k) != getattr(current, k)
            )
            if not changed:
                return current
            skus = store.skus_in_warehouse(uow.conn, warehouse.id) if "active" in changed else []
            before = store.available_totals(uow.conn, skus)
            store.update_warehouse(uow.conn, warehouse, self._clock.now())
            uow.record(
                WarehouseUpdated(
                    warehouse_id=warehouse.id,
                    owner=warehouse.owner,
                    changed=changed,
                    active=warehouse.active,
                )
            )
            self._record_changes(uow, before, {sku: {warehouse.owner} for sku in skus})
            uow.commit()
        return warehouse

    def get_warehouse(self, warehouse_id: str) -> Warehouse:
        with self._db.read() as conn:
            return self._warehouse(conn, warehouse_id)

    def list_warehouses(
        self, *, owner: str | None = None, limit: int, cursor: str | None
    ) -> Page[Warehouse]:
        scope = scope_for("warehouses", owner=owner)
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = store.list_warehouses(conn, owner=owner, after_id=after_id, limit=limit + 1)
        return page_after(self._cursors, rows, limit, scope, key=lambda w: w.id)

    # --- stock counts --------------------------------------------------------------------------

    def set_stock(
        self,
        principal: Principal,
        sku: str,
        warehouse_id: str,
        on_hand: int,
        low_stock_threshold: int | None = None,
    ) -> LevelView:
        """Set a counted ``on_hand`` (and optionally the SKU's low-stock threshold).

        A count below the units already reserved and allocated there is a 409 naming
        ``on_hand``: those units are promised to orders, so lowering it is an operator's
        decision to cancel orders first, not a side effect of a count.
        """
        principal.require_role(Role.OPERATOR)
        check_sku(sku, "sku")
        check_count(on_hand, "on_hand")
        if low_stock_threshold is not None:
            check_count(low_stock_threshold, "low_stock_threshold")
        with self._uow(principal.actor) as uow:
            conn, now = uow.conn, self._clock.now()
            warehouse = self._warehouse(conn, warehouse_id)
            before = store.available_totals(conn, [sku])
            existing = store.levels(conn, [sku], [warehouse.id])
            written = not existing and store.insert_level(conn, sku, warehouse.id, on_hand, now)
            if not written and not store.set_on_hand(conn, sku, warehouse.id, on_hand, now):
                level = store.levels(conn, [sku], [warehouse.id])[0]
                raise Conflict(
                    f"{level.committed} units are reserved or allocated to orders",
                    errors=[
                        FieldError(
                            "on_hand", f"Must be at least {level.committed}", "below_committed"
                        )
                    ],
                )
            if low_stock_threshold is not None:
                store.set_threshold(conn, sku, low_stock_threshold, now)
            uow.record(
                StockLevelSet(
                    sku=sku,
                    fulfiller_ids=(warehouse.owner,),
                    warehouse_id=warehouse.id,
                    on_hand=on_hand,
                    old_on_hand=existing[0].on_hand if existing else None,
                    low_stock_threshold=low_stock_threshold,
                )
            )
            self._record_changes(uow, before, {sku: {warehouse.owner}})
            uow.commit()
        return next(v for v in self.levels([sku]) if v.level.warehouse_id == warehouse.id)

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

    def levels(self, skus: Sequence[str]) -> list[LevelView]:
        """Every warehouse's level of each SKU, with its owner and the SKU's threshold."""
        with self._db.read() as conn:
            rows = store.level_rows(conn, skus)
            limits = store.thresholds(conn, skus)
        return [
            LevelView(
                level=StockLevel(
                    row["sku"],
                    row["warehouse_id"],
                    row["on_hand"],
                    row["reserved"],
                    row["allocated"],
                ),
                owner=row["owner"],
                warehouse_name=row["warehouse_name"],
                warehouse_active=bool(row["active"]),
                low_stock_threshold=limits.get(row["sku"], self._low_stock_threshold),
                updated_at=row["updated_at"],
            )
            for row in rows
        ]

    def available_by_fulfiller(self, skus: Sequence[str]) -> dict[tuple[str, str], int]:
        """Available units per (SKU, fulfiller) over the fulfiller's active warehouses.

        Pairs without any stock record are absent; a fulfiller whose records are all in
        inactive warehouses has 0. This is what the catalog shows as an offer's stock.
        """
        with self._db.read() as conn:
            return store.available_by_owner(conn, skus)

    # --- stock held for orders (in the caller's unit of work) ------------------------------

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
        if not new_order and store.reservations_of_order(conn, order_id):
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
        rows = list(held) if held is not None else store.reservations_of_order(uow.conn, order_id)
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
        rows = store.reservations_of_order(uow.conn, order_id)
        shipped = holds.ship(uow.conn, rows, sku, quantity, self._clock.now())
        uow.record(StockShipped(order_id=order_id, units=tuple(shipped)))

    def restock_returned(self, uow: SqlUnitOfWork, order_id: str, sku: str, quantity: int) -> None:
        """Put returned units of an order back in the warehouse they were shipped from (the
        first that held the SKU for the order), in the caller's unit of work."""
        held = [r for r in store.reservations_of_order(uow.conn, order_id) if r.sku == sku]
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
                orders = store.orders_with_expired_holds(uow.conn, now, batch)
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
                for r in store.reservations_of_order(conn, order_id)
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

    # --- stock feeds ---------------------------------------------------------------------------

    def sync(self, principal: Principal, source: str, items: Sequence[SyncItem]) -> SyncReport:
        """Apply a batch from a WMS/OMS: one outcome per item (applied, stale, duplicate,
        rejected with a reason), in order.

        Partners and sellers sync their own warehouses only (an API key needs the
        ``stock:write`` scope); operators any warehouse. Sequences and idempotency keys are
        remembered per source, and a source's name is scoped to the caller's organisation, so
        two partners both calling theirs "wms" never see each other's sequences.
        """
        principal.require_role(Role.PARTNER, Role.SELLER)
        principal.require_scope("stock:write")
        if not _SOURCE.fullmatch(source):
            raise ValidationFailed.on(
                "source", "Use 1-64 letters, digits and . _ : -", "invalid_source"
            )
        scoped_source = f"{principal.org_id or 'staff'}/{source}"
        with self._uow(principal.actor) as uow:
            conn = uow.conn
            houses = store.warehouses_by_ids(conn, {item.warehouse_id for item in items})
            allowed = {
                w.id
                for w in houses.values()
                if principal.role is Role.OPERATOR or w.owner == principal.org_id
            }
            skus = {item.sku for item in items if item.warehouse_id in allowed}
            before = store.available_totals(conn, skus)
            decisions = feeds.apply_batch(conn, scoped_source, items, allowed, self._clock.now())
            report = SyncReport(source, decisions)
            uow.record(
                StockSynced(
                    source=scoped_source,
                    applied=report.count(SyncOutcome.APPLIED),
                    stale=report.count(SyncOutcome.STALE),
                    duplicate=report.count(SyncOutcome.DUPLICATE),
                    rejected=report.count(SyncOutcome.REJECTED),
                )
            )
            owners: dict[str, set[str]] = {}
            for d in decisions:
                if d.outcome is SyncOutcome.APPLIED:
                    owners.setdefault(d.item.sku, set()).add(houses[d.item.warehouse_id].owner)
            self._record_changes(uow, {s: n for s, n in before.items() if s in owners}, owners)
            uow.commit()
        return report

    def purge_sync_keys(self, older_than: datetime) -> int:
        """Forget feed idempotency keys recorded before ``older_than``."""
        with self._db.write() as conn:
            return store.purge_keys(conn, older_than)

    # --- offers of fulfillers without a feed -------------------------------------------------

    def apply_offer_stock(
        self,
        event_id: str,
        offers: Sequence[OfferRow],
        *,
        staff_edit: bool,
    ) -> int:
        """Mirror catalog offers' stock ``(sku, fulfiller id, stock)`` into inventory, once
        per catalog event; return the levels written.

        The rule is :func:`bazaar.inventory.model.on_hand_from_offer`: new offers seed a
        fulfiller's default warehouse only where it has no record of the SKU; a staff edit
        sets the default warehouse's count when the SKU lives there alone.
        """
        with self._uow(SYSTEM) as uow:
            if not uow.mark_processed("inventory.offer_stock", event_id):
                return 0
            before = store.available_totals(uow.conn, {sku for sku, _, _ in offers})
            touched = seed_levels(
                uow,
                offers,
                staff_edit=staff_edit,
                country=self._default_country,
                now=self._clock.now(),
            )
            self._record_changes(uow, {s: before[s] for s in touched}, touched)
            uow.commit()
        return sum(len(owners) for owners in touched.values())

    def backfill_from_offers(self, batch: int = 1000) -> int:
        """Give every catalog offer without a stock record one in its fulfiller's default
        warehouse, holding the offer's stock; return the levels created. Idempotent.

        Records no stock events: the catalog already shows exactly these counts.
        """
        if self._offers is None:
            raise RuntimeError("InventoryService was built without an offer source")
        created, after = 0, None
        while True:
            page = self._offers(after, batch)
            if not page:
                return created
            with self._uow(SYSTEM) as uow:
                rows = [(o.sku, o.fulfiller_id, o.stock) for o in page]
                touched = seed_levels(
                    uow,
                    rows,
                    staff_edit=False,
                    country=self._default_country,
                    now=self._clock.now(),
                )
                created += sum(len(owners) for owners in touched.values())
                uow.commit()
            after = page[-1].offer_id
            if len(page) < batch:
                return created

    # --- internals -------------------------------------------------------------------------

    def _record_changes(
        self,
        uow: SqlUnitOfWork,
        before: Mapping[str, int],
        owners: Mapping[str, Iterable[str]],
    ) -> None:
        record_stock_changes(uow, before, owners, default_threshold=self._low_stock_threshold)

    def _warehouse(self, conn: Connection, warehouse_id: str) -> Warehouse:
        found = (
            store.warehouses_by_ids(conn, [warehouse_id]).get(warehouse_id)
            if is_valid_id(warehouse_id, "whs")
            else None
        )
        if found is None:
            raise NotFound("No such warehouse")
        return found

    @staticmethod
    def _owners(conn: Connection, units: Iterable[HeldUnits]) -> dict[str, set[str]]:
        """The owners of the warehouses each SKU's units are held in."""
        held = list(units)
        houses = store.warehouses_by_ids(conn, {u.warehouse_id for u in held})
        owners: dict[str, set[str]] = {}
        for u in held:
            owners.setdefault(u.sku, set()).add(houses[u.warehouse_id].owner)
        return owners


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValidationFailed.on("name", "A warehouse needs a name", "required")
    if len(name) > MAX_NAME:
        raise ValidationFailed.on("name", f"At most {MAX_NAME} characters", "too_long")
    return name
