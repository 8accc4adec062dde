"""Fulfillment order steps, whoever takes them: the operator for the retailer's warehouses, a
seller through its API, the acceptance sweeper.

Each step is one unit of work: the fulfillment order moves compare-and-set, the order's
status is re-derived from all its fulfillment orders, stock moves with them, and money owed
back is written before the commit and paid after it. A refund owed while the payment is only
authorized (capture at shipment) waits for the capture (:mod:`bazaar.orders.deferred_refunds`);
when nothing is left to ship at all, the authorization is voided instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bazaar.infra.db import Database
from bazaar.infra.idempotency import Claim, IdempotencyStore
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.money import Money
from bazaar.orders import deferred_refunds, fulfillment_store, store
from bazaar.orders.events import LineQuantity, RefundIssued
from bazaar.orders.fulfillment import SELLER_SLA_EXPIRED, FulfillmentOrder, FulfillmentStatus
from bazaar.orders.model import Changed, Order, OrderStatus
from bazaar.orders.settlement import refund_unfulfilled
from bazaar.payments.model import PaymentStatus
from bazaar.payments.service import PaymentService

log = logging.getLogger("bazaar.orders")

REJECTED_REFUND_REASON = "fulfillment_rejected"


class FulfillmentStock(Protocol):
    """What fulfilling needs of inventory: units leaving an order's hold, units coming back."""

    def ship(self, uow: SqlUnitOfWork, order_id: str, sku: str, quantity: int) -> None: ...

    def restock_returned(
        self, uow: SqlUnitOfWork, order_id: str, sku: str, quantity: int
    ) -> None: ...


class GivenUpStock(StrEnum):
    """What happens to the stock of units a fulfiller gives up."""

    WRITE_OFF = "write_off"  # they are not on the shelf (out of stock): on hand drops
    RELEASE = "release"  # they are on the shelf: back on sale


@dataclass(frozen=True)
class _Loaded:
    """A fulfillment order with its order and all the order's fulfillment orders."""

    fulfillment: FulfillmentOrder
    order: Order
    fulfillments: list[FulfillmentOrder]


@dataclass
class _MoneyAfterCommit:
    payouts: list[tuple[str, Money]] = field(default_factory=list)
    void: bool = False


class FulfillmentService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        uow_factory: Callable[[Actor], SqlUnitOfWork],
        *,
        stock: FulfillmentStock,
        payments: PaymentService,
        capture_on_shipment: bool,
    ) -> None:
        self._db = db
        self._clock = clock
        self._uow = uow_factory
        self._stock = stock
        self._payments = payments
        self._capture_on_shipment = capture_on_shipment

    # --- steps ---------------------------------------------------------------------------------

    def accept(
        self, actor: Actor, fulfillment_id: str, *, fulfiller_id: str | None = None
    ) -> FulfillmentOrder:
        """The fulfiller will ship it. Accepting again returns it unchanged; past a seller's
        deadline it is a 409 ``acceptance_deadline_passed`` (the sweeper cancels it)."""
        with self._uow(actor) as uow:
            loaded = self._load(uow, fulfillment_id, fulfiller_id)
            change = loaded.fulfillment.accept(now=self._clock.now())
            if change.value is loaded.fulfillment:
                return loaded.fulfillment
            saved = self._save(uow, loaded, change)
            uow.commit()
        return saved.fulfillment

    def reject(
        self,
        actor: Actor,
        fulfillment_id: str,
        lines: Sequence[LineQuantity] | None,
        *,
        reason: str,
        stock: GivenUpStock = GivenUpStock.WRITE_OFF,
        fulfiller_id: str | None = None,
        claim: Claim | None = None,
    ) -> FulfillmentOrder:
        """Decline ``lines`` (None: everything still open) before they ship.

        Guarantees, in one transaction: their stock is written off or released (``stock``),
        the customer is refunded exactly those units (plus the fulfiller's shipping charge
        when it ships nothing at all), and the order's status follows. With ``claim`` (an
        ``Idempotency-Key``) a retry after a lost answer changes nothing.
        """
        with self._uow(actor) as uow:
            loaded = self._load(uow, fulfillment_id, fulfiller_id)
            f = loaded.fulfillment
            if claim is not None and claim.resource_id is not None:
                return f  # an earlier attempt with this key rejected them
            if lines is None:
                lines = [LineQuantity(fl.line_id, fl.open) for fl in f.lines if fl.open]
            change = f.reject_lines(lines, reason)
            saved, money = self._give_up(uow, loaded, change, REJECTED_REFUND_REASON, stock)
            if claim is not None:
                IdempotencyStore.attach(uow.conn, claim, f.id)
            uow.commit()
        self._settle(saved.order.id, money)
        return saved.fulfillment

    def ship(
        self,
        actor: Actor,
        fulfillment_id: str,
        lines: Sequence[LineQuantity] | None,
        *,
        carrier: str | None,
        tracking_number: str | None,
        shipment_id: str | None = None,
        fulfiller_id: str | None = None,
        auto_accept: bool = False,
        claim: Claim | None = None,
    ) -> FulfillmentOrder:
        """Record a shipment of ``lines`` (None: everything open): its units leave the
        warehouse, the order's progress moves, and the payment is captured at the first
        shipment when capture happens on shipment (then refunds held until the capture are
        paid out). ``auto_accept`` accepts a pending order first (the retailer's own)."""
        with self._uow(actor) as uow:
            loaded = self._load(uow, fulfillment_id, fulfiller_id)
            if claim is None or claim.resource_id is None:  # else: shipped by an earlier try
                if auto_accept and loaded.fulfillment.status is FulfillmentStatus.PENDING:
                    loaded = self._save(uow, loaded, loaded.fulfillment.accept())
                f = loaded.fulfillment
                shipped = f.ship(
                    shipment_id or new_id("shp"),
                    lines,
                    carrier=carrier,
                    tracking_number=tracking_number,
                )
                if shipped.value is not f:
                    loaded = self._save(uow, loaded, shipped)
                    for before, after in zip(f.lines, loaded.fulfillment.lines, strict=True):
                        if after.shipped > before.shipped:
                            self._stock.ship(
                                uow, f.order_id, after.sku, after.shipped - before.shipped
                            )
                if claim is not None:
                    IdempotencyStore.attach(uow.conn, claim, f.id)
                uow.commit()
        updated = loaded.fulfillment
        if self._capture_on_shipment and updated.shipped_units:
            self._capture(updated.order_id)
        return updated

    def deliver(
        self,
        actor: Actor,
        fulfillment_id: str,
        *,
        fulfiller_id: str | None = None,
        assumed: bool = False,
    ) -> FulfillmentOrder:
        """Everything shipped arrived (the fulfiller or the carrier says so, or ``assumed``:
        the order closer takes it as given); repeating it changes nothing."""
        with self._uow(actor) as uow:
            loaded = self._load(uow, fulfillment_id, fulfiller_id)
            change = loaded.fulfillment.mark_delivered(assumed=assumed)
            if change.value is loaded.fulfillment:
                return loaded.fulfillment
            saved = self._save(uow, loaded, change)
            uow.commit()
        return saved.fulfillment

    def expire(self, fulfillment_id: str) -> bool:
        """Cancel a seller's fulfillment order still unaccepted past its deadline: its stock
        goes back on sale, the customer is refunded its units (and its shipping), and the
        events say ``seller_sla_expired``. False when there was nothing to do (accepted
        meanwhile, or another sweeper was first); a lost race raises ``Conflict``."""
        with self._uow(Actor.system("seller-sla")) as uow:
            loaded = self._load(uow, fulfillment_id, None)
            change = loaded.fulfillment.expire(self._clock.now())
            if change.value is loaded.fulfillment:
                return False
            saved, money = self._give_up(
                uow, loaded, change, SELLER_SLA_EXPIRED, GivenUpStock.RELEASE
            )
            uow.commit()
        self._settle(saved.order.id, money)
        return True

    # --- refunds held until the capture --------------------------------------------------------

    def release_deferred_refunds(self, order_id: str) -> int:
        """Pay out the order's refunds that waited for its capture, once it is captured;
        mark them void once the authorization was voided. Returns how many were released.
        Safe to repeat and to run in several processes (each refund moves once)."""
        with self._db.read() as conn:
            if not deferred_refunds.waiting_of_order(conn, order_id):
                return 0
        released: list[deferred_refunds.DeferredRefund] = []
        with self._db.write() as conn:
            payment = self._payments.find(conn, order_id)
            now = self._clock.now()
            waiting = deferred_refunds.waiting_of_order(conn, order_id)
            if payment is not None and payment.captured.amount > 0:
                for held in waiting:
                    if deferred_refunds.settle(conn, held.id, deferred_refunds.RELEASED, now):
                        self._payments.record_refund_intent(
                            conn, held.id, order_id, held.amount, held.reason, now
                        )
                        released.append(held)
            elif payment is None or payment.status in _NEVER_CAPTURED:
                for held in waiting:
                    deferred_refunds.settle(conn, held.id, deferred_refunds.VOIDED, now)
            else:
                deferred_refunds.touch_waiting(conn, order_id, now)
        for held in released:
            self._payments.pay_out_refund(held.id, order_id, held.amount)
        return len(released)

    def settle_deferred_refunds(self, older_than: datetime, limit: int = 200) -> int:
        """The reconciler's part: refunds still waiting since before ``older_than`` (a crash
        between a capture and their release, or a void that failed) are settled now."""
        with self._db.read() as conn:
            order_ids = deferred_refunds.orders_waiting(
                conn, updated_before=older_than, limit=limit
            )
        return sum(self.release_deferred_refunds(order_id) for order_id in order_ids)

    # --- internals -----------------------------------------------------------------------------

    def _load(self, uow: SqlUnitOfWork, fulfillment_id: str, fulfiller_id: str | None) -> _Loaded:
        f = (
            fulfillment_store.get_fulfillment(uow.conn, fulfillment_id)
            if is_valid_id(fulfillment_id, "ful")
            else None
        )
        # Another fulfiller's order is answered like a missing one: ids cannot be probed.
        if f is None or (fulfiller_id is not None and f.fulfiller_id != fulfiller_id):
            raise NotFound("No such fulfillment order")
        record = store.get_order(uow.conn, f.order_id)
        assert record is not None
        fulfillments = fulfillment_store.fulfillments_of(uow.conn, [f.order_id])[f.order_id]
        return _Loaded(f, record.order, fulfillments)

    def _save(
        self, uow: SqlUnitOfWork, loaded: _Loaded, change: Changed[FulfillmentOrder]
    ) -> _Loaded:
        now = self._clock.now()
        saved = fulfillment_store.save_fulfillment(uow.conn, loaded.fulfillment, change.value, now)
        if saved is None:
            raise Conflict("The fulfillment order changed meanwhile; retry")
        current = [saved if x.id == saved.id else x for x in loaded.fulfillments]
        order = loaded.order
        synced = order.sync_fulfillments(current)
        if synced.value is not order and not store.update_order(uow.conn, order, synced.value, now):
            raise Conflict("The order changed meanwhile; retry")
        uow.record(*change.events, *synced.events)
        return _Loaded(saved, synced.value, current)

    def _give_up(
        self,
        uow: SqlUnitOfWork,
        loaded: _Loaded,
        change: Changed[FulfillmentOrder],
        refund_reason: str,
        stock: GivenUpStock,
    ) -> tuple[_Loaded, _MoneyAfterCommit]:
        """Save a rejection or cancellation with its stock moves and its refund."""
        before, order, now = loaded.fulfillment, loaded.order, self._clock.now()
        saved = fulfillment_store.save_fulfillment(uow.conn, before, change.value, now)
        if saved is None:
            raise Conflict("The fulfillment order changed meanwhile; retry")
        for unit in saved.unfulfilled_since(before):
            sku = order.line(unit.line_id).sku
            # Inventory releases holds per order, not per line: the units leave the order's
            # hold as shipped (a write-off: on hand drops) and, to release them, come back
            # on hand in the same warehouse (allocated drops, on hand is unchanged).
            self._stock.ship(uow, order.id, sku, unit.quantity)
            if stock is GivenUpStock.RELEASE:
                self._stock.restock_returned(uow, order.id, sku, unit.quantity)
        current = [saved if x.id == saved.id else x for x in loaded.fulfillments]
        settled = refund_unfulfilled(
            order, current, before, saved, refund_id=new_id("ref"), reason=refund_reason
        )
        if settled.value is not order and not store.update_order(
            uow.conn, order, settled.value, now
        ):
            raise Conflict("The order changed meanwhile; retry")
        uow.record(*change.events, *settled.events)
        money = self._plan_refund(uow, settled, now)
        return _Loaded(saved, settled.value, current), money

    def _plan_refund(
        self, uow: SqlUnitOfWork, settled: Changed[Order], now: datetime
    ) -> _MoneyAfterCommit:
        """Write what the refund in ``settled`` means for the payment; return what to ask
        the gateway after the commit."""
        order = settled.value
        money = _MoneyAfterCommit()
        payment = self._payments.find(uow.conn, order.id)
        if payment is None:
            return money
        captured = payment.captured.amount > 0
        refund = next((e for e in settled.events if isinstance(e, RefundIssued)), None)
        if order.status is OrderStatus.CANCELLED and not captured:
            money.void = True  # nothing ships: releasing the authorization returns it all
        elif refund is not None and refund.amount.amount > 0:
            if captured:
                self._payments.record_refund_intent(
                    uow.conn, refund.refund_id, order.id, refund.amount, refund.reason, now
                )
                money.payouts.append((refund.refund_id, refund.amount))
            else:
                deferred_refunds.hold_refund(
                    uow.conn, refund.refund_id, order.id, refund.amount, refund.reason, now
                )
        return money

    def _settle(self, order_id: str, money: _MoneyAfterCommit) -> None:
        for refund_id, amount in money.payouts:
            self._payments.pay_out_refund(refund_id, order_id, amount)
        if money.void:
            try:
                self._payments.void(order_id)
            except Exception:  # the reconciler voids what is left authorized on a closed order
                log.warning("void of order %s failed; the reconciler will retry", order_id)
                return
            self.release_deferred_refunds(order_id)

    def _capture(self, order_id: str) -> None:
        try:
            payment = self._payments.capture(order_id)
        except Exception:
            log.warning("capture of order %s failed; the reconciler will retry", order_id)
            return
        if payment.captured.amount > 0:
            self.release_deferred_refunds(order_id)


_NEVER_CAPTURED = frozenset({PaymentStatus.VOIDED, PaymentStatus.DECLINED, PaymentStatus.FAILED})
