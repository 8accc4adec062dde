"""The guest price marks the search index is built with (see :mod:`bazaar.catalog.shelf_index`).

One row per offer whose guest price a pricing rule changes: a fixed list price, or a sale
price that caps the base price (:class:`bazaar.pricing.shelf_table.ShelfMark`). Offers at
their base price have no row, so the table stays as small as the rules that name offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.catalog.store import offers
from bazaar.infra.db import metadata
from bazaar.pricing.shelf_table import ShelfMark

search_offer_prices = sa.Table(
    "search_offer_prices",
    metadata,
    # no foreign key: a rule may name an offer id that is gone, and a mark for it is inert
    sa.Column("offer_id", sa.String(40), primary_key=True),
    sa.Column("fixed", sa.Boolean, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
)

# Held shared by every transaction that writes search documents from marks and exclusively
# by the one that changes marks, on PostgreSQL (SQLite runs one writer at a time anyway): a
# document is then never written from marks another transaction is replacing.
MARKS_LOCK_KEY = 0x62617A5F6D61726B  # "baz_mark"


def lock_marks(conn: Connection, *, exclusive: bool) -> None:
    """Take the marks lock for the rest of ``conn``'s transaction (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        conn.execute(sa.text(f"SELECT {function}(:key)"), {"key": MARKS_LOCK_KEY})


def all_marks(conn: Connection) -> dict[str, ShelfMark]:
    """Every stored mark, by offer id."""
    rows = conn.execute(sa.select(search_offer_prices))
    return {row.offer_id: ShelfMark(bool(row.fixed), row.amount) for row in rows}


def marks_of_products(conn: Connection, product_ids: Iterable[str]) -> dict[str, ShelfMark]:
    """The stored marks of these products' offers, by offer id, in one query."""
    wanted = sorted(set(product_ids))
    if not wanted:
        return {}
    query = (
        sa.select(search_offer_prices)
        .join(offers, offers.c.id == search_offer_prices.c.offer_id)
        .where(offers.c.product_id.in_(wanted))
    )
    return {row.offer_id: ShelfMark(bool(row.fixed), row.amount) for row in conn.execute(query)}


def replace_marks(conn: Connection, changed: Mapping[str, ShelfMark | None]) -> None:
    """Store each offer's new mark; ``None`` removes it. Two statements whatever the size."""
    if not changed:
        return
    conn.execute(search_offer_prices.delete().where(search_offer_prices.c.offer_id.in_(changed)))
    rows = [
        {"offer_id": offer_id, "fixed": mark.fixed, "amount": mark.amount}
        for offer_id, mark in sorted(changed.items())
        if mark is not None
    ]
    if rows:
        conn.execute(search_offer_prices.insert(), rows)


def products_of_offers(conn: Connection, offer_ids: Iterable[str]) -> list[str]:
    """The products of these offers (that still exist), sorted."""
    wanted = sorted(set(offer_ids))
    if not wanted:
        return []
    query = sa.select(offers.c.product_id).where(offers.c.id.in_(wanted)).distinct()
    return sorted(conn.execute(query).scalars())
