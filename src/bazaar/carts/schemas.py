"""Request and response models of carts, the cart quote, shipping rules and VAT classes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from bazaar.carts.checkout_rules import CategoryTaxClass, FulfillerShipping
from bazaar.carts.model import MAX_QUANTITY, CartItem, CartStatus, ItemProblem, item_problem
from bazaar.carts.service import CartView
from bazaar.carts.shipping_rules import MAX_BANDS, MAX_LABEL, MAX_RULES, RuleInput, RuleKind
from bazaar.carts.shipping_rules import rule_kind as kind_of
from bazaar.catalog.model import CheckoutOffer
from bazaar.checkout.quote_parts import Adjustment, AdjustmentKind, Quote, QuoteLine, ShippingCharge
from bazaar.checkout.shipping import ShippingRule, WeightBand
from bazaar.checkout.tax import RateClass
from bazaar.http.schemas import MoneyModel, StrictModel
from bazaar.kernel.money import Money, sum_money

Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY, examples=[2])]
CountryCode = Annotated[str, Field(min_length=1, max_length=8, examples=["NL"])]


# --- carts -----------------------------------------------------------------------------------


class CartCreate(StrictModel):
    country: CountryCode | None = Field(
        None, description="ISO 3166-1 alpha-2 destination the quote uses by default"
    )


class CartUpdate(StrictModel):
    country: CountryCode | None = Field(description="Destination country; null clears it")


class CartItemIn(StrictModel):
    offer_id: Annotated[str, Field(min_length=1, max_length=40, examples=["ofr_01jd…"])]
    quantity: Quantity = 1


class CouponIn(StrictModel):
    code: Annotated[str, Field(min_length=1, max_length=64, examples=["WELCOME10"])]


class CartItemUpdate(StrictModel):
    quantity: Quantity


class CartItemOut(BaseModel):
    id: str
    offer_id: str
    quantity: int
    product_id: str | None
    title: str | None
    sku: str | None
    fulfiller_id: str | None
    unit_price: MoneyModel | None = Field(description="The offer's current price")
    subtotal: MoneyModel | None = Field(description="Unit price times quantity")
    available: int = Field(description="Units the offer has in stock now")
    problem: ItemProblem | None = Field(
        description="Why the line cannot be bought as it stands; null when it can"
    )
    added_at: datetime

    @classmethod
    def of(cls, item: CartItem, offer: CheckoutOffer | None, currency: str) -> CartItemOut:
        return cls(
            id=item.id,
            offer_id=item.offer_id,
            quantity=item.quantity,
            product_id=offer.product_id if offer else None,
            title=offer.title if offer else None,
            sku=offer.sku if offer else None,
            fulfiller_id=offer.fulfiller_id if offer else None,
            unit_price=MoneyModel.of(offer.price) if offer else None,
            subtotal=MoneyModel.of(offer.price * item.quantity) if offer else None,
            available=max(offer.stock, 0) if offer else 0,
            problem=item_problem(offer, item.quantity, currency),
            added_at=item.added_at,
        )


class CartOut(BaseModel):
    id: str
    kind: Literal["guest", "customer"]
    status: CartStatus
    currency: str
    country: str | None
    items: list[CartItemOut]
    quantity: int = Field(description="Units over all lines")
    subtotal: MoneyModel = Field(
        description="Lines that can be bought, at current prices, before shipping and discounts"
    )
    merged_into: str | None = None
    order_id: str | None = None
    coupon_codes: list[str] = Field(
        default_factory=list, description="Codes entered; the quote says which apply"
    )
    created_at: datetime
    updated_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, view: CartView) -> CartOut:
        cart = view.cart
        items = [CartItemOut.of(i, view.offers.get(i.offer_id), cart.currency) for i in cart.items]
        payable = [
            Money(i.subtotal.amount, i.subtotal.currency)
            for i in items
            if i.subtotal is not None and i.problem is None
        ]
        return cls(
            id=cart.id,
            kind="guest" if cart.is_guest else "customer",
            status=cart.status,
            currency=cart.currency,
            country=cart.country,
            items=items,
            quantity=cart.quantity,
            subtotal=MoneyModel.of(sum_money(payable, cart.currency)),
            merged_into=cart.merged_into,
            order_id=cart.order_id,
            coupon_codes=list(cart.coupon_codes),
            created_at=cart.created_at,
            updated_at=cart.updated_at,
            expires_at=cart.expires_at,
        )


class CartCreated(CartOut):
    cart_token: str | None = Field(
        description=(
            "A guest cart's secret: send it back as the `Cart-Token` header. Shown only "
            "once; null for a customer's cart"
        )
    )

    @classmethod
    def created(cls, view: CartView) -> CartCreated:
        return cls(**CartOut.of(view).model_dump(), cart_token=view.token)


# --- the quote -------------------------------------------------------------------------------


class QuoteLineOut(BaseModel):
    offer_id: str
    sku: str
    fulfiller_id: str
    category_id: str
    quantity: int
    unit_price: MoneyModel
    subtotal: MoneyModel
    discount: MoneyModel
    rate_class: RateClass
    tax_rate: Decimal
    tax: MoneyModel
    total: MoneyModel

    @classmethod
    def of(cls, line: QuoteLine) -> QuoteLineOut:
        return cls(
            offer_id=line.offer_id,
            sku=line.sku,
            fulfiller_id=line.fulfiller_id,
            category_id=line.category_id,
            quantity=line.quantity,
            unit_price=MoneyModel.of(line.unit_price),
            subtotal=MoneyModel.of(line.subtotal),
            discount=MoneyModel.of(line.discount),
            rate_class=line.rate_class,
            tax_rate=line.tax_rate,
            tax=MoneyModel.of(line.tax),
            total=MoneyModel.of(line.total),
        )


class ShippingChargeOut(BaseModel):
    fulfiller_id: str
    rule_id: str
    explanation: str
    amount: MoneyModel
    tax_rate: Decimal
    tax: MoneyModel
    total: MoneyModel

    @classmethod
    def of(cls, charge: ShippingCharge) -> ShippingChargeOut:
        return cls(
            fulfiller_id=charge.fulfiller_id,
            rule_id=charge.rule_id,
            explanation=charge.explanation,
            amount=MoneyModel.of(charge.amount),
            tax_rate=charge.tax_rate,
            tax=MoneyModel.of(charge.tax),
            total=MoneyModel.of(charge.total),
        )


class AdjustmentOut(BaseModel):
    kind: AdjustmentKind
    label: str
    amount: MoneyModel
    source: str
    target: str | None

    @classmethod
    def of(cls, adjustment: Adjustment) -> AdjustmentOut:
        return cls(
            kind=adjustment.kind,
            label=adjustment.label,
            amount=MoneyModel.of(adjustment.amount),
            source=adjustment.source,
            target=adjustment.target,
        )


class TotalsOut(BaseModel):
    subtotal: MoneyModel
    discount: MoneyModel
    shipping: MoneyModel
    tax: MoneyModel = Field(description="VAT on lines and shipping (included or on top)")
    grand_total: MoneyModel


class CouponStatusOut(BaseModel):
    code: str
    status: str


class QuoteOut(BaseModel):
    cart_id: str
    currency: str
    country: str
    prices_include_tax: bool
    lines: list[QuoteLineOut]
    shipping: list[ShippingChargeOut]
    adjustments: list[AdjustmentOut] = Field(
        description="Every discount, shipping charge and VAT rate, each with a label saying why"
    )
    totals: TotalsOut
    coupons: list[CouponStatusOut] = Field(
        default_factory=list,
        description="Each code entered: `applied`, or why not (`expired`, `used_up`, "
        "`conditions_not_met`, `unknown`, ...)",
    )

    @classmethod
    def of(cls, cart_id: str, quote: Quote, coupons: Mapping[str, str] | None = None) -> QuoteOut:
        t = quote.totals
        return cls(
            coupons=[CouponStatusOut(code=k, status=v) for k, v in (coupons or {}).items()],
            cart_id=cart_id,
            currency=quote.currency,
            country=quote.country,
            prices_include_tax=quote.prices_include_tax,
            lines=[QuoteLineOut.of(x) for x in quote.lines],
            shipping=[ShippingChargeOut.of(c) for c in quote.shipping],
            adjustments=[AdjustmentOut.of(a) for a in quote.adjustments],
            totals=TotalsOut(
                subtotal=MoneyModel.of(t.subtotal),
                discount=MoneyModel.of(t.discount),
                shipping=MoneyModel.of(t.shipping),
                tax=MoneyModel.of(t.tax),
                grand_total=MoneyModel.of(t.grand_total),
            ),
        )


# --- shipping rules and VAT classes ----------------------------------------------------------


class WeightBandModel(StrictModel):
    up_to_g: Annotated[StrictInt, Field(ge=1, le=10**7, description="Grams, inclusive")]
    price: MoneyModel


class ShippingRuleIn(StrictModel):
    kind: RuleKind
    label: Annotated[str, Field(max_length=MAX_LABEL)] = ""
    amount: MoneyModel | None = Field(None, description="flat and free_over: per parcel")
    free_over: MoneyModel | None = Field(
        None, description="free_over (required), by_weight (optional): free from this subtotal"
    )
    bands: list[WeightBandModel] = Field(default_factory=list, max_length=MAX_BANDS)
    countries: list[CountryCode] | None = Field(
        None, max_length=250, description="Destinations served; leave out for everywhere"
    )
    excluded_countries: list[CountryCode] = Field(default_factory=list, max_length=250)

    def to_input(self) -> RuleInput:
        return RuleInput(
            kind=self.kind,
            label=self.label,
            amount=self.amount.to_money() if self.amount else None,
            free_over=self.free_over.to_money() if self.free_over else None,
            bands=tuple(WeightBand(b.up_to_g, b.price.to_money()) for b in self.bands),
            countries=tuple(self.countries) if self.countries is not None else None,
            excluded_countries=tuple(self.excluded_countries),
        )


class ShippingRulesIn(StrictModel):
    rules: list[ShippingRuleIn] = Field(
        max_length=MAX_RULES,
        description="In order: the first rule that ships to the destination and carries the "
        "parcel's weight prices it. An empty list returns to the store's default rule.",
    )


class ShippingRuleOut(BaseModel):
    id: str
    kind: RuleKind
    label: str
    amount: MoneyModel | None
    free_over: MoneyModel | None
    bands: list[WeightBandModel]
    countries: list[str] | None
    excluded_countries: list[str]

    @classmethod
    def of(cls, rule: ShippingRule) -> ShippingRuleOut:
        return cls(
            id=rule.id,
            kind=kind_of(rule),
            label=rule.label,
            amount=MoneyModel.of(rule.flat_rate) if rule.flat_rate else None,
            free_over=MoneyModel.of(rule.free_over) if rule.free_over else None,
            bands=[
                WeightBandModel(up_to_g=b.up_to_g, price=MoneyModel.of(b.price))
                for b in rule.weight_bands
            ],
            countries=sorted(rule.countries) if rule.countries is not None else None,
            excluded_countries=sorted(rule.excluded_countries),
        )


class FulfillerShippingOut(BaseModel):
    fulfiller_id: str
    is_default: bool = Field(description="No rules of its own: the store's default applies")
    rules: list[ShippingRuleOut]

    @classmethod
    def of(cls, shipping: FulfillerShipping) -> FulfillerShippingOut:
        return cls(
            fulfiller_id=shipping.fulfiller_id,
            is_default=shipping.is_default,
            rules=[ShippingRuleOut.of(r) for r in shipping.rules],
        )


class TaxClassIn(StrictModel):
    rate_class: RateClass = Field(description="standard, reduced or zero")


class TaxClassOut(BaseModel):
    category_id: str
    rate_class: RateClass
    updated_at: datetime | None = None

    @classmethod
    def of(cls, entry: CategoryTaxClass) -> TaxClassOut:
        return cls(
            category_id=entry.category_id, rate_class=entry.rate_class, updated_at=entry.updated_at
        )


class TaxClassList(BaseModel):
    items: list[TaxClassOut]
