"""Order, fulfillment and return events: past-tense facts the orders model reports.

The model's transition methods return these in a :class:`~bazaar.orders.model.Changed`;
the service appends them to its unit of work unchanged. Payload value types
(:class:`LineQuantity`, :class:`RefundLine`, :class:`ReturnLine`, :class:`OrderPaidLine`,
:class:`OrderPaidShipping`) live here so events do not depend on the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bazaar.kernel.events import Event
from bazaar.kernel.money import Money


def is_seller(fulfiller_id: str) -> bool:
    """True for a marketplace seller (``sel_…``); the retailer and partners are not."""
    return fulfiller_id.startswith("sel_")


def _sellers(fulfiller_ids: tuple[str, ...]) -> tuple[str, ...]:
    # Only marketplace sellers have webhook subscriptions scoped to themselves.
    return tuple(f"seller:{f}" for f in sorted(set(fulfiller_ids)) if is_seller(f))


@dataclass(frozen=True)
class LineQuantity:
    """A quantity of one order line."""

    line_id: str
    quantity: int

    def to_dict(self) -> dict[str, object]:
        return {"line_id": self.line_id, "quantity": self.quantity}


@dataclass(frozen=True)
class RefundLine:
    """Units of one order line refunded, and the money they returned."""

    line_id: str
    quantity: int
    amount: Money

    def to_dict(self) -> dict[str, object]:
        return {"line_id": self.line_id, "quantity": self.quantity, "amount": self.amount.to_dict()}


@dataclass(frozen=True)
class OrderPaidLine:
    """What one order line sold for, as the ledger posts it: ``total`` VAT included."""

    line_id: str
    fulfiller_id: str
    category_id: str
    quantity: int
    total: Money
    tax: Money

    def to_dict(self) -> dict[str, object]:
        return {
            "line_id": self.line_id,
            "fulfiller_id": self.fulfiller_id,
            "category_id": self.category_id,
            "quantity": self.quantity,
            "total": self.total.to_dict(),
            "tax": self.tax.to_dict(),
        }


@dataclass(frozen=True)
class OrderPaidShipping:
    """One fulfiller's shipping charge, VAT included."""

    fulfiller_id: str
    total: Money
    tax: Money

    def to_dict(self) -> dict[str, object]:
        return {
            "fulfiller_id": self.fulfiller_id,
            "total": self.total.to_dict(),
            "tax": self.tax.to_dict(),
        }


@dataclass(frozen=True)
class ReturnLine:
    """Units of one order line sent back; ``restock`` says whether they go back on sale."""

    line_id: str
    quantity: int
    restock: bool = True

    def to_dict(self) -> dict[str, object]:
        return {"line_id": self.line_id, "quantity": self.quantity, "restock": self.restock}


@dataclass(frozen=True, kw_only=True)
class OrderEvent(Event, abstract=True):
    subject_type = "order"
    subject_field = "order_id"
    order_id: str


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(OrderEvent):
    """Created awaiting payment; its lines' stock is reserved."""

    customer_id: str | None
    total: Money
    fulfiller_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class OrderPaid(OrderEvent):
    """Paid in full: reserved stock becomes allocated and fulfillments are split off.

    ``lines`` and ``shipping`` say what was sold, so the ledger posts the payment without
    reading the order back; events stored before they existed have neither (empty)."""

    payment_reference: str
    amount: Money
    lines: tuple[OrderPaidLine, ...] = ()
    shipping: tuple[OrderPaidShipping, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OrderPaymentFailed(OrderEvent):
    """The payment was declined or expired; the order's reserved stock must be released."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    """Cancelled before anything shipped; its stock must be released and ``refund_due``
    (zero when it was never paid) refunded."""

    reason: str
    refund_due: Money


@dataclass(frozen=True, kw_only=True)
class OrderPartiallyFulfilled(OrderEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class OrderFulfilled(OrderEvent):
    """Everything that was not rejected or cancelled has shipped."""


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(OrderEvent):
    """Closed: delivered, and no further returns are accepted."""


@dataclass(frozen=True, kw_only=True)
class RefundIssued(OrderEvent):
    """Money went back to the customer: ``amount`` = sum of ``lines`` amounts + ``shipping``."""

    refund_id: str
    amount: Money
    lines: tuple[RefundLine, ...]
    shipping: Money
    reason: str
    return_id: str | None


@dataclass(frozen=True, kw_only=True)
class FulfillmentEvent(Event, abstract=True):
    """A fulfiller's part of an order; that seller's subscriptions see it."""

    subject_type = "fulfillment"
    subject_field = "fulfillment_id"
    fulfillment_id: str
    order_id: str
    fulfiller_id: str

    def audience(self) -> tuple[str, ...]:
        return _sellers((self.fulfiller_id,))


@dataclass(frozen=True, kw_only=True)
class FulfillmentCreated(FulfillmentEvent):
    """Routed to its fulfiller; a seller must accept it by ``accept_by`` (None: no deadline,
    the retailer's own warehouses)."""

    lines: tuple[LineQuantity, ...]
    shipping: Money
    accept_by: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class FulfillmentAccepted(FulfillmentEvent):
    """The fulfiller will ship; quantities it declined come as ``FulfillmentRejected``."""


@dataclass(frozen=True, kw_only=True)
class FulfillmentRejected(FulfillmentEvent):
    """The fulfiller will not ship ``lines``; their stock is released and they are refunded.

    ``complete`` is true when nothing is left to ship.
    """

    lines: tuple[LineQuantity, ...]
    reason: str
    complete: bool


@dataclass(frozen=True, kw_only=True)
class FulfillmentShipped(FulfillmentEvent):
    """A shipment left; ``complete`` is true when nothing is left to ship."""

    shipment_id: str
    lines: tuple[LineQuantity, ...]
    carrier: str | None
    tracking_number: str | None
    complete: bool


@dataclass(frozen=True, kw_only=True)
class FulfillmentDelivered(FulfillmentEvent):
    """Everything shipped arrived. ``assumed`` is true when nobody reported it: the parcel
    left long enough ago (``BAZAAR_ASSUME_DELIVERED_AFTER_DAYS``) that the order closer
    takes its arrival as given, so the return window and the seller's payout can run."""

    assumed: bool = False


@dataclass(frozen=True, kw_only=True)
class FulfillmentCancelled(FulfillmentEvent):
    """Cancelled before shipping; ``lines`` are the quantities whose stock is released."""

    lines: tuple[LineQuantity, ...]
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReturnEvent(Event, abstract=True):
    """A return; the sellers whose lines come back see it."""

    subject_type = "return"
    subject_field = "return_id"
    return_id: str
    order_id: str
    fulfiller_ids: tuple[str, ...]

    def audience(self) -> tuple[str, ...]:
        return _sellers(self.fulfiller_ids)


@dataclass(frozen=True, kw_only=True)
class ReturnRequested(ReturnEvent):
    lines: tuple[ReturnLine, ...]
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReturnApproved(ReturnEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class ReturnRejected(ReturnEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReturnReceived(ReturnEvent):
    """The goods arrived; lines with ``restock`` go back into stock."""

    lines: tuple[ReturnLine, ...]


@dataclass(frozen=True, kw_only=True)
class ReturnRefunded(ReturnEvent):
    refund_id: str
    amount: Money
