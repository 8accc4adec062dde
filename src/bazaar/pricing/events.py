"""Pricing events: staff changes to price lists, sale prices, promotions, coupons, customer
groups and experiments, so the audit log says who changed a price and when.

None is public: they reach operators' webhook subscriptions only. Promotion and experiment
events carry the whole definition as it was saved; price list events carry a summary (a
list can price thousands of offers), the row itself holding the entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bazaar.kernel.events import Event
from bazaar.kernel.money import Money

# --- price lists -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PriceListEvent(Event, abstract=True):
    subject_type = "price_list"
    subject_field = "price_list_id"
    price_list_id: str


@dataclass(frozen=True, kw_only=True)
class PriceListCreated(PriceListEvent):
    name: str
    currency: str
    priority: int
    offer_count: int


@dataclass(frozen=True, kw_only=True)
class PriceListUpdated(PriceListEvent):
    name: str
    currency: str
    priority: int
    offer_count: int


@dataclass(frozen=True, kw_only=True)
class PriceListDeleted(PriceListEvent):
    name: str


# --- sale prices -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SalePriceEvent(Event, abstract=True):
    subject_type = "sale_price"
    subject_field = "sale_price_id"
    sale_price_id: str
    offer_id: str


@dataclass(frozen=True, kw_only=True)
class SalePriceCreated(SalePriceEvent):
    price: Money
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class SalePriceUpdated(SalePriceEvent):
    price: Money
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class SalePriceDeleted(SalePriceEvent):
    pass


# --- promotions ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PromotionEvent(Event, abstract=True):
    subject_type = "promotion"
    subject_field = "promotion_id"
    promotion_id: str
    label: str


@dataclass(frozen=True, kw_only=True)
class PromotionCreated(PromotionEvent):
    definition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PromotionUpdated(PromotionEvent):
    definition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PromotionDeleted(PromotionEvent):
    pass


# --- coupons ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CouponCreated(Event):
    subject_type = "coupon"
    subject_field = "code"
    code: str
    promotion_id: str


@dataclass(frozen=True, kw_only=True)
class CouponsGenerated(Event):
    """A batch of codes was generated; the codes themselves are listed by the batch id."""

    subject_type = "coupon_batch"
    subject_field = "batch_id"
    batch_id: str
    promotion_id: str
    count: int
    prefix: str


# --- customer groups -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CustomerGroupCreated(Event):
    subject_type = "customer_group"
    subject_field = "group_code"
    group_code: str
    name: str


@dataclass(frozen=True, kw_only=True)
class CustomerGroupAssigned(Event):
    """A customer joined ``group_code`` (None: left every group)."""

    subject_type = "customer"
    subject_field = "customer_id"
    customer_id: str
    group_code: str | None


# --- experiments -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExperimentEvent(Event, abstract=True):
    subject_type = "experiment"
    subject_field = "experiment_id"
    experiment_id: str


@dataclass(frozen=True, kw_only=True)
class ExperimentCreated(ExperimentEvent):
    name: str
    definition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ExperimentStarted(ExperimentEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class ExperimentStopped(ExperimentEvent):
    pass
