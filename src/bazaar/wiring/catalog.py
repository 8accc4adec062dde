"""The catalog and what serves it: taxonomy, search index, listing pages, product images and
the bulk import/export jobs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx

from bazaar.catalog import handlers as catalog_handlers
from bazaar.catalog.bulk import BulkCatalog
from bazaar.catalog.listing import ProductListing
from bazaar.catalog.model import ImageRef
from bazaar.catalog.service import CatalogService
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.config import Settings
from bazaar.infra.blobs import LocalBlobStore
from bazaar.infra.netguard import IPNetwork, Resolver
from bazaar.jobs import kinds as job_kinds
from bazaar.jobs.runner import JobRunner
from bazaar.jobs.service import JobService
from bazaar.media.fetch import ImageFetcher
from bazaar.media.model import ImageRules
from bazaar.media.service import MediaService
from bazaar.media.upload_tokens import UploadTokens
from bazaar.search.index import search_index_for

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def image_fetcher(
    settings: Settings,
    client: httpx.Client,
    *,
    allowed_networks: Sequence[IPNetwork],
    resolve: Resolver | None,
) -> ImageFetcher:
    """Downloads of images by URL, within the size limit and only to allowed networks."""
    return ImageFetcher(
        client,
        max_bytes=settings.image_max_bytes,
        timeout_s=settings.image_fetch_timeout_s,
        allowed_networks=allowed_networks,
        resolve=resolve,
    )


def build_catalog(container: Container, fetcher: ImageFetcher) -> None:
    """Products, categories and brands, their search index and images, and bulk jobs.

    A catalog change drops the cached pages that show it; product pages read their images
    from the media context in one query (:func:`catalog_images`).
    """
    settings, db, clock = container.settings, container.db, container.clock
    container.search_index = search_index_for(db.engine.dialect.name)
    container.taxonomy = TaxonomyService(
        db,
        container.uow,
        clock,
        container.cursors,
        on_change=lambda: container.pages.invalidate(catalog_handlers.LISTS_NAMESPACE),
    )
    container.catalog = CatalogService(
        db,
        container.uow,
        clock,
        container.search_index,
        currency=settings.currency,
        images=lambda ids: catalog_images(container.media, ids),
        on_change=lambda ids: catalog_handlers.invalidate_products(container.pages, ids),
    )
    container.listing = ProductListing(db, container.search_index, container.cursors)
    container.media = MediaService(
        db,
        container.uow,
        clock,
        container.blobs,
        ImageRules(max_bytes=settings.image_max_bytes, max_pixels=settings.image_max_pixels),
        product_exists=lambda product_id: container.catalog.product_exists(product_id),
        fetcher=fetcher,
        tokens=UploadTokens(settings.secret_key),
        upload_url_ttl_s=settings.upload_url_ttl_s,
        serves_files=isinstance(container.blobs, LocalBlobStore),
    )
    container.bulk = BulkCatalog(
        db, container.catalog, container.taxonomy, clock, currency=settings.currency
    )
    container.job_runner = JobRunner(
        db,
        container.uow,
        clock,
        container.blobs,
        job_kinds.handlers(container.bulk),
        lease_s=settings.job_lease_s,
        poll_s=settings.dispatcher_poll_s,
    )
    container.jobs = JobService(
        db, container.uow, clock, container.blobs, on_queued=container.job_runner.wake
    )


def catalog_images(media: MediaService, product_ids: Sequence[str]) -> dict[str, list[ImageRef]]:
    """The media context's images as the catalog shows them: one query for all products."""
    return {
        product_id: [
            ImageRef(
                id=image.id,
                alt=image.alt,
                url=media.url(image.renditions["large"].key),
                thumb_url=media.url(image.renditions["thumb"].key),
                width=image.renditions["large"].width,
                height=image.renditions["large"].height,
                renditions={name: media.url(r.key) for name, r in image.renditions.items()},
            )
            for image in images
        ]
        for product_id, images in media.images_for(product_ids).items()
    }
