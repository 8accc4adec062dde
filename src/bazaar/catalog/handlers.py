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
        # The catalog service invalidates right after its own commits; this handler covers
        # changes committed by any other path (workers, imports). With the shared Redis cache
        # one invalidation reaches every process; per-process memory caches rely on the TTL.
        pages.invalidate(CACHE_NAMESPACE)

    registry.register(ProductCreated, "catalog.invalidate_pages", invalidate_catalog_pages)
