"""Inventory use cases: warehouses, stock counts, stock held for orders, stock feeds.

Two kinds of entry point. Operator and partner actions (``create_warehouse``, ``set_stock``,
``sync``) and the expiry sweeper run one unit of work each. The order steps (``reserve``,
``allocate``, ``release``, ``ship``, ``restock``) run inside the caller's unit of work, so
checkout creates an order and holds its stock in one transaction, and a failure anywhere
rolls both back.

Every change of a SKU's available units records one ``StockChanged`` per SKU per unit of work
(and ``LowStock`` when it crosses its threshold); see :mod:`bazaar.inventory.changes`.

:class:`InventoryService` is the one object other contexts are given; each idea lives in its
own module: warehouses and counts (:mod:`~bazaar.inventory.warehouse_stock`), order steps and
the sweeper (:mod:`~bazaar.inventory.order_holds`), inbound stock
(:mod:`~bazaar.inventory.stock_feeds`), and what they share
(:mod:`~bazaar.inventory.service_core`).
"""

from __future__ import annotations

from bazaar.inventory.order_holds import OrderHolds
from bazaar.inventory.service_core import (
    SYSTEM,
    OfferPages,
    OfferStock,
    SellerStockGate,
    UowFactory,
)
from bazaar.inventory.stock_feeds import StockFeeds, SyncReport
from bazaar.inventory.warehouse_stock import LevelView, WarehouseStock

__all__ = [
    "SYSTEM",
    "InventoryService",
    "LevelView",
    "OfferPages",
    "OfferStock",
    "SellerStockGate",
    "SyncReport",
    "UowFactory",
]


class InventoryService(WarehouseStock, OrderHolds, StockFeeds):
    """Warehouses and counts, order steps, and stock feeds, over one set of dependencies
    (see :class:`~bazaar.inventory.service_core.InventoryCore` for the constructor)."""
