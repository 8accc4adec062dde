"""Catalog event handlers, registered explicitly by the composition root.

Cached pages live in two kinds of namespace: one for listings and the category tree, and one
per product for its page and offers, so a stock change on one product drops that product's
pages and the listings, not every product page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bazaar.catalog.events import (
    PRODUCT_CHANGES,
    BrandCreated,
    BrandUpdated,
    CategoryCreated,
    CategoryUpdated,
    FulfillerUpdated,
)
from bazaar.infra.cache import NamespacedCache
from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.kernel.events import Event, StoredEvent

LISTS_NAMESPACE = "catalog"


def product_namespace(product_id: str) -> str:
    return f"product:{product_id}"


def invalidate_products(pages: NamespacedCache, product_ids: Sequence[str]) -> None:
    """Drop the cached listings and the pages of these products."""
    pages.invalidate(LISTS_NAMESPACE)
    for product_id in product_ids:
        pages.invalidate(product_namespace(product_id))


def register(
    registry: HandlerRegistry,
    pages: NamespacedCache,
    *,
    reindex: Callable[[Sequence[str]], None],
    reindex_brand: Callable[[str], None],
    image_events: Sequence[type[Event]] = (),
) -> None:
    # All of these are idempotent by nature: invalidating twice costs a cache miss, and
    # reindexing rebuilds a document from the current rows. The catalog service already
    # invalidates right after its own commits; these handlers cover every other process
    # (per-process memory caches elsewhere rely on the TTL) and changes made by other contexts.

    def on_product_change(event: StoredEvent) -> None:
        invalidate_products(pages, [event.subject_id])

    def on_reference_change(event: StoredEvent) -> None:
        pages.invalidate(LISTS_NAMESPACE)

    def on_brand_renamed(event: StoredEvent) -> None:
        # search documents carry the brand name (it is searchable text)
        reindex_brand(event.subject_id)

    def on_image_change(event: StoredEvent) -> None:
        # the listing card shows the first image's thumbnail
        reindex([event.subject_id])

    for product_event in PRODUCT_CHANGES:
        registry.register(product_event, "catalog.invalidate_pages", on_product_change)
    reference_events: tuple[type[Event], ...] = (
        CategoryCreated,
        CategoryUpdated,
        BrandCreated,
        FulfillerUpdated,
    )
    for reference_event in reference_events:
        registry.register(reference_event, "catalog.invalidate_listings", on_reference_change)
    registry.register(BrandUpdated, "catalog.reindex_brand", on_brand_renamed)
    for image_event in image_events:
        registry.register(image_event, "catalog.reindex_images", on_image_change)


def register_stock_projection(
    registry: HandlerRegistry,
    *,
    stock_events: Sequence[type[Event]],
    available: Callable[[Sequence[str]], Mapping[tuple[str, str], int]],
    set_offer_stock: Callable[[Mapping[tuple[str, str], int]], int],
) -> None:
    """Keep offers' stock equal to inventory's available units (buy box, ``in_stock``).

    ``stock_events`` carry a ``sku`` (inventory's ``StockChanged``); ``available`` answers
    per (SKU, fulfiller). The handler reads the current counts rather than the event's, so
    redeliveries and out-of-order deliveries all converge on the truth; and writing the
    offers records no catalog event, so nothing loops back into inventory.
    """

    def on_stock_change(event: StoredEvent) -> None:
        sku = event.payload.get("sku")
        if isinstance(sku, str):
            set_offer_stock(available([sku]))

    for stock_event in stock_events:
        registry.register(stock_event, "catalog.project_stock", on_stock_change)
