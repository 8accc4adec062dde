"""Route dependencies of the seller API: the caller is a member or key of a seller whose
status allows the route's action (:mod:`bazaar.sellers.standing`), checked by the
container's :class:`~bazaar.sellers.status_gate.SellerStatusGate` before the route runs.

Routes of other contexts state their action with these aliases, the way ``Operator`` states
a role: ``SellerReading`` for reads, ``SellerFulfilling`` for fulfillment steps. Routes open
to other roles too (webhook subscriptions) use ``IfSellerIntegrating``: it holds a seller's
member or key to its status and lets everyone else through to the route's own checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from bazaar.http.deps import current_principal
from bazaar.identity.model import Principal, Role
from bazaar.sellers.standing import SellerAction

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def seller_may(action: SellerAction, *, scope: str | None = None) -> Callable[[Request], Principal]:
    """A dependency admitting a seller's member or key (a key carrying ``scope``, when
    given) whose seller's status allows ``action``; 403 problem+json otherwise."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        container: Container = request.app.state.container
        container.seller_gate.require(principal, action, scope=scope)
        return principal

    return dependency


def if_seller_may(action: SellerAction) -> Callable[[Request], Principal]:
    """A dependency admitting any principal, except a seller's member or key whose seller's
    status refuses ``action`` (403 problem+json naming the status)."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal.role is Role.SELLER:
            container: Container = request.app.state.container
            container.seller_gate.require(principal, action)
        return principal

    return dependency


SellerReading = Annotated[Principal, Depends(seller_may(SellerAction.READ))]
SellerFulfilling = Annotated[Principal, Depends(seller_may(SellerAction.FULFIL))]
IfSellerIntegrating = Annotated[Principal, Depends(if_seller_may(SellerAction.INTEGRATE))]
