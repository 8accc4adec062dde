"""Payments as stored: one row per order's payment, written compare-and-set on its status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.money import Money
from bazaar.payments.model import Payment, PaymentStatus, RequiredAction

payments = sa.Table(
    "payments",
    metadata,
    IdColumn(),
    sa.Column("order_id", sa.String(40), nullable=False, unique=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("captured", sa.BigInteger, nullable=False),
    sa.Column("refunded", sa.BigInteger, nullable=False),
    sa.Column("authorization_id", sa.String(80), nullable=True),
    sa.Column("capture_id", sa.String(80), nullable=True),
    sa.Column("refund_ids", Json, nullable=False),
    sa.Column("action", Json, nullable=True),
    sa.Column("decline_code", sa.String(60), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(
        "captured >= 0 AND captured <= amount AND refunded >= 0 AND refunded <= captured",
        name="amounts_consistent",
    ),
    sa.Index(None, "status", "updated_at"),
)


def _values(p: Payment) -> dict[str, Any]:
    return {
        "status": p.status.value,
        "captured": p.captured.amount,
        "refunded": p.refunded.amount,
        "authorization_id": p.authorization_id,
        "capture_id": p.capture_id,
        "refund_ids": list(p.refund_ids),
        "action": {"token": p.action.token, "url": p.action.url} if p.action else None,
        "decline_code": p.decline_code,
    }


_INSERT = payments.insert()
# what an update writes: the state (:func:`_values`) and when
_WRITTEN = (
    "status",
    "captured",
    "refunded",
    "authorization_id",
    "capture_id",
    "refund_ids",
    "action",
    "decline_code",
    "updated_at",
)


def insert_payment(conn: Connection, p: Payment, at: datetime) -> None:
    conn.execute(
        _INSERT,
        {
            "id": p.id,
            "order_id": p.order_id,
            "amount": p.amount.amount,
            "currency": p.amount.currency,
            "idempotency_key": p.idempotency_key,
            "created_at": at,
            "updated_at": at,
            **_values(p),
        },
    )


# compare-and-set on the state the writer read: built once, it runs at every placement
_UPDATE_IF_UNCHANGED = (
    payments.update()
    .where(
        payments.c.id == sa.bindparam("id_"),
        payments.c.status == sa.bindparam("status_"),
        payments.c.captured == sa.bindparam("captured_"),
        payments.c.refunded == sa.bindparam("refunded_"),
    )
    .values({c: sa.bindparam(c, type_=payments.c[c].type) for c in _WRITTEN})
)


def update_payment(conn: Connection, before: Payment, after: Payment, at: datetime) -> bool:
    """Write ``after`` only if the row still holds ``before``'s status and amounts.

    The request that placed an order, the 3-D Secure confirmation and the reconciler may all
    try to record the same gateway answer; exactly one write wins, the others reload.
    """
    if before == after:
        return True
    params = {
        "id_": after.id,
        "status_": before.status.value,
        "captured_": before.captured.amount,
        "refunded_": before.refunded.amount,
        "updated_at": at,
        **_values(after),
    }
    return bool(conn.execute(_UPDATE_IF_UNCHANGED, params).rowcount == 1)


def _payment(row: Any) -> Payment:
    currency = row["currency"]
    action = row["action"]
    return Payment(
        id=row["id"],
        order_id=row["order_id"],
        amount=Money(row["amount"], currency),
        idempotency_key=row["idempotency_key"],
        status=PaymentStatus(row["status"]),
        captured=Money(row["captured"], currency),
        refunded=Money(row["refunded"], currency),
        authorization_id=row["authorization_id"],
        capture_id=row["capture_id"],
        refund_ids=tuple(row["refund_ids"]),
        action=RequiredAction(action["token"], action["url"]) if action else None,
        decline_code=row["decline_code"],
    )


_OF_ORDER = sa.select(payments).where(payments.c.order_id == sa.bindparam("order_id_"))


def payment_of_order(conn: Connection, order_id: str) -> Payment | None:
    row = conn.execute(_OF_ORDER, {"order_id_": order_id}).mappings().first()
    return _payment(row) if row else None


def payments_of_orders(conn: Connection, order_ids: list[str]) -> dict[str, Payment]:
    if not order_ids:
        return {}
    query = sa.select(payments).where(payments.c.order_id.in_(sorted(set(order_ids))))
    return {row["order_id"]: _payment(row) for row in conn.execute(query).mappings()}


def stale_payments(
    conn: Connection, statuses: tuple[PaymentStatus, ...], *, updated_before: datetime, limit: int
) -> list[Payment]:
    """Payments left in one of ``statuses`` since before ``updated_before``, oldest first."""
    query = (
        sa.select(payments)
        .where(
            payments.c.status.in_([s.value for s in statuses]),
            payments.c.updated_at < updated_before,
        )
        .order_by(payments.c.updated_at)
        .limit(limit)
    )
    return [_payment(row) for row in conn.execute(query).mappings()]


# Refunds are recorded before the gateway is asked (persist first, deliver later): a refund
# the gateway never confirmed stays pending and the reconciler asks again with the same key.
refunds = sa.Table(
    "refunds",
    metadata,
    IdColumn(),
    sa.Column("order_id", sa.String(40), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
    sa.Index(None, "status", "updated_at"),
    sa.Index(None, "order_id"),
)


def insert_refund(
    conn: Connection, refund_id: str, order_id: str, amount: Money, reason: str, at: datetime
) -> None:
    conn.execute(
        refunds.insert(),
        {
            "id": refund_id,
            "order_id": order_id,
            "amount": amount.amount,
            "currency": amount.currency,
            "status": "pending",
            "reason": reason[:200],
            "created_at": at,
            "updated_at": at,
        },
    )


def settle_refund(conn: Connection, refund_id: str, status: str, at: datetime) -> bool:
    """Move a pending refund to ``status``; False when it was settled already."""
    result = conn.execute(
        refunds.update()
        .where(refunds.c.id == refund_id, refunds.c.status == "pending")
        .values(status=status, updated_at=at)
    )
    return bool(result.rowcount == 1)


def succeeded_refunds(conn: Connection, order_id: str) -> list[tuple[str, Money]]:
    """(refund id, amount) of the order's refunds the gateway confirmed, oldest first."""
    query = (
        sa.select(refunds.c.id, refunds.c.amount, refunds.c.currency)
        .where(refunds.c.order_id == order_id, refunds.c.status == "succeeded")
        .order_by(refunds.c.created_at, refunds.c.id)
    )
    return [(r.id, Money(r.amount, r.currency)) for r in conn.execute(query)]


def pending_refunds(
    conn: Connection, *, updated_before: datetime, limit: int
) -> list[tuple[str, str, Money]]:
    """(refund id, order id, amount) of refunds the gateway has not confirmed yet."""
    query = (
        sa.select(refunds.c.id, refunds.c.order_id, refunds.c.amount, refunds.c.currency)
        .where(refunds.c.status == "pending", refunds.c.updated_at < updated_before)
        .order_by(refunds.c.updated_at)
        .limit(limit)
    )
    return [(r.id, r.order_id, Money(r.amount, r.currency)) for r in conn.execute(query)]
