"""Catalog event handlers, registered explicitly by the composition root."""

from __future__ import annotations

from bazaar.catalog.model import ProductCreated
from bazaar.infra.cache import NamespacedCache
from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.kernel.events import StoredEvent

CACHE_NAMESPACE = "catalog"


def register(registry: HandlerRegistry, pages: NamespacedCache) -> None:
    def invalidate_catalog_pages(event: StoredEvent) -> None:
        # Idempotent by nature: bumping the namespace version twice only costs a cache miss.
        # The writing process already invalidated its own cache; this reaches the others.
        pages.invalidate(CACHE_NAMESPACE)

    registry.register(ProductCreated, "catalog.invalidate_pages", invalidate_catalog_pages)
