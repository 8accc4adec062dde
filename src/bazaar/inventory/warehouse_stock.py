"""Inventory use cases of warehouses and counted stock: each runs one unit of work (an
operator's action), or reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bazaar.identity.model import Principal, Role
from bazaar.inventory import store
from bazaar.inventory.drafts import WarehouseDraft, WarehousePatch
from bazaar.inventory.events import StockLevelSet, WarehouseUpdated
from bazaar.inventory.model import (
    MAX_NAME,
    StockLevel,
    Warehouse,
    check_count,
    check_owner,
    check_sku,
)
from bazaar.inventory.offers import warehouse_created
from bazaar.inventory.service_core import InventoryCore
from bazaar.kernel.errors import Conflict, FieldError, ValidationFailed
from bazaar.kernel.ids import new_id
from bazaar.kernel.pagination import Page, after_from, page_after, scope_for


@dataclass(frozen=True)
class LevelView:
    """A stock level with what the operator's stock view shows beside it."""

    level: StockLevel
    owner: str
    warehouse_name: str
    warehouse_active: bool
    low_stock_threshold: int
    updated_at: datetime


class WarehouseStock(InventoryCore):
    """Warehouses and counted stock of :class:`~bazaar.inventory.service.InventoryService`."""

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


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValidationFailed.on("name", "A warehouse needs a name", "required")
    if len(name) > MAX_NAME:
        raise ValidationFailed.on("name", f"At most {MAX_NAME} characters", "too_long")
    return name
