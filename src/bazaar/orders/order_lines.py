"""Order lines, shipping lines, and the refund arithmetic over them.

Pure Python, apart from the order's state machine in ``model`` so the money rules can be read
and tested on their own. Refunds are counted in units of order lines; each unit's share of
the line's paid total comes from ``Money.split``, and units are refunded in a fixed order, so
refunding every unit of a line, in any number of steps, returns exactly what was paid for
it - never a cent more. Shipping is refunded per fulfiller, whole or not at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money, sum_money
from bazaar.orders.events import LineQuantity, RefundLine


def check_line_quantities(
    items: Sequence[LineQuantity], limits: Mapping[str, int], verb: str
) -> None:
    """Raise ``ValidationFailed`` unless each item names a line in ``limits`` once, with a
    quantity from 1 to that line's limit. Fields are ``lines[i].line_id`` / ``.quantity``."""
    errors: list[FieldError] = []
    if not items:
        errors.append(FieldError("lines", f"Nothing to {verb}", "required"))
    seen: set[str] = set()
    for i, item in enumerate(items):
        limit = limits.get(item.line_id)
        if limit is None:
            errors.append(FieldError(f"lines[{i}].line_id", "No such line", "unknown_line"))
        elif item.line_id in seen:
            errors.append(FieldError(f"lines[{i}].line_id", "Listed twice", "duplicate"))
        elif type(item.quantity) is not int or not 1 <= item.quantity <= limit:
            message = f"Must be 1 to {limit}" if limit else f"Nothing left to {verb}"
            errors.append(FieldError(f"lines[{i}].quantity", message, "out_of_range"))
        seen.add(item.line_id)
    if errors:
        raise ValidationFailed(f"Cannot {verb} these quantities", errors=errors)


@dataclass(frozen=True)
class OrderLine:
    """One offer bought; ``discount`` and ``tax`` are for the whole line, ``total`` is what
    the customer paid for it (tax included)."""

    id: str
    offer_id: str
    sku: str
    product_id: str
    fulfiller_id: str
    category_id: str
    quantity: int
    unit_price: Money
    discount: Money
    tax: Money
    tax_rate: Decimal
    total: Money
    refunded_quantity: int = 0

    @property
    def subtotal(self) -> Money:
        return self.unit_price * self.quantity

    def unit_amounts(self) -> list[Money]:
        """Each unit's share of ``total``; they sum to it exactly and differ by at most 1."""
        return self.total.split(self.quantity)

    def refund_amount(self, units: int) -> Money:
        """What refunding the next ``units`` units returns (units go in a fixed order)."""
        if not 0 <= units <= self.quantity - self.refunded_quantity:
            raise ValueError(f"Line {self.id}: cannot refund {units} more units")
        start = self.refunded_quantity
        return sum_money(self.unit_amounts()[start : start + units], self.total.currency)

    @property
    def refunded(self) -> Money:
        return sum_money(self.unit_amounts()[: self.refunded_quantity], self.total.currency)


@dataclass(frozen=True)
class ShippingLine:
    """What one fulfiller's delivery cost; ``total`` includes tax. Refunded whole or not."""

    fulfiller_id: str
    amount: Money
    tax: Money
    tax_rate: Decimal
    total: Money
    refunded: bool = False


@dataclass(frozen=True)
class RefundBreakdown:
    lines: tuple[RefundLine, ...]
    shipping: Money

    @property
    def amount(self) -> Money:
        return sum_money((line.amount for line in self.lines), self.shipping.currency) + (
            self.shipping
        )


def refund_breakdown(
    order_lines: Sequence[OrderLine],
    shipping: Sequence[ShippingLine],
    lines: Sequence[LineQuantity],
    shipping_for: Collection[str],
    currency: str,
) -> RefundBreakdown:
    """What refunding ``lines`` of ``order_lines`` (and the shipping of the ``shipping_for``
    fulfillers) returns; raises ``ValidationFailed`` for units or shipping already refunded."""
    limits = {line.id: line.quantity - line.refunded_quantity for line in order_lines}
    if lines or not shipping_for:
        check_line_quantities(lines, limits, "refund")
    unrefunded = {s.fulfiller_id: s for s in shipping if not s.refunded}
    errors = [
        FieldError(f"shipping_for[{i}]", "No unrefunded shipping", "not_refundable")
        for i, f in enumerate(shipping_for)
        if f not in unrefunded
    ]
    if errors:
        raise ValidationFailed("Cannot refund this shipping", errors=errors)
    by_id = {line.id: line for line in order_lines}
    refund_lines = tuple(
        RefundLine(x.line_id, x.quantity, by_id[x.line_id].refund_amount(x.quantity)) for x in lines
    )
    shipping_amount = sum_money([unrefunded[f].total for f in set(shipping_for)], currency)
    return RefundBreakdown(refund_lines, shipping_amount)
