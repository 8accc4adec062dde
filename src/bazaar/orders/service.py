"""Order use cases after placement: reading, cancelling, fulfilling, returns and refunds.

Stock moves in the same transaction as the order change that causes it (a cancellation
releases, a shipment takes allocated units off the shelf, a received return restocks). Money
moves after the commit: a void, a capture or a refund is asked of the gateway with a key
derived from what it is for, and a refund is written as pending first, so a crash in between
is finished by the reconciler instead of being lost or paid twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, PermissionDenied
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.money import Money
from bazaar.orders import closing_store, fulfillment_store, returns_store, store
from bazaar.orders.access import require_access
from bazaar.orders.closing import DEFAULT_RETURN_WINDOW
from bazaar.orders.events import LineQuantity, ReturnLine
from bazaar.orders.fulfilling import FulfillmentService
from bazaar.orders.fulfillment import FulfillmentOrder
from bazaar.orders.model import Changed, Order, OrderStatus
from bazaar.orders.returns import (
    ReturnRequest,
    check_return_window,
    refund_return,
    request_return,
)
from bazaar.orders.settlement import cancellation_refund
from bazaar.orders.timeline import TimelineEntry, timeline_of
from bazaar.payments.model import Payment, PaymentStatus
from bazaar.payments.service import PaymentService

log = logging.getLogger("bazaar.orders")


class StockPort(Protocol):
    def release(self, uow: SqlUnitOfWork, order_id: str, *, reason: str) -> int: ...

    def ship(self, uow: SqlUnitOfWork, order_id: str, sku: str, quantity: int) -> None: ...

    def restock_returned(
        self, uow: SqlUnitOfWork, order_id: str, sku: str, quantity: int
    ) -> None: ...


@dataclass(frozen=True)
class OrderView:
    order: Order
    titles: Mapping[str, str]
    shipping_address: Mapping[str, Any]
    fulfillments: list[FulfillmentOrder]
    payment: Payment | None
    returns: list[ReturnRequest]
    created_at: datetime
    updated_at: datetime
    history: Sequence[TimelineEntry] = ()  # what the customer sees happen (view only)


class OrderService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        uow_factory: Callable[[Actor], SqlUnitOfWork],
        *,
        stock: StockPort,
        payments: PaymentService,
        capture_on_shipment: bool,
        return_window: timedelta = DEFAULT_RETURN_WINDOW,
    ) -> None:
        self._db = db
        self._clock = clock
        self._uow = uow_factory
        self._stock = stock
        self._payments = payments
        self.fulfilling = FulfillmentService(
            db,
            clock,
            uow_factory,
            stock=stock,
            payments=payments,
            capture_on_shipment=capture_on_shipment,
        )
        self.return_window = return_window  # the order closer completes orders past it

    # --- reading -------------------------------------------------------------------------------

    def view(
        self, principal: Principal | None, order_id: str, access_token: str | None = None
    ) -> OrderView:
        """The order with its fulfillments, payment, returns and history; 404 for anyone
        else's."""
        with self._db.read() as conn:
            require_access(conn, principal, order_id, access_token)
            record = store.get_order(conn, order_id)
            if record is None:
                raise NotFound("No such order")
            fulfillments = fulfillment_store.fulfillments_of(conn, [order_id])[order_id]
            payment = self._payments_of(conn, order_id)
            returns = returns_store.returns_of(conn, order_id, record.order.currency)
            history = timeline_of(conn, order_id, [f.id for f in fulfillments])
        return OrderView(
            order=record.order,
            titles=record.titles,
            shipping_address=record.shipping_address,
            fulfillments=fulfillments,
            payment=payment,
            returns=returns,
            created_at=record.created_at,
            updated_at=record.updated_at,
            history=history,
        )

    def _payments_of(self, conn: Any, order_id: str) -> Payment | None:
        return self._payments.find(conn, order_id)

    def list_orders(
        self, principal: Principal, *, after_id: str | None, limit: int
    ) -> list[OrderView]:
        """A customer's own orders, newest first; staff see every order."""
        if principal.is_staff:
            customer_id = None
        elif principal.role is Role.CUSTOMER and principal.kind == "user":
            customer_id = principal.id
        else:
            raise PermissionDenied("Only customers and staff list orders")
        with self._db.read() as conn:
            ids = store.list_order_ids(
                conn, customer_id=customer_id, after_id=after_id, limit=limit
            )
            records = store.orders_by_ids(conn, ids)
            fulfillments = fulfillment_store.fulfillments_of(conn, ids)
        return [
            OrderView(
                order=records[i].order,
                titles=records[i].titles,
                shipping_address=records[i].shipping_address,
                fulfillments=fulfillments[i],
                payment=None,
                returns=[],
                created_at=records[i].created_at,
                updated_at=records[i].updated_at,
            )
            for i in ids
        ]

    # --- cancelling ----------------------------------------------------------------------------

    def cancel(
        self,
        principal: Principal | None,
        order_id: str,
        *,
        reason: str,
        access_token: str | None = None,
    ) -> None:
        """Cancel an order before anything shipped: stock released, payment voided or refunded."""
        with self._db.read() as conn:
            require_access(conn, principal, order_id, access_token)
        actor = principal.actor if principal is not None else Actor("guest")
        self._cancel(order_id, reason, actor)

    def cancel_expired(self, order_id: str) -> None:
        """Handler of ReservationsExpired: an order still unpaid when its stock was released."""
        with contextlib.suppress(NotFound):
            self._cancel(
                order_id, "reservation_expired", Actor.system("reservations"), unpaid_only=True
            )

    def _cancel(
        self, order_id: str, reason: str, actor: Actor, *, unpaid_only: bool = False
    ) -> None:
        refund: tuple[str, Money] | None = None
        with self._uow(actor) as uow:
            record = store.get_order(uow.conn, order_id)
            if record is None:
                raise NotFound("No such order")
            order = record.order
            if unpaid_only and order.status is not OrderStatus.AWAITING_PAYMENT:
                return
            fulfillments = fulfillment_store.fulfillments_of(uow.conn, [order_id])[order_id]
            cancelled = order.cancel(reason, fulfillments)
            if cancelled.value is order:
                return
            now = self._clock.now()
            if not store.update_order(uow.conn, order, cancelled.value, now):
                raise Conflict("The order changed meanwhile; retry")
            events = list(cancelled.events)
            for f in fulfillments:
                if not f.is_finished:  # cancelled ones are finished already
                    change = f.cancel(reason)
                    fulfillment_store.update_fulfillment(uow.conn, f, change.value, now)
                    events += change.events
            self._stock.release(uow, order_id, reason=reason)
            payment = self._payments_of(uow.conn, order_id)
            amount = cancellation_refund(payment, order.refundable_total)
            if amount is not None:
                refund_id = new_id("ref")
                self._payments.record_refund_intent(
                    uow.conn, refund_id, order_id, amount, reason, now
                )
                refund = (refund_id, amount)
            uow.record(*events)
            uow.commit()
        self._settle_money(order_id, refund)

    def _settle_money(self, order_id: str, refund: tuple[str, Money] | None) -> None:
        if refund is not None:
            self._payments.pay_out_refund(refund[0], order_id, refund[1])
            return
        with self._db.read() as conn:
            payment = self._payments_of(conn, order_id)
        if payment is not None and payment.status in (
            PaymentStatus.AUTHORIZED,
            PaymentStatus.REQUIRES_ACTION,
        ):
            try:
                self._payments.void(order_id)
            except Exception:  # the reconciler voids what is left authorized on a closed order
                log.warning("void of order %s failed; the reconciler will retry", order_id)
                return
            # refunds that waited for a capture are moot: the whole authorization went back
            self.fulfilling.release_deferred_refunds(order_id)

    # --- fulfilling (the operator; sellers use bazaar.orders.routing) -------------------------

    def ship(
        self,
        principal: Principal,
        fulfillment_id: str,
        *,
        lines: Sequence[LineQuantity] | None,
        carrier: str | None,
        tracking_number: str | None,
        shipment_id: str | None = None,
    ) -> FulfillmentOrder:
        """Record a shipment: its units leave the warehouse, the order's progress moves, and
        the payment is captured at the first shipment when capture happens on shipment. A
        pending fulfillment (the retailer's own) is accepted by shipping it."""
        principal.require_role(Role.OPERATOR)
        return self.fulfilling.ship(
            principal.actor,
            fulfillment_id,
            lines,
            carrier=carrier,
            tracking_number=tracking_number,
            shipment_id=shipment_id,
            auto_accept=True,
        )

    def mark_delivered(self, principal: Principal, fulfillment_id: str) -> FulfillmentOrder:
        """The carrier confirmed delivery of everything shipped (operator)."""
        principal.require_role(Role.OPERATOR)
        return self.fulfilling.deliver(principal.actor, fulfillment_id)

    # --- returns -------------------------------------------------------------------------------

    def request_return(
        self,
        principal: Principal | None,
        order_id: str,
        lines: Sequence[ReturnLine],
        *,
        reason: str,
        access_token: str | None = None,
    ) -> ReturnRequest:
        """A customer asks to send shipped units back (at most what shipped and is
        unrefunded), within the return window of each parcel: a 409
        ``return_window_closed`` once it is over, or once the order is completed."""
        actor = principal.actor if principal is not None else Actor("guest")
        with self._uow(actor) as uow:
            require_access(uow.conn, principal, order_id, access_token)
            record = store.get_order(uow.conn, order_id)
            assert record is not None
            order, now = record.order, self._clock.now()
            fulfillments = fulfillment_store.fulfillments_of(uow.conn, [order_id])[order_id]
            check_return_window(
                order,
                fulfillments,
                lines,
                closing_store.finished_at(uow.conn, order_id),
                now=now,
                window=self.return_window,
            )
            returns = returns_store.returns_of(uow.conn, order_id, order.currency)
            requested = request_return(
                order, fulfillments, returns, lines, return_id=new_id("ret"), reason=reason
            )
            # The order row is the lock the closer compares against: whichever writes first wins.
            if not closing_store.touch_for_return(uow.conn, order, now):
                raise Conflict("The order changed meanwhile; retry")
            returns_store.insert_return(uow.conn, requested.value, now)
            uow.record(*requested.events)
            uow.commit()
        return requested.value

    def decide_return(
        self, principal: Principal, return_id: str, *, approve: bool, reason: str = ""
    ) -> ReturnRequest:
        principal.require_role(Role.OPERATOR)
        return self._change_return(
            principal, return_id, lambda r: r.approve() if approve else r.reject(reason)
        )

    def receive_return(
        self, principal: Principal, return_id: str, restock: Mapping[str, bool] | None = None
    ) -> ReturnRequest:
        """The goods arrived: restockable units go back on the shelf, then the refund is paid."""
        principal.require_role(Role.OPERATOR)
        refund: tuple[str, Money] | None = None
        with self._uow(principal.actor) as uow:
            request, record = self._load_return(uow, return_id)
            received = request.receive(restock)
            order = record.order
            now = self._clock.now()
            if not returns_store.update_return(uow.conn, request, received.value, now):
                raise Conflict("The return changed meanwhile; retry")
            for line in received.value.lines:
                if line.restock:
                    self._stock.restock_returned(
                        uow, order.id, order.line(line.line_id).sku, line.quantity
                    )
            refund_id = new_id("ref")
            refunded_order, refunded_return = refund_return(
                order, received.value, refund_id=refund_id
            )
            if not store.update_order(uow.conn, order, refunded_order.value, now):
                raise Conflict("The order changed meanwhile; retry")
            returns_store.update_return(uow.conn, received.value, refunded_return.value, now)
            amount = refunded_return.value.refunded
            if amount is not None and amount.amount > 0:
                self._payments.record_refund_intent(
                    uow.conn, refund_id, order.id, amount, f"return {return_id}", now
                )
                refund = (refund_id, amount)
            uow.record(*received.events, *refunded_order.events, *refunded_return.events)
            uow.commit()
        if refund is not None:
            self._payments.pay_out_refund(refund[0], order.id, refund[1])
        return refunded_return.value

    def _change_return(
        self,
        principal: Principal,
        return_id: str,
        change: Callable[[ReturnRequest], Changed[ReturnRequest]],
    ) -> ReturnRequest:
        with self._uow(principal.actor) as uow:
            request, _ = self._load_return(uow, return_id)
            changed = change(request)
            if not returns_store.update_return(uow.conn, request, changed.value, self._clock.now()):
                raise Conflict("The return changed meanwhile; retry")
            uow.record(*changed.events)
            uow.commit()
        return changed.value

    @staticmethod
    def _load_return(uow: SqlUnitOfWork, return_id: str) -> tuple[ReturnRequest, store.OrderRecord]:
        found = (
            returns_store.get_return(uow.conn, return_id) if is_valid_id(return_id, "ret") else None
        )
        if found is None:
            raise NotFound("No such return")
        order_id, row = found
        record = store.get_order(uow.conn, order_id)
        assert record is not None
        return returns_store.return_from_row(row, record.order.currency), record

    # --- repairing -----------------------------------------------------------------------------

    def reconcile_money(self, older_than: datetime, limit: int = 200) -> int:
        """Pay out refunds left pending, void authorizations of closed orders, and settle
        refunds that waited for a capture."""
        done = 0
        for refund_id, order_id, amount in self._payments.pending_refunds(older_than, limit):
            done += self._payments.pay_out_refund(refund_id, order_id, amount)
        for payment in self._payments.stale(
            (PaymentStatus.AUTHORIZED, PaymentStatus.REQUIRES_ACTION), older_than, limit
        ):
            with self._db.read() as conn:
                record = store.get_order(conn, payment.order_id)
            if record is not None and record.order.status in (
                OrderStatus.CANCELLED,
                OrderStatus.PAYMENT_FAILED,
            ):
                self._settle_money(payment.order_id, None)
                done += 1
        return done + self.fulfilling.settle_deferred_refunds(older_than, limit)
