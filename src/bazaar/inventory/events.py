"""Inventory events: warehouses, stock counts, and the stock held for orders.

``StockChanged`` and ``LowStock`` are coalesced per SKU per unit of work (one event per SKU
with its available units before and after), so a checkout of ten units of one SKU or a feed
batch touching it twice is one change, and a low-stock alert is raised once when the SKU
crosses its threshold, not on every sale after that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bazaar.kernel.events import Event


def owner_refs(owners: tuple[str, ...]) -> tuple[str, ...]:
    """Webhook audiences of fulfillers: sellers (``sel_…``) and partners (``prt_…``)."""
    refs: list[str] = []
    for owner in sorted(set(owners)):
        if owner.startswith("sel_"):
            refs.append(f"seller:{owner}")
        elif owner.startswith("prt_"):
            refs.append(f"partner:{owner}")
    return tuple(refs)


# --- warehouses -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WarehouseEvent(Event, abstract=True):
    subject_type = "warehouse"
    subject_field = "warehouse_id"
    warehouse_id: str
    owner: str

    def audience(self) -> tuple[str, ...]:
        return owner_refs((self.owner,))


@dataclass(frozen=True, kw_only=True)
class WarehouseCreated(WarehouseEvent):
    name: str
    country: str
    priority: int
    active: bool


@dataclass(frozen=True, kw_only=True)
class WarehouseUpdated(WarehouseEvent):
    changed: tuple[str, ...]
    active: bool


# --- stock counts -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SkuEvent(Event, abstract=True):
    """About one SKU's stock; ``fulfiller_ids`` own the warehouses whose counts moved."""

    subject_type = "sku"
    subject_field = "sku"
    sku: str
    fulfiller_ids: tuple[str, ...] = ()

    def audience(self) -> tuple[str, ...]:
        return owner_refs(self.fulfiller_ids)


@dataclass(frozen=True, kw_only=True)
class StockChanged(SkuEvent):
    """The SKU's available units (active warehouses, all fulfillers) moved in one commit."""

    old_available: int
    new_available: int


@dataclass(frozen=True, kw_only=True)
class LowStock(SkuEvent):
    """Available units fell to or below the SKU's threshold (once per crossing)."""

    available: int
    threshold: int


@dataclass(frozen=True, kw_only=True)
class StockLevelSet(SkuEvent):
    """Staff counted a SKU in a warehouse (and may have changed its low-stock threshold)."""

    warehouse_id: str
    on_hand: int
    old_on_hand: int | None
    low_stock_threshold: int | None


@dataclass(frozen=True, kw_only=True)
class StockRestocked(SkuEvent):
    """Units came back on hand (a return, a delivery counted in by hand)."""

    warehouse_id: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class StockSynced(Event):
    """One batch of a stock feed: how many items were applied, stale, repeated, rejected."""

    subject_type = "stock_source"
    subject_field = "source"
    source: str
    applied: int
    stale: int
    duplicate: int
    rejected: int


# --- stock held for orders --------------------------------------------------------------------


@dataclass(frozen=True)
class HeldUnits:
    """Units of one SKU held in one warehouse for an order."""

    sku: str
    warehouse_id: str
    quantity: int

    def to_dict(self) -> dict[str, object]:
        return {"sku": self.sku, "warehouse_id": self.warehouse_id, "quantity": self.quantity}


@dataclass(frozen=True, kw_only=True)
class OrderStockEvent(Event, abstract=True):
    subject_type = "order"
    subject_field = "order_id"
    order_id: str


@dataclass(frozen=True, kw_only=True)
class StockReserved(OrderStockEvent):
    """Units held for an order awaiting payment until ``expires_at``."""

    units: tuple[HeldUnits, ...]
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class StockAllocated(OrderStockEvent):
    """The order is paid: its reserved units are now allocated to it."""

    units: tuple[HeldUnits, ...]


@dataclass(frozen=True, kw_only=True)
class StockShipped(OrderStockEvent):
    """Allocated units left their warehouses."""

    units: tuple[HeldUnits, ...]


@dataclass(frozen=True, kw_only=True)
class ReservationsReleased(OrderStockEvent):
    """The order's reserved and unshipped allocated units went back on sale."""

    reason: str
    units: tuple[HeldUnits, ...]


@dataclass(frozen=True, kw_only=True)
class ReservationsExpired(OrderStockEvent):
    """The order was not paid in time; its holds were released. The orders context cancels
    the unpaid order when it sees this."""

    units: tuple[HeldUnits, ...]
