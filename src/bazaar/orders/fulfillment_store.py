"""Fulfillment orders: one per fulfiller of a paid order, lines and shipments kept as JSON
(they are always read and written whole).

Writes compare-and-set on ``version``: a seller's call, the operator and the acceptance
sweeper may race for the same fulfillment order, and exactly one of them wins each change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.money import Money
from bazaar.orders.events import LineQuantity
from bazaar.orders.fulfillment import (
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Shipment,
)

fulfillment_orders = sa.Table(
    "fulfillment_orders",
    metadata,
    IdColumn(),
    sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("fulfiller_id", sa.String(40), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("lines", Json, nullable=False),
    sa.Column("shipping", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("shipments", Json, nullable=False),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("accept_by", UtcDateTime(), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("order_id", "fulfiller_id"),
    sa.Index(None, "fulfiller_id", "status", "id"),
    sa.Index(None, "fulfiller_id", "id"),  # a seller's list without a status filter
    sa.Index(None, "status", "accept_by"),  # the acceptance sweeper
    sa.Index(None, "status", "updated_at"),  # parcels in transit for long (the order closer)
)


# --- fulfillment orders ----------------------------------------------------------------------


def _fulfillment_values(f: FulfillmentOrder) -> dict[str, Any]:
    return {
        "status": f.status.value,
        "lines": [
            {
                "line_id": line.line_id,
                "offer_id": line.offer_id,
                "sku": line.sku,
                "quantity": line.quantity,
                "shipped": line.shipped,
                "rejected": line.rejected,
            }
            for line in f.lines
        ],
        "shipments": [
            {
                "id": s.id,
                "lines": [{"line_id": q.line_id, "quantity": q.quantity} for q in s.lines],
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
            }
            for s in f.shipments
        ],
        "reason": f.reason,
    }


_INSERT_FULFILLMENTS = fulfillment_orders.insert()  # built once: every paid order runs it


def insert_fulfillments(conn: Connection, items: Sequence[FulfillmentOrder], at: datetime) -> None:
    if items:
        conn.execute(
            _INSERT_FULFILLMENTS,
            [
                {
                    "id": f.id,
                    "order_id": f.order_id,
                    "fulfiller_id": f.fulfiller_id,
                    "shipping": f.shipping.amount,
                    "currency": f.shipping.currency,
                    "created_at": at,
                    "updated_at": at,
                    "accept_by": f.accept_by,
                    "version": f.version,
                    **_fulfillment_values(f),
                }
                for f in items
            ],
        )


def update_fulfillment(
    conn: Connection, before: FulfillmentOrder, after: FulfillmentOrder, at: datetime
) -> bool:
    """Compare-and-set on the status and the version ``before`` was read at; False when
    another transaction changed the fulfillment order first."""
    return save_fulfillment(conn, before, after, at) is not None


def save_fulfillment(
    conn: Connection, before: FulfillmentOrder, after: FulfillmentOrder, at: datetime
) -> FulfillmentOrder | None:
    """Like :func:`update_fulfillment`, returning ``after`` at its new version (to change
    again in the same transaction), or None when someone else changed it first."""
    result = conn.execute(
        fulfillment_orders.update()
        .where(
            fulfillment_orders.c.id == after.id,
            fulfillment_orders.c.status == before.status.value,
            fulfillment_orders.c.version == before.version,
        )
        .values(updated_at=at, version=before.version + 1, **_fulfillment_values(after))
    )
    return replace(after, version=before.version + 1) if result.rowcount == 1 else None


def _fulfillment(row: Any) -> FulfillmentOrder:
    return FulfillmentOrder(
        id=row["id"],
        order_id=row["order_id"],
        fulfiller_id=row["fulfiller_id"],
        lines=tuple(FulfillmentLine(**line) for line in row["lines"]),
        shipping=Money(row["shipping"], row["currency"]),
        status=FulfillmentStatus(row["status"]),
        shipments=tuple(
            Shipment(
                id=s["id"],
                lines=tuple(LineQuantity(q["line_id"], q["quantity"]) for q in s["lines"]),
                carrier=s["carrier"],
                tracking_number=s["tracking_number"],
            )
            for s in row["shipments"]
        ),
        reason=row["reason"],
        accept_by=row["accept_by"],
        version=row["version"],
    )


def fulfillments_of(
    conn: Connection, order_ids: Iterable[str]
) -> dict[str, list[FulfillmentOrder]]:
    wanted = sorted(set(order_ids))
    found: dict[str, list[FulfillmentOrder]] = {oid: [] for oid in wanted}
    if not wanted:
        return found
    query = (
        sa.select(fulfillment_orders)
        .where(fulfillment_orders.c.order_id.in_(wanted))
        .order_by(fulfillment_orders.c.order_id, fulfillment_orders.c.fulfiller_id)
    )
    for row in conn.execute(query).mappings():
        found[row["order_id"]].append(_fulfillment(row))
    return found


def get_fulfillment(conn: Connection, fulfillment_id: str) -> FulfillmentOrder | None:
    row = (
        conn.execute(sa.select(fulfillment_orders).where(fulfillment_orders.c.id == fulfillment_id))
        .mappings()
        .first()
    )
    return _fulfillment(row) if row else None


@dataclass(frozen=True)
class StoredFulfillment:
    """A fulfillment order with the times only readers need."""

    fulfillment: FulfillmentOrder
    created_at: datetime
    updated_at: datetime


def _stored(row: Any) -> StoredFulfillment:
    return StoredFulfillment(_fulfillment(row), row["created_at"], row["updated_at"])


def fulfillments_of_fulfiller(
    conn: Connection,
    fulfiller_id: str,
    *,
    status: FulfillmentStatus | None,
    after_id: str | None,
    limit: int,
) -> list[StoredFulfillment]:
    """One fulfiller's fulfillment orders, oldest first (the queue to work through)."""
    f = fulfillment_orders
    query = sa.select(f).where(f.c.fulfiller_id == fulfiller_id).order_by(f.c.id).limit(limit)
    if status is not None:
        query = query.where(f.c.status == status.value)
    if after_id is not None:
        query = query.where(f.c.id > after_id)
    return [_stored(row) for row in conn.execute(query).mappings()]


def get_stored_fulfillment(conn: Connection, fulfillment_id: str) -> StoredFulfillment | None:
    query = sa.select(fulfillment_orders).where(fulfillment_orders.c.id == fulfillment_id)
    row = conn.execute(query).mappings().first()
    return _stored(row) if row else None


def overdue_fulfillment_ids(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Pending fulfillment orders whose acceptance deadline passed by ``now``, oldest first."""
    f = fulfillment_orders
    query = (
        sa.select(f.c.id)
        .where(f.c.status == FulfillmentStatus.PENDING.value, f.c.accept_by <= now)
        .order_by(f.c.accept_by)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def shipped_before(
    conn: Connection, cutoff: datetime, *, after_id: str | None, limit: int
) -> list[str]:
    """Ids, ascending after ``after_id``, of fulfillment orders shipped in full and unchanged
    since ``cutoff``: parcels nobody reported delivered. A shipped fulfillment order changes
    only when it is delivered, so its ``updated_at`` is when its last parcel left."""
    f = fulfillment_orders
    query = (
        sa.select(f.c.id)
        .where(f.c.status == FulfillmentStatus.SHIPPED.value, f.c.updated_at <= cutoff)
        .order_by(f.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(f.c.id > after_id)
    return list(conn.execute(query).scalars())
