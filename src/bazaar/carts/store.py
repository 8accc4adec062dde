"""Cart tables and queries (the shipping rules and VAT classes a quote applies are in
:mod:`bazaar.carts.rules_store`).

A cart is loaded in two statements (the cart, its items) and saved with one guarded update
of the cart row (``version`` must still be the one loaded) followed by the item writes, so
two concurrent changes to one cart never interleave: the second finds the version moved and
gives up with a conflict. Offers are referred to by id only; the catalog owns them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.carts.model import Cart, CartItem, CartStatus, diff_items
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata

_OPEN = sa.text("status = 'open'")

carts = sa.Table(
    "carts",
    metadata,
    IdColumn(),
    sa.Column("owner_id", sa.String(40), nullable=True),
    sa.Column("token_hash", sa.String(64), nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("country", sa.String(2), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("merged_into", sa.String(40), nullable=True),
    sa.Column("order_id", sa.String(40), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("abandoned_at", UtcDateTime(), nullable=True),
    sa.Column("coupon_codes", Json, nullable=True),
    sa.CheckConstraint("status IN ('open', 'merged', 'ordered')", name="status_known"),
    sa.CheckConstraint("(owner_id IS NULL) <> (token_hash IS NULL)", name="owner_or_token"),
    # one open cart per customer: what sign-in merges into and POST /carts returns
    sa.Index(
        "uq_carts_owner_id_open",
        "owner_id",
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    ),
    sa.Index(None, "expires_at"),
    sa.Index(None, "status", "updated_at"),
)

cart_items = sa.Table(
    "cart_items",
    metadata,
    IdColumn(),
    sa.Column(
        "cart_id", sa.String(40), sa.ForeignKey("carts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("offer_id", sa.String(40), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("added_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("cart_id", "offer_id"),
    sa.CheckConstraint("quantity BETWEEN 1 AND 999", name="quantity_range"),
)

# --- carts -----------------------------------------------------------------------------------


def _item(row: Mapping[Any, Any]) -> CartItem:
    return CartItem(
        id=row["id"],
        offer_id=row["offer_id"],
        quantity=row["quantity"],
        added_at=row["added_at"],
        updated_at=row["updated_at"],
    )


def _cart(row: Mapping[Any, Any], items: Sequence[CartItem]) -> Cart:
    return Cart(
        id=row["id"],
        owner_id=row["owner_id"],
        token_hash=row["token_hash"],
        currency=row["currency"],
        country=row["country"],
        status=CartStatus(row["status"]),
        items=tuple(items),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
        abandoned_at=row["abandoned_at"],
        merged_into=row["merged_into"],
        order_id=row["order_id"],
        coupon_codes=tuple(row["coupon_codes"] or ()),
    )


def _cart_values(cart: Cart) -> dict[str, Any]:
    return {
        "id": cart.id,
        "owner_id": cart.owner_id,
        "token_hash": cart.token_hash,
        "currency": cart.currency,
        "country": cart.country,
        "status": cart.status.value,
        "version": cart.version,
        "merged_into": cart.merged_into,
        "order_id": cart.order_id,
        "created_at": cart.created_at,
        "updated_at": cart.updated_at,
        "expires_at": cart.expires_at,
        "abandoned_at": cart.abandoned_at,
        "coupon_codes": list(cart.coupon_codes) or None,
    }


def _item_values(cart_id: str, item: CartItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "cart_id": cart_id,
        "offer_id": item.offer_id,
        "quantity": item.quantity,
        "added_at": item.added_at,
        "updated_at": item.updated_at,
    }


def items_of(conn: Connection, cart_ids: Iterable[str]) -> dict[str, list[CartItem]]:
    """Each cart's items in the order they were added, in one query."""
    wanted = sorted(set(cart_ids))
    by_cart: dict[str, list[CartItem]] = defaultdict(list)
    if not wanted:
        return by_cart
    query = (
        sa.select(cart_items)
        .where(cart_items.c.cart_id.in_(wanted))
        .order_by(cart_items.c.cart_id, cart_items.c.added_at, cart_items.c.id)
    )
    for row in conn.execute(query).mappings():
        by_cart[row["cart_id"]].append(_item(row))
    return by_cart


_ITEM_COLUMNS = [c.label(f"item_{c.name}") for c in cart_items.c if c.name != "cart_id"]


# One statement: the cart's row repeated beside each of its items (or once, with NULL item
# columns, when it has none). Carts are read on every cart call and at checkout, so the two
# lookups are built once (a statement built per call is most of its cost in SQLAlchemy).
_CART_WITH_ITEMS = (
    sa.select(carts, *_ITEM_COLUMNS)
    .select_from(carts.outerjoin(cart_items, cart_items.c.cart_id == carts.c.id))
    .order_by(cart_items.c.added_at, cart_items.c.id)
)
_CART_BY_ID = _CART_WITH_ITEMS.where(carts.c.id == sa.bindparam("cart_id"))
_OPEN_CART_OF = _CART_WITH_ITEMS.where(
    carts.c.owner_id == sa.bindparam("owner_id"), carts.c.status == "open"
)


def _load(conn: Connection, query: sa.Select[Any], params: dict[str, str]) -> Cart | None:
    rows = conn.execute(query, params).mappings().all()
    if not rows:
        return None
    items = [
        CartItem(
            id=row["item_id"],
            offer_id=row["item_offer_id"],
            quantity=row["item_quantity"],
            added_at=row["item_added_at"],
            updated_at=row["item_updated_at"],
        )
        for row in rows
        if row["item_id"] is not None
    ]
    return _cart(rows[0], items)


def get_cart(conn: Connection, cart_id: str) -> Cart | None:
    """A cart with its items, in one query."""
    return _load(conn, _CART_BY_ID, {"cart_id": cart_id})


def open_cart_of(conn: Connection, owner_id: str) -> Cart | None:
    """The customer's open cart (at most one, by a unique index), expired or not."""
    return _load(conn, _OPEN_CART_OF, {"owner_id": owner_id})


# Built once, as the reads above: a cart is created or saved on every cart call.
_INSERT_CART = carts.insert()
_KEPT_ON_SAVE = ("id", "owner_id", "token_hash", "currency", "created_at")
_SAVED = [c.name for c in carts.c if c.name not in _KEPT_ON_SAVE]
_SAVE_CART = (
    carts.update()
    .where(
        carts.c.id == sa.bindparam("before_id"),
        carts.c.version == sa.bindparam("before_version"),
    )
    .values({name: sa.bindparam(f"new_{name}", type_=carts.c[name].type) for name in _SAVED})
)


def insert_cart(conn: Connection, cart: Cart) -> None:
    conn.execute(_INSERT_CART, _cart_values(cart))
    if cart.items:
        conn.execute(cart_items.insert(), [_item_values(cart.id, i) for i in cart.items])


def save_cart(conn: Connection, before: Cart, after: Cart) -> bool:
    """Write ``after`` over ``before``; False (nothing written) when the cart changed since
    ``before`` was loaded."""
    values = _cart_values(after)
    params = {f"new_{name}": values[name] for name in _SAVED}
    params["before_id"] = before.id
    params["before_version"] = before.version
    updated = conn.execute(_SAVE_CART, params).rowcount
    if not updated:
        return False
    changes = diff_items(before, after)
    if changes.removed:
        conn.execute(cart_items.delete().where(cart_items.c.id.in_(changes.removed)))
    for item in changes.changed:
        conn.execute(
            cart_items.update()
            .where(cart_items.c.id == item.id)
            .values(quantity=item.quantity, updated_at=item.updated_at)
        )
    if changes.added:
        conn.execute(cart_items.insert(), [_item_values(after.id, i) for i in changes.added])
    return True


def delete_cart(conn: Connection, cart_id: str) -> None:
    conn.execute(cart_items.delete().where(cart_items.c.cart_id == cart_id))
    conn.execute(carts.delete().where(carts.c.id == cart_id))


# Built once: every checkout runs one of these.
_MARK_ORDERED = (
    carts.update()
    .where(carts.c.id == sa.bindparam("cart_id"), carts.c.status == "open")
    .values(
        status="ordered",
        order_id=sa.bindparam("order_id"),
        version=carts.c.version + 1,
        updated_at=sa.bindparam("now", type_=UtcDateTime()),
        expires_at=sa.bindparam("expires_at", type_=UtcDateTime()),
    )
    .returning(carts.c.owner_id)
)
_MARK_ORDERED_AT_VERSION = _MARK_ORDERED.where(
    carts.c.version == sa.bindparam("expected_version", type_=sa.Integer)
)


def mark_ordered(
    conn: Connection,
    cart_id: str,
    order_id: str,
    now: datetime,
    expires_at: datetime,
    *,
    expected_version: int | None = None,
) -> tuple[str | None] | None:
    """Turn an open cart into an ordered one and return ``(owner id,)``; None when it is
    not open any more (or, with ``expected_version``, has changed)."""
    params = {
        "cart_id": cart_id,
        "order_id": order_id,
        "now": now,
        "expires_at": expires_at,
        "expected_version": expected_version,
    }
    statement = _MARK_ORDERED if expected_version is None else _MARK_ORDERED_AT_VERSION
    row = conn.execute(statement, params).first()
    return (row.owner_id,) if row is not None else None


def _idle(cutoff: datetime, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        carts.c.status == "open",
        carts.c.abandoned_at.is_(None),
        carts.c.updated_at <= cutoff,
        carts.c.expires_at > now,
        sa.exists().where(cart_items.c.cart_id == carts.c.id),
    )


def abandoned_candidates(
    conn: Connection, cutoff: datetime, now: datetime, limit: int
) -> list[tuple[str, str | None, datetime]]:
    """(id, owner id, last change) of open carts with items untouched since ``cutoff``."""
    query = (
        sa.select(carts.c.id, carts.c.owner_id, carts.c.updated_at)
        .where(_idle(cutoff, now))
        .order_by(carts.c.updated_at, carts.c.id)
        .limit(limit)
    )
    return [(row.id, row.owner_id, row.updated_at) for row in conn.execute(query)]


def mark_abandoned(
    conn: Connection, cart_ids: Sequence[str], cutoff: datetime, now: datetime
) -> set[str]:
    """Mark these carts abandoned if they still qualify; return those that were marked.

    The conditions are repeated in the update so a cart changed (or marked by another
    sweeper) since it was selected is left alone.
    """
    if not cart_ids:
        return set()
    result = conn.execute(
        carts.update()
        .where(carts.c.id.in_(list(cart_ids)), _idle(cutoff, now))
        .values(abandoned_at=now)
        .returning(carts.c.id)
    )
    return set(result.scalars())


def purge_expired(conn: Connection, now: datetime) -> int:
    """Delete carts (and their items) past their expiry; return how many carts went."""
    expired = sa.select(carts.c.id).where(carts.c.expires_at <= now).scalar_subquery()
    conn.execute(cart_items.delete().where(cart_items.c.cart_id.in_(expired)))
    return int(conn.execute(carts.delete().where(carts.c.expires_at <= now)).rowcount)
