"""Guest prices in the search index, so that sorting by price, the price filter and the price
facet use the price a guest sees, not the offer's base price.

A search document's price is its product's from price at guest prices
(:func:`bazaar.catalog.indexing.document_for`). What the pricing rules do to an offer's guest
price is stored as a mark per offer (:mod:`bazaar.catalog.shelf_store`): a list price, or a
sale price capping the base price. The mark does not depend on the base price, so an offer's
own price change reindexes its product as before, with the mark applied.

:meth:`ShelfIndex.sync` compares the marks the rules give now with the stored ones and, for
each offer whose mark changed, stores the new one and reindexes the product, in batches of
one transaction each (a crash between two leaves stored marks that say what is left to do).
It runs

* right after a staff change to a price list or a sale price, in the process that made it;
* every ``pricing_rules_refresh_s`` in each worker, after the compiled rules follow other
  processes' changes, and so soon after a list or a sale starts or ends.

Between a sale starting and the next sync (seconds), the listing card already shows the sale
price, which the sort order follows a moment later. Customer groups' lists and experiment
variants are priced per shopper on the card; the index orders and filters by guest prices.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from bazaar.catalog import shelf_store
from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.pricing.model import PricingRules
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.shelf_table import ShelfMark, shelf_table

BATCH_SIZE = 500  # offers per transaction (and bound parameters per statement)

# reindexes products on a write transaction
Reindex = Callable[[Connection, Sequence[str]], None]


class ShelfIndex:
    """Keeps the guest price marks, and the documents built from them, in step with the rules."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        rules: RulesCache,
        reindex: Reindex,
        on_change: Callable[[Sequence[str]], None],
        *,
        currency: str,
        channel_id: str,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._db = db
        self._clock = clock
        self._rules = rules
        self._reindex = reindex
        self._on_change = on_change
        self._currency = currency
        self._channel_id = channel_id
        self._batch_size = batch_size
        self._lock = threading.Lock()
        # the rules and the end of the time window of this process's last complete sync
        self._synced: tuple[PricingRules, datetime | None] | None = None

    def sync(self) -> int:
        """Store the marks the rules give at this moment and reindex the products whose
        marks changed; the number of products reindexed.

        Costs no statement when neither the compiled rules nor their time window changed
        since this process's last sync; otherwise one read of every stored mark, then per
        batch of changed offers one write transaction.
        """
        with self._lock:
            rules, _ = self._rules.snapshot()
            now = self._clock.now()
            synced = self._synced
            if synced is not None and synced[0] is rules and (synced[1] is None or now < synced[1]):
                return 0
            table = shelf_table(
                rules.price_book,
                currency=self._currency,
                channel_id=self._channel_id,
                customer_group=None,
                now=now,
            )
            wanted = table.marks()
            with self._db.read() as conn:
                stored = shelf_store.all_marks(conn)
            candidates = wanted.keys() | stored.keys()
            changed = sorted(o for o in candidates if wanted.get(o) != stored.get(o))
            reindexed: list[str] = []
            for start in range(0, len(changed), self._batch_size):
                batch = {o: wanted.get(o) for o in changed[start : start + self._batch_size]}
                reindexed.extend(self._apply(batch))
            self._synced = (rules, table.valid_until)
        return len(reindexed)

    def _apply(self, marks: dict[str, ShelfMark | None]) -> list[str]:
        with self._db.write() as conn:
            shelf_store.lock_marks(conn, exclusive=True)
            shelf_store.replace_marks(conn, marks)
            product_ids = shelf_store.products_of_offers(conn, marks)
            self._reindex(conn, product_ids)
        if product_ids:
            self._on_change(product_ids)
        return product_ids
