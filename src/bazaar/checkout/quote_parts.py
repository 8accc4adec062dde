"""What a checkout quote is made of: the lines priced, the discounts decided, the
adjustments that explain each amount, the shipping charges and the totals.

Plain frozen dataclasses, shared by the quote computation (:mod:`bazaar.checkout.model`),
the pricing engine that decides the discounts, and the API schemas that show them. Kept
apart from the computation so that a reader of either finds one idea per module.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bazaar.checkout.tax import RateClass
from bazaar.kernel.money import Money

MAX_QUANTITY = 10_000
MAX_WEIGHT_G = 10**7


@dataclass(frozen=True)
class CheckoutLine:
    """One cart line as checkout prices it; ``weight_g`` is per unit."""

    offer_id: str
    sku: str
    fulfiller_id: str
    category_id: str
    quantity: int
    unit_price: Money
    weight_g: int = 0


@dataclass(frozen=True)
class Discount:
    """A reduction the pricing engine has already decided; the quote applies and explains it.

    ``offer_id`` set: a line discount on that line. ``offer_id`` None: an order discount,
    spread over all lines. ``amount`` is in the price basis (gross with inclusive prices).
    """

    rule_id: str
    label: str
    amount: Money
    offer_id: str | None = None


class AdjustmentKind(StrEnum):
    DISCOUNT = "discount"
    SHIPPING = "shipping"
    TAX = "tax"


@dataclass(frozen=True)
class Adjustment:
    """One explained amount of the quote.

    ``source`` names what made it: a discount's rule id, ``shipping:<rule id>`` or
    ``tax:<country>:<rate class>``. ``target`` is the offer id of a line discount, the
    fulfiller id of a shipping charge, or None for order-wide amounts. A discount's
    ``amount`` is what was applied, which is less than decided when it was capped.
    """

    kind: AdjustmentKind
    amount: Money
    label: str
    source: str
    target: str | None = None


@dataclass(frozen=True)
class AppliedDiscount:
    """The share of one discount that landed on one line."""

    rule_id: str
    label: str
    amount: Money


@dataclass(frozen=True)
class QuoteLine:
    offer_id: str
    sku: str
    fulfiller_id: str
    category_id: str
    quantity: int
    unit_price: Money
    weight_g: int
    subtotal: Money  # unit price x quantity
    discount: Money  # sum of ``discounts``
    discounts: tuple[AppliedDiscount, ...]
    rate_class: RateClass
    tax_rate: Decimal
    tax: Money  # VAT on subtotal - discount
    total: Money  # what the shopper pays for the line, tax included


@dataclass(frozen=True)
class ShippingCharge:
    fulfiller_id: str
    rule_id: str
    explanation: str
    amount: Money  # in the price basis
    tax_rate: Decimal
    tax: Money
    total: Money  # tax included
    # what a budgeted free-shipping rule (``rule_id``) took off the charge, in the price
    # basis: order placement draws it from that rule's budget
    waived: Money | None = None


@dataclass(frozen=True)
class Totals:
    """Sums over the quote. ``shipping`` is in the price basis; ``tax`` covers lines and
    shipping; ``grand_total`` is what the shopper pays."""

    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    grand_total: Money


@dataclass(frozen=True)
class Quote:
    currency: str
    country: str
    prices_include_tax: bool
    lines: tuple[QuoteLine, ...]
    shipping: tuple[ShippingCharge, ...]
    adjustments: tuple[Adjustment, ...]
    totals: Totals

    def line(self, offer_id: str) -> QuoteLine:
        """The line for ``offer_id``; raises ``KeyError`` when the quote has none."""
        for line in self.lines:
            if line.offer_id == offer_id:
                return line
        raise KeyError(offer_id)
