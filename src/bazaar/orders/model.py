"""Orders: the order aggregate and its status, fulfillment orders per fulfiller, refunds.

Pure Python. Aggregates are frozen; every transition returns a :class:`Changed` holding the
new state and the past-tense events it implies, or raises :class:`IllegalTransition` (409)
when the current state forbids it and ``ValidationFailed`` (422) for bad quantities. The
service saves ``value`` and appends ``events`` to its unit of work.

Order status after payment is derived, never set by hand: from how far its fulfillment
orders have got (:func:`fulfillment_progress`) and how much has been refunded. What a refund
returns is worked out over the order's lines in ``order_lines``; the order decides whether it
may be refunded at all and records the result.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, TypeVar

from bazaar.kernel.errors import Conflict, ValidationFailed
from bazaar.kernel.events import Event
from bazaar.kernel.money import Money, sum_money
from bazaar.orders.events import (
    LineQuantity,
    OrderCancelled,
    OrderCompleted,
    OrderFulfilled,
    OrderPaid,
    OrderPaidLine,
    OrderPaidShipping,
    OrderPartiallyFulfilled,
    OrderPaymentFailed,
    OrderPlaced,
    RefundIssued,
)

# The order's lines and statuses are its vocabulary: most callers that build or read an order
# import them with it, so they stay importable from here.
from bazaar.orders.order_lines import OrderLine as OrderLine
from bazaar.orders.order_lines import RefundBreakdown, refund_breakdown
from bazaar.orders.order_lines import ShippingLine as ShippingLine
from bazaar.orders.status import ORDER_TRANSITIONS, PAID_STATUSES, fulfillment_progress
from bazaar.orders.status import OrderStatus as OrderStatus
from bazaar.orders.status import Progress as Progress

if TYPE_CHECKING:
    # Fulfillment orders build on this module; the order only reads their quantities.
    from bazaar.orders.fulfillment import FulfillmentOrder

T = TypeVar("T")


@dataclass(frozen=True)
class Changed(Generic[T]):
    """The new state of an aggregate and the events recording the change (none: no-op)."""

    value: T
    events: tuple[Event, ...] = ()


class IllegalTransition(Conflict):
    """The aggregate's current state does not allow this change (409)."""

    code = "illegal_transition"
    title = "Not allowed in the current state"


@dataclass(frozen=True)
class Order:
    """An order placed on a channel. Construction raises ``ValueError`` when its amounts do
    not add up: that is a bug in whoever built it, not bad customer input."""

    id: str
    customer_id: str | None  # None: guest checkout
    email: str
    currency: str
    prices_include_tax: bool
    lines: tuple[OrderLine, ...]
    shipping: tuple[ShippingLine, ...]
    status: OrderStatus = OrderStatus.AWAITING_PAYMENT
    progress: Progress = Progress.UNFULFILLED
    payment_reference: str | None = None
    cancel_reason: str | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("An order has at least one line")
        if len({line.id for line in self.lines}) != len(self.lines):
            raise ValueError("Order line ids must be unique")
        if len({s.fulfiller_id for s in self.shipping}) != len(self.shipping):
            raise ValueError("One shipping line per fulfiller")
        for line in self.lines:
            if line.quantity < 1 or not 0 <= line.refunded_quantity <= line.quantity:
                raise ValueError(f"Line {line.id}: bad quantities")
            self._check_amounts(line.id, line.subtotal - line.discount, line.tax, line.total)
            if line.discount.is_negative() or line.discount > line.subtotal:
                raise ValueError(f"Line {line.id}: discount outside 0..subtotal")
        for s in self.shipping:
            self._check_amounts(f"shipping {s.fulfiller_id}", s.amount, s.tax, s.total)

    def _check_amounts(self, what: str, base: Money, tax: Money, total: Money) -> None:
        if {base.currency, tax.currency, total.currency} != {self.currency}:
            raise ValueError(f"{what}: not in {self.currency}")
        if base.is_negative() or tax.is_negative():
            raise ValueError(f"{what}: negative amount")
        if total != (base if self.prices_include_tax else base + tax):
            raise ValueError(f"{what}: total does not add up")

    @classmethod
    def place(
        cls,
        *,
        id: str,
        customer_id: str | None,
        email: str,
        currency: str,
        prices_include_tax: bool,
        lines: Sequence[OrderLine],
        shipping: Sequence[ShippingLine],
    ) -> Changed[Order]:
        """A new order awaiting payment (its stock is reserved by the service)."""
        order = cls(id, customer_id, email, currency, prices_include_tax, (*lines,), (*shipping,))
        placed = OrderPlaced(
            order_id=id,
            customer_id=customer_id,
            total=order.grand_total,
            fulfiller_ids=order.fulfiller_ids,
        )
        return Changed(order, (placed,))

    # -- amounts ----------------------------------------------------------------------------

    @property
    def fulfiller_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.fulfiller_id for line in self.lines))

    def _sum(self, amounts: Sequence[Money]) -> Money:
        return sum_money(amounts, self.currency)

    @property
    def subtotal(self) -> Money:
        return self._sum([line.subtotal for line in self.lines])

    @property
    def discount(self) -> Money:
        return self._sum([line.discount for line in self.lines])

    @property
    def shipping_total(self) -> Money:
        return self._sum([s.total for s in self.shipping])

    @property
    def tax(self) -> Money:
        return self._sum([*(x.tax for x in self.lines), *(s.tax for s in self.shipping)])

    @property
    def grand_total(self) -> Money:
        """What the customer pays: line totals plus shipping totals, tax included."""
        return self._sum([*(x.total for x in self.lines), *(s.total for s in self.shipping)])

    @property
    def refunded_total(self) -> Money:
        shipping = [s.total for s in self.shipping if s.refunded]
        return self._sum([*(line.refunded for line in self.lines), *shipping])

    @property
    def refundable_total(self) -> Money:
        """Paid and not yet refunded; zero while unpaid."""
        return self.grand_total - self.refunded_total if self.payment_reference else self._sum([])

    def line(self, line_id: str) -> OrderLine:
        """The line ``line_id``; raises ``KeyError`` when the order has none."""
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)

    # -- status -----------------------------------------------------------------------------

    def _move(self, status: OrderStatus, **changes: object) -> Order:
        # Staying put is allowed: derived statuses are recomputed after every change.
        if status is not self.status and status not in ORDER_TRANSITIONS[self.status]:
            raise IllegalTransition(f"Order {self.id} cannot go from {self.status} to {status}")
        return replace(self, status=status, **changes)  # type: ignore[arg-type]

    def _require(self, *statuses: OrderStatus) -> None:
        if self.status not in statuses:
            raise IllegalTransition(f"Order {self.id} is {self.status}")

    def _derived_status(self, progress: Progress) -> OrderStatus:
        if progress is Progress.VOID or self.status is OrderStatus.CANCELLED:
            return OrderStatus.CANCELLED
        refunded = self.refunded_total
        if not refunded.is_zero():
            full = refunded == self.grand_total
            return OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED
        return {
            Progress.UNFULFILLED: OrderStatus.PAID,
            Progress.PARTIALLY_FULFILLED: OrderStatus.PARTIALLY_FULFILLED,
            Progress.FULFILLED: OrderStatus.FULFILLED,
        }[progress]

    def _progress_of(self, fulfillments: Sequence[FulfillmentOrder]) -> Progress:
        # Progress over a subset of fulfillments would be a lie: insist on all of them.
        covered = sorted((fl.line_id, fl.quantity) for f in fulfillments for fl in f.lines)
        expected = sorted((line.id, line.quantity) for line in self.lines)
        if any(f.order_id != self.id for f in fulfillments) or covered != expected:
            raise ValueError(f"Fulfillments do not cover order {self.id} exactly")
        return fulfillment_progress(fulfillments)

    def mark_paid(self, payment_reference: str, amount: Money) -> Changed[Order]:
        """Record full payment. Repeating it with the same reference changes nothing, so a
        replayed confirmation is harmless; any other second payment is refused, and so is a
        payment arriving after the order ended (the service refunds it at the gateway)."""
        if self.payment_reference == payment_reference:
            return Changed(self)
        self._require(OrderStatus.AWAITING_PAYMENT)
        if amount != self.grand_total:
            raise ValidationFailed.on(
                "amount", f"The order costs {self.grand_total}, not {amount}", "amount_mismatch"
            )
        order = self._move(OrderStatus.PAID, payment_reference=payment_reference)
        return Changed(
            order,
            (
                OrderPaid(
                    order_id=self.id,
                    payment_reference=payment_reference,
                    amount=amount,
                    # what the ledger posts, so its handler need not read the order back
                    lines=tuple(
                        OrderPaidLine(
                            x.id, x.fulfiller_id, x.category_id, x.quantity, x.total, x.tax
                        )
                        for x in self.lines
                    ),
                    shipping=tuple(
                        OrderPaidShipping(s.fulfiller_id, s.total, s.tax) for s in self.shipping
                    ),
                ),
            ),
        )

    def mark_payment_failed(self, reason: str) -> Changed[Order]:
        """The payment was declined or expired: the order ends here, and the service
        releases its reserved stock (the compensation of the reservation step). Repeating
        it changes nothing."""
        if self.status is OrderStatus.PAYMENT_FAILED:
            return Changed(self)
        self._require(OrderStatus.AWAITING_PAYMENT)
        order = self._move(OrderStatus.PAYMENT_FAILED, cancel_reason=reason)
        return Changed(order, (OrderPaymentFailed(order_id=self.id, reason=reason),))

    def cancel(self, reason: str, fulfillments: Sequence[FulfillmentOrder]) -> Changed[Order]:
        """Cancel before anything has shipped; after a shipment, returns are the way back.

        ``OrderCancelled.refund_due`` is what the service must refund (zero when unpaid);
        it also cancels the open fulfillment orders and releases their stock. Pass every
        fulfillment order of a paid order. Cancelling a cancelled order changes nothing.
        """
        if self.status is OrderStatus.CANCELLED:
            return Changed(self)
        self._require(OrderStatus.AWAITING_PAYMENT, *PAID_STATUSES)
        progress = self._progress_of(fulfillments) if fulfillments else self.progress
        if progress in (Progress.PARTIALLY_FULFILLED, Progress.FULFILLED):
            raise IllegalTransition(f"Order {self.id} has shipped; request a return instead")
        order = self._move(OrderStatus.CANCELLED, cancel_reason=reason)
        event = OrderCancelled(order_id=self.id, reason=reason, refund_due=self.refundable_total)
        return Changed(order, (event,))

    def sync_fulfillments(self, fulfillments: Sequence[FulfillmentOrder]) -> Changed[Order]:
        """Re-derive progress and status after a fulfillment order changed.

        Emits ``OrderPartiallyFulfilled`` / ``OrderFulfilled`` when progress moves, and
        ``OrderCancelled`` when every fulfiller rejected or cancelled everything. A closed
        (cancelled or completed) order does not change.
        """
        if self.status in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
            return Changed(self)
        if self.status not in PAID_STATUSES:
            raise IllegalTransition(f"Order {self.id} is {self.status}, not paid")
        progress = self._progress_of(fulfillments)
        if progress is self.progress:
            return Changed(self)
        order = self._move(self._derived_status(progress), progress=progress)
        events: tuple[Event, ...] = ()
        if progress is Progress.PARTIALLY_FULFILLED:
            events = (OrderPartiallyFulfilled(order_id=self.id),)
        elif progress is Progress.FULFILLED:
            events = (OrderFulfilled(order_id=self.id),)
        elif progress is Progress.VOID:
            reason = "Rejected or cancelled by every fulfiller"
            order = replace(order, cancel_reason=reason)
            events = (
                OrderCancelled(order_id=self.id, reason=reason, refund_due=self.refundable_total),
            )
        return Changed(order, events)

    def complete(self, fulfillments: Sequence[FulfillmentOrder]) -> Changed[Order]:
        """Close a fulfilled order once everything shipped was delivered (the service calls
        this when the return window has passed); no returns or refunds after this.
        Repeating it changes nothing."""
        if self.status is OrderStatus.COMPLETED:
            return Changed(self)
        self._require(OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED)
        progress = self._progress_of(fulfillments)
        delivered = all(f.is_finished for f in fulfillments)
        if progress is not Progress.FULFILLED or not delivered:
            raise IllegalTransition(f"Order {self.id} is not fully delivered")
        order = self._move(OrderStatus.COMPLETED, progress=progress)
        return Changed(order, (OrderCompleted(order_id=self.id),))

    # -- refunds ----------------------------------------------------------------------------

    def preview_refund(
        self, lines: Sequence[LineQuantity], *, shipping_for: Collection[str] = ()
    ) -> RefundBreakdown:
        """What refunding ``lines`` (and the shipping of ``shipping_for`` fulfillers) would
        return, without changing anything; raises like :meth:`refund`."""
        if self.status not in PAID_STATUSES and not (
            self.status is OrderStatus.CANCELLED and self.payment_reference
        ):
            raise IllegalTransition(f"Order {self.id} is {self.status}: nothing to refund")
        return refund_breakdown(self.lines, self.shipping, lines, shipping_for, self.currency)

    def refund(
        self,
        refund_id: str,
        lines: Sequence[LineQuantity],
        *,
        reason: str,
        shipping_for: Collection[str] = (),
        return_id: str | None = None,
    ) -> Changed[Order]:
        """Record a refund of units of lines and of whole shipping charges.

        Guarantees: no unit or shipping charge is refunded twice, so the refunded total
        never exceeds the grand total, and refunding everything returns it exactly. Raises
        ``IllegalTransition`` for an unpaid or completed order, ``ValidationFailed`` for
        quantities beyond what is left.
        """
        breakdown = self.preview_refund(lines, shipping_for=shipping_for)
        units = {x.line_id: x.quantity for x in lines}
        new_lines = tuple(
            replace(line, refunded_quantity=line.refunded_quantity + units.get(line.id, 0))
            for line in self.lines
        )
        new_shipping = tuple(
            replace(s, refunded=True) if s.fulfiller_id in shipping_for else s
            for s in self.shipping
        )
        refunded = replace(self, lines=new_lines, shipping=new_shipping)
        order = refunded._move(refunded._derived_status(self.progress))
        event = RefundIssued(
            order_id=self.id,
            refund_id=refund_id,
            amount=breakdown.amount,
            lines=breakdown.lines,
            shipping=breakdown.shipping,
            reason=reason,
            return_id=return_id,
        )
        return Changed(order, (event,))

    def refund_remaining(self, refund_id: str, *, reason: str) -> Changed[Order]:
        """Refund every unit and shipping charge not yet refunded (after a cancellation)."""
        lines = [
            LineQuantity(line.id, line.quantity - line.refunded_quantity)
            for line in self.lines
            if line.refunded_quantity < line.quantity
        ]
        shipping = [s.fulfiller_id for s in self.shipping if not s.refunded]
        return self.refund(refund_id, lines, reason=reason, shipping_for=shipping)
