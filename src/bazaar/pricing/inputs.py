"""What the pricing core prices: the shopper's context, the lines and offers, the rules.

Pure Python. The services build these (see :mod:`bazaar.pricing.model`, which re-exports
them): a :class:`PricingContext` per shopper and moment, one :class:`PricingLine` per cart
line or one :class:`OfferPrices` per offer on a page, and :class:`PricingRules` compiled
once and cached until a rule changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.coupons import EnteredCoupon
from bazaar.pricing.experiments import Experiment
from bazaar.pricing.price_lists import PriceBook, PriceList, SalePrice
from bazaar.pricing.promotion_set import PromotionSet
from bazaar.pricing.promotions import Promotion


@dataclass(frozen=True)
class PricingContext:
    """Who is buying, where and when. ``cart_id`` identifies guests for experiments.

    Raises ``ValidationFailed`` on ``currency`` (unknown) or ``now`` (naive).
    """

    currency: str
    channel_id: str
    now: datetime
    customer_id: str | None = None
    customer_group: str | None = None  # None: a guest, who gets no group-only prices
    cart_id: str | None = None
    is_first_order: bool = False
    coupons: tuple[EnteredCoupon, ...] = ()

    def __post_init__(self) -> None:
        Money.zero(self.currency)
        if not isinstance(self.now, datetime) or self.now.utcoffset() is None:
            raise ValidationFailed.on("now", "Must be a timezone-aware datetime", "naive")

    @property
    def unit_id(self) -> str | None:
        """Who experiments assign: the customer, else the cart."""
        return self.customer_id or self.cart_id


@dataclass(frozen=True)
class OfferPrices:
    """An offer on a listing or product page: its base price in each currency it has."""

    offer_id: str
    product_id: str
    base_prices: tuple[Money, ...]


@dataclass(frozen=True)
class PricingLine:
    """One cart line with what promotions look at; ``category_ids`` include the ancestors."""

    offer_id: str
    product_id: str
    seller_id: str  # the fulfiller: free shipping is granted per fulfiller
    quantity: int
    base_prices: tuple[Money, ...]
    category_ids: frozenset[str] = frozenset()
    brand_id: str | None = None


@dataclass(frozen=True)
class PricingRules:
    """Everything that sets prices, compiled once; immutable, cacheable, thread-safe."""

    price_book: PriceBook = field(default_factory=PriceBook)
    promotions: PromotionSet = field(default_factory=PromotionSet)
    experiments: tuple[Experiment, ...] = ()

    @classmethod
    def compile(
        cls,
        *,
        price_lists: Iterable[PriceList] = (),
        sale_prices: Iterable[SalePrice] = (),
        promotions: Iterable[Promotion] = (),
        experiments: Iterable[Experiment] = (),
    ) -> PricingRules:
        """Index the rules for fast quotes; the order they are given in never matters
        (experiments that both change one product's price apply in id order).

        Raises ``ValidationFailed`` on duplicate ids (``price_lists[i].id``,
        ``promotions[i].id``, ``experiments[i].id``).
        """
        found = tuple(experiments)
        for i, experiment in enumerate(found):
            if experiment.id in {e.id for e in found[:i]}:
                raise ValidationFailed.on(f"experiments[{i}].id", "Listed twice", "duplicate")
        ordered = tuple(sorted(found, key=lambda e: e.id))
        return cls(PriceBook(price_lists, sale_prices), PromotionSet(promotions), ordered)
