"""Stock records for catalog offers of fulfillers without a feed, in the caller's unit of work.

The rule is :func:`bazaar.inventory.model.on_hand_from_offer`; a fulfiller without a default
warehouse gets one here (``warehouses.default_for`` keeps it unique per fulfiller).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory import store
from bazaar.inventory.events import WarehouseCreated
from bazaar.inventory.model import StockLevel, Warehouse, check_owner, on_hand_from_offer
from bazaar.kernel.ids import new_id

# (sku, fulfiller id, the offer's stock)
OfferRow = tuple[str, str, int]


def seed_levels(
    uow: SqlUnitOfWork,
    offers: Sequence[OfferRow],
    *,
    staff_edit: bool,
    country: str,
    now: datetime,
) -> dict[str, set[str]]:
    """Write the default-warehouse counts ``offers`` imply; return the fulfillers written
    per SKU."""
    conn = uow.conn
    owners = {fulfiller for _, fulfiller, _ in offers}
    defaults = default_warehouses(uow, owners, country=country, now=now)
    owner_of = {w.id: w.owner for w in store.warehouses_of_owners(conn, owners)}
    existing: dict[tuple[str, str], list[StockLevel]] = {}
    for level in store.levels(conn, {sku for sku, _, _ in offers}, owner_of):
        existing.setdefault((level.sku, owner_of[level.warehouse_id]), []).append(level)
    touched: dict[str, set[str]] = {}
    for sku, owner, stock in offers:
        default = defaults[owner].id
        target = on_hand_from_offer(
            stock, existing.get((sku, owner), []), default, staff_edit=staff_edit
        )
        if target is None:
            continue
        # set_on_hand fails only when the count would not cover units promised meanwhile
        if store.insert_level(conn, sku, default, target, now) or store.set_on_hand(
            conn, sku, default, target, now
        ):
            touched.setdefault(sku, set()).add(owner)
            existing[(sku, owner)] = [StockLevel(sku, default, target)]
    return touched


def default_warehouses(
    uow: SqlUnitOfWork, owners: set[str], *, country: str, now: datetime
) -> dict[str, Warehouse]:
    """The default warehouse of each owner, created where missing."""
    found = store.default_warehouses(uow.conn, owners)
    missing = sorted(owners - found.keys())
    for owner in missing:
        check_owner(owner, "fulfiller_id")
        warehouse = Warehouse(
            id=new_id("whs"), owner=owner, country=country, name=f"Default warehouse ({owner})"
        )
        # False when a concurrent handler created it first; it is read back below
        if store.insert_warehouse(uow.conn, warehouse, now, default_for=owner):
            uow.record(warehouse_created(warehouse))
    return store.default_warehouses(uow.conn, owners) if missing else found


def warehouse_created(w: Warehouse) -> WarehouseCreated:
    return WarehouseCreated(
        warehouse_id=w.id,
        owner=w.owner,
        name=w.name,
        country=w.country,
        priority=w.priority,
        active=w.active,
    )
