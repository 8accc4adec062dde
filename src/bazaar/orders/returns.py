"""Returns: the customer sends shipped units back and is refunded for them.

Pure Python. A :class:`ReturnRequest` moves requested -> approved -> received -> refunded,
or to rejected from requested or approved. A request never claims more of a line than has
shipped minus what other (not rejected) returns already claim. The money comes from
:meth:`bazaar.orders.model.Order.refund` at the moment of refunding, so the amount is each
returned unit's share of what was paid for the line (unit price - allocated discount + tax),
and all refunds together never exceed what was paid.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.orders.events import (
    LineQuantity,
    ReturnApproved,
    ReturnEvent,
    ReturnLine,
    ReturnReceived,
    ReturnRefunded,
    ReturnRejected,
    ReturnRequested,
)
from bazaar.orders.fulfillment import FulfillmentOrder
from bazaar.orders.model import (
    Changed,
    IllegalTransition,
    Order,
    OrderStatus,
)
from bazaar.orders.order_lines import check_line_quantities


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"


E = TypeVar("E", bound=ReturnEvent)
_R = ReturnStatus
RETURN_TRANSITIONS: Mapping[ReturnStatus, frozenset[ReturnStatus]] = {
    _R.REQUESTED: frozenset({_R.APPROVED, _R.REJECTED}),
    _R.APPROVED: frozenset({_R.RECEIVED, _R.REJECTED}),
    _R.RECEIVED: frozenset({_R.REFUNDED}),
    _R.REFUNDED: frozenset(),
    _R.REJECTED: frozenset(),
}
# Orders that cannot take a return: never paid, or ended before shipping. (A completed
# order cannot either; it gets its own answer, :class:`ReturnWindowClosed`.)
_NO_RETURNS = frozenset(
    {
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.PAYMENT_FAILED,
        OrderStatus.CANCELLED,
    }
)


class ReturnWindowClosed(IllegalTransition):
    """The return window is over for these units, or for the whole (completed) order (409).
    Field errors name the lines whose parcel was delivered too long ago."""

    code = "return_window_closed"
    title = "The return window has closed"


def check_return_window(
    order: Order,
    fulfillments: Sequence[FulfillmentOrder],
    lines: Sequence[ReturnLine],
    finished_at: Mapping[str, datetime],
    *,
    now: datetime,
    window: timedelta,
) -> None:
    """Raise :class:`ReturnWindowClosed` when ``order`` is completed, or when a line of
    ``lines`` belongs to a parcel delivered ``window`` or longer before ``now``.

    The window runs per fulfillment order, from when it finished (``finished_at``, by
    fulfillment order id; a parcel still on its way has none, so its window has not
    started): a customer may return what one fulfiller delivered for as long after that
    delivery as another's. The order completes once every window is over.
    """
    if order.status is OrderStatus.COMPLETED:
        raise ReturnWindowClosed(f"Order {order.id} is completed: its return window has closed")
    if order.status in _NO_RETURNS:
        return  # :func:`request_return` says why no return is possible at all
    by_fulfiller = {f.fulfiller_id: f.id for f in fulfillments}
    errors: list[FieldError] = []
    for i, x in enumerate(lines):
        try:
            fulfiller_id = order.line(x.line_id).fulfiller_id
        except KeyError:
            continue  # an unknown line is the quantity check's to report
        finished = finished_at.get(by_fulfiller.get(fulfiller_id, ""))
        if finished is not None and now >= finished + window:
            delivered = finished.date().isoformat()
            message = f"Delivered on {delivered}; returns close after {window.days} days"
            errors.append(FieldError(f"lines[{i}].line_id", message, "return_window_closed"))
    if errors:
        raise ReturnWindowClosed("The return window has closed for these lines", errors=errors)


@dataclass(frozen=True)
class ReturnRequest:
    """Units of an order's lines coming back. ``refunded`` is set once money went back."""

    id: str
    order_id: str
    lines: tuple[ReturnLine, ...]
    reason: str
    fulfiller_ids: tuple[str, ...]  # whose lines come back: they see the return's events
    status: ReturnStatus = ReturnStatus.REQUESTED
    refund_id: str | None = None
    refunded: Money | None = None
    rejection_reason: str | None = None

    def line_quantities(self) -> tuple[LineQuantity, ...]:
        return tuple(LineQuantity(line.line_id, line.quantity) for line in self.lines)

    def event(self, kind: type[E], **data: Any) -> E:
        """An event of ``kind`` about this return, with ``data`` as its own fields."""
        return kind(
            return_id=self.id, order_id=self.order_id, fulfiller_ids=self.fulfiller_ids, **data
        )

    def _move(self, status: ReturnStatus, **changes: object) -> ReturnRequest:
        if status not in RETURN_TRANSITIONS[self.status]:
            raise IllegalTransition(f"Return {self.id} cannot go from {self.status} to {status}")
        return replace(self, status=status, **changes)  # type: ignore[arg-type]

    def approve(self) -> Changed[ReturnRequest]:
        """Accept the request: the customer may send the goods."""
        return Changed(self._move(ReturnStatus.APPROVED), (self.event(ReturnApproved),))

    def reject(self, reason: str) -> Changed[ReturnRequest]:
        """Refuse the request (before the goods were received); its units may be claimed
        by a later request."""
        rejected = self._move(ReturnStatus.REJECTED, rejection_reason=reason)
        return Changed(rejected, (self.event(ReturnRejected, reason=reason),))

    def receive(self, restock: Mapping[str, bool] | None = None) -> Changed[ReturnRequest]:
        """The goods arrived. ``restock`` (order line id -> flag) overrides the flags set at
        request time after inspection; ``ReturnReceived`` carries the final flags."""
        overrides = restock or {}
        unknown = sorted(set(overrides) - {line.line_id for line in self.lines})
        if unknown:
            raise ValidationFailed.on(
                "restock", f"Not in this return: {', '.join(unknown)}", "unknown_line"
            )
        lines = tuple(
            replace(line, restock=overrides.get(line.line_id, line.restock)) for line in self.lines
        )
        received = self._move(ReturnStatus.RECEIVED, lines=lines)
        return Changed(received, (self.event(ReturnReceived, lines=lines),))


def returnable_quantities(
    order: Order, fulfillments: Sequence[FulfillmentOrder], returns: Sequence[ReturnRequest]
) -> dict[str, int]:
    """Per order line, how many units a new return may claim: shipped minus claimed by
    other returns that were not rejected, and never more than is still unrefunded minus
    what open returns will refund."""
    shipped: dict[str, int] = {}
    for f in fulfillments:
        for fl in f.lines:
            shipped[fl.line_id] = shipped.get(fl.line_id, 0) + fl.shipped
    claimed: dict[str, int] = {}
    pending: dict[str, int] = {}
    for r in returns:
        if r.order_id != order.id or r.status is ReturnStatus.REJECTED:
            continue
        for line in r.lines:
            claimed[line.line_id] = claimed.get(line.line_id, 0) + line.quantity
            if r.status is not ReturnStatus.REFUNDED:
                pending[line.line_id] = pending.get(line.line_id, 0) + line.quantity
    return {
        line.id: max(
            0,
            min(
                shipped.get(line.id, 0) - claimed.get(line.id, 0),
                line.quantity - line.refunded_quantity - pending.get(line.id, 0),
            ),
        )
        for line in order.lines
    }


def request_return(
    order: Order,
    fulfillments: Sequence[FulfillmentOrder],
    returns: Sequence[ReturnRequest],
    lines: Sequence[ReturnLine],
    *,
    return_id: str,
    reason: str,
) -> Changed[ReturnRequest]:
    """A new return request for ``lines`` of ``order``.

    ``fulfillments`` and ``returns`` are all of the order's. Raises ``IllegalTransition``
    when the order is unpaid or cancelled, :class:`ReturnWindowClosed` when it is completed
    (the caller checks the window of each line with :func:`check_return_window`), and
    ``ValidationFailed`` (fields
    ``lines[i].line_id`` / ``lines[i].quantity``) when a quantity is not between 1 and
    :func:`returnable_quantities`.
    """
    if order.status is OrderStatus.COMPLETED:
        raise ReturnWindowClosed(f"Order {order.id} is completed: its return window has closed")
    if order.status in _NO_RETURNS:
        raise IllegalTransition(f"Order {order.id} is {order.status}: no returns")
    limits = returnable_quantities(order, fulfillments, returns)
    check_line_quantities([LineQuantity(x.line_id, x.quantity) for x in lines], limits, "return")
    fulfillers = tuple(dict.fromkeys(order.line(x.line_id).fulfiller_id for x in lines))
    request = ReturnRequest(return_id, order.id, tuple(lines), reason, fulfillers)
    event = request.event(ReturnRequested, lines=request.lines, reason=reason)
    return Changed(request, (event,))


def refund_return(
    order: Order,
    request: ReturnRequest,
    *,
    refund_id: str,
    shipping_for: Collection[str] = (),
) -> tuple[Changed[Order], Changed[ReturnRequest]]:
    """Refund a received return: the order records ``RefundIssued`` for the returned units
    (plus the shipping of ``shipping_for`` fulfillers, e.g. when a whole order comes back),
    the request becomes refunded with ``ReturnRefunded``.

    Raises ``IllegalTransition`` unless the request is received and belongs to ``order``.
    """
    if request.order_id != order.id:
        raise ValidationFailed(
            "The return belongs to another order",
            errors=[FieldError("return_id", "Not a return of this order", "mismatch")],
        )
    if request.status is not ReturnStatus.RECEIVED:
        raise IllegalTransition(f"Return {request.id} is {request.status}, not received")
    refunded = order.refund(
        refund_id,
        request.line_quantities(),
        reason=f"Return {request.id}: {request.reason}",
        shipping_for=shipping_for,
        return_id=request.id,
    )
    amount = refunded.value.refunded_total - order.refunded_total
    done = request._move(ReturnStatus.REFUNDED, refund_id=refund_id, refunded=amount)
    event = request.event(ReturnRefunded, refund_id=refund_id, amount=amount)
    return refunded, Changed(done, (event,))
