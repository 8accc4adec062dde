"""Return requests of orders; their lines are kept as JSON (always read and written whole)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.money import Money
from bazaar.orders.events import ReturnLine
from bazaar.orders.returns import ReturnRequest, ReturnStatus

order_returns = sa.Table(
    "order_returns",
    metadata,
    IdColumn(),
    sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("lines", Json, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("fulfiller_ids", Json, nullable=False),
    sa.Column("refund_id", sa.String(40), nullable=True),
    sa.Column("refunded", sa.BigInteger, nullable=True),
    sa.Column("rejection_reason", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "order_id"),
)


# --- returns ---------------------------------------------------------------------------------


def _return_values(r: ReturnRequest) -> dict[str, Any]:
    return {
        "status": r.status.value,
        "lines": [
            {"line_id": line.line_id, "quantity": line.quantity, "restock": line.restock}
            for line in r.lines
        ],
        "refund_id": r.refund_id,
        "refunded": r.refunded.amount if r.refunded is not None else None,
        "rejection_reason": r.rejection_reason,
    }


def insert_return(conn: Connection, r: ReturnRequest, at: datetime) -> None:
    conn.execute(
        order_returns.insert(),
        {
            "id": r.id,
            "order_id": r.order_id,
            "reason": r.reason,
            "fulfiller_ids": list(r.fulfiller_ids),
            "created_at": at,
            "updated_at": at,
            **_return_values(r),
        },
    )


def update_return(
    conn: Connection, before: ReturnRequest, after: ReturnRequest, at: datetime
) -> bool:
    result = conn.execute(
        order_returns.update()
        .where(order_returns.c.id == after.id, order_returns.c.status == before.status.value)
        .values(updated_at=at, **_return_values(after))
    )
    return result.rowcount == 1


def _return(row: Any, currency: str) -> ReturnRequest:
    return ReturnRequest(
        id=row["id"],
        order_id=row["order_id"],
        lines=tuple(ReturnLine(**line) for line in row["lines"]),
        reason=row["reason"],
        fulfiller_ids=tuple(row["fulfiller_ids"]),
        status=ReturnStatus(row["status"]),
        refund_id=row["refund_id"],
        refunded=Money(row["refunded"], currency) if row["refunded"] is not None else None,
        rejection_reason=row["rejection_reason"],
    )


def returns_of(conn: Connection, order_id: str, currency: str) -> list[ReturnRequest]:
    query = sa.select(order_returns).where(order_returns.c.order_id == order_id)
    return [
        _return(row, currency)
        for row in conn.execute(query.order_by(order_returns.c.id)).mappings()
    ]


def get_return(conn: Connection, return_id: str) -> tuple[str, Any] | None:
    """(order id, raw row) of a return; the caller converts it with the order's currency."""
    row = (
        conn.execute(sa.select(order_returns).where(order_returns.c.id == return_id))
        .mappings()
        .first()
    )
    return (row["order_id"], row) if row else None


def return_from_row(row: Any, currency: str) -> ReturnRequest:
    return _return(row, currency)
