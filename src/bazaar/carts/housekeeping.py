"""Cart housekeeping, run by the workers rather than by shoppers' requests.

``sweep_abandoned`` records carts whose items were left alone for ``abandoned_after_s``
(``bazaar worker``'s cart sweeper, or the embedded one); ``purge_expired`` deletes carts past
their time to live (``bazaar purge``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bazaar.carts import store
from bazaar.carts.events import CartAbandoned, CartLine
from bazaar.carts.service import UowFactory
from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.kernel.events import Actor


class CartHousekeeping:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        *,
        abandoned_after_s: int,
        on_abandoned: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._abandoned_after_s = abandoned_after_s
        self._on_abandoned = on_abandoned or (lambda count: None)

    def sweep_abandoned(self, batch_size: int = 500) -> int:
        """Record carts with items left alone for ``abandoned_after_s`` as abandoned.

        Each such cart is marked and gets one ``CartAbandoned`` event per idle spell (a
        change clears the mark); the count also goes to ``on_abandoned`` (the Prometheus
        counter). Safe to run from several processes at once. Returns how many were marked.
        """
        now = self._clock.now()
        cutoff = now - timedelta(seconds=self._abandoned_after_s)
        total = 0
        while True:
            with self._uow(Actor.system("cart-sweeper")) as uow:
                candidates = store.abandoned_candidates(uow.conn, cutoff, now, batch_size)
                marked = store.mark_abandoned(uow.conn, [c[0] for c in candidates], cutoff, now)
                items = store.items_of(uow.conn, marked)
                for cart_id, owner_id, idle_since in candidates:
                    if cart_id in marked:
                        lines = tuple(CartLine(i.offer_id, i.quantity) for i in items[cart_id])
                        uow.record(
                            CartAbandoned(
                                cart_id=cart_id,
                                customer_id=owner_id,
                                idle_since=idle_since,
                                lines=lines,
                            )
                        )
                uow.commit()
            if marked:
                total += len(marked)
                self._on_abandoned(len(marked))
            if len(candidates) < batch_size or not marked:
                return total

    def purge_expired(self) -> int:
        """Delete carts past their time to live, with their items; return how many."""
        with self._db.write() as conn:
            return store.purge_expired(conn, self._clock.now())
