"""Recording the gateway's answer to an authorization (transaction 2 of checkout).

The answer is written compare-and-set, so the placing request, a 3-D Secure confirmation and
the reconciler can race and only one of them applies it: paid (the reservation becomes an
allocation and one fulfillment order per fulfiller is created), declined (the stock is
released), waiting for 3-D Secure, or arriving for an order whose hold expired meanwhile (the
order is cancelled and the authorization voided).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from bazaar.checkout.ports import InventoryPort
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory.model import HoldReleased, Reservation
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, PaymentRequired
from bazaar.kernel.events import Actor
from bazaar.orders import fulfillment_store
from bazaar.orders import store as orders_store
from bazaar.orders.fulfillment import FulfillmentOrder, route_fulfillments, split_fulfillments
from bazaar.orders.model import Order, OrderStatus
from bazaar.payments.model import GatewayResult, Payment, PaymentStatus
from bazaar.payments.service import PaymentService

log = logging.getLogger("bazaar.checkout")


class PaymentDeclined(PaymentRequired):
    """The customer's payment was refused (402); the order exists and its stock is released."""

    code = "payment_declined"
    title = "Payment declined"

    def __init__(self, detail: str, *, order_id: str, decline_code: str | None) -> None:
        super().__init__(detail)
        self.order_id = order_id
        self.decline_code = decline_code
        self.extensions = {"order_id": order_id, "decline_code": decline_code}


@dataclass(frozen=True)
class KnownState:
    """What transaction 1 wrote, so transaction 2 can write compare-and-set without reading."""

    order: Order
    payment: Payment
    reservations: tuple[Reservation, ...]


@dataclass(frozen=True)
class RecordedState:
    """The state an answer left, when this call applied it knowing everything."""

    order: Order
    payment: Payment
    fulfillments: tuple[FulfillmentOrder, ...]
    at: datetime
    responded: bool = False  # the idempotent response was stored with this state


class StaleOrder(Conflict):
    """The order changed after it was read: its payment cannot be recorded on that state."""


class PaymentRecording:
    """The part of :class:`~bazaar.checkout.service.CheckoutService` that applies the
    gateway's answers; the service's constructor sets these dependencies."""

    _clock: Clock
    _uow: Callable[[Actor], SqlUnitOfWork]
    _inventory: InventoryPort
    _payments: PaymentService
    _capture_at_placement: bool
    _seller_accept_sla: timedelta

    def record_authorization(
        self,
        order_id: str,
        result: GatewayResult,
        *,
        known: KnownState | None = None,
        finish: Callable[[Connection, RecordedState], None] | None = None,
    ) -> RecordedState | None:
        """Apply an answer to authorize or confirm (from a request or the reconciler).

        ``known`` is what the caller wrote in transaction 1: the answer is then recorded
        compare-and-set against it without reading, and the resulting state is returned;
        ``finish`` then runs in the same transaction with that state. Raises 402 when
        declined. Idempotent: an answer already recorded changes nothing.
        """
        try:
            try:
                updated, void, recorded = self._apply_authorization(
                    order_id, result, hold_kept=True, known=known, finish=finish
                )
            except StaleOrder:
                if known is None:
                    raise
                # Something moved since transaction 1 (an expiry, the reconciler): start over
                # from what is stored.
                updated, void, recorded = self._apply_authorization(
                    order_id, result, hold_kept=True, known=None
                )
        except HoldReleased:
            # The stock was released (the reservation expired) while the customer paid: the
            # order cannot be fulfilled, so it is cancelled and the authorization voided.
            updated, void, recorded = self._apply_authorization(
                order_id, result, hold_kept=False, known=None
            )
        if void:
            self._payments.void(order_id)
            recorded = None
        elif updated.status is PaymentStatus.AUTHORIZED and self._capture_at_placement:
            captured = self._capture_quietly(order_id)
            if recorded is not None and captured is not None:
                recorded = replace(recorded, payment=captured)
        if updated.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
            raise PaymentDeclined(
                result.decline_message or "The payment was declined",
                order_id=order_id,
                decline_code=result.decline_code,
            )
        return recorded

    def _apply_authorization(
        self,
        order_id: str,
        result: GatewayResult,
        *,
        hold_kept: bool,
        known: KnownState | None,
        finish: Callable[[Connection, RecordedState], None] | None = None,
    ) -> tuple[Payment, bool, RecordedState | None]:
        """Record ``result`` in one unit of work: the payment, whether to void it, and the
        state left when ``known`` made reading unnecessary."""
        void = False
        recorded: RecordedState | None = None
        with self._uow(Actor("system", "checkout")) as uow:
            if known is not None:
                payment = known.payment
            else:
                payment = self._payments.of_order(uow.conn, order_id)
            updated = payment.record_authorization(result)
            if not self._payments.record(uow.conn, payment, updated):
                if known is not None:
                    raise StaleOrder("The payment changed meanwhile")
                return updated, False, None  # another request recorded an answer first
            if known is not None:
                order = known.order
            else:
                record = orders_store.get_order(uow.conn, order_id)
                assert record is not None
                order = record.order
            now = self._clock.now()
            if updated.status is PaymentStatus.AUTHORIZED and updated != payment:
                if order.status is OrderStatus.AWAITING_PAYMENT and hold_kept:
                    paid, fulfillments = self._mark_paid(
                        uow, order, updated, known.reservations if known else None
                    )
                    recorded = RecordedState(paid, updated, tuple(fulfillments), now)
                else:
                    if order.status is OrderStatus.AWAITING_PAYMENT:
                        cancelled = order.cancel("reservation_expired", [])
                        orders_store.update_order(uow.conn, order, cancelled.value, now)
                        self._inventory.release(uow, order_id, reason="reservation_expired")
                        uow.record(*cancelled.events)
                    void = True  # nobody holds the stock any more: give the money back
            elif (
                updated.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED)
                and order.status is OrderStatus.AWAITING_PAYMENT
            ):
                failed = order.mark_payment_failed(result.decline_code or "declined")
                if not orders_store.update_order(uow.conn, order, failed.value, now):
                    raise StaleOrder("The order changed meanwhile; retry")
                self._inventory.release(uow, order_id, reason="payment_failed")
                uow.record(*failed.events)
            elif updated.status is PaymentStatus.REQUIRES_ACTION:
                recorded = RecordedState(order, updated, (), now)
            if recorded is not None and finish is not None:
                finish(uow.conn, recorded)
                recorded = replace(recorded, responded=True)
            uow.commit()
        return updated, void, recorded

    def _mark_paid(
        self,
        uow: SqlUnitOfWork,
        order: Order,
        payment: Payment,
        reservations: tuple[Reservation, ...] | None,
    ) -> tuple[Order, list[FulfillmentOrder]]:
        assert payment.authorization_id is not None
        paid = order.mark_paid(payment.authorization_id, payment.amount)
        now = self._clock.now()
        if not orders_store.update_order(uow.conn, order, paid.value, now):
            raise StaleOrder("The order changed meanwhile; retry")
        self._inventory.allocate(uow, order.id, reservations)
        # each seller's part must be accepted within the SLA (bazaar.orders.routing)
        fulfillments = route_fulfillments(
            split_fulfillments(paid.value), now=now, seller_accept_within=self._seller_accept_sla
        )
        fulfillment_store.insert_fulfillments(uow.conn, fulfillments, now)
        uow.record(*paid.events, *(f.created() for f in fulfillments))
        return paid.value, fulfillments

    def _capture_quietly(self, order_id: str) -> Payment | None:
        try:
            return self._payments.capture(order_id)
        except Exception:  # the reconciler retries captures; the order is paid either way
            log.warning("capture of order %s failed; the reconciler will retry", order_id)
            return None
