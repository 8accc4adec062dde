"""An order's history as its customer sees it.

The audit log already holds every event of the order and of its fulfillment orders; the
customer sees the ones that tell what happened to the purchase (paid, shipped with which
carrier, a seller's part cancelled because it was not accepted in time, refunded) and only
their customer-facing fields: never who acted, fulfiller ids or payment references.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.outbox import events_table
from bazaar.kernel.money import Money
from bazaar.orders.events import (
    FulfillmentAccepted,
    FulfillmentCancelled,
    FulfillmentDelivered,
    FulfillmentRejected,
    FulfillmentShipped,
    OrderCancelled,
    OrderCompleted,
    OrderFulfilled,
    OrderPaid,
    OrderPartiallyFulfilled,
    OrderPaymentFailed,
    OrderPlaced,
    RefundIssued,
)

CUSTOMER_EVENTS = frozenset(
    cls.type_name()
    for cls in (
        OrderPlaced,
        OrderPaid,
        OrderPaymentFailed,
        OrderPartiallyFulfilled,
        OrderFulfilled,
        OrderCompleted,
        OrderCancelled,
        RefundIssued,
        FulfillmentAccepted,
        FulfillmentRejected,
        FulfillmentShipped,
        FulfillmentDelivered,
        FulfillmentCancelled,
    )
)


@dataclass(frozen=True)
class TimelineEntry:
    type: str
    occurred_at: datetime
    fulfillment_id: str | None = None
    reason: str | None = None
    amount: Money | None = None
    carrier: str | None = None
    tracking_number: str | None = None


def _entry(row: Any) -> TimelineEntry:
    p = row.payload
    amount = p.get("amount") if row.type in ("OrderPaid", "RefundIssued") else None
    return TimelineEntry(
        type=row.type,
        occurred_at=row.occurred_at,
        fulfillment_id=p.get("fulfillment_id"),
        reason=p.get("reason"),
        amount=Money.from_dict(amount) if amount else None,
        carrier=p.get("carrier"),
        tracking_number=p.get("tracking_number"),
    )


def timeline_of(
    conn: Connection, order_id: str, fulfillment_ids: Sequence[str]
) -> list[TimelineEntry]:
    """The customer-facing events of the order and its fulfillment orders, oldest first
    (event ids sort in time). One statement."""
    e = events_table
    subjects = sa.and_(e.c.subject_type == "order", e.c.subject_id == order_id)
    if fulfillment_ids:
        subjects = sa.or_(
            subjects,
            sa.and_(e.c.subject_type == "fulfillment", e.c.subject_id.in_(sorted(fulfillment_ids))),
        )
    query = (
        sa.select(e.c.type, e.c.occurred_at, e.c.payload)
        .where(subjects, e.c.type.in_(sorted(CUSTOMER_EVENTS)))
        .order_by(e.c.id)
    )
    return [_entry(row) for row in conn.execute(query)]
