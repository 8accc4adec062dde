"""Seller event handlers, registered explicitly by the composition root.

* ``SellerApproved`` registers the seller as a catalog fulfiller under its trading name.
* ``SellerSuspended``, ``SellerReinstated`` and ``SellerClosed`` bring the seller's offers in
  line with its status (:class:`~bazaar.sellers.offer_visibility.OfferVisibility`).

Both are idempotent: each reads the current state and changes only what differs.
"""

from __future__ import annotations

from collections.abc import Callable

from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.kernel.events import Event, StoredEvent
from bazaar.sellers.events import SellerApproved, SellerClosed, SellerReinstated, SellerSuspended
from bazaar.sellers.offer_visibility import OfferVisibility


def register(
    registry: HandlerRegistry,
    *,
    visibility: OfferVisibility,
    trading_name: Callable[[str], str | None],
    ensure_fulfiller: Callable[[str, str], None],
) -> None:
    def on_approved(event: StoredEvent) -> None:
        name = trading_name(event.subject_id)
        if name is not None:
            ensure_fulfiller(event.subject_id, name)

    def on_status_change(event: StoredEvent) -> None:
        visibility.sync(event.subject_id)

    registry.register(SellerApproved, "sellers.register_fulfiller", on_approved)
    status_events: tuple[type[Event], ...] = (SellerSuspended, SellerReinstated, SellerClosed)
    for status_event in status_events:
        registry.register(status_event, "sellers.sync_offer_visibility", on_status_change)
