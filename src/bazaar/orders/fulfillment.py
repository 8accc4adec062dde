"""Fulfillment orders: one fulfiller's share of a paid order, from pending to delivered.

Pure Python. A paid order is split into one :class:`FulfillmentOrder` per fulfiller
(:func:`split_fulfillments`); each is routed to a warehouse, a seller or a partner and moves
through its own small state machine. Quantities are tracked per line: shipments may be
partial, and a fulfiller may decline (reject) quantities it cannot ship. The order's status
is derived from these (:meth:`bazaar.orders.model.Order.sync_fulfillments`).

A fulfillment order routed to a marketplace seller (:func:`route_fulfillments`) carries an
acceptance deadline: the seller accepts it before ``accept_by`` or it expires
(:meth:`FulfillmentOrder.expire`), and its units are refunded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bazaar.kernel.events import Event
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money
from bazaar.orders.events import (
    FulfillmentAccepted,
    FulfillmentCancelled,
    FulfillmentCreated,
    FulfillmentDelivered,
    FulfillmentRejected,
    FulfillmentShipped,
    LineQuantity,
    is_seller,
)
from bazaar.orders.model import (
    Changed,
    IllegalTransition,
    Order,
    OrderStatus,
    Progress,
)
from bazaar.orders.order_lines import check_line_quantities


class FulfillmentStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"  # nothing left to ship
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REJECTED = "rejected"  # the fulfiller declined everything


_F = FulfillmentStatus
FULFILLMENT_TRANSITIONS: Mapping[FulfillmentStatus, frozenset[FulfillmentStatus]] = {
    _F.PENDING: frozenset({_F.ACCEPTED, _F.REJECTED, _F.CANCELLED}),
    _F.ACCEPTED: frozenset({_F.PARTIALLY_SHIPPED, _F.SHIPPED, _F.REJECTED, _F.CANCELLED}),
    _F.PARTIALLY_SHIPPED: frozenset({_F.SHIPPED}),
    _F.SHIPPED: frozenset({_F.DELIVERED}),
    _F.DELIVERED: frozenset(),
    _F.CANCELLED: frozenset(),
    _F.REJECTED: frozenset(),
}
FINISHED_FULFILLMENT = frozenset({_F.DELIVERED, _F.CANCELLED, _F.REJECTED})
# Accepted, whatever happened since: accepting again changes nothing.
_ACCEPTED = frozenset({_F.ACCEPTED, _F.PARTIALLY_SHIPPED, _F.SHIPPED, _F.DELIVERED})

SELLER_SLA_EXPIRED = "seller_sla_expired"  # the reason of a fulfillment cancelled unaccepted


class AcceptanceDeadlinePassed(IllegalTransition):
    """The seller did not accept in time; the fulfillment order is being cancelled (409)."""

    code = "acceptance_deadline_passed"
    title = "The acceptance deadline has passed"


@dataclass(frozen=True)
class FulfillmentLine:
    line_id: str  # the order line
    offer_id: str
    sku: str
    quantity: int
    shipped: int = 0
    rejected: int = 0

    @property
    def open(self) -> int:
        return self.quantity - self.shipped - self.rejected


@dataclass(frozen=True)
class Shipment:
    id: str
    lines: tuple[LineQuantity, ...]
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass(frozen=True)
class FulfillmentOrder:
    """One fulfiller's share of a paid order: its lines and its shipping charge."""

    id: str
    order_id: str
    fulfiller_id: str
    lines: tuple[FulfillmentLine, ...]
    shipping: Money
    status: FulfillmentStatus = FulfillmentStatus.PENDING
    shipments: tuple[Shipment, ...] = ()
    reason: str | None = None
    accept_by: datetime | None = None  # sellers only: accept before this or it expires
    version: int = 0  # as stored; the store compares and bumps it on every write

    @property
    def shipped_units(self) -> int:
        return sum(line.shipped for line in self.lines)

    @property
    def open_units(self) -> int:
        """Units still to ship; zero once cancelled or rejected."""
        if self.status in (FulfillmentStatus.CANCELLED, FulfillmentStatus.REJECTED):
            return 0
        return sum(line.open for line in self.lines)

    @property
    def is_finished(self) -> bool:
        """Delivered, cancelled or rejected: nothing more will happen to it."""
        return self.status in FINISHED_FULFILLMENT

    @property
    def ships_nothing(self) -> bool:
        """Cancelled or rejected before any shipment: its shipping charge is owed back."""
        ended = self.status in (FulfillmentStatus.CANCELLED, FulfillmentStatus.REJECTED)
        return ended and not self.shipped_units

    def is_overdue(self, now: datetime) -> bool:
        """Still waiting for its seller's acceptance at ``now``, past the deadline."""
        return (
            self.status is FulfillmentStatus.PENDING
            and self.accept_by is not None
            and now >= self.accept_by
        )

    def unfulfilled(self) -> tuple[LineQuantity, ...]:
        """Units that will never ship (rejected, or open when cancelled): refund these."""
        cancelled = self.status is FulfillmentStatus.CANCELLED
        amounts = [(fl.line_id, fl.rejected + (fl.open if cancelled else 0)) for fl in self.lines]
        return tuple(LineQuantity(line_id, n) for line_id, n in amounts if n)

    def unfulfilled_since(self, earlier: FulfillmentOrder) -> tuple[LineQuantity, ...]:
        """Units that will never ship now but could when this order was ``earlier``: what a
        rejection or a cancellation just gave up (their stock and their money go back)."""
        was = {x.line_id: x.quantity for x in earlier.unfulfilled()}
        return tuple(
            LineQuantity(x.line_id, x.quantity - was.get(x.line_id, 0))
            for x in self.unfulfilled()
            if x.quantity > was.get(x.line_id, 0)
        )

    def created(self) -> FulfillmentCreated:
        """The event recording this fulfillment order's creation."""
        lines = tuple(LineQuantity(fl.line_id, fl.quantity) for fl in self.lines)
        return FulfillmentCreated(
            **self._ids(), lines=lines, shipping=self.shipping, accept_by=self.accept_by
        )

    def _ids(self) -> dict[str, str]:
        return {
            "fulfillment_id": self.id,
            "order_id": self.order_id,
            "fulfiller_id": self.fulfiller_id,
        }

    def _move(self, status: FulfillmentStatus, **changes: object) -> FulfillmentOrder:
        if status is not self.status and status not in FULFILLMENT_TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"Fulfillment {self.id} cannot go from {self.status} to {status}"
            )
        return replace(self, status=status, **changes)  # type: ignore[arg-type]

    def _require(self, *statuses: FulfillmentStatus) -> None:
        if self.status not in statuses:
            raise IllegalTransition(f"Fulfillment {self.id} is {self.status}")

    def _apply(self, items: Sequence[LineQuantity], verb: str, attr: str) -> FulfillmentOrder:
        check_line_quantities(items, {fl.line_id: fl.open for fl in self.lines}, verb)
        add = {x.line_id: x.quantity for x in items}
        lines = tuple(
            replace(fl, **{attr: getattr(fl, attr) + add.get(fl.line_id, 0)}) for fl in self.lines
        )
        return replace(self, lines=lines)

    def _settled_status(self) -> FulfillmentStatus:
        if self.open_units:
            if self.shipped_units:
                return FulfillmentStatus.PARTIALLY_SHIPPED
            return self.status
        return FulfillmentStatus.SHIPPED if self.shipped_units else FulfillmentStatus.REJECTED

    def accept(
        self,
        rejected: Sequence[LineQuantity] = (),
        reason: str = "",
        *,
        now: datetime | None = None,
    ) -> Changed[FulfillmentOrder]:
        """The fulfiller takes the order, declining ``rejected`` quantities (out of stock).

        Accepting an accepted order again (a retried call) changes nothing. With ``now``,
        a seller's order past its ``accept_by`` deadline is refused: it is expiring.
        """
        if self.status in _ACCEPTED and not rejected:
            return Changed(self)
        self._require(FulfillmentStatus.PENDING)
        if now is not None and self.is_overdue(now):
            raise AcceptanceDeadlinePassed(
                f"Fulfillment {self.id} had to be accepted by {self.accept_by:%Y-%m-%dT%H:%M:%SZ}"
            )
        accepted = self._move(FulfillmentStatus.ACCEPTED)
        events: list[Event] = [FulfillmentAccepted(**self._ids())]
        if rejected:
            change = accepted.reject_lines(rejected, reason)
            accepted, events = change.value, [*events, *change.events]
        if accepted.status is FulfillmentStatus.REJECTED:
            events = events[1:]  # declined everything: a rejection, not an acceptance
        return Changed(accepted, tuple(events))

    def reject(self, reason: str) -> Changed[FulfillmentOrder]:
        """Decline everything not yet shipped."""
        self._require(FulfillmentStatus.PENDING, FulfillmentStatus.ACCEPTED)
        open_lines = [LineQuantity(fl.line_id, fl.open) for fl in self.lines if fl.open]
        return self.reject_lines(open_lines, reason)

    def reject_lines(self, lines: Sequence[LineQuantity], reason: str) -> Changed[FulfillmentOrder]:
        """Decline some unshipped quantities; the service releases their stock and refunds
        them. Declining the last open units completes the fulfillment order."""
        self._require(_F.PENDING, _F.ACCEPTED, _F.PARTIALLY_SHIPPED)
        updated = self._apply(lines, "reject", "rejected")
        updated = updated._move(updated._settled_status(), reason=reason)
        event = FulfillmentRejected(
            **self._ids(), lines=tuple(lines), reason=reason, complete=not updated.open_units
        )
        return Changed(updated, (event,))

    def ship(
        self,
        shipment_id: str,
        lines: Sequence[LineQuantity] | None = None,
        *,
        carrier: str | None = None,
        tracking_number: str | None = None,
    ) -> Changed[FulfillmentOrder]:
        """Record a shipment of ``lines`` (default: everything open). Repeating a shipment
        id with the same lines changes nothing, so a retried seller call is harmless."""
        for earlier in self.shipments:
            if earlier.id == shipment_id:
                if lines is None or tuple(lines) == earlier.lines:
                    return Changed(self)
                raise IllegalTransition(f"Shipment {shipment_id} was recorded with other lines")
        self._require(FulfillmentStatus.ACCEPTED, FulfillmentStatus.PARTIALLY_SHIPPED)
        if lines is None:
            lines = [LineQuantity(fl.line_id, fl.open) for fl in self.lines if fl.open]
        shipment = Shipment(shipment_id, tuple(lines), carrier, tracking_number)
        updated = self._apply(lines, "ship", "shipped")
        updated = updated._move(updated._settled_status(), shipments=(*self.shipments, shipment))
        event = FulfillmentShipped(
            **self._ids(),
            shipment_id=shipment_id,
            lines=shipment.lines,
            carrier=carrier,
            tracking_number=tracking_number,
            complete=not updated.open_units,
        )
        return Changed(updated, (event,))

    def mark_delivered(self, *, assumed: bool = False) -> Changed[FulfillmentOrder]:
        """Everything shipped arrived (``assumed``: nobody said so, but it shipped long
        ago); repeating it changes nothing."""
        if self.status is FulfillmentStatus.DELIVERED:
            return Changed(self)
        delivered = self._move(FulfillmentStatus.DELIVERED)
        return Changed(delivered, (FulfillmentDelivered(**self._ids(), assumed=assumed),))

    def expire(self, now: datetime) -> Changed[FulfillmentOrder]:
        """Cancel a seller's order still unaccepted past its deadline (reason
        ``seller_sla_expired``); anything else (accepted meanwhile, not yet due) is left as
        it is, so a sweeper racing an acceptance changes nothing."""
        if not self.is_overdue(now):
            return Changed(self)
        return self.cancel(SELLER_SLA_EXPIRED)

    def cancel(self, reason: str) -> Changed[FulfillmentOrder]:
        """Cancel before anything shipped; repeating it changes nothing."""
        if self.status is FulfillmentStatus.CANCELLED:
            return Changed(self)
        self._require(FulfillmentStatus.PENDING, FulfillmentStatus.ACCEPTED)
        lines = tuple(LineQuantity(fl.line_id, fl.open) for fl in self.lines if fl.open)
        cancelled = self._move(FulfillmentStatus.CANCELLED, reason=reason)
        return Changed(
            cancelled, (FulfillmentCancelled(**self._ids(), lines=lines, reason=reason),)
        )


def split_fulfillments(
    order: Order, *, new_fulfillment_id: Callable[[], str] = lambda: new_id("ful")
) -> list[FulfillmentOrder]:
    """One pending fulfillment order per fulfiller of a paid order, in line order, each with
    its lines and that fulfiller's shipping total. Record ``f.created()`` for each.

    Raises ``IllegalTransition`` unless the order is paid and nothing has been fulfilled.
    """
    if order.status is not OrderStatus.PAID or order.progress is not Progress.UNFULFILLED:
        raise IllegalTransition(f"Order {order.id} is {order.status}; split it once, when paid")
    shipping = {s.fulfiller_id: s.total for s in order.shipping}
    return [
        FulfillmentOrder(
            id=new_fulfillment_id(),
            order_id=order.id,
            fulfiller_id=fulfiller_id,
            lines=tuple(
                FulfillmentLine(line.id, line.offer_id, line.sku, line.quantity)
                for line in order.lines
                if line.fulfiller_id == fulfiller_id
            ),
            shipping=shipping.get(fulfiller_id, Money.zero(order.currency)),
        )
        for fulfiller_id in order.fulfiller_ids
    ]


def route_fulfillments(
    fulfillments: Sequence[FulfillmentOrder], *, now: datetime, seller_accept_within: timedelta
) -> list[FulfillmentOrder]:
    """Route freshly split fulfillment orders: each one a marketplace seller fulfils must be
    accepted within ``seller_accept_within`` of ``now``; the retailer's own ones have no
    deadline (shipping them accepts them)."""
    return [
        replace(f, accept_by=now + seller_accept_within) if is_seller(f.fulfiller_id) else f
        for f in fulfillments
    ]
