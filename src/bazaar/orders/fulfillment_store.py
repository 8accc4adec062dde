"""Fulfillment orders: one per fulfiller of a paid order, lines and shipments kept as JSON
(they are always read and written whole)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    sa.UniqueConstraint("order_id", "fulfiller_id"),
    sa.Index(None, "fulfiller_id", "status", "id"),
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


def insert_fulfillments(conn: Connection, items: Sequence[FulfillmentOrder], at: datetime) -> None:
    if items:
        conn.execute(
            fulfillment_orders.insert(),
            [
                {
                    "id": f.id,
                    "order_id": f.order_id,
                    "fulfiller_id": f.fulfiller_id,
                    "shipping": f.shipping.amount,
                    "currency": f.shipping.currency,
                    "created_at": at,
                    "updated_at": at,
                    **_fulfillment_values(f),
                }
                for f in items
            ],
        )


def update_fulfillment(
    conn: Connection, before: FulfillmentOrder, after: FulfillmentOrder, at: datetime
) -> bool:
    """Compare-and-set on the status, like :func:`update_order`."""
    result = conn.execute(
        fulfillment_orders.update()
        .where(
            fulfillment_orders.c.id == after.id,
            fulfillment_orders.c.status == before.status.value,
        )
        .values(updated_at=at, **_fulfillment_values(after))
    )
    return result.rowcount == 1


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
