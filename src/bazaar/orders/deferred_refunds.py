"""Refunds owed before the payment was captured, held until it is.

With capture at shipment, a seller can reject lines (or let its deadline pass) while the
order's payment is only authorized: there is nothing to refund at the gateway yet. The
refund is then written here as ``waiting``; once the payment is captured it is ``released``
(recorded as a payments refund and paid out), or ``voided`` when the authorization was
voided instead (the money never left the customer). Rows only move forward, compare-and-set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import IdColumn, UtcDateTime, metadata
from bazaar.kernel.money import Money

WAITING, RELEASED, VOIDED = "waiting", "released", "voided"

deferred_refunds = sa.Table(
    "deferred_refunds",
    metadata,
    IdColumn(),  # the refund's id, as in the order's RefundIssued event
    sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint("status IN ('waiting', 'released', 'voided')", name="status_known"),
    sa.Index(None, "order_id"),
    sa.Index(None, "status", "updated_at"),
)


@dataclass(frozen=True)
class DeferredRefund:
    id: str
    order_id: str
    amount: Money
    reason: str


def hold_refund(
    conn: Connection, refund_id: str, order_id: str, amount: Money, reason: str, at: datetime
) -> None:
    conn.execute(
        deferred_refunds.insert(),
        {
            "id": refund_id,
            "order_id": order_id,
            "amount": amount.amount,
            "currency": amount.currency,
            "reason": reason[:200],
            "status": WAITING,
            "created_at": at,
            "updated_at": at,
        },
    )


def waiting_of_order(conn: Connection, order_id: str) -> list[DeferredRefund]:
    d = deferred_refunds
    query = (
        sa.select(d)
        .where(d.c.order_id == order_id, d.c.status == WAITING)
        .order_by(d.c.created_at, d.c.id)
    )
    return [
        DeferredRefund(r["id"], r["order_id"], Money(r["amount"], r["currency"]), r["reason"])
        for r in conn.execute(query).mappings()
    ]


def orders_waiting(conn: Connection, *, updated_before: datetime, limit: int) -> list[str]:
    """Orders with refunds waiting since before ``updated_before``, longest waiting first."""
    d = deferred_refunds
    query = (
        sa.select(d.c.order_id, sa.func.min(d.c.updated_at).label("since"))
        .where(d.c.status == WAITING, d.c.updated_at < updated_before)
        .group_by(d.c.order_id)
        .order_by("since")
        .limit(limit)
    )
    return [row.order_id for row in conn.execute(query)]


def settle(conn: Connection, refund_id: str, status: str, at: datetime) -> bool:
    """Move a waiting refund to ``status``; False when another process settled it first."""
    d = deferred_refunds
    result = conn.execute(
        d.update()
        .where(d.c.id == refund_id, d.c.status == WAITING)
        .values(status=status, updated_at=at)
    )
    return result.rowcount == 1


def touch_waiting(conn: Connection, order_id: str, at: datetime) -> None:
    """Still waiting for the capture: go to the back of the reconciler's queue."""
    d = deferred_refunds
    conn.execute(
        d.update().where(d.c.order_id == order_id, d.c.status == WAITING).values(updated_at=at)
    )
