"""What the customer gets back when a fulfiller gives units up. Pure Python.

A fulfiller rejecting lines (out of stock) or a seller letting its acceptance deadline pass
gives units up: they will never ship. :func:`refund_unfulfilled` refunds exactly those units
(each unit's share of what was paid for its line, see :mod:`bazaar.orders.model`), plus the
fulfiller's shipping charge when it ends up shipping nothing, then re-derives the order's
status from all its fulfillment orders. When nothing is left to ship anywhere and nothing
shipped, the order is cancelled and everything not yet refunded is refunded with it.
:func:`cancellation_refund` is what a customer's cancellation pays back at the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence

from bazaar.kernel.events import Event
from bazaar.kernel.money import Money
from bazaar.orders.fulfillment import FulfillmentOrder
from bazaar.orders.model import Changed, Order, Progress
from bazaar.orders.status import fulfillment_progress
from bazaar.payments.model import Payment


def refund_unfulfilled(
    order: Order,
    fulfillments: Sequence[FulfillmentOrder],
    before: FulfillmentOrder,
    after: FulfillmentOrder,
    *,
    refund_id: str,
    reason: str,
) -> Changed[Order]:
    """Refund what ``before`` -> ``after`` gave up and sync the order with ``fulfillments``
    (every fulfillment order of the order, ``after`` among them).

    Records ``RefundIssued`` (when anything is owed) and whatever the sync records
    (``OrderCancelled`` with ``refund_due`` zero when nothing is left to fulfil). Raises like
    :meth:`Order.refund` when the units were refunded already.
    """
    events: list[Event] = []
    if fulfillment_progress(fulfillments) is Progress.VOID:
        # Nothing will ship at all: give back everything still held, shipping included.
        owed = not order.refundable_total.is_zero()
        refunded = order.refund_remaining(refund_id, reason=reason) if owed else Changed(order)
    else:
        units = after.unfulfilled_since(before)
        owed_shipping = {s.fulfiller_id for s in order.shipping if not s.refunded}
        shipping_for = (
            [after.fulfiller_id]
            if after.ships_nothing and after.fulfiller_id in owed_shipping
            else []
        )
        refunded = (
            order.refund(refund_id, units, reason=reason, shipping_for=shipping_for)
            if units or shipping_for
            else Changed(order)
        )
    events += refunded.events
    synced = refunded.value.sync_fulfillments(fulfillments)
    return Changed(synced.value, (*events, *synced.events))


def cancellation_refund(payment: Payment | None, owed: Money) -> Money | None:
    """What the gateway must pay back when a captured order is cancelled, or None.

    It is what the order still owes (``OrderCancelled.refund_due``), not what the payment
    has left: refunds already recorded but not yet paid out (a rejection whose payout met an
    unreachable gateway) are the reconciler's to pay, under their own ids. Refunding the
    payment's remainder would pay those units twice, or starve the pending refund so that
    the ledger's posting of it is never settled.
    """
    if payment is None or payment.captured.is_zero() or owed.is_zero():
        return None
    # Never more than the payment has left: were the two contexts ever to disagree, the
    # ledger's cancellation stays unsettled and shows the difference to an operator.
    left = payment.refundable
    if left.is_zero():
        return None
    return owed if owed <= left else left
