"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from bazaar import __version__
from bazaar.audit.api import router as audit_router
from bazaar.bootstrap import Container, build
from bazaar.carts.api import router as carts_router
from bazaar.catalog.api import cached_routes
from bazaar.catalog.api import router as catalog_router
from bazaar.catalog.taxonomy_api import router as taxonomy_router
from bazaar.checkout.api import router as checkout_router
from bazaar.config import Settings
from bazaar.fees.api import router as fees_router
from bazaar.http.caching import CachedPagesMiddleware
from bazaar.http.middleware import EdgeMiddleware
from bazaar.http.ops import router as ops_router
from bazaar.http.problems import install_problem_handlers
from bazaar.identity.api import router as identity_router
from bazaar.infra.collector import settle_heap
from bazaar.infra.logging import configure_logging
from bazaar.inventory.api import router as inventory_router
from bazaar.jobs.api import body_limits as jobs_body_limits
from bazaar.jobs.api import router as jobs_router
from bazaar.listings.api import body_limits as listings_body_limits
from bazaar.listings.api import router as listings_router
from bazaar.media.api import body_limits as media_body_limits
from bazaar.media.api import router as media_router
from bazaar.orders.api import router as orders_router
from bazaar.orders.seller_api import router as seller_fulfillments_router
from bazaar.pricing.api import router as pricing_router
from bazaar.sellers.api import router as sellers_router
from bazaar.webhooks.api import router as webhooks_router

DESCRIPTION = """\
Bazaar's HTTP API. Errors are `application/problem+json` (RFC 9457) with field-level
`errors`; lists use opaque keyset cursors (`limit` at most 100); money is
`{"amount": <minor units>, "currency": "<ISO 4217>"}`. Authenticate with
`Authorization: Bearer <token or API key>`.
"""


def create_app(container: Container, *, run_dispatcher: bool | None = None) -> FastAPI:
    """Build the app around ``container``.

    ``run_dispatcher`` starts the event dispatcher as a background thread for the app's
    lifetime (the embedded set-up); it defaults to ``settings.dispatcher_embedded``.
    """
    settings = container.settings
    embedded = settings.dispatcher_embedded if run_dispatcher is None else run_dispatcher
    # Every API process polls for pricing rule changes made elsewhere, embedded or not; an
    # app built with run_dispatcher=False (tests) runs no background thread at all.
    refresh_pricing = run_dispatcher is not False

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if refresh_pricing:
            container.pricing_refresher.start()
        if embedded:
            container.dispatcher.start()
            container.job_runner.start()
            container.sweeper.start()
            container.cart_sweeper.start()
            container.reconciler.start()
            container.order_closer.start()
            container.listing_workers.start()
        try:
            yield
        finally:
            container.dispatcher.stop()
            container.job_runner.stop()
            container.sweeper.stop()
            container.cart_sweeper.stop()
            container.reconciler.stop()
            container.order_closer.stop()
            container.listing_workers.stop()
            container.pricing_refresher.stop()

    telemetry = settings.opentelemetry
    app = FastAPI(
        telemetry={"tracing": telemetry, "metrics": telemetry, "logs": telemetry},
        title="Bazaar",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.container = container
    install_problem_handlers(app)
    for router in (
        ops_router,
        identity_router,
        catalog_router,
        taxonomy_router,
        carts_router,
        checkout_router,
        orders_router,
        seller_fulfillments_router,
        sellers_router,
        webhooks_router,
        audit_router,
        media_router,
        jobs_router,
        inventory_router,
        fees_router,
        listings_router,
        pricing_router,
    ):
        app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "X-Request-Id",
                "Cart-Token",
                "Order-Token",
                "Application-Token",
            ],
            expose_headers=["ETag", "X-Request-Id", "Retry-After", "Location"],
            max_age=600,
        )
    app.add_middleware(
        CachedPagesMiddleware,
        pages=container.pages,
        routes=cached_routes(container.pages, container.pricing_rules),
        ttl_s=settings.cache_ttl_s,
        clock=container.clock,
    )
    app.add_middleware(
        EdgeMiddleware,
        metrics=container.metrics,
        limiter=container.limiter,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        max_body_bytes=settings.max_body_bytes,
        body_limits=[
            *media_body_limits(settings.image_max_bytes),
            *jobs_body_limits(settings.import_max_bytes),
            *listings_body_limits(settings.import_max_bytes),
        ],
    )
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for ``uvicorn --factory`` (``bazaar serve`` with several workers)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(build(settings))
    settle_heap()  # a server process: what it built lives as long as it does
    return app
