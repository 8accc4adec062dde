"""A priced cart, and its hand-over to the checkout quote.

Pure Python. :class:`PricedCart` is what :func:`bazaar.pricing.model.price_cart` decides:
lines at their effective prices, one :class:`PromotionAdjustment` per applied promotion
with its shares of the lines, what was set aside and why. The checkout quote computes VAT
after discounts, so it takes the decision as checkout types: :func:`reprice_checkout_lines`
puts the effective unit prices in the checkout lines; :func:`to_discounts` gives one line
``Discount`` per promotion and line (order-level promotions are spread by then, so quote,
cart page and order agree on which line - and so which VAT rate - each cent came off);
:attr:`PricedCart.free_shipping_fulfillers` names the fulfillers whose shipping the quote
must waive; :meth:`PricedCart.spend_by_promotion` is what order placement draws from
budgets, the shipping that free shipping waived included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bazaar.checkout.quote_parts import CheckoutLine, Discount
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.coupons import RejectedCoupon
from bazaar.pricing.experiments import Exposure
from bazaar.pricing.price_lists import EffectivePrice
from bazaar.pricing.stacking import SetAside


@dataclass(frozen=True)
class EffectiveLine:
    """A priced line: ``total = subtotal - discount``; the discount's parts are the
    adjustments' shares of this line (:meth:`PricedCart.discounts_on`)."""

    offer_id: str
    quantity: int
    price: EffectivePrice
    subtotal: Money
    discount: Money
    total: Money


@dataclass(frozen=True)
class PromotionAdjustment:
    """One applied promotion: its rule, a sentence, and where its ``amount`` landed.

    ``shares`` maps offer id to the part of ``amount`` taken off that line, in cart order;
    the shares sum to ``amount``. ``shipping_budget``: the most a budgeted promotion's free
    shipping may waive, drawn from its budget at order placement; None when unlimited.
    """

    promotion_id: str
    label: str
    explanation: str
    amount: Money
    shares: Mapping[str, Money]
    free_shipping_fulfillers: frozenset[str]
    coupon_code: str | None
    shipping_budget: Money | None = None


@dataclass(frozen=True)
class PricedCart:
    """The outcome of :func:`price_cart`. Amounts are in ``currency``, before VAT.

    ``total = subtotal - discount``, each the sum over ``lines``; ``discount`` is also the sum
    of the adjustments' amounts.
    """

    currency: str
    lines: tuple[EffectiveLine, ...]
    adjustments: tuple[PromotionAdjustment, ...]
    set_aside: tuple[SetAside, ...]
    rejected_coupons: tuple[RejectedCoupon, ...]
    exposures: tuple[Exposure, ...]
    free_shipping_fulfillers: frozenset[str]
    subtotal: Money
    discount: Money
    total: Money

    def line(self, offer_id: str) -> EffectiveLine:
        """The line of ``offer_id``; raises ``KeyError`` when the cart has none."""
        for line in self.lines:
            if line.offer_id == offer_id:
                return line
        raise KeyError(offer_id)

    def discounts_on(self, offer_id: str) -> dict[str, Money]:
        """What each promotion took off the line of ``offer_id``, by promotion id."""
        return {
            a.promotion_id: a.shares[offer_id] for a in self.adjustments if offer_id in a.shares
        }

    def spend_by_promotion(
        self, shipping_waived: Mapping[str, Money] | None = None
    ) -> dict[str, Money]:
        """What each applied promotion gives, to draw from its budget at order placement.

        ``shipping_waived`` is what the quote waived per free-shipping promotion id (known
        only once shipping is priced); it counts with the discount, so free shipping draws on
        the budget too. Raises ``ValueError`` for a waiver beyond the promotion's
        ``shipping_budget`` or by a promotion that gives no free shipping: the quote and
        this cart disagree.
        """
        spend = {a.promotion_id: a.amount for a in self.adjustments}
        by_id = {a.promotion_id: a for a in self.adjustments}
        for promotion_id, waived in (shipping_waived or {}).items():
            adjustment = by_id.get(promotion_id)
            if adjustment is None or not adjustment.free_shipping_fulfillers:
                raise ValueError(f"{promotion_id} waives no shipping in this cart")
            limit = adjustment.shipping_budget
            if limit is not None and waived > limit:
                raise ValueError(f"{promotion_id} waived {waived}, more than {limit}")
            spend[promotion_id] = spend[promotion_id] + waived
        return spend


# --- hand-over to checkout ------------------------------------------------------------------


def to_discounts(cart: PricedCart) -> list[Discount]:
    """The cart's promotions as checkout ``Discount`` s, one per promotion and line.

    Every discount names its line (``offer_id``), so the checkout quote applies exactly
    the shares of :func:`price_cart`; their sum is ``cart.discount`` and none exceeds its
    line, so the quote caps nothing. Free shipping is not a ``Discount``: see
    :attr:`PricedCart.free_shipping_fulfillers`.
    """
    return [
        Discount(adjustment.promotion_id, adjustment.label, amount, offer_id)
        for adjustment in cart.adjustments
        for offer_id, amount in adjustment.shares.items()
    ]


def reprice_checkout_lines(lines: Sequence[CheckoutLine], cart: PricedCart) -> list[CheckoutLine]:
    """``lines`` with each unit price replaced by the cart's effective unit price.

    Raises ``ValidationFailed`` on ``lines[i].offer_id`` for a line the cart did not price,
    or ``lines[i].quantity`` when the quantities differ (tiers depend on them).
    """
    by_offer = {line.offer_id: line for line in cart.lines}
    repriced: list[CheckoutLine] = []
    for i, line in enumerate(lines):
        effective = by_offer.get(line.offer_id)
        if effective is None:
            raise ValidationFailed.on(f"lines[{i}].offer_id", "Not priced", "unknown_line")
        if effective.quantity != line.quantity:
            raise ValidationFailed.on(f"lines[{i}].quantity", "Priced for another", "stale")
        repriced.append(replace(line, unit_price=effective.price.unit_price))
    return repriced
