"""Default adapters of the fees ports (:mod:`bazaar.fees.ports`), chosen in bootstrap.

Orders, categories and payments are read through their contexts' services. Listing
activity has no home yet: until the listings context records when each listing was active,
:class:`OfferListingActivity` derives it from the catalog's seller offers (see its
docstring); it is the one adapter that reads another context's table, and the first to go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date

import sqlalchemy as sa

from bazaar.catalog.store import offers
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.fees.model import ActiveInterval, ListingActivity
from bazaar.fees.ports import (
    SELLER_PREFIX,
    GatewayReturns,
    OrderFacts,
    PaidRefund,
    ShippingCharge,
    SoldLine,
)
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.kernel.errors import NotFound
from bazaar.orders.service import OrderService
from bazaar.payments.model import PaymentStatus
from bazaar.payments.service import PaymentService

# The orders context answers staff for any order; the ledger reads as this system operator.
LEDGER_READER = Principal(kind="system", id="ledger", role=Role.OPERATOR)


class OrdersThroughService:
    """:class:`~bazaar.fees.ports.OrderSource` over :class:`OrderService`."""

    def __init__(self, orders: OrderService) -> None:
        self._orders = orders

    def order_facts(self, order_id: str) -> OrderFacts | None:
        try:
            view = self._orders.view(LEDGER_READER, order_id)
        except NotFound:
            return None
        order = view.order
        return OrderFacts(
            order_id=order.id,
            currency=order.currency,
            paid=order.payment_reference is not None,
            lines=tuple(
                SoldLine(
                    line.id,
                    line.fulfiller_id,
                    line.category_id,
                    line.quantity,
                    net=line.total - line.tax,
                    tax=line.tax,
                    gross=line.total,
                )
                for line in order.lines
            ),
            shipping=tuple(
                ShippingCharge(s.fulfiller_id, s.total - s.tax, s.tax, s.total, s.refunded)
                for s in order.shipping
            ),
            finished_fulfillers=frozenset(
                f.fulfiller_id for f in view.fulfillments if f.is_finished
            ),
        )


class CategoriesThroughTaxonomy:
    """:class:`~bazaar.fees.ports.CategoryAncestry` over :class:`TaxonomyService`."""

    def __init__(self, taxonomy: TaxonomyService) -> None:
        self._taxonomy = taxonomy

    def ancestors(self, category_ids: Sequence[str]) -> Mapping[str, tuple[str, ...]]:
        # A deleted category is absent: only the schedule's default rate applies to it.
        found = self._taxonomy.ancestor_ids(category_ids)
        return {category_id: ids[::-1] for category_id, ids in found.items()}  # nearest first


class RefundsThroughPayments:
    """:class:`~bazaar.fees.ports.GatewayRefunds` over :class:`PaymentService`: each refund
    the gateway confirmed, by its id, plus the authorization when it was voided uncaptured."""

    def __init__(self, db: Database, payments: PaymentService) -> None:
        self._db = db
        self._payments = payments

    def returned(self, order_id: str) -> GatewayReturns | None:
        with self._db.read() as conn:
            payment = self._payments.find(conn, order_id)
            if payment is None:
                return None
            refunds = self._payments.succeeded_refunds(conn, order_id)
        released = payment.amount - payment.captured
        voided = payment.status is PaymentStatus.VOIDED and not released.is_negative()
        return GatewayReturns(
            tuple(PaidRefund(refund_id, amount) for refund_id, amount in refunds),
            released if voided else None,
        )


class OfferListingActivity:
    """:class:`~bazaar.fees.ports.ListingActivitySource` from the catalog's offers, until the
    listings context keeps each listing's active days.

    A seller listing is an offer whose fulfiller is a seller. An offer that is active now
    counts as active from the day it was created to the end of the month; an inactive offer
    counts as not active at all, because the offers table keeps no history of when it was
    switched off. This undercharges a listing deactivated during the month and overcharges
    one deactivated and reactivated; both end when the listings context takes over."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def activity(self, month: date) -> Sequence[ListingActivity]:
        next_month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        query = (
            sa.select(offers.c.id, offers.c.fulfiller_id, offers.c.created_at)
            .where(
                offers.c.fulfiller_id.startswith(SELLER_PREFIX, autoescape=True),
                offers.c.status == "active",
            )
            .order_by(offers.c.id)
        )
        found: list[ListingActivity] = []
        with self._db.read() as conn:
            for row in conn.execute(query):
                first_day = row.created_at.astimezone(UTC).date()
                if first_day < next_month:
                    interval = ActiveInterval(first_day, None)
                    found.append(ListingActivity(row.id, row.fulfiller_id, (interval,)))
        return found
