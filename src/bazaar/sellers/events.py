"""Seller events: past-tense facts about a seller, from application to closure.

Pure Python. None of them carries contact details, tax ids or the payout account: events
reach the audit log, webhooks and external sinks. Each names the seller in its audience, so
the seller's own webhook subscriptions receive it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bazaar.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class SellerEvent(Event, abstract=True):
    subject_type = "seller"
    subject_field = "seller_id"
    seller_id: str

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}",)


@dataclass(frozen=True, kw_only=True)
class SellerApplied(SellerEvent):
    """An application was received; contact details and the payout account stay out."""

    trading_name: str
    country: str
    categories: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SellerApplicationResubmitted(SellerEvent):
    """The applicant sent the changes an operator asked for."""

    categories: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ChangesRequested(SellerEvent):
    changes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SellerApproved(SellerEvent):
    categories: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SellerRejected(SellerEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class SellerSuspended(SellerEvent):
    """Offers hidden, payouts held until reinstated."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class SellerReinstated(SellerEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class SellerClosed(SellerEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class SellerMemberInvited(SellerEvent):
    """Someone was invited to join the seller; the address stays out of the event."""

    member_id: str
    role: str


@dataclass(frozen=True, kw_only=True)
class SellerMemberJoined(SellerEvent):
    """An invitation was accepted: the member signs in as ``user_id``."""

    member_id: str
    user_id: str
    role: str
