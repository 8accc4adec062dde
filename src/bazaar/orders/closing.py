"""Order completion: once every parcel of an order is past its return window, the order is
closed (``completed``, :meth:`~bazaar.orders.model.Order.complete`) and accepts no returns.

A parcel that shipped but that nobody reported delivered (no tracking, a fulfiller that
never says) would keep its order open for ever, and its seller unpaid: once it shipped
``assume_delivered_after`` ago (``BAZAAR_ASSUME_DELIVERED_AFTER_DAYS``, 0: never), the
closer marks it delivered itself (``FulfillmentDelivered`` with ``assumed``), and its return
window starts then.

:meth:`OrderCloser.sweep` runs on a :class:`~bazaar.infra.periodic.Periodic` in every
worker (:func:`build_order_closer`). It needs no leader: each order is written
compare-and-set on its status and ``updated_at``, so two workers closing the same batch
complete each order once and record ``OrderCompleted`` once, in the transaction that
completes it. A return requested at the same moment either lands first (and keeps the
order open until it is settled) or finds the order completed and is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from bazaar.infra.db import Database
from bazaar.infra.periodic import Periodic
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict
from bazaar.kernel.events import Actor
from bazaar.orders import closing_store, fulfillment_store, store
from bazaar.orders.model import IllegalTransition

log = logging.getLogger("bazaar.orders")

CLOSER = Actor.system("order-closer")
DEFAULT_RETURN_WINDOW = timedelta(days=30)
DEFAULT_ASSUME_DELIVERED_AFTER = timedelta(days=21)


class Deliveries(Protocol):
    """Marks a fulfillment order delivered (``FulfillmentService.deliver``)."""

    def deliver(self, actor: Actor, fulfillment_id: str, *, assumed: bool = False) -> object: ...


class OrderCloser:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        uow_factory: Callable[[Actor], SqlUnitOfWork],
        *,
        return_window: timedelta = DEFAULT_RETURN_WINDOW,
        deliveries: Deliveries | None = None,
        assume_delivered_after: timedelta | None = DEFAULT_ASSUME_DELIVERED_AFTER,
        batch_size: int = 200,
    ) -> None:
        if return_window < timedelta(0) or batch_size < 1:
            raise ValueError("The return window cannot be negative, nor a batch empty")
        if assume_delivered_after is not None and assume_delivered_after <= timedelta(0):
            raise ValueError("A parcel is assumed delivered after a positive time, or never")
        self._db = db
        self._clock = clock
        self._uow = uow_factory
        self.return_window = return_window
        # None: a parcel is delivered only when someone says so
        self._assume = (
            (deliveries, assume_delivered_after)
            if deliveries is not None and assume_delivered_after is not None
            else None
        )
        self._batch_size = batch_size

    def sweep(self) -> int:
        """The worker's job: parcels long in transit are taken as delivered, then orders
        past their return window are completed; returns how many of each changed."""
        return self.assume_delivered() + self.close_due()

    def assume_delivered(self) -> int:
        """Mark delivered every fulfillment order shipped in full ``assume_delivered_after``
        ago or longer and not reported delivered since; returns how many it found.

        Each is marked in its own transaction through the fulfillment service, as a
        fulfiller's report would be (the order's progress follows, ``FulfillmentDelivered``
        says ``assumed``). A report that lands at the same moment wins or finds it
        delivered; either way it is delivered once. Safe to run in many processes at once.
        """
        if self._assume is None:
            return 0
        deliveries, after = self._assume
        cutoff = self._clock.now() - after
        after_id: str | None = None
        marked = 0
        while True:
            with self._db.read() as conn:
                ids = fulfillment_store.shipped_before(
                    conn, cutoff, after_id=after_id, limit=self._batch_size
                )
            for fulfillment_id in ids:
                try:
                    deliveries.deliver(CLOSER, fulfillment_id, assumed=True)
                except (Conflict, IllegalTransition):
                    continue  # reported (or changed) meanwhile by someone else
                marked += 1
            if len(ids) < self._batch_size:
                break
            after_id = ids[-1]
        if marked:
            log.info("assumed %d parcels delivered", marked)
        return marked

    def close_due(self) -> int:
        """Complete every order whose fulfillment orders all finished more than the return
        window ago and that has no open return; returns how many this call completed.

        Works in batches of ``batch_size`` orders, one transaction each, walking order ids
        upward so an order another process completed first is passed over, not retried.
        Safe to repeat and to run in many processes at once.
        """
        finished_by = self._clock.now() - self.return_window
        after_id: str | None = None
        completed = 0
        while True:
            with self._db.read() as conn:
                ids = closing_store.due_for_completion(
                    conn, finished_by=finished_by, after_id=after_id, limit=self._batch_size
                )
            if not ids:
                return completed
            completed += self._complete(ids)
            if len(ids) < self._batch_size:
                return completed
            after_id = ids[-1]

    def _complete(self, order_ids: list[str]) -> int:
        completed = 0
        with self._uow(CLOSER) as uow:
            now = self._clock.now()
            records = store.orders_by_ids(uow.conn, order_ids)
            fulfillments = fulfillment_store.fulfillments_of(uow.conn, order_ids)
            for order_id in order_ids:
                record = records.get(order_id)
                if record is None:
                    continue
                try:
                    closed = record.order.complete(fulfillments[order_id])
                except IllegalTransition:
                    continue  # it changed after the query (a refund in full, say)
                if closed.value is record.order:
                    continue
                if closing_store.complete_if_unchanged(
                    uow.conn, record.order, closed.value, record.updated_at, now
                ):
                    uow.record(*closed.events)
                    completed += 1
            uow.commit()
        if completed:
            log.info("completed %d orders past their return window", completed)
        return completed


def build_order_closer(closer: OrderCloser, interval_s: float) -> Periodic:
    """The worker task that takes long-shipped parcels as delivered and completes orders
    past their return window, every ``interval_s`` seconds
    (``BAZAAR_ORDER_CLOSE_INTERVAL_S``)."""
    return Periodic("bazaar-order-closer", interval_s, closer.sweep)
