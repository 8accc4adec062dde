"""Order routing to marketplace sellers: what a seller sees of its fulfillment orders, what
it may do with them, and the sweeper that cancels those it did not accept in time.

A paid order's fulfillment order for a seller is created ``pending`` with an ``accept_by``
deadline (``seller_accept_sla_s`` after payment) and announced by ``FulfillmentCreated``, a
webhook only that seller's subscriptions receive. The seller accepts it, rejects lines it
cannot ship, ships (partial shipments allowed) and marks it delivered; if it does nothing by
the deadline, :meth:`RoutingService.expire_overdue` cancels it and refunds the customer.

A seller sees only its own fulfillment orders (anyone else's id is a 404), with the order
lines it ships and what it needs to ship them: the recipient's name, address and phone.
Never the customer's email or account, the billing address, the payment, or other
fulfillers' lines.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.idempotency import Claim, IdempotencyStore
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, PermissionDenied
from bazaar.kernel.ids import is_valid_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for
from bazaar.orders import fulfillment_store, store
from bazaar.orders.events import LineQuantity
from bazaar.orders.fulfilling import FulfillmentService, GivenUpStock
from bazaar.orders.fulfillment import FulfillmentOrder, FulfillmentStatus
from bazaar.orders.fulfillment_store import StoredFulfillment
from bazaar.orders.model import OrderLine

log = logging.getLogger("bazaar.orders.routing")

# The parts of the shipping address a seller sees: enough to label and hand over a parcel.
SHIP_TO_FIELDS = ("name", "line1", "line2", "postcode", "city", "country", "phone")
READ_SCOPE = "orders:read"
WRITE_SCOPE = "fulfillments:write"


@dataclass(frozen=True)
class SellerFulfillmentView:
    """A fulfillment order as its seller sees it."""

    fulfillment: FulfillmentOrder
    lines: Mapping[str, OrderLine]  # order line id -> the line (price paid, product)
    titles: Mapping[str, str]  # offer id -> title at the time of the order
    ship_to: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime


class RoutingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cursors: CursorCodec,
        fulfilling: FulfillmentService,
        *,
        idempotency: IdempotencyStore,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cursors = cursors
        self._fulfilling = fulfilling
        self.idempotency = idempotency

    # --- reading -------------------------------------------------------------------------------

    def list_fulfillments(
        self,
        principal: Principal,
        *,
        status: FulfillmentStatus | None,
        limit: int,
        cursor: str | None,
    ) -> Page[SellerFulfillmentView]:
        """The seller's fulfillment orders, oldest first, optionally in one status."""
        seller_id = _seller_of(principal, READ_SCOPE)
        scope = scope_for("seller-fulfillments", seller=seller_id, status=status)
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = fulfillment_store.fulfillments_of_fulfiller(
                conn, seller_id, status=status, after_id=after_id, limit=limit + 1
            )
            views = _views(conn, rows)
        return page_after(self._cursors, views, limit, scope, key=lambda v: v.fulfillment.id)

    def get_fulfillment(self, principal: Principal, fulfillment_id: str) -> SellerFulfillmentView:
        """One of the seller's fulfillment orders; 404 for anyone else's."""
        return self._view(_seller_of(principal, READ_SCOPE), fulfillment_id)

    def _view(self, seller_id: str, fulfillment_id: str) -> SellerFulfillmentView:
        with self._db.read() as conn:
            row = (
                fulfillment_store.get_stored_fulfillment(conn, fulfillment_id)
                if is_valid_id(fulfillment_id, "ful")
                else None
            )
            if row is None or row.fulfillment.fulfiller_id != seller_id:
                raise NotFound("No such fulfillment order")
            return _views(conn, [row])[0]

    # --- acting --------------------------------------------------------------------------------

    def accept(self, principal: Principal, fulfillment_id: str) -> SellerFulfillmentView:
        """Take the order; accepting twice is the same as once. 409 past the deadline."""
        seller_id = _seller_of(principal, WRITE_SCOPE)
        self._fulfilling.accept(principal.actor, fulfillment_id, fulfiller_id=seller_id)
        return self._view(seller_id, fulfillment_id)

    def reject(
        self,
        principal: Principal,
        fulfillment_id: str,
        lines: Sequence[LineQuantity] | None,
        *,
        reason: str,
        release_stock: bool,
        claim: Claim | None = None,
    ) -> SellerFulfillmentView:
        """Decline lines (None: all still open) before shipping them; the customer is refunded
        them. Their stock is written off unless ``release_stock`` (the units are there)."""
        seller_id = _seller_of(principal, WRITE_SCOPE)
        self._fulfilling.reject(
            principal.actor,
            fulfillment_id,
            lines,
            reason=reason,
            stock=GivenUpStock.RELEASE if release_stock else GivenUpStock.WRITE_OFF,
            fulfiller_id=seller_id,
            claim=claim,
        )
        return self._view(seller_id, fulfillment_id)

    def ship(
        self,
        principal: Principal,
        fulfillment_id: str,
        lines: Sequence[LineQuantity] | None,
        *,
        carrier: str,
        tracking_number: str,
        claim: Claim | None = None,
    ) -> SellerFulfillmentView:
        """Record a shipment of an accepted order (None: everything open)."""
        seller_id = _seller_of(principal, WRITE_SCOPE)
        self._fulfilling.ship(
            principal.actor,
            fulfillment_id,
            lines,
            carrier=carrier,
            tracking_number=tracking_number,
            fulfiller_id=seller_id,
            claim=claim,
        )
        return self._view(seller_id, fulfillment_id)

    def deliver(self, principal: Principal, fulfillment_id: str) -> SellerFulfillmentView:
        """Everything shipped arrived; repeating it changes nothing."""
        seller_id = _seller_of(principal, WRITE_SCOPE)
        self._fulfilling.deliver(principal.actor, fulfillment_id, fulfiller_id=seller_id)
        return self._view(seller_id, fulfillment_id)

    # --- the acceptance deadline ---------------------------------------------------------------

    def expire_overdue(self, limit: int = 200) -> int:
        """Cancel and refund seller fulfillment orders still pending past their deadline;
        return how many. Each is its own unit of work, so one failure does not hold up the
        rest; safe in several processes at once (each expiry happens once)."""
        with self._db.read() as conn:
            due = fulfillment_store.overdue_fulfillment_ids(conn, self._clock.now(), limit)
        expired = 0
        for fulfillment_id in due:
            try:
                expired += self._fulfilling.expire(fulfillment_id)
            except Conflict:
                continue  # accepted or expired by someone else meanwhile
            except Exception:
                log.exception("expiring fulfillment %s failed", fulfillment_id)
        return expired


def _seller_of(principal: Principal, scope: str) -> str:
    """The seller ``principal`` acts for; the seller API is for sellers' members and keys."""
    if principal.role is not Role.SELLER or not principal.org_id:
        raise PermissionDenied("The seller API is for sellers")
    principal.require_scope(scope)
    return principal.org_id


def _views(conn: Connection, rows: Sequence[StoredFulfillment]) -> list[SellerFulfillmentView]:
    # Three statements for the orders of a whole page, whatever its size.
    records = store.orders_by_ids(conn, [r.fulfillment.order_id for r in rows])
    views = []
    for row in rows:
        record = records[row.fulfillment.order_id]
        mine = {fl.line_id for fl in row.fulfillment.lines}
        address = record.shipping_address
        views.append(
            SellerFulfillmentView(
                fulfillment=row.fulfillment,
                lines={x.id: x for x in record.order.lines if x.id in mine},
                titles=record.titles,
                ship_to={key: address.get(key) for key in SHIP_TO_FIELDS},
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        )
    return views
