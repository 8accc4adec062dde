"""The gate of the seller API: a seller's members and keys act only as its status allows.

:class:`SellerStatusGate` resolves the seller a principal acts for and checks the seller's
current status against :mod:`bazaar.sellers.standing`. It costs one primary-key read per
request and caches nothing, so a suspension or closure holds from the very next request in
every process, with no invalidation to get wrong. It is the listings context's
``SellerGate`` (:meth:`SellerStatusGate.check_listings`), the webhooks context's
``SubscriberStanding`` (:meth:`SellerStatusGate.may_receive_webhooks`) and, through
:mod:`bazaar.sellers.guards`, the dependency of the fulfillment, statement, payout and
webhook subscription routes.
"""

from __future__ import annotations

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.kernel.errors import PermissionDenied
from bazaar.kernel.ids import is_valid_id
from bazaar.sellers import store
from bazaar.sellers.standing import SellerAction, check_standing, may


class SellerStatusGate:
    def __init__(self, db: Database) -> None:
        self._db = db

    def require(
        self, principal: Principal, action: SellerAction, *, scope: str | None = None
    ) -> str:
        """The id of the seller ``principal`` acts for, once that seller's status allows
        ``action``.

        Raises ``PermissionDenied`` (403) for anyone but a seller's member or API key and for
        a key without ``scope``; :class:`~bazaar.sellers.standing.SellerNotPermitted` (403,
        naming the status) when the seller's status refuses the action or there is no such
        seller.
        """
        if principal.role is not Role.SELLER or not principal.org_id:
            raise PermissionDenied("Seller routes are for a seller's members and API keys")
        if scope is not None:
            principal.require_scope(scope)
        seller_id = principal.org_id
        with self._db.read() as conn:
            status = store.status_of(conn, seller_id) if is_valid_id(seller_id, "sel") else None
        check_standing(seller_id, status, action)
        return seller_id

    def check_listings(self, principal: Principal, *, write: bool) -> None:
        """The listings context's ``SellerGate``: submitting listings and feeds (``write``)
        is listing; following them is reading."""
        self.require(principal, SellerAction.LIST if write else SellerAction.READ)

    def may_receive_webhooks(self, owner_type: str, owner_id: str) -> bool:
        """Whether deliveries to a subscription of ``owner_type``/``owner_id`` may go out
        now: a seller's only while its status allows integrating (read per delivery, so a
        suspension stops them at once in every worker); other owners are not sellers."""
        if owner_type != "seller":
            return True
        with self._db.read() as conn:
            status = store.status_of(conn, owner_id) if is_valid_id(owner_id, "sel") else None
        return status is not None and may(status, SellerAction.INTEGRATE)
