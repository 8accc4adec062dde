"""Queries of order completion: which orders are past every return window, when each
fulfillment order finished, and the compare-and-set writes that keep completion and a new
return request from both succeeding.

A finished fulfillment order (delivered, cancelled, rejected) never changes again, so its
``updated_at`` is the moment it finished: the start of its return window.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.orders.fulfillment import FINISHED_FULFILLMENT
from bazaar.orders.fulfillment_store import fulfillment_orders
from bazaar.orders.model import Order, OrderStatus, Progress
from bazaar.orders.returns import ReturnStatus
from bazaar.orders.returns_store import order_returns
from bazaar.orders.store import orders

# Orders that may complete: everything shipped, some of it perhaps refunded since.
_COMPLETABLE = (OrderStatus.FULFILLED.value, OrderStatus.PARTIALLY_REFUNDED.value)
_FINISHED = sorted(s.value for s in FINISHED_FULFILLMENT)
# A return still on its way to a refund (or a rejection) keeps its order open.
_OPEN_RETURNS = sorted(
    s.value for s in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)
)


def due_for_completion(
    conn: Connection, *, finished_by: datetime, after_id: str | None, limit: int
) -> list[str]:
    """Ids of orders, ascending after ``after_id``, whose fulfillment orders all finished
    at or before ``finished_by`` and that have no open return.

    Uses the ``(status, updated_at)`` index of ``orders``: completable orders are only
    those delivered within the last return window or so, a small slice of the table.
    """
    f, r = fulfillment_orders, order_returns
    unfinished = sa.exists().where(
        f.c.order_id == orders.c.id,
        sa.or_(f.c.status.not_in(_FINISHED), f.c.updated_at > finished_by),
    )
    open_return = sa.exists().where(r.c.order_id == orders.c.id, r.c.status.in_(_OPEN_RETURNS))
    query = (
        sa.select(orders.c.id)
        .where(
            orders.c.status.in_(_COMPLETABLE),
            orders.c.progress == Progress.FULFILLED.value,
            ~unfinished,
            ~open_return,
        )
        .order_by(orders.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(orders.c.id > after_id)
    return list(conn.execute(query).scalars())


def finished_at(conn: Connection, order_id: str) -> dict[str, datetime]:
    """When each finished fulfillment order of ``order_id`` finished, by its id."""
    f = fulfillment_orders
    query = sa.select(f.c.id, f.c.updated_at).where(
        f.c.order_id == order_id, f.c.status.in_(_FINISHED)
    )
    return {row.id: row.updated_at for row in conn.execute(query)}


def complete_if_unchanged(
    conn: Connection, before: Order, after: Order, read_at: datetime, now: datetime
) -> bool:
    """Write the completed ``after`` if the stored order is still ``before``'s status and
    still carries the ``updated_at`` it was read with; False when anything touched it since.

    Comparing ``updated_at`` as well as the status is what makes a return requested
    concurrently win or lose cleanly: the request bumps it (:func:`touch_for_return`), and
    on PostgreSQL a blocked update re-checks these columns on the row as committed.
    """
    result = conn.execute(
        orders.update()
        .where(
            orders.c.id == after.id,
            orders.c.status == before.status.value,
            orders.c.updated_at == read_at,
        )
        .values(status=after.status.value, progress=after.progress.value, updated_at=now)
    )
    return result.rowcount == 1


def touch_for_return(conn: Connection, order: Order, now: datetime) -> bool:
    """Mark ``order`` changed by a return request, if it is still in the status it was
    read in; False when it moved meanwhile (completed by the closer, say)."""
    result = conn.execute(
        orders.update()
        .where(orders.c.id == order.id, orders.c.status == order.status.value)
        .values(updated_at=now)
    )
    return result.rowcount == 1
