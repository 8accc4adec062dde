"""Warehouse stock, reservations and sellers' stock feeds."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bazaar.inventory.service import InventoryService
from bazaar.sellers.standing import SellerAction

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_inventory(container: Container) -> None:
    """Stock per offer and fulfiller; a seller's stock feed is gated by the seller's status.

    The gate is looked up when a feed arrives, so the sellers context may be built later.
    """
    settings = container.settings
    container.inventory = InventoryService(
        container.db,
        container.uow,
        container.clock,
        container.cursors,
        reservation_ttl=timedelta(seconds=settings.reservation_ttl_s),
        low_stock_threshold=settings.low_stock_threshold,
        default_country=settings.default_warehouse_country,
        offers=lambda after, limit: container.catalog.offer_stocks(
            after_offer_id=after, limit=limit
        ),
        # a stock feed serves orders already routed to the seller: it is fulfilling
        seller_gate=lambda principal: container.seller_gate.require(
            principal, SellerAction.FULFIL, scope="stock:write"
        ),
    )
