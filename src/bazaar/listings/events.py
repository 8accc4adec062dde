"""Listing events: what happened to a seller's listing, recorded with each change.

Every event names the listing, its seller and the revision (a resubmission is a new
revision), and is visible to that seller's webhook subscriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from bazaar.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class ListingEvent(Event, abstract=True):
    subject_type = "listing"
    subject_field = "listing_id"
    listing_id: str
    seller_id: str
    revision: int

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}",)


@dataclass(frozen=True, kw_only=True)
class ListingSubmitted(ListingEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class ListingApproved(ListingEvent):
    """Approved; it goes live once published to the catalog (:class:`ListingPublished`).
    ``fixed``: normalisation or a reviewer changed something the seller sent."""

    fixed: bool
    reviewed: bool


@dataclass(frozen=True, kw_only=True)
class ListingNeedsReview(ListingEvent):
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ListingRejected(ListingEvent):
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ListingDeadLettered(ListingEvent):
    step: str
    error: str
    attempts: int


@dataclass(frozen=True, kw_only=True)
class ListingRetried(ListingEvent):
    step: str


@dataclass(frozen=True, kw_only=True)
class ListingPublished(ListingEvent):
    """An approved revision went live: ``offer_id`` on ``product_id`` (new or matched)."""

    product_id: str
    offer_id: str
    new_product: bool
