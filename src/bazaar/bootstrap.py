"""Composition root: ``build(settings)`` chooses every adapter and wires every service.

Nothing else constructs adapters. Tests call ``build`` with the settings (and fakes) they
want; the CLI and the ASGI app call it once at start-up.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import redis
from argon2 import PasswordHasher

from bazaar.audit.service import AuditService
from bazaar.carts.checkout_rules import CheckoutRulesService
from bazaar.carts.quoting import QuoteSettings
from bazaar.carts.service import CartService
from bazaar.carts.shipping_rules import default_rule
from bazaar.catalog import handlers as catalog_handlers
from bazaar.catalog.bulk import BulkCatalog
from bazaar.catalog.listing import ProductListing
from bazaar.catalog.model import ImageRef
from bazaar.catalog.offer_matching import OfferMatching
from bazaar.catalog.service import CatalogService
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.checkout.service import CheckoutService
from bazaar.checkout.tax import DEFAULT_TAX_TABLE
from bazaar.config import Settings
from bazaar.fees import handlers as fee_handlers
from bazaar.fees.payout_service import PayoutRules, PayoutService
from bazaar.fees.ports import EverySellerActive, SellerDirectory
from bazaar.fees.schedule_service import FeeDefaults, FeeScheduleService
from bazaar.fees.service import LedgerService
from bazaar.fees.sources import (
    CategoriesThroughTaxonomy,
    OfferListingActivity,
    OrdersThroughService,
    RefundsThroughPayments,
)
from bazaar.identity.service import IdentityService
from bazaar.infra import outbox
from bazaar.infra.blobs import BlobStore, LocalBlobStore, S3BlobStore
from bazaar.infra.cache import Cache, MemoryCache, NamespacedCache, RedisCache
from bazaar.infra.db import Database, create_db_engine
from bazaar.infra.dispatcher import Deliverer, Dispatcher, HandlerRegistry
from bazaar.infra.idempotency import IdempotencyStore
from bazaar.infra.metrics import Metrics
from bazaar.infra.nats_sink import NatsJetStreamSink
from bazaar.infra.netguard import parse_networks
from bazaar.infra.periodic import Periodic
from bazaar.infra.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bazaar.infra.sinks import SinkSubscriber
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory import handlers as inventory_handlers
from bazaar.inventory.events import StockChanged
from bazaar.inventory.service import InventoryService
from bazaar.jobs import kinds as job_kinds
from bazaar.jobs.runner import JobRunner
from bazaar.jobs.service import JobService
from bazaar.kernel.clock import Clock, SystemClock
from bazaar.kernel.errors import NotFound
from bazaar.kernel.events import Actor
from bazaar.kernel.pagination import CursorCodec
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
from bazaar.media.model import (
    ImageRules,
    ProductImageAdded,
    ProductImageRemoved,
    ProductImagesReordered,
)
from bazaar.media.service import MediaService
from bazaar.media.upload_tokens import UploadTokens
from bazaar.orders import handlers as order_handlers
from bazaar.orders.routing import RoutingService
from bazaar.orders.service import OrderService
from bazaar.orders.store import orders as orders_table
from bazaar.payments.gateway import PaymentGateway
from bazaar.payments.service import PaymentService
from bazaar.payments.test_gateway import TestGateway
from bazaar.pricing.admin import PricingAdmin
from bazaar.pricing.cart_pricing import PricingEngine, orders_exist
from bazaar.pricing.model import PricingRules
from bazaar.pricing.ports import CatalogLookups
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.shelf import ShelfPricing
from bazaar.search.index import SearchIndex, search_index_for
from bazaar.sellers import handlers as seller_handlers
from bazaar.sellers.accounts import SellerAccounts
from bazaar.sellers.catalog_adapter import CatalogOffers, SellerCategories, SellerFulfillers
from bazaar.sellers.offer_visibility import OfferVisibility
from bazaar.sellers.payout_accounts import PayoutAccounts, UnconnectedPayoutAccounts
from bazaar.sellers.service import OnboardingRules, SellerService
from bazaar.sellers.standing import SellerAction
from bazaar.sellers.status_gate import SellerStatusGate
from bazaar.webhooks.delivery import WebhookDeliverer
from bazaar.webhooks.service import WebhookResolver, WebhookService

log = logging.getLogger("bazaar")

Resolver = Callable[[str, int], list[str]]


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
    checkout: CheckoutService = field(init=False)
    orders: OrderService = field(init=False)
    routing: RoutingService = field(init=False)  # sellers' fulfillment orders and deadlines
    reconciler: Periodic = field(init=False)  # settles payments a crash left pending
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
            "carts": self.carts.purge_expired(),
        }

    def close(self) -> None:
        self.dispatcher.stop()
        self.job_runner.stop()
        self.sweeper.stop()
        self.cart_sweeper.stop()
        self.reconciler.stop()
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
        )
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
    webhook_resolver = WebhookResolver()
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
    container.pricing_rules = RulesCache(db)
    container.pricing_refresher = Periodic(
        "bazaar-pricing-rules",
        settings.pricing_rules_refresh_s,
        container.pricing_rules.refresh_if_stale,
    )
    container.identity = IdentityService(
        db,
        container.uow,
        clock,
        PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        limiter,
        container.cursors,
        token_ttl_s=settings.token_ttl_s,
        login_max_failures=settings.login_max_failures,
        login_lockout_s=settings.login_lockout_s,
    )
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
        images=lambda ids: _catalog_images(container.media, ids),
        on_change=lambda ids: catalog_handlers.invalidate_products(container.pages, ids),
    )
    container.listing = ProductListing(db, container.search_index, container.cursors)
    container.webhooks = WebhookService(
        db,
        container.uow,
        clock,
        container.cursors,
        allowed_networks=allowed_networks,
        resolve=resolve,
        on_change=webhook_resolver.invalidate,
    )
    container.audit = AuditService(db, container.uow, clock, container.cursors)
    media_client = http_client
    if media_client is None:
        media_client = ImageFetcher.build_client()
        closers.append(media_client.close)
    container.media = MediaService(
        db,
        container.uow,
        clock,
        blobs,
        ImageRules(max_bytes=settings.image_max_bytes, max_pixels=settings.image_max_pixels),
        product_exists=lambda product_id: container.catalog.product_exists(product_id),
        fetcher=ImageFetcher(
            media_client,
            max_bytes=settings.image_max_bytes,
            timeout_s=settings.image_fetch_timeout_s,
            allowed_networks=allowed_networks,
            resolve=resolve,
        ),
        tokens=UploadTokens(settings.secret_key),
        upload_url_ttl_s=settings.upload_url_ttl_s,
        serves_files=isinstance(blobs, LocalBlobStore),
    )
    container.bulk = BulkCatalog(
        db, container.catalog, container.taxonomy, clock, currency=settings.currency
    )
    container.job_runner = JobRunner(
        db,
        container.uow,
        clock,
        blobs,
        job_kinds.handlers(container.bulk),
        lease_s=settings.job_lease_s,
        poll_s=settings.dispatcher_poll_s,
    )
    container.jobs = JobService(
        db, container.uow, clock, blobs, on_queued=container.job_runner.wake
    )
    default_shipping = default_rule(
        settings.currency, settings.shipping_default_amount, settings.shipping_default_free_over
    )
    container.carts = CartService(
        db,
        container.uow,
        clock,
        container.catalog.checkout_offers,
        QuoteSettings(DEFAULT_TAX_TABLE, settings.prices_include_tax, (default_shipping,)),
        currency=settings.currency,
        ttl_s=settings.cart_ttl_s,
        abandoned_after_s=settings.cart_abandoned_after_s,
        on_abandoned=lambda count: container.metrics.carts_abandoned.inc(count),
    )
    container.checkout_rules = CheckoutRulesService(
        db,
        container.uow,
        clock,
        currency=settings.currency,
        default_shipping=(default_shipping,),
        fulfiller_exists=lambda fid: bool(container.taxonomy.fulfillers([fid])),
        category_id_of=lambda ref: container.taxonomy.get_category(ref).id,
    )
    container.cart_sweeper = Periodic(
        "bazaar-cart-sweeper", settings.cart_sweep_interval_s, container.carts.sweep_abandoned
    )

    container.inventory = InventoryService(
        db,
        container.uow,
        clock,
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
    container.sweeper = Periodic(
        "bazaar-reservation-sweeper",
        settings.reservation_sweep_interval_s,
        container.inventory.sweep_expired,
    )

    container.payments = PaymentService(db, clock, gateway or TestGateway(), container.uow)
    container.pricing = PricingEngine(
        db, clock, PricingRules, channel_id="web", has_ordered=orders_exist(orders_table)
    )
    container.carts.use_pricing(container.pricing, container.pricing)
    container.checkout = CheckoutService(
        db,
        clock,
        container.uow,
        carts=container.carts,
        inventory=container.inventory,
        payments=container.payments,
        idempotency=IdempotencyStore(
            db,
            clock,
            ttl=timedelta(seconds=settings.idempotency_ttl_s),
            lease=timedelta(seconds=settings.idempotency_lease_s),
        ),
        capture_at_placement=settings.capture_on == "placement",
        seller_accept_sla=timedelta(seconds=settings.seller_accept_sla_s),
        pricing=container.pricing,
    )
    container.orders = OrderService(
        db,
        clock,
        container.uow,
        stock=container.inventory,
        payments=container.payments,
        capture_on_shipment=settings.capture_on == "shipment",
    )
    container.routing = RoutingService(
        db,
        clock,
        container.cursors,
        container.orders.fulfilling,
        idempotency=container.checkout.idempotency,
    )
    reconcile_after = timedelta(seconds=settings.payment_reconcile_after_s)
    container.reconciler = Periodic(
        "bazaar-payment-reconciler",
        settings.payment_reconcile_after_s,
        lambda: (
            container.checkout.reconcile(older_than=reconcile_after)
            + container.orders.reconcile_money(clock.now() - reconcile_after)
            + container.ledger.settle_refunds()
            # sellers' fulfillment orders left unaccepted past their deadline
            + container.routing.expire_overdue()
        ),
    )

    # The explicit handler registry: every in-process subscription in one place.
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
    _build_fees(container)
    fee_handlers.register(handlers, container.ledger)
    _build_sellers(container, payout_accounts or UnconnectedPayoutAccounts())
    _build_listings(
        container,
        ImageFetcher(
            media_client,
            max_bytes=settings.image_max_bytes,
            timeout_s=settings.image_fetch_timeout_s,
            allowed_networks=allowed_networks,
            resolve=resolve,
        ),
    )
    _build_pricing(container)
    return container


def _build_fees(container: Container) -> None:
    """The ledger, its fee schedule and payout runs, reading other contexts through ports."""
    settings = container.settings
    container.fee_schedules = FeeScheduleService(
        container.db,
        container.uow,
        container.clock,
        FeeDefaults(
            currency=settings.currency,
            commission_rate=settings.commission_rate,
            commission_minimum=settings.commission_minimum,
            order_fee=settings.order_fee,
            monthly_listing_fee=settings.monthly_listing_fee,
        ),
    )
    container.ledger = LedgerService(
        container.db,
        container.clock,
        container.uow,
        fee_schedule=container.fee_schedules.current,
        orders=OrdersThroughService(container.orders),
        categories=CategoriesThroughTaxonomy(container.taxonomy),
        refunds=RefundsThroughPayments(container.db, container.payments),
        listings=OfferListingActivity(container.db),
    )
    container.seller_directory = EverySellerActive()
    container.payouts = PayoutService(
        container.db,
        container.clock,
        container.uow,
        PayoutRules(
            currency=settings.currency,
            hold_days=settings.payout_hold_days,
            minimum=settings.payout_minimum,
            weekday=settings.payout_weekday,
        ),
        sellers=lambda: container.seller_directory,
    )


def _build_sellers(container: Container, payout_accounts: PayoutAccounts) -> None:
    """Seller onboarding and accounts; seller statuses feed payout runs."""
    settings = container.settings
    iban_key = (
        settings.seller_iban_key
        or hmac.new(
            settings.secret_key.encode(), b"bazaar.sellers.iban-fingerprint", hashlib.sha256
        ).hexdigest()
    )
    container.sellers = SellerService(
        container.db,
        container.uow,
        container.clock,
        container.limiter,
        container.cursors,
        OnboardingRules(
            terms_version=settings.seller_terms_version,
            restricted_categories=settings.seller_restricted_categories,
            iban_key=iban_key.encode(),
            applications_per_hour=settings.seller_applications_per_hour,
            invitation_ttl=timedelta(seconds=settings.seller_invitation_ttl_s),
        ),
        categories=SellerCategories(container.taxonomy),
        payout_accounts=payout_accounts,
    )
    container.seller_accounts = SellerAccounts(
        container.db,
        container.uow,
        container.clock,
        container.cursors,
        container.identity,
        invitation_ttl=timedelta(seconds=settings.seller_invitation_ttl_s),
    )
    container.seller_directory = container.sellers
    container.seller_gate = SellerStatusGate(container.db)
    seller_handlers.register(
        container.handlers,
        visibility=OfferVisibility(container.db, container.clock, CatalogOffers(container.catalog)),
        trading_name=container.sellers.trading_name,
        ensure_fulfiller=SellerFulfillers(container.taxonomy).ensure,
    )


def _build_listings(container: Container, fetcher: ImageFetcher) -> None:
    """Seller listings: submission, the validation runner, feed imports, publishing."""
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


def _build_pricing(container: Container) -> None:
    """Staff pricing, checking the ids rules name through the catalog's services; quotes
    price with the rules cache."""
    taxonomy = container.taxonomy

    def category_exists(category_id: str) -> bool:
        try:
            return taxonomy.get_category(category_id).id == category_id
        except NotFound:
            return False

    def brand_exists(brand_id: str) -> bool:
        try:
            return taxonomy.get_brand(brand_id).id == brand_id
        except NotFound:
            return False

    container.pricing.use_rules(container.pricing_rules.get)
    container.shelf_pricing = ShelfPricing(
        container.db,
        container.clock,
        container.pricing_rules,
        currency=container.settings.currency,
        channel_id="web",
        log_exposures=container.pricing.record_exposures,
    )
    container.pricing_admin = PricingAdmin(
        container.db,
        container.uow,
        container.clock,
        container.cursors,
        container.pricing_rules,
        CatalogLookups(
            offers=container.catalog.checkout_offers,
            product_exists=container.catalog.product_exists,
            category_exists=category_exists,
            brand_exists=brand_exists,
            fulfiller_exists=lambda fid: bool(taxonomy.fulfillers([fid])),
        ),
        currency=container.settings.currency,
    )


def _catalog_images(media: MediaService, product_ids: Sequence[str]) -> dict[str, list[ImageRef]]:
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
