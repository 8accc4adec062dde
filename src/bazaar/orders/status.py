"""An order's statuses, the transitions between them, and its fulfillment progress.

Pure Python. The order aggregate in ``model`` moves between these statuses; keeping the table
of allowed moves on its own makes the whole state machine readable at a glance, and lets
stores and views name statuses without importing the aggregate's rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bazaar.orders.fulfillment import FulfillmentOrder


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_FAILED = "payment_failed"  # declined or expired: terminal, stock released
    PAID = "paid"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    COMPLETED = "completed"  # closed: delivered and past returns
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


_S = OrderStatus
ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _S.AWAITING_PAYMENT: frozenset({_S.PAID, _S.PAYMENT_FAILED, _S.CANCELLED}),
    _S.PAID: frozenset(
        {_S.PARTIALLY_FULFILLED, _S.FULFILLED, _S.CANCELLED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}
    ),
    _S.PARTIALLY_FULFILLED: frozenset({_S.FULFILLED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.FULFILLED: frozenset({_S.COMPLETED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.PARTIALLY_REFUNDED: frozenset({_S.REFUNDED, _S.CANCELLED, _S.COMPLETED}),
    _S.REFUNDED: frozenset({_S.CANCELLED}),
    _S.PAYMENT_FAILED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.COMPLETED: frozenset(),
}
# Statuses in which the customer has paid and money may go back.
PAID_STATUSES = frozenset(
    {_S.PAID, _S.PARTIALLY_FULFILLED, _S.FULFILLED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}
)


class Progress(StrEnum):
    """How far an order's fulfillment orders have got, taken together."""

    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"  # nothing left to ship, something shipped
    VOID = "void"  # nothing left to ship, nothing shipped: all rejected or cancelled


def fulfillment_progress(fulfillments: Sequence[FulfillmentOrder]) -> Progress:
    """How far an order's fulfillment orders have got, taken together."""
    shipped = any(f.shipped_units for f in fulfillments)
    left = any(f.open_units for f in fulfillments)
    if not fulfillments or (left and not shipped):
        return Progress.UNFULFILLED
    if left:
        return Progress.PARTIALLY_FULFILLED
    return Progress.FULFILLED if shipped else Progress.VOID
