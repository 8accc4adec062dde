"""Settings: every knob Bazaar has, read once from ``BAZAAR_*`` environment variables.

One :class:`Settings` object is built at start-up and passed down through
:func:`bazaar.bootstrap.build`; nothing else reads the environment.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused when env=production


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All configuration. Defaults give the embedded laptop set-up (SQLite, one process)."""

    model_config = SettingsConfigDict(env_prefix="BAZAAR_", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = "development"
    secret_key: str = Field(DEV_SECRET, min_length=16)

    # storage
    database_url: str = "sqlite:///./var/bazaar.db"
    database_pool_size: int = Field(10, ge=1, le=200)
    database_echo: bool = False
    sqlite_busy_timeout_ms: int = Field(5000, ge=0)
    redis_url: str | None = None
    nats_url: str | None = None
    nats_stream: str = "BAZAAR_EVENTS"
    media_dir: Path = Path("./var/media")
    media_base_url: str = "/media"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_public_base_url: str | None = None

    # catalog and media
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    image_max_bytes: int = Field(10 * 1_048_576, ge=1024)
    image_max_pixels: int = Field(40_000_000, ge=10_000)
    image_fetch_timeout_s: float = Field(10.0, gt=0)
    upload_url_ttl_s: int = Field(900, ge=30)
    import_max_bytes: int = Field(200 * 1_048_576, ge=1024)
    job_lease_s: float = Field(60.0, gt=0)
    # Checkout and payments
    capture_on: Literal["shipment", "placement"] = "shipment"
    idempotency_ttl_s: int = Field(86_400, ge=86_400)  # keys replay for at least 24 h
    idempotency_lease_s: float = Field(60.0, gt=0)
    payment_reconcile_after_s: float = Field(60.0, gt=0)
    # order routing: a seller accepts its part of a paid order within this, or it is refunded
    seller_accept_sla_s: int = Field(86_400, ge=60)
    # returns: a delivered parcel may be sent back for this long; then its order completes
    return_window_days: int = Field(30, ge=0)
    order_close_interval_s: float = Field(300.0, gt=0)  # how often workers close such orders
    # a parcel shipped this long ago and never reported delivered is taken as delivered
    # (its return window starts then); 0: only a report delivers it
    assume_delivered_after_days: int = Field(21, ge=0)

    # fees, the ledger and seller payouts (amounts in minor units of ``currency``)
    commission_rate: Decimal = Field(Decimal("0.10"), ge=0, le=1)  # until a schedule is saved
    commission_minimum: int = Field(0, ge=0)  # per sold line
    order_fee: int = Field(0, ge=0)  # per seller per order
    monthly_listing_fee: int = Field(0, ge=0)  # per active listing, prorated by day
    payout_hold_days: int = Field(14, ge=0)  # after delivery
    payout_minimum: int = Field(0, ge=0)
    payout_weekday: int = Field(0, ge=0, le=6)  # 0 Monday .. 6 Sunday

    # seller onboarding
    seller_terms_version: str = Field("2026-01", min_length=1, max_length=40)
    # category slug path -> document kinds an applicant for it (or below it) must provide,
    # as JSON: {"food/wine": ["alcohol_licence"]}
    seller_restricted_categories: dict[str, list[str]] = Field(default_factory=dict)
    seller_applications_per_hour: int = Field(10, ge=0)  # per client IP; 0 disables
    seller_invitation_ttl_s: int = Field(14 * 86_400, ge=3600)
    # key of the payout-account fingerprints; unset: derived from secret_key. Changing it
    # makes duplicate-account checks miss the sellers filed before.
    seller_iban_key: str | None = Field(None, min_length=16)

    # seller listings and their validation
    listing_batch_size: int = Field(500, ge=1, le=5000)  # listings per validation pass
    listing_feed_batch_size: int = Field(500, ge=1, le=5000)  # feed rows per transaction
    listing_lease_s: float = Field(60.0, gt=0)  # a runner's hold on listings and feeds
    listing_max_attempts: int = Field(5, ge=1, le=50)  # technical failures before dead letter
    listing_retry_base_s: float = Field(2.0, gt=0)  # first retry delay, doubling each time
    listing_price_stats_ttl_s: float = Field(600.0, ge=0)  # category price distributions
    # comma-separated words and phrases a listing must not contain (whole words, any case)
    listing_prohibited_terms: str = "counterfeit,replica,fake designer,knockoff"

    # carts and the cart quote
    cart_ttl_s: int = Field(7 * 86_400, ge=3600)  # refreshed on every change
    cart_abandoned_after_s: int = Field(3600, ge=60)
    cart_sweep_interval_s: float = Field(60.0, gt=0)  # serve (embedded) and workers
    prices_include_tax: bool = True
    shipping_default_amount: int = Field(495, ge=0)  # minor units per parcel
    shipping_default_free_over: int = Field(5000, ge=0)  # minor units; 0: never free

    # pricing: how often each process checks whether another one changed a pricing rule
    pricing_rules_refresh_s: float = Field(2.0, gt=0)

    # inventory
    reservation_ttl_s: int = Field(900, ge=1)
    reservation_sweep_interval_s: float = Field(30.0, gt=0)
    low_stock_threshold: int = Field(5, ge=0)
    default_warehouse_country: str = Field("NL", pattern=r"^[A-Z]{2}$")
    stock_sync_key_retention_days: int = Field(30, ge=1)

    # caching
    cache_ttl_s: int = Field(60, ge=0)
    cache_max_entries: int = Field(10_000, ge=1)

    # HTTP edge
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    rate_limit_per_minute: int = Field(1200, ge=0)  # 0 disables
    log_level: str = "INFO"
    log_json: bool = True
    # FastAPI's native OpenTelemetry spans and metrics, through the providers an OpenTelemetry
    # SDK set up in the process; off, a request skips even the check for them
    opentelemetry: bool = False

    # identity
    token_ttl_s: int = Field(86_400, ge=60)
    login_max_failures: int = Field(5, ge=1)
    login_lockout_s: int = Field(900, ge=1)
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65_536, ge=8)
    argon2_parallelism: int = Field(4, ge=1, le=64)

    # events and webhooks
    dispatcher_embedded: bool = True
    dispatcher_poll_s: float = Field(0.5, gt=0)
    dispatcher_batch_size: int = Field(50, ge=1, le=1000)
    delivery_max_attempts: int = Field(8, ge=1, le=50)
    delivery_backoff_base_s: float = Field(2.0, gt=0)
    delivery_backoff_max_s: float = Field(3600.0, gt=0)
    delivery_lease_s: float = Field(60.0, gt=0)
    delivered_retention_days: int = Field(14, ge=1)
    webhook_connect_timeout_s: float = Field(3.0, gt=0)
    webhook_read_timeout_s: float = Field(10.0, gt=0)
    # how soon a subscription change made by another process reaches this one's deliveries
    webhook_subscriptions_refresh_s: float = Field(2.0, gt=0)
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("cors_origins", "webhook_allowed_networks", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    def model_post_init(self, __context: object) -> None:
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("BAZAAR_SECRET_KEY must be set in production")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
