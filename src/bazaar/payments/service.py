"""Payment use cases: every gateway call happens outside a database transaction.

The pattern for each operation is the same: load the payment and check the move is allowed,
call the gateway with an idempotency key derived from the payment (so a retry, a duplicate
request or the reconciler asking again can never charge twice), then record the answer in a
short transaction that writes compare-and-set on the payment's status. A gateway that cannot
be reached leaves the payment as it was; the reconciler asks the gateway later what happened
to the key.

Money that went back to the customer is reported as an event in the transaction that records
it (:mod:`bazaar.payments.events`): ``RefundSucceeded`` per refund, ``PaymentVoided`` for a
released authorization. The ledger settles exactly the refund each one names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound
from bazaar.kernel.events import Actor, Event
from bazaar.kernel.money import Money
from bazaar.payments import store
from bazaar.payments.events import PaymentVoided, RefundSucceeded
from bazaar.payments.gateway import GatewayUnavailable, PaymentGateway
from bazaar.payments.model import GatewayResult, GatewayStatus, Payment, PaymentStatus

log = logging.getLogger("bazaar.payments")

PAYMENTS = Actor.system("payments")


class PaymentChanged(Conflict):
    """Another request recorded a different answer for this payment first."""

    code = "payment_changed"


class PaymentService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        gateway: PaymentGateway,
        uow: Callable[[Actor], SqlUnitOfWork],
    ) -> None:
        self._db = db
        self._clock = clock
        self.gateway = gateway
        self._uow = uow

    # --- inside the caller's transaction -----------------------------------------------------

    def start(self, conn: Connection, payment_id: str, order_id: str, amount: Money) -> Payment:
        """A pending payment, written in the transaction that places the order.

        Its authorize key is derived from the order, so every attempt to authorize this
        order, by anyone, is the same request to the gateway.
        """
        payment = Payment.start(payment_id, order_id, amount, f"{order_id}:authorize")
        store.insert_payment(conn, payment, self._clock.now())
        return payment

    @staticmethod
    def find(conn: Connection, order_id: str) -> Payment | None:
        """The order's payment, or None (an order of nothing to pay has none)."""
        return store.payment_of_order(conn, order_id)

    @staticmethod
    def of_order(conn: Connection, order_id: str) -> Payment:
        payment = store.payment_of_order(conn, order_id)
        if payment is None:
            raise NotFound("This order has no payment")
        return payment

    def record(self, conn: Connection, before: Payment, after: Payment) -> bool:
        return store.update_payment(conn, before, after, self._clock.now())

    # --- gateway calls -----------------------------------------------------------------------

    def authorize(self, payment: Payment, token: str) -> GatewayResult | None:
        """The gateway's answer, or None when it could not be reached (outcome unknown)."""
        try:
            return self.gateway.authorize(
                payment.amount, token, payment.idempotency_key, order_id=payment.order_id
            )
        except GatewayUnavailable:
            log.warning("gateway unavailable authorizing payment %s", payment.id)
            return None

    def confirm(self, payment: Payment) -> GatewayResult | None:
        if payment.status is not PaymentStatus.REQUIRES_ACTION or payment.authorization_id is None:
            raise Conflict(f"The payment is {payment.status}, not waiting for a confirmation")
        try:
            return self.gateway.confirm(payment.authorization_id, f"{payment.id}:confirm")
        except GatewayUnavailable:
            return None

    def lookup(self, payment: Payment) -> GatewayResult | None:
        """What the gateway did with this payment's authorize key (None: it never saw it)."""
        return self.gateway.find_by_idempotency_key(payment.idempotency_key)

    def capture(self, order_id: str) -> Payment:
        """Capture the whole authorization of an order's payment (once; repeats are no-ops)."""
        return self._settle(
            order_id,
            check=lambda p: p.check_capture(p.amount),
            call=lambda p: self.gateway.capture(_authorization(p), p.amount, f"{p.id}:capture"),
            apply=Payment.record_capture,
            done=lambda p: p.status is not PaymentStatus.AUTHORIZED,
        )

    def void(self, order_id: str) -> Payment:
        """Release an authorization that will never be captured; records ``PaymentVoided``
        with the release, once."""
        return self._settle(
            order_id,
            check=Payment.check_void,
            call=lambda p: self.gateway.void(_authorization(p), f"{p.id}:void"),
            apply=Payment.record_void,
            done=lambda p: (
                p.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.REQUIRES_ACTION)
            ),
            events=_voided,
        )

    def refund(self, order_id: str, amount: Money, refund_id: str) -> Payment:
        """Return ``amount`` of what was captured; ``refund_id`` makes the request idempotent."""

        def call(p: Payment) -> GatewayResult:
            assert p.capture_id is not None
            return self.gateway.refund(p.capture_id, amount, f"{p.id}:{refund_id}")

        return self._settle(
            order_id,
            check=lambda p: p.check_refund(amount),
            call=call,
            apply=Payment.record_refund,
            done=lambda p: False,
        )

    def _settle(
        self,
        order_id: str,
        *,
        check: Callable[[Payment], None],
        call: Callable[[Payment], GatewayResult],
        apply: Callable[[Payment, GatewayResult], Payment],
        done: Callable[[Payment], bool],
        events: Callable[[Payment, Payment], Sequence[Event]] = lambda before, after: (),
    ) -> Payment:
        with self._db.read() as conn:
            payment = self.of_order(conn, order_id)
        if done(payment):
            return payment
        check(payment)
        result = call(payment)  # GatewayUnavailable propagates: nothing was recorded
        with self._uow(PAYMENTS) as uow:
            current = self.of_order(uow.conn, order_id)
            updated = apply(current, result)
            if not store.update_payment(uow.conn, current, updated, self._clock.now()):
                raise PaymentChanged("The payment changed meanwhile; retry")
            uow.record(*events(current, updated))
            uow.commit()
        if result.status not in (
            GatewayStatus.CAPTURED,
            GatewayStatus.VOIDED,
            GatewayStatus.REFUNDED,
        ):
            raise Conflict(f"The gateway refused: {result.decline_message or result.decline_code}")
        return updated

    @staticmethod
    def record_refund_intent(
        conn: Connection, refund_id: str, order_id: str, amount: Money, reason: str, at: datetime
    ) -> None:
        """Write a pending refund in the caller's transaction, before the gateway is asked."""
        store.insert_refund(conn, refund_id, order_id, amount, reason, at)

    def pay_out_refund(self, refund_id: str, order_id: str, amount: Money) -> bool:
        """Ask the gateway for a recorded refund; True once it is confirmed.

        Safe to repeat: the gateway key is the refund's id, and a settled refund is marked so
        the reconciler stops asking. A confirmed refund records ``RefundSucceeded`` in the
        transaction that marks it, exactly once.
        """
        try:
            self.refund(order_id, amount, refund_id)
            status = "succeeded"
        except GatewayUnavailable:
            return False
        except Conflict:
            # Refused by the gateway (or nothing captured): an operator must look at it.
            log.error("refund %s of order %s was refused", refund_id, order_id)
            status = "failed"
        with self._uow(PAYMENTS) as uow:
            moved = store.settle_refund(uow.conn, refund_id, status, self._clock.now())
            if moved and status == "succeeded":
                uow.record(RefundSucceeded(refund_id=refund_id, order_id=order_id, amount=amount))
            uow.commit()
        return status == "succeeded"

    def succeeded_refunds(self, conn: Connection, order_id: str) -> list[tuple[str, Money]]:
        """(refund id, amount) of the order's refunds the gateway confirmed, oldest first."""
        return store.succeeded_refunds(conn, order_id)

    def pending_refunds(self, older_than: datetime, limit: int) -> list[tuple[str, str, Money]]:
        with self._db.read() as conn:
            return store.pending_refunds(conn, updated_before=older_than, limit=limit)

    def stale(
        self, statuses: tuple[PaymentStatus, ...], older_than: datetime, limit: int
    ) -> list[Payment]:
        with self._db.read() as conn:
            return store.stale_payments(conn, statuses, updated_before=older_than, limit=limit)


def _voided(before: Payment, after: Payment) -> Sequence[Event]:
    if before.status is PaymentStatus.VOIDED or after.status is not PaymentStatus.VOIDED:
        return ()
    released = after.amount - after.captured
    return (PaymentVoided(payment_id=after.id, order_id=after.order_id, released=released),)


def _authorization(payment: Payment) -> str:
    if payment.authorization_id is None:
        raise Conflict("The payment has no authorization")
    return payment.authorization_id
