"""Orders, their lines and shipping charges.

An order is written once with its lines and shipping charges; afterwards only its status
columns and the lines' refunded quantities change. Fulfillment orders and returns have their
own modules (``fulfillment_store``, ``returns_store``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.money import Money
from bazaar.orders.model import Order, OrderLine, OrderStatus, Progress, ShippingLine

orders = sa.Table(
    "orders",
    metadata,
    IdColumn(),
    sa.Column("customer_id", sa.String(40), nullable=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("prices_include_tax", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("progress", sa.String(24), nullable=False),
    sa.Column("payment_reference", sa.String(80), nullable=True),
    sa.Column("cancel_reason", sa.String(200), nullable=True),
    sa.Column("grand_total", sa.BigInteger, nullable=False),
    sa.Column("cart_id", sa.String(40), nullable=True),
    sa.Column("access_token_hash", sa.String(64), nullable=True),
    sa.Column("shipping_address", Json, nullable=False),
    sa.Column("billing_address", Json, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("grand_total >= 0", name="total_not_negative"),
    sa.Index(None, "customer_id", "id"),
    sa.Index(None, "status", "updated_at"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    IdColumn(),
    sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("offer_id", sa.String(40), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("product_id", sa.String(40), nullable=False),
    sa.Column("fulfiller_id", sa.String(40), nullable=False),
    sa.Column("category_id", sa.String(40), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.BigInteger, nullable=False),
    sa.Column("discount", sa.BigInteger, nullable=False),
    sa.Column("tax", sa.BigInteger, nullable=False),
    sa.Column("tax_rate", sa.String(12), nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("refunded_quantity", sa.Integer, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint(
        "refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunds_within_quantity"
    ),
    sa.CheckConstraint(
        "unit_price >= 0 AND discount >= 0 AND tax >= 0 AND total >= 0", name="money_not_negative"
    ),
    sa.Index(None, "order_id", "position"),
)

order_shipping = sa.Table(
    "order_shipping",
    metadata,
    sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("fulfiller_id", sa.String(40), primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("tax", sa.BigInteger, nullable=False),
    sa.Column("tax_rate", sa.String(12), nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("refunded", sa.Boolean, nullable=False),
)

# --- orders ----------------------------------------------------------------------------------

# Built once: every order placed runs them.
_INSERT_ORDER = orders.insert()
_INSERT_LINES = order_lines.insert()
_INSERT_SHIPPING = order_shipping.insert()


def insert_order(
    conn: Connection,
    order: Order,
    *,
    titles: Mapping[str, str],
    cart_id: str | None,
    access_token_hash: str | None,
    shipping_address: Mapping[str, Any],
    billing_address: Mapping[str, Any] | None,
    at: datetime,
) -> None:
    conn.execute(
        _INSERT_ORDER,
        {
            "id": order.id,
            "customer_id": order.customer_id,
            "email": order.email,
            "currency": order.currency,
            "prices_include_tax": order.prices_include_tax,
            "status": order.status.value,
            "progress": order.progress.value,
            "payment_reference": order.payment_reference,
            "cancel_reason": order.cancel_reason,
            "grand_total": order.grand_total.amount,
            "cart_id": cart_id,
            "access_token_hash": access_token_hash,
            "shipping_address": dict(shipping_address),
            "billing_address": dict(billing_address) if billing_address else None,
            "created_at": at,
            "updated_at": at,
        },
    )
    conn.execute(
        _INSERT_LINES,
        [
            {
                "id": line.id,
                "order_id": order.id,
                "position": position,
                "offer_id": line.offer_id,
                "sku": line.sku,
                "product_id": line.product_id,
                "fulfiller_id": line.fulfiller_id,
                "category_id": line.category_id,
                "title": titles.get(line.offer_id, line.sku)[:200],
                "quantity": line.quantity,
                "unit_price": line.unit_price.amount,
                "discount": line.discount.amount,
                "tax": line.tax.amount,
                "tax_rate": str(line.tax_rate),
                "total": line.total.amount,
                "refunded_quantity": line.refunded_quantity,
            }
            for position, line in enumerate(order.lines)
        ],
    )
    if order.shipping:
        conn.execute(
            _INSERT_SHIPPING,
            [
                {
                    "order_id": order.id,
                    "fulfiller_id": s.fulfiller_id,
                    "amount": s.amount.amount,
                    "tax": s.tax.amount,
                    "tax_rate": str(s.tax_rate),
                    "total": s.total.amount,
                    "refunded": s.refunded,
                }
                for s in order.shipping
            ],
        )


# compare-and-set on the status the writer read; built once (every payment runs it)
_UPDATE_IF_STATUS = orders.update().where(
    orders.c.id == sa.bindparam("id_"), orders.c.status == sa.bindparam("status_")
)
_SET_REFUNDED_QUANTITY = (
    order_lines.update()
    .where(order_lines.c.id == sa.bindparam("line_id"))
    .values(refunded_quantity=sa.bindparam("refunded_quantity"))
)
_SET_SHIPPING_REFUNDED = (
    order_shipping.update()
    .where(
        order_shipping.c.order_id == sa.bindparam("order_id_"),
        order_shipping.c.fulfiller_id == sa.bindparam("fulfiller_id_"),
    )
    .values(refunded=True)
)


def update_order(conn: Connection, before: Order, after: Order, at: datetime) -> bool:
    """Write ``after`` if the stored order is still in ``before``'s status (compare-and-set).

    False when another transaction moved the order first: the caller reloads and decides
    again, so two workers (a request and the reconciler) never both apply a transition.
    """
    result = conn.execute(
        _UPDATE_IF_STATUS,
        {
            "id_": after.id,
            "status_": before.status.value,
            "status": after.status.value,
            "progress": after.progress.value,
            "payment_reference": after.payment_reference,
            "cancel_reason": after.cancel_reason,
            "updated_at": at,
        },
    )
    if result.rowcount != 1:
        return False
    changed_lines = [
        {"line_id": new.id, "refunded_quantity": new.refunded_quantity}
        for old, new in zip(before.lines, after.lines, strict=True)
        if old.refunded_quantity != new.refunded_quantity
    ]
    if changed_lines:
        conn.execute(_SET_REFUNDED_QUANTITY, changed_lines)
    refunded_shipping = [
        {"order_id_": after.id, "fulfiller_id_": new.fulfiller_id}
        for old, new in zip(before.shipping, after.shipping, strict=True)
        if new.refunded and not old.refunded
    ]
    if refunded_shipping:
        conn.execute(_SET_SHIPPING_REFUNDED, refunded_shipping)
    return True


def _money(amount: int, currency: str) -> Money:
    return Money(amount, currency)


# Reading orders back (the order page, the ledger's postings): built once.
_IDS: sa.BindParameter[str] = sa.bindparam("ids", expanding=True)
_HEADS = sa.select(orders).where(orders.c.id.in_(_IDS))
_LINES = (
    sa.select(order_lines)
    .where(order_lines.c.order_id.in_(_IDS))
    .order_by(order_lines.c.order_id, order_lines.c.position)
)
_SHIPPING = (
    sa.select(order_shipping)
    .where(order_shipping.c.order_id.in_(_IDS))
    .order_by(order_shipping.c.order_id, order_shipping.c.fulfiller_id)
)


def orders_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, OrderRecord]:
    """Orders with their lines and shipping, three statements for any number of orders."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    ids = {"ids": wanted}
    heads = conn.execute(_HEADS, ids).mappings().all()
    lines: dict[str, list[Any]] = {oid: [] for oid in wanted}
    for row in conn.execute(_LINES, ids).mappings():
        lines[row["order_id"]].append(row)
    shipping: dict[str, list[Any]] = {oid: [] for oid in wanted}
    for row in conn.execute(_SHIPPING, ids).mappings():
        shipping[row["order_id"]].append(row)
    return {head["id"]: _record(head, lines[head["id"]], shipping[head["id"]]) for head in heads}


def get_order(conn: Connection, order_id: str) -> OrderRecord | None:
    return orders_by_ids(conn, [order_id]).get(order_id)


class OrderRecord:
    """An order as stored: the aggregate plus what only the service needs (addresses, token)."""

    __slots__ = (
        "access_token_hash",
        "billing_address",
        "cart_id",
        "created_at",
        "order",
        "shipping_address",
        "titles",
        "updated_at",
    )

    def __init__(
        self,
        order: Order,
        *,
        titles: dict[str, str],
        cart_id: str | None,
        access_token_hash: str | None,
        shipping_address: dict[str, Any],
        billing_address: dict[str, Any] | None,
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.order = order
        self.titles = titles
        self.cart_id = cart_id
        self.access_token_hash = access_token_hash
        self.shipping_address = shipping_address
        self.billing_address = billing_address
        self.created_at = created_at
        self.updated_at = updated_at


def _record(head: Any, lines: Sequence[Any], shipping: Sequence[Any]) -> OrderRecord:
    currency = head["currency"]
    order = Order(
        id=head["id"],
        customer_id=head["customer_id"],
        email=head["email"],
        currency=currency,
        prices_include_tax=head["prices_include_tax"],
        lines=tuple(
            OrderLine(
                id=row["id"],
                offer_id=row["offer_id"],
                sku=row["sku"],
                product_id=row["product_id"],
                fulfiller_id=row["fulfiller_id"],
                category_id=row["category_id"],
                quantity=row["quantity"],
                unit_price=_money(row["unit_price"], currency),
                discount=_money(row["discount"], currency),
                tax=_money(row["tax"], currency),
                tax_rate=Decimal(row["tax_rate"]),
                total=_money(row["total"], currency),
                refunded_quantity=row["refunded_quantity"],
            )
            for row in lines
        ),
        shipping=tuple(
            ShippingLine(
                fulfiller_id=row["fulfiller_id"],
                amount=_money(row["amount"], currency),
                tax=_money(row["tax"], currency),
                tax_rate=Decimal(row["tax_rate"]),
                total=_money(row["total"], currency),
                refunded=row["refunded"],
            )
            for row in shipping
        ),
        status=OrderStatus(head["status"]),
        progress=Progress(head["progress"]),
        payment_reference=head["payment_reference"],
        cancel_reason=head["cancel_reason"],
    )
    return OrderRecord(
        order,
        titles={row["offer_id"]: row["title"] for row in lines},
        cart_id=head["cart_id"],
        access_token_hash=head["access_token_hash"],
        shipping_address=head["shipping_address"],
        billing_address=head["billing_address"],
        created_at=head["created_at"],
        updated_at=head["updated_at"],
    )


def list_order_ids(
    conn: Connection, *, customer_id: str | None, after_id: str | None, limit: int
) -> list[str]:
    """Newest first; one customer's orders, or everyone's for staff (``customer_id`` None)."""
    query = sa.select(orders.c.id).order_by(orders.c.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(orders.c.customer_id == customer_id)
    if after_id is not None:
        query = query.where(orders.c.id < after_id)
    return list(conn.execute(query).scalars())


def order_ids_in_status(
    conn: Connection, status: OrderStatus, *, updated_before: datetime, limit: int
) -> list[str]:
    query = (
        sa.select(orders.c.id)
        .where(orders.c.status == status.value, orders.c.updated_at < updated_before)
        .order_by(orders.c.updated_at)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())
