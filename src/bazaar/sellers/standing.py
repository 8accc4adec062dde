"""What a seller may do through the seller API in each of its statuses.

Pure Python. Every seller route names the :class:`SellerAction` it takes; the seller's
current status decides (:data:`SELLER_ACTIONS`)::

    status               read   fulfil   list   integrate
    active               yes    yes      yes    yes
    suspended            yes    yes      no     no
    closed               yes    no       no     no
    applied,
    changes_requested    no     no       no     no    (not a seller yet: an applicant)

A suspended seller still ships the orders already routed to it, because their customers have
paid and the suspension is about the seller's conduct, not theirs; its offers are hidden, so
nothing new reaches it, and it lists nothing new. A closed seller keeps reading its records
(statements, payouts, fulfillment orders, listings), which it needs for its books after
trading ends, and changes nothing.

Integrating is subscribing webhooks and receiving their deliveries. A suspended or closed
seller's webhooks go quiet: it subscribes no new endpoint, and deliveries to the endpoints
it has stop (each ends dead, naming the status, so an operator can replay them once the
seller is reinstated); a suspended seller follows the orders routed to it through the
seller API instead. It may still read and delete its subscriptions: that only shrinks what
it receives, and lets it take down an endpoint it no longer runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from bazaar.kernel.errors import PermissionDenied
from bazaar.sellers.model import SellerStatus


class SellerAction(StrEnum):
    READ = "read"  # its listings, feeds, fulfillment orders, statements and payouts
    FULFIL = "fulfil"  # accept, reject, ship and deliver fulfillment orders routed to it
    LIST = "list"  # submit and resubmit listings and feeds: new or changed offers
    INTEGRATE = "integrate"  # subscribe webhooks, and receive their deliveries


_A, _S = SellerAction, SellerStatus
SELLER_ACTIONS: Mapping[SellerStatus, frozenset[SellerAction]] = {
    _S.APPLIED: frozenset(),
    _S.CHANGES_REQUESTED: frozenset(),
    _S.ACTIVE: frozenset({_A.READ, _A.FULFIL, _A.LIST, _A.INTEGRATE}),
    _S.SUSPENDED: frozenset({_A.READ, _A.FULFIL}),
    _S.CLOSED: frozenset({_A.READ}),
}

_REASONS = {
    _S.APPLIED: "its application is awaiting review",
    _S.CHANGES_REQUESTED: "its application awaits the requested changes",
    _S.SUSPENDED: "a suspended seller may read its records and fulfil orders already "
    "routed to it, but neither list nor subscribe webhooks",
    _S.CLOSED: "a closed seller may only read its records",
}


class SellerNotPermitted(PermissionDenied):
    """The seller's status does not allow this action (403); the problem names the status
    in ``seller_status``."""

    code = "seller_status"
    title = "Not allowed in the seller's current status"

    def __init__(self, detail: str, status: SellerStatus | None) -> None:
        super().__init__(detail)
        self.status = status
        self.extensions["seller_status"] = status.value if status is not None else None


def may(status: SellerStatus, action: SellerAction) -> bool:
    """Whether a seller in ``status`` may take ``action``."""
    return action in SELLER_ACTIONS[status]


def check_standing(seller_id: str, status: SellerStatus | None, action: SellerAction) -> None:
    """Raise :class:`SellerNotPermitted` unless a seller in ``status`` (None: no such
    seller) may take ``action``; the message says which status refused it and why."""
    if status is None:
        raise SellerNotPermitted(f"No seller account {seller_id}", None)
    if not may(status, action):
        raise SellerNotPermitted(
            f"The seller account is {status.value}: {_REASONS[status]} ({action.value} refused)",
            status,
        )
