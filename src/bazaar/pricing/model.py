"""The pricing core: every price a customer sees, and every discount a cart gets.

Pure Python; ``now`` is an input. This module is the core's entry point (it re-exports the
inputs of :mod:`bazaar.pricing.inputs` and the results of :mod:`bazaar.pricing.priced_cart`).
:func:`effective_prices` prices many offers at quantity 1 (product and listing pages, price
facets): price lists, sale prices and price experiments, but no cart promotions, which
depend on the cart. :func:`price_cart` prices a cart's lines (quantity tiers included) and
applies promotions, each adjustment with its rule and a sentence. The service builds the
inputs - a :class:`PricingContext` (shopper, channel, coupons entered with their usage
counts, first order or not), one :class:`PricingLine` per cart line (product, brand,
seller, the category and its ancestors, base prices) - and keeps :class:`PricingRules`
compiled and cached until a rule changes.

Hand-over to the checkout quote, which computes VAT after discounts:
:func:`reprice_checkout_lines`, :func:`to_discounts`,
:attr:`PricedCart.free_shipping_fulfillers` and :meth:`PricedCart.spend_by_promotion` (what
order placement draws from budgets, see :mod:`bazaar.pricing.stacking`); see
:mod:`bazaar.pricing.priced_cart`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bazaar.checkout.quote_parts import MAX_QUANTITY
from bazaar.kernel.errors import CurrencyMismatch, FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.coupons import CouponProblem, RejectedCoupon, accept_coupons
from bazaar.pricing.experiments import (
    Experiment,
    Exposure,
    Variant,
    apply_price_tests,
    assign_variants,
    promotions_switched_off,
)
from bazaar.pricing.inputs import OfferPrices, PricingContext, PricingLine, PricingRules
from bazaar.pricing.price_lists import EffectivePrice
from bazaar.pricing.priced_cart import (
    EffectiveLine,
    PricedCart,
    PromotionAdjustment,
    reprice_checkout_lines,
    to_discounts,
)
from bazaar.pricing.promotions import PromotionLine, describe, evaluate
from bazaar.pricing.stacking import Stacking, stack_promotions

__all__ = [
    "EffectiveLine",
    "ListingPrices",
    "OfferPrices",
    "PricedCart",
    "PricingContext",
    "PricingLine",
    "PricingRules",
    "PromotionAdjustment",
    "effective_prices",
    "price_cart",
    "reprice_checkout_lines",
    "to_discounts",
]

# --- effective prices -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListingPrices:
    """Effective prices by offer id, and the experiments the visitor saw them under.

    ``valid_until`` is the first moment a price shown may change by itself (a sale, a price
    list or a running experiment starting or ending): a page showing them must not be kept
    past it. None: no such moment.
    """

    prices: Mapping[str, EffectivePrice]
    exposures: tuple[Exposure, ...]
    valid_until: datetime | None = None
    # the exposures each product's prices were shown under, by product id (none: absent),
    # so a page that keeps a product's prices also knows what showing them again exposes
    exposures_by_product: Mapping[str, tuple[Exposure, ...]] = field(default_factory=dict)


def _effective_price(
    offer: OfferPrices | PricingLine,
    quantity: int,
    context: PricingContext,
    rules: PricingRules,
    assignments: Sequence[tuple[Experiment, Variant]],
) -> tuple[EffectivePrice, tuple[Exposure, ...]] | None:
    base = next((p for p in offer.base_prices if p.currency == context.currency), None)
    resolved = rules.price_book.resolve(
        offer.offer_id,
        base,
        quantity,
        currency=context.currency,
        channel_id=context.channel_id,
        customer_group=context.customer_group,
        now=context.now,
    )
    return None if resolved is None else apply_price_tests(resolved, offer.product_id, assignments)


def effective_prices(
    offers: Sequence[OfferPrices], context: PricingContext, rules: PricingRules
) -> ListingPrices:
    """Unit prices at quantity 1 for ``offers`` (a listing page, a product's offers).

    Price lists, sale prices and price experiments apply as in a cart, so the price shown
    is the price charged for one unit before cart promotions. An offer with no price in the
    context's currency is left out. ``exposures`` lists each experiment once. Cost is a few
    dictionary look-ups per offer; the rules are not re-read.
    """
    now = context.now
    assignments = assign_variants(rules.experiments, context.unit_id, now)
    book = rules.price_book
    prices: dict[str, EffectivePrice] = {}
    exposures: dict[Exposure, None] = {}
    by_product: dict[str, dict[Exposure, None]] = {}
    changes = {e.ends_at for e, _ in assignments if e.ends_at is not None}
    for offer in offers:
        found = _effective_price(offer, 1, context, rules, assignments)
        if found is not None:
            prices[offer.offer_id] = found[0]
            if found[1]:
                exposures.update(dict.fromkeys(found[1]))
                by_product.setdefault(offer.product_id, {}).update(dict.fromkeys(found[1]))
        change = book.next_change(offer.offer_id, now)
        if change is not None:
            changes.add(change)
    return ListingPrices(
        prices,
        tuple(exposures),
        min(changes, default=None),
        {product_id: tuple(shown) for product_id, shown in by_product.items()},
    )


# --- the cart -------------------------------------------------------------------------------


def _input_errors(
    lines: Sequence[PricingLine],
    remaining_budgets: Mapping[str, Money],
    max_order_discount: Money | None,
    currency: str,
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", "A cart needs at least one line", "required"))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.offer_id in seen:
            errors.append(FieldError(f"lines[{i}].offer_id", "Offer listed twice", "duplicate"))
        seen.add(line.offer_id)
        if type(line.quantity) is not int or not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                FieldError(f"lines[{i}].quantity", f"1 to {MAX_QUANTITY}", "out_of_range")
            )
        errors += [
            FieldError(f"lines[{i}].base_prices[{j}].amount", "Must not be negative", "negative")
            for j, base in enumerate(line.base_prices)
            if base.is_negative()
        ]
    if max_order_discount is not None and max_order_discount.is_negative():
        errors.append(FieldError("max_order_discount.amount", "Must not be negative", "negative"))
    named = [(f"remaining_budgets[{k}]", v) for k, v in remaining_budgets.items()]
    named += [("max_order_discount", max_order_discount)] if max_order_discount else []
    errors += [
        FieldError(f"{name}.currency", f"The cart is in {currency}", CurrencyMismatch.code)
        for name, money in named
        if money.currency != currency
    ]
    return errors


def _effective_lines(
    lines: Sequence[PricingLine],
    context: PricingContext,
    rules: PricingRules,
    assignments: Sequence[tuple[Experiment, Variant]],
    errors: list[FieldError],
) -> tuple[list[EffectivePrice], tuple[Exposure, ...]]:
    prices: list[EffectivePrice] = []
    exposures: dict[Exposure, None] = {}
    for i, line in enumerate(lines):
        found = _effective_price(line, line.quantity, context, rules, assignments)
        if found is None:
            message = f"No price in {context.currency}"
            errors.append(FieldError(f"lines[{i}].base_prices", message, "no_price"))
        else:
            prices.append(found[0])
            exposures.update(dict.fromkeys(found[1]))
    if errors:
        mismatch = any(e.code == CurrencyMismatch.code for e in errors)
        error_type = CurrencyMismatch if mismatch else ValidationFailed
        raise error_type("The cart cannot be priced", errors=errors)
    return prices, tuple(exposures)


def _priced_cart(
    lines: Sequence[PricingLine],
    prices: Sequence[EffectivePrice],
    stacking: Stacking,
    coupon_codes: Mapping[str, str],
    currency: str,
) -> PricedCart:
    """The result in Money: one share per promotion and line, lines summing to totals."""
    discounts = [0] * len(lines)
    adjustments: list[PromotionAdjustment] = []
    for applied in stacking.applied:
        promotion = applied.promotion
        shares: dict[str, Money] = {}
        for i, amount in sorted(applied.line_amounts):
            shares[lines[i].offer_id] = Money(amount, currency)
            discounts[i] += amount
        code = coupon_codes.get(promotion.id)
        explanation = describe(applied.outcome, currency)
        shipping_budget = None
        if applied.shipping_budget is not None:
            shipping_budget = Money(applied.shipping_budget, currency)
            explanation += f"; shipping waived is drawn from the budget, {shipping_budget} left"
        adjustments.append(
            PromotionAdjustment(
                promotion.id,
                promotion.label,
                explanation + (f"; with coupon {code}" if code else ""),
                Money(applied.amount, currency),
                shares,
                applied.outcome.free_shipping_fulfillers,
                code,
                shipping_budget,
            )
        )
    priced: list[EffectiveLine] = []
    for line, price, discount in zip(lines, prices, discounts, strict=True):
        subtotal = price.unit_price.amount * line.quantity
        priced.append(
            EffectiveLine(
                line.offer_id,
                line.quantity,
                price,
                Money(subtotal, currency),
                Money(discount, currency),
                Money(subtotal - discount, currency),
            )
        )
    subtotal = sum(line.subtotal.amount for line in priced)
    return PricedCart(
        currency,
        tuple(priced),
        tuple(adjustments),
        stacking.set_aside,
        (),
        (),
        frozenset(f for a in adjustments for f in a.free_shipping_fulfillers),
        Money(subtotal, currency),
        Money(stacking.amount, currency),
        Money(subtotal - stacking.amount, currency),
    )


def price_cart(
    lines: Sequence[PricingLine],
    context: PricingContext,
    rules: PricingRules,
    *,
    remaining_budgets: Mapping[str, Money] | None = None,
    max_order_discount: Money | None = None,
) -> PricedCart:
    """Price ``lines`` for ``context``: effective unit prices, then promotions.

    ``remaining_budgets`` maps each budgeted promotion's id to what is left of its budget
    (a budgeted promotion missing from it counts as spent); ``max_order_discount`` caps all
    promotions together on this order. Stacking rules: :mod:`bazaar.pricing.stacking`.

    Guarantees: every line's ``total = subtotal - discount`` and no line total is negative;
    the cart's totals are the sums of its lines; every cent of discount appears in exactly
    one adjustment share and one line discount; the result does not depend on the order
    of promotions in ``rules``; entered coupons that cannot be used are listed with the
    reason. Raises ``ValidationFailed`` naming ``lines[i].…`` (duplicate offer, quantity out
    of range, negative base price, no price in the currency) or ``max_order_discount``, and
    ``CurrencyMismatch`` on ``remaining_budgets[<id>].currency`` or
    ``max_order_discount.currency``.
    """
    currency = context.currency
    budgets = remaining_budgets or {}
    assignments = assign_variants(rules.experiments, context.unit_id, context.now)
    errors = _input_errors(lines, budgets, max_order_discount, currency)
    prices, exposures = _effective_lines(lines, context, rules, assignments, errors)
    promotion_lines = [
        PromotionLine(
            line.offer_id,
            line.product_id,
            line.seller_id,
            line.brand_id,
            line.category_ids,
            line.quantity,
            price.unit_price.amount,
            price.unit_price.amount * line.quantity,
        )
        for line, price in zip(lines, prices, strict=True)
    ]
    coupon_codes, rejected = accept_coupons(
        context.coupons, now=context.now, customer_id=context.customer_id
    )
    candidates = rules.promotions.candidates(
        promotion_lines,
        currency=currency,
        channel_id=context.channel_id,
        customer_group=context.customer_group,
        now=context.now,
        is_first_order=context.is_first_order,
        coupon_promotion_ids=coupon_codes.keys(),
        disabled_promotion_ids=promotions_switched_off(assignments, exposures),
    )
    outcomes = [
        outcome
        for promotion, scope in candidates
        if (outcome := evaluate(promotion, promotion_lines, scope)) is not None
    ]
    stacking = stack_promotions(
        outcomes,
        [line.subtotal for line in promotion_lines],
        remaining_budgets={k: v.amount for k, v in budgets.items()},
        max_order_discount=max_order_discount.amount if max_order_discount else None,
    )
    considered = {a.promotion.id for a in stacking.applied}
    considered |= {s.promotion_id for s in stacking.set_aside}
    rejected += [
        RejectedCoupon(code, CouponProblem.CONDITIONS_NOT_MET)
        for promotion_id, code in coupon_codes.items()
        if promotion_id not in considered
    ]
    cart = _priced_cart(lines, prices, stacking, coupon_codes, currency)
    return replace(cart, rejected_coupons=tuple(rejected), exposures=exposures)
