"""Keep a seller's offers visible exactly while the seller is active.

Suspending or closing a seller sets its active offers inactive through the catalog (the
catalog's own notion of a hidden offer: out of the buy box, the listing price and the seller
facet of search); reinstating sets active again the offers the suspension hid, and only
those, so an offer the seller had switched off itself stays off. The ids of hidden offers are
written down before they are hidden, so a crash halfway loses nothing.

:meth:`OfferVisibility.sync` reads the seller's current status rather than trusting the event
that woke it, so redelivered and out-of-order events converge on the right state.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Protocol

from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.sellers import store
from bazaar.sellers.model import SellerStatus

log = logging.getLogger("bazaar.sellers")


class OfferCatalog(Protocol):
    """The catalog as seller visibility needs it (see :mod:`bazaar.sellers.catalog_adapter`)."""

    def offer_ids_of(self, fulfiller_id: str) -> Sequence[str]:
        """Every offer of this fulfiller (a seller id), whatever its status."""
        ...

    def active_offer_ids(self, offer_ids: Collection[str]) -> set[str]:
        """Those of ``offer_ids`` that are active."""
        ...

    def set_offer_active(self, offer_id: str, active: bool) -> bool:
        """Set one offer's status; False when the offer no longer exists."""
        ...


class OfferVisibility:
    def __init__(self, db: Database, clock: Clock, catalog: OfferCatalog) -> None:
        self._db = db
        self._clock = clock
        self._catalog = catalog

    def sync(self, seller_id: str) -> None:
        """Hide the offers of a suspended or closed seller; restore those the suspension
        hid once it is active again. Idempotent."""
        with self._db.read() as conn:
            status = store.statuses(conn, [seller_id]).get(seller_id)
        if status in (SellerStatus.SUSPENDED, SellerStatus.CLOSED):
            self._hide(seller_id)
        elif status == SellerStatus.ACTIVE:
            self._restore(seller_id)

    def _hide(self, seller_id: str) -> None:
        active = self._catalog.active_offer_ids(self._catalog.offer_ids_of(seller_id))
        if not active:
            return
        with self._db.write() as conn:
            store.add_hidden_offers(conn, seller_id, active, self._clock.now())
        for offer_id in sorted(active):
            self._catalog.set_offer_active(offer_id, False)
        log.info("seller offers hidden", extra={"seller_id": seller_id, "offers": len(active)})

    def _restore(self, seller_id: str) -> None:
        with self._db.read() as conn:
            hidden = store.hidden_offers(conn, seller_id)
        if not hidden:
            return
        for offer_id in hidden:
            self._catalog.set_offer_active(offer_id, True)
        with self._db.write() as conn:
            store.remove_hidden_offers(conn, seller_id, hidden)
        log.info("seller offers restored", extra={"seller_id": seller_id, "offers": len(hidden)})
