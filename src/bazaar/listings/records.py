"""A listing as stored: its validation plus the bookkeeping around it. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bazaar.listings.workflow import ListingState, ListingValidation

APPROVED_STATES = (ListingState.APPROVED, ListingState.FIXED_AND_APPROVED)


@dataclass(frozen=True)
class ListingRecord:
    """A stored listing.

    ``version`` changes with every write, so a use case that read the listing can save it
    only if nobody changed it in between. ``feed_id`` and ``feed_line`` name the feed row it
    came from. ``product_id`` and ``offer_id`` are the catalog product and offer it became,
    set when ``published_revision`` (the revision that went live) is.
    """

    validation: ListingValidation
    version: int
    updated_at: datetime
    feed_id: str | None = None
    feed_line: int | None = None
    product_id: str | None = None
    offer_id: str | None = None
    published_revision: int | None = None
    published_at: datetime | None = None
    publish_error: str | None = None  # why the approved revision could not go live yet

    @property
    def id(self) -> str:
        return self.validation.id

    @property
    def seller_id(self) -> str:
        return self.validation.seller_id

    @property
    def live(self) -> bool:
        """Approved and published to the catalog in its current revision."""
        v = self.validation
        return v.state in APPROVED_STATES and self.published_revision == v.revision
