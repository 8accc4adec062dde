"""Seller listings: submission, the validation runner, feed imports and publishing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bazaar.catalog.offer_matching import OfferMatching
from bazaar.listings import handlers as listing_handlers
from bazaar.listings.facts import CatalogFacts
from bazaar.listings.feed_runner import FeedRunner
from bazaar.listings.feed_service import FeedService
from bazaar.listings.images import MediaImageProber
from bazaar.listings.publishing import ListingPublisher
from bazaar.listings.runner import ValidationRunner
from bazaar.listings.service import ListingService
from bazaar.listings.workers import ListingWorkers
from bazaar.listings.workflow import RetryPolicy
from bazaar.media.fetch import ImageFetcher

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_listings(container: Container, fetcher: ImageFetcher) -> None:
    """Seller listings: submission, the validation runner, feed imports, publishing.

    ``fetcher`` probes the images a listing names. A submitted listing or a queued feed
    wakes its runner at once instead of waiting for the next poll.
    """
    settings, db, clock = container.settings, container.db, container.clock
    matching = OfferMatching(db)
    facts = CatalogFacts(
        matching,
        container.taxonomy,
        clock,
        currency=settings.currency,
        price_ttl_s=settings.listing_price_stats_ttl_s,
    )
    # Only active sellers submit; suspended and closed ones still follow their listings.
    sellers = container.seller_gate
    validation = ValidationRunner(
        db,
        container.uow,
        clock,
        facts,
        MediaImageProber(fetcher, container.media.rules),
        prohibited_terms=[t for t in settings.listing_prohibited_terms.split(",") if t.strip()],
        policy=RetryPolicy(settings.listing_max_attempts, settings.listing_retry_base_s),
        batch_size=settings.listing_batch_size,
        lease_s=settings.listing_lease_s,
        poll_s=settings.dispatcher_poll_s,
    )
    feeds = FeedRunner(
        db,
        container.uow,
        clock,
        container.blobs,
        facts,
        currency=settings.currency,
        batch_size=settings.listing_feed_batch_size,
        lease_s=settings.listing_lease_s,
        poll_s=settings.dispatcher_poll_s,
        on_listings=validation.loop.wake,
    )
    container.listing_workers = ListingWorkers(validation, feeds)
    container.listings = ListingService(
        db,
        container.uow,
        clock,
        facts,
        container.cursors,
        sellers=sellers,
        currency=settings.currency,
        on_submitted=validation.loop.wake,
    )
    container.listing_feeds = FeedService(
        db,
        container.uow,
        clock,
        container.blobs,
        facts,
        container.cursors,
        sellers=sellers,
        currency=settings.currency,
        on_queued=feeds.loop.wake,
    )
    listing_handlers.register(
        container.handlers,
        ListingPublisher(
            db,
            container.uow,
            clock,
            container.catalog,
            container.taxonomy,
            matching,
            container.media,
            fulfiller_name=container.sellers.trading_name,
        ),
    )
