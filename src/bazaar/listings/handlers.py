"""The listing context's event handlers, registered explicitly by the composition root."""

from __future__ import annotations

from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.kernel.events import StoredEvent
from bazaar.listings.events import ListingApproved
from bazaar.listings.publishing import ListingPublisher


def register(registry: HandlerRegistry, publisher: ListingPublisher) -> None:
    def on_listing_approved(event: StoredEvent) -> None:
        # Idempotent: a revision already published, or superseded, is left alone.
        publisher.publish(event.subject_id, int(event.payload["revision"]))

    registry.register(ListingApproved, "listings.publish", on_listing_approved)
