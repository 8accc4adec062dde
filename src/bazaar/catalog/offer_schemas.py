"""Request and response models of offers: a fulfiller's price and stock for one variant.

Separate from the product models because an offer is written on its own (``POST
/products/{id}/offers``, ``PATCH /offers/{id}``) and shown on its own (``GET
/products/{id}/offers``, the search cards' applied rule), while a product's models only embed
it: the effective price, the price before a sale and the buy box are all offer concerns.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.catalog.drafts import OfferDraft, OfferPatch
from bazaar.catalog.model import (
    RETAILER,
    BuyBox,
    BuyBoxReason,
    Fulfiller,
    Offer,
    OfferStatus,
)
from bazaar.catalog.taxonomy_schemas import stars
from bazaar.http.schemas import MoneyModel, StrictModel
from bazaar.kernel.money import Money
from bazaar.pricing.price_lists import EffectivePrice, PriceSource


class OfferIn(StrictModel):
    variant: Annotated[str, Field(min_length=1, max_length=64, description="Variant id or SKU")]
    price: MoneyModel
    shipping: MoneyModel | None = None
    stock: Annotated[int, Field(ge=0, le=10**9)] = 0
    delivery_days: Annotated[int, Field(ge=0, le=365)] = 2
    fulfiller_id: Annotated[str, Field(min_length=1, max_length=40)] = RETAILER
    status: OfferStatus = OfferStatus.ACTIVE

    def to_draft(self) -> OfferDraft:
        return OfferDraft(
            variant=self.variant,
            price=self.price.to_money(),
            shipping=self.shipping.to_money() if self.shipping else None,
            stock=self.stock,
            delivery_days=self.delivery_days,
            fulfiller_id=self.fulfiller_id,
            status=self.status,
        )


class OfferUpdate(StrictModel):
    price: MoneyModel | None = None
    shipping: MoneyModel | None = None
    stock: Annotated[int, Field(ge=0, le=10**9)] | None = None
    delivery_days: Annotated[int, Field(ge=0, le=365)] | None = None
    status: OfferStatus | None = None

    def to_patch(self) -> OfferPatch:
        return OfferPatch(
            price=self.price.to_money() if self.price else None,
            shipping=self.shipping.to_money() if self.shipping else None,
            stock=self.stock,
            delivery_days=self.delivery_days,
            status=self.status,
        )


class FulfillerRef(BaseModel):
    id: str
    name: str
    rating: float | None


class AppliedRuleOut(BaseModel):
    """The pricing rule that set a price shown instead of the base price."""

    source: PriceSource = Field(description="price_list, sale or experiment")
    rule_id: str | None = Field(description="The price list or experiment; None for a sale")
    explanation: str

    @classmethod
    def of(cls, price: EffectivePrice | None) -> AppliedRuleOut | None:
        if price is None or price.source is PriceSource.BASE:
            return None
        return cls(source=price.source, rule_id=price.rule_id, explanation=price.explanation)


def compare_at(price: EffectivePrice | None, shipping: Money | None = None) -> MoneyModel | None:
    """The price before a sale, to show struck through; None when it is not higher."""
    if price is None or not price.regular_price > price.unit_price:
        return None
    regular = price.regular_price
    return MoneyModel.of(regular + shipping if shipping is not None else regular)


class OfferOut(BaseModel):
    """An offer as the caller pays for it: ``price`` is the effective unit price (price
    lists, sale prices, price experiments), ``base_price`` the offer's own."""

    id: str
    variant_id: str
    fulfiller: FulfillerRef
    price: MoneyModel
    base_price: MoneyModel
    compare_at_price: MoneyModel | None = Field(
        None, description="The unit price before a sale, when higher than `price`"
    )
    applied_rule: AppliedRuleOut | None = Field(
        None, description="What set `price`; null when it is the base price"
    )
    shipping: MoneyModel
    landed_price: MoneyModel
    stock: int
    in_stock: bool
    delivery_days: int
    status: OfferStatus

    @classmethod
    def of(
        cls, o: Offer, fulfillers: dict[str, Fulfiller], price: EffectivePrice | None = None
    ) -> OfferOut:
        f = fulfillers.get(o.fulfiller_id)
        unit = price.unit_price if price is not None else o.price
        return cls(
            id=o.id,
            variant_id=o.variant_id,
            fulfiller=FulfillerRef(
                id=o.fulfiller_id,
                name=f.name if f else o.fulfiller_id,
                rating=stars(f.rating if f else None),
            ),
            price=MoneyModel.of(unit),
            base_price=MoneyModel.of(o.price),
            compare_at_price=compare_at(price),
            applied_rule=AppliedRuleOut.of(price),
            shipping=MoneyModel.of(o.shipping),
            landed_price=MoneyModel.of(unit + o.shipping),
            stock=o.stock,
            in_stock=o.available,
            delivery_days=o.delivery_days,
            status=o.status,
        )


class BuyBoxOut(BaseModel):
    offer_id: str
    variant_id: str
    landed_price: MoneyModel
    reason: BuyBoxReason

    @classmethod
    def of(cls, b: BuyBox | None) -> BuyBoxOut | None:
        if b is None:
            return None
        return cls(
            offer_id=b.offer_id,
            variant_id=b.variant_id,
            landed_price=MoneyModel.of(b.landed_price),
            reason=b.reason,
        )


class OfferList(BaseModel):
    items: list[OfferOut]
    buy_box: BuyBoxOut | None
