"""Composition root: ``build(settings)`` chooses every adapter and wires every service.

Nothing else constructs adapters. Tests call ``build`` with the settings (and fakes) they
want; the CLI and the ASGI app call it once at start-up. The adapters are chosen here; each
context's services are wired by its builder in :mod:`bazaar.wiring`, called in dependency
order at the end of ``build``, and the periodic tasks by :mod:`bazaar.wiring.workers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import redis

from bazaar.audit.service import AuditService
from bazaar.carts.checkout_rules import CheckoutRulesService
from bazaar.carts.housekeeping import CartHousekeeping
from bazaar.carts.service import CartService
from bazaar.catalog import handlers as catalog_handlers
from bazaar.catalog.bulk import BulkCatalog
from bazaar.catalog.listing import ProductListing
from bazaar.catalog.service import CatalogService
from bazaar.catalog.shelf_index import ShelfIndex
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.checkout.service import CheckoutService
from bazaar.config import Settings
from bazaar.fees import handlers as fee_handlers
from bazaar.fees.payout_service import PayoutService
from bazaar.fees.ports import SellerDirectory
from bazaar.fees.schedule_service import FeeScheduleService
from bazaar.fees.service import LedgerService
from bazaar.identity.service import IdentityService
from bazaar.infra import outbox
from bazaar.infra.blobs import BlobStore, LocalBlobStore, S3BlobStore
from bazaar.infra.cache import Cache, MemoryCache, NamespacedCache, RedisCache
from bazaar.infra.db import Database, create_db_engine
from bazaar.infra.dispatcher import Deliverer, Dispatcher, HandlerRegistry
from bazaar.infra.metrics import Metrics
from bazaar.infra.nats_sink import NatsJetStreamSink
from bazaar.infra.netguard import Resolver, parse_networks
from bazaar.infra.periodic import Periodic
from bazaar.infra.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bazaar.infra.sinks import SinkSubscriber
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory import handlers as inventory_handlers
from bazaar.inventory.events import StockChanged
from bazaar.inventory.service import InventoryService
from bazaar.jobs.runner import JobRunner
from bazaar.jobs.service import JobService
from bazaar.kernel.clock import Clock, SystemClock
from bazaar.kernel.events import Actor
from bazaar.kernel.pagination import CursorCodec
from bazaar.listings.feed_service import FeedService
from bazaar.listings.service import ListingService
from bazaar.listings.workers import ListingWorkers
from bazaar.media.model import ProductImageAdded, ProductImageRemoved, ProductImagesReordered
from bazaar.media.service import MediaService
from bazaar.orders import handlers as order_handlers
from bazaar.orders.closing import OrderCloser
from bazaar.orders.routing import RoutingService
from bazaar.orders.service import OrderService
from bazaar.payments.gateway import PaymentGateway
from bazaar.payments.service import PaymentService
from bazaar.payments.test_gateway import TestGateway
from bazaar.pricing.admin import PricingAdmin
from bazaar.pricing.cart_pricing import PricingEngine
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.shelf import ShelfPricing
from bazaar.search.index import SearchIndex
from bazaar.sellers.accounts import SellerAccounts
from bazaar.sellers.payout_accounts import PayoutAccounts, UnconnectedPayoutAccounts
from bazaar.sellers.service import SellerService
from bazaar.sellers.status_gate import SellerStatusGate
from bazaar.webhooks.delivery import WebhookDeliverer
from bazaar.webhooks.service import WebhookResolver, WebhookService
from bazaar.wiring.carts import build_carts
from bazaar.wiring.catalog import build_catalog, image_fetcher
from bazaar.wiring.fees import build_fees
from bazaar.wiring.inventory import build_inventory
from bazaar.wiring.listings import build_listings
from bazaar.wiring.orders import build_orders
from bazaar.wiring.platform import build_platform
from bazaar.wiring.pricing import build_pricing
from bazaar.wiring.sellers import build_sellers
from bazaar.wiring.workers import build_workers

log = logging.getLogger("bazaar")


@dataclass
class Container:
    """Every adapter and service of one running Bazaar, built by :func:`build`."""

    settings: Settings
    clock: Clock
    db: Database
    cache: Cache
    pages: NamespacedCache
    limiter: RateLimiter
    blobs: BlobStore
    cursors: CursorCodec
    handlers: HandlerRegistry
    resolvers: list[outbox.SubscriberResolver]
    deliverers: dict[str, Deliverer]
    dispatcher: Dispatcher
    metrics: Metrics = field(init=False)
    identity: IdentityService = field(init=False)
    search_index: SearchIndex = field(init=False)
    taxonomy: TaxonomyService = field(init=False)
    catalog: CatalogService = field(init=False)
    listing: ProductListing = field(init=False)
    webhooks: WebhookService = field(init=False)
    audit: AuditService = field(init=False)
    media: MediaService = field(init=False)
    bulk: BulkCatalog = field(init=False)
    jobs: JobService = field(init=False)
    job_runner: JobRunner = field(init=False)
    carts: CartService = field(init=False)
    cart_housekeeping: CartHousekeeping = field(init=False)  # idle and expired carts
    checkout_rules: CheckoutRulesService = field(init=False)
    cart_sweeper: Periodic = field(init=False)  # records idle carts as abandoned
    inventory: InventoryService = field(init=False)
    sweeper: Periodic = field(init=False)  # releases expired stock reservations
    payments: PaymentService = field(init=False)
    pricing: PricingEngine = field(init=False)
    pricing_rules: RulesCache = field(init=False)  # this process's compiled pricing rules
    pricing_refresher: Periodic = field(init=False)  # reloads them after another's change
    pricing_admin: PricingAdmin = field(init=False)
    shelf_pricing: ShelfPricing = field(init=False)  # effective prices on catalog pages
    shelf_index: ShelfIndex = field(init=False)  # guest prices in the search index
    checkout: CheckoutService = field(init=False)
    orders: OrderService = field(init=False)
    routing: RoutingService = field(init=False)  # sellers' fulfillment orders and deadlines
    reconciler: Periodic = field(init=False)  # settles payments a crash left pending
    # takes long-shipped parcels as delivered, completes orders past their return window
    order_closing: OrderCloser = field(init=False)
    order_closer: Periodic = field(init=False)  # runs order_closing.sweep in workers
    fee_schedules: FeeScheduleService = field(init=False)
    ledger: LedgerService = field(init=False)
    payouts: PayoutService = field(init=False)
    # Seller statuses for payout runs: the sellers context's ``SellerService``.
    seller_directory: SellerDirectory = field(init=False)
    sellers: SellerService = field(init=False)
    seller_accounts: SellerAccounts = field(init=False)
    # What each seller route may do for a seller in its current status.
    seller_gate: SellerStatusGate = field(init=False)
    listings: ListingService = field(init=False)  # sellers' listings and their review
    listing_feeds: FeedService = field(init=False)
    listing_workers: ListingWorkers = field(init=False)  # validation passes, feed imports
    closers: list[Callable[[], None]] = field(default_factory=list)

    def uow(self, actor: Actor) -> SqlUnitOfWork:
        """A unit of work whose events wake the in-process dispatcher after commit."""
        return SqlUnitOfWork(
            self.db, self.clock, self.resolvers, actor=actor, on_events=self.dispatcher.wake
        )

    def outbox_stats(self) -> outbox.OutboxStats:
        with self.db.read() as conn:
            return outbox.outbox_stats(conn, self.clock.now())

    def purge_expired(self) -> dict[str, int]:
        """Remove what has outlived its time to live (delivered deliveries, dead tokens)."""
        cutoff = self.clock.now() - timedelta(days=self.settings.delivered_retention_days)
        with self.db.write() as conn:
            deliveries = outbox.purge_delivered(conn, cutoff)
        keys_cutoff = self.clock.now() - timedelta(days=self.settings.stock_sync_key_retention_days)
        return {
            "deliveries": deliveries,
            "tokens": self.identity.purge_expired_tokens(),
            "stock_sync_keys": self.inventory.purge_sync_keys(keys_cutoff),
            "carts": self.cart_housekeeping.purge_expired(),
        }

    def close(self) -> None:
        self.dispatcher.stop()
        self.job_runner.stop()
        self.sweeper.stop()
        self.cart_sweeper.stop()
        self.reconciler.stop()
        self.order_closer.stop()
        self.listing_workers.stop()
        self.pricing_refresher.stop()
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                log.exception("error while closing")
        self.db.dispose()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http_client: httpx.Client | None = None,
    resolve: Resolver | None = None,
    gateway: PaymentGateway | None = None,
    payout_accounts: PayoutAccounts | None = None,
) -> Container:
    """Build the container for ``settings``.

    ``http_client`` and ``resolve`` let tests route outbound webhooks, image imports and DNS;
    production leaves them unset. ``gateway`` is the payment provider's adapter; without one
    the built-in test gateway (documented test tokens, no real money) is used.
    ``payout_accounts`` receives sellers' IBANs (the payout provider); without one they
    are kept nowhere.
    """
    clock = clock or SystemClock()
    db = Database(
        create_db_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            echo=settings.database_echo,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        ),
        write_wait_s=settings.sqlite_busy_timeout_ms / 1000,
    )
    closers: list[Callable[[], None]] = []
    cache: Cache
    limiter: RateLimiter
    if settings.redis_url:
        redis_client = redis.Redis.from_url(settings.redis_url)
        closers.append(redis_client.close)
        cache = RedisCache(redis_client)
        limiter = RedisRateLimiter(redis_client)
    else:
        cache = MemoryCache(max_entries=settings.cache_max_entries)
        limiter = MemoryRateLimiter()
    blobs: BlobStore
    if settings.s3_bucket:
        blobs = S3BlobStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            public_base_url=settings.s3_public_base_url,
        )
    else:
        blobs = LocalBlobStore(settings.media_dir, base_url=settings.media_base_url)

    allowed_networks = parse_networks(settings.webhook_allowed_networks)
    handlers = HandlerRegistry()
    if http_client is None:
        http_client = WebhookDeliverer.build_client(
            settings.webhook_connect_timeout_s, settings.webhook_read_timeout_s
        )
        closers.append(http_client.close)
    webhook_deliverer = WebhookDeliverer(
        db, clock, http_client, allowed_networks=allowed_networks, resolve=resolve
    )
    webhook_resolver = WebhookResolver(ttl_s=settings.webhook_subscriptions_refresh_s)
    resolvers: list[outbox.SubscriberResolver] = [handlers, webhook_resolver]
    deliverers: dict[str, Deliverer] = {"handler": handlers, "webhook": webhook_deliverer}
    if settings.nats_url:
        sink = NatsJetStreamSink(settings.nats_url, stream=settings.nats_stream)
        closers.append(sink.close)
        nats = SinkSubscriber("nats", sink)
        resolvers.append(nats)
        deliverers["sink"] = nats

    dispatcher = Dispatcher(
        db,
        clock,
        deliverers,
        batch_size=settings.dispatcher_batch_size,
        lease_s=settings.delivery_lease_s,
        max_attempts=settings.delivery_max_attempts,
        backoff_base_s=settings.delivery_backoff_base_s,
        backoff_max_s=settings.delivery_backoff_max_s,
        poll_s=settings.dispatcher_poll_s,
    )
    container = Container(
        settings=settings,
        clock=clock,
        db=db,
        cache=cache,
        pages=NamespacedCache(cache),
        limiter=limiter,
        blobs=blobs,
        cursors=CursorCodec(settings.secret_key),
        handlers=handlers,
        resolvers=resolvers,
        deliverers=deliverers,
        dispatcher=dispatcher,
        closers=closers,
    )
    container.metrics = Metrics(container.outbox_stats)
    build_platform(
        container,
        allowed_networks=allowed_networks,
        resolve=resolve,
        on_subscriptions_change=webhook_resolver.invalidate,
    )
    build_catalog(
        container,
        image_fetcher(settings, http_client, allowed_networks=allowed_networks, resolve=resolve),
    )
    build_carts(container)
    build_inventory(container)
    build_pricing(container)
    build_orders(container, gateway or TestGateway())

    # The explicit handler registry, in the order handlers subscribe; sellers and listings
    # register theirs in their builders, after the fees'.
    catalog_handlers.register(
        handlers,
        container.pages,
        reindex=container.catalog.reindex,
        reindex_brand=container.catalog.reindex_brand,
        image_events=(ProductImageAdded, ProductImageRemoved, ProductImagesReordered),
    )
    catalog_handlers.register_stock_projection(
        handlers,
        stock_events=(StockChanged,),
        available=container.inventory.available_by_fulfiller,
        set_offer_stock=container.catalog.set_offer_stock,
    )
    inventory_handlers.register(
        handlers,
        container.inventory,
        offers_of_products=lambda ids: container.catalog.offer_stocks(product_ids=ids),
        set_offer_stock=container.catalog.set_offer_stock,
    )
    order_handlers.register(handlers, container.orders)
    build_fees(container)
    fee_handlers.register(handlers, container.ledger)
    build_sellers(container, payout_accounts or UnconnectedPayoutAccounts())
    build_listings(
        container,
        image_fetcher(settings, http_client, allowed_networks=allowed_networks, resolve=resolve),
    )
    build_workers(container)
    return container
