"""Inventory's event handlers, registered explicitly by the composition root.

Fulfillers without a stock feed keep their stock on the catalog's offers. These handlers give
such offers a stock record in the fulfiller's default warehouse, so they can be reserved at
checkout (the rule is :func:`bazaar.inventory.model.on_hand_from_offer`). Each runs once per
event (``mark_processed``); none of them makes the catalog record an event, so nothing loops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bazaar.catalog.events import OfferCreated, OfferUpdated, ProductCreated
from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.inventory.service import InventoryService, OfferStock
from bazaar.kernel.events import StoredEvent

# product ids -> their offers' stock (CatalogService.offer_stocks)
OffersOfProducts = Callable[[Sequence[str]], Sequence[OfferStock]]


def register(
    registry: HandlerRegistry,
    inventory: InventoryService,
    *,
    offers_of_products: OffersOfProducts,
    set_offer_stock: Callable[[Mapping[tuple[str, str], int]], int],
) -> None:
    def rows(offers: Sequence[OfferStock]) -> list[tuple[str, str, int]]:
        return [(o.sku, o.fulfiller_id, o.stock) for o in offers]

    def on_product_created(event: StoredEvent) -> None:
        if event.payload.get("offers"):
            offers = offers_of_products([event.subject_id])
            inventory.apply_offer_stock(event.id, rows(offers), staff_edit=False)

    def on_offer_created(event: StoredEvent) -> None:
        offer_id = event.payload["offer_id"]
        offers = [o for o in offers_of_products([event.subject_id]) if o.offer_id == offer_id]
        inventory.apply_offer_stock(event.id, rows(offers), staff_edit=False)

    def on_offer_stock_edited(event: StoredEvent) -> None:
        if "stock" not in event.payload.get("changed", ()):
            return
        offer_id = event.payload["offer_id"]
        offer = next(
            (o for o in offers_of_products([event.subject_id]) if o.offer_id == offer_id), None
        )
        if offer is None:
            return
        # the edited number from the event: the offer may have been re-projected since
        edited = int(event.payload["stock"])
        inventory.apply_offer_stock(
            event.id, [(offer.sku, offer.fulfiller_id, edited)], staff_edit=True
        )
        # When the warehouses' counts won (a feed manages this SKU), the offer still shows
        # the edited number; put inventory's back. Idempotent: it writes current counts.
        set_offer_stock(inventory.available_by_fulfiller([offer.sku]))

    registry.register(ProductCreated, "inventory.stock_of_new_offers", on_product_created)
    registry.register(OfferCreated, "inventory.stock_of_new_offer", on_offer_created)
    registry.register(OfferUpdated, "inventory.offer_stock_edited", on_offer_stock_edited)
