"""Price a cart as a described shopper would see it, to check rules before shoppers do.

The same core as a real quote (:func:`bazaar.pricing.model.price_cart`) with the rules in
force, the coupons' recorded uses and the promotions' remaining budgets; the shopper (group,
channel, first order, the customer or cart that experiments assign) and the moment are
whatever staff ask for. Nothing is recorded: no exposure, no coupon use, no spend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.catalog.model import CheckoutOffer
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing import admin_store, store
from bazaar.pricing.coupons import Coupon, EnteredCoupon, normalise_code
from bazaar.pricing.model import PricedCart, PricingContext, PricingLine, PricingRules, price_cart
from bazaar.pricing.schemas import SimulationIn


@dataclass(frozen=True)
class Simulation:
    priced: PricedCart
    unknown_coupons: tuple[str, ...]  # entered codes no coupon has


def input_errors(body: SimulationIn, offers: Mapping[str, CheckoutOffer]) -> list[FieldError]:
    """Malformed coupon codes (``coupon_codes[i]``) and unknown offers (``lines[i].offer_id``)."""
    errors: list[FieldError] = []
    for i, text in enumerate(body.coupon_codes):
        try:
            normalise_code(text, f"coupon_codes[{i}]")
        except ValidationFailed as exc:
            errors += exc.errors
    errors += [
        FieldError(f"lines[{i}].offer_id", "No such offer", "unknown_offer")
        for i, line in enumerate(body.lines)
        if line.offer_id not in offers
    ]
    return errors


def simulate(
    conn: Connection,
    rules: PricingRules,
    offers: Mapping[str, CheckoutOffer],
    body: SimulationIn,
    *,
    currency: str,
    now: datetime,
) -> Simulation:
    """Price ``body.lines`` (offers found, codes well-formed: see :func:`input_errors`)."""
    codes = list(dict.fromkeys(normalise_code(text) for text in body.coupon_codes))
    entered = {
        row["code"]: EnteredCoupon(_coupon(row), int(row["uses"]), customer_uses)
        for row, customer_uses in store.coupon_uses(conn, codes, body.customer_id)
    }
    budgeted = [p.id for p in rules.promotions.promotions if p.currency == currency and p.budget]
    left = {
        promotion_id: Money(max(0, found.budget - found.spent), currency)
        for promotion_id, found in admin_store.budgets(conn, budgeted).items()
        if found.currency == currency
    }
    context = PricingContext(
        currency=currency,
        channel_id=body.channel_id,
        now=body.at or now,
        customer_id=body.customer_id,
        customer_group=body.customer_group,
        cart_id=body.cart_id,
        is_first_order=body.first_order,
        coupons=tuple(entered[code] for code in codes if code in entered),
    )
    lines = [_pricing_line(offers[line.offer_id], line.quantity) for line in body.lines]
    priced = price_cart(lines, context, rules, remaining_budgets=left)
    return Simulation(priced, tuple(code for code in codes if code not in entered))


def _coupon(row: Mapping[str, Any]) -> Coupon:
    return Coupon(
        row["code"],
        row["promotion_id"],
        row["starts_at"],
        row["expires_at"],
        row["usage_limit"],
        row["usage_limit_per_customer"],
        row["batch_id"],
    )


def _pricing_line(offer: CheckoutOffer, quantity: int) -> PricingLine:
    return PricingLine(
        offer_id=offer.offer_id,
        product_id=offer.product_id,
        seller_id=offer.fulfiller_id,
        quantity=quantity,
        base_prices=(offer.price,),
        category_ids=frozenset((*offer.category_ancestor_ids, offer.category_id)),
        brand_id=offer.brand_id,
    )
