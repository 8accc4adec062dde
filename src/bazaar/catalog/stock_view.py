"""The catalog as inventory sees it: each offer's stock by (variant SKU, fulfiller).

Inventory reads offers through :meth:`CatalogService.offer_stocks` and writes the available
units back through :meth:`CatalogService.set_offer_stock`, never the tables. Offers are keyed
by SKU and fulfiller, which is unique: a SKU names one variant, and a fulfiller has at most
one offer per variant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.catalog.model import OfferStock
from bazaar.catalog.store import offers, variants
from bazaar.infra.db import UtcDateTime

_OFFER_STOCKS = sa.select(
    offers.c.id, offers.c.product_id, variants.c.sku, offers.c.fulfiller_id, offers.c.stock
).join(variants, variants.c.id == offers.c.variant_id)


# Built once: the stock projection runs these for every stock change (every order).
_OFFER_STOCKS_OF_SKUS = _OFFER_STOCKS.where(
    variants.c.sku.in_(sa.bindparam("skus", expanding=True))
).order_by(offers.c.id)
_SET_STOCK = (
    offers.update()
    .where(offers.c.id == sa.bindparam("offer_id"))
    .values(stock=sa.bindparam("new_stock"), updated_at=sa.bindparam("now", type_=UtcDateTime()))
)


def _offer_stock(row: Mapping[Any, Any]) -> OfferStock:
    return OfferStock(
        offer_id=row["id"],
        product_id=row["product_id"],
        sku=row["sku"],
        fulfiller_id=row["fulfiller_id"],
        stock=row["stock"],
    )


def offer_stocks(
    conn: Connection,
    *,
    product_ids: Sequence[str] | None = None,
    after_id: str | None = None,
    limit: int | None = None,
) -> list[OfferStock]:
    """Offers in id order: of ``product_ids`` when given, else a page after ``after_id``."""
    query = _OFFER_STOCKS.order_by(offers.c.id)
    if product_ids is not None:
        query = query.where(offers.c.product_id.in_(sorted(set(product_ids))))
    if after_id is not None:
        query = query.where(offers.c.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return [_offer_stock(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class StockWrite:
    """What setting offers' stock changed, by product id (sorted, without repeats).

    ``touched``: products with an offer whose count changed; their cached pages show stock
    counts. ``relisted``: those of them where an offer went in or out of stock. A search
    document depends on stock only through which offers have some (``in_stock``, each
    indexed offer's flag, and the listing price: the lowest among offers with stock), so only
    these need reindexing.
    """

    touched: list[str] = field(default_factory=list)
    relisted: list[str] = field(default_factory=list)


def set_offer_stocks(
    conn: Connection, levels: Mapping[tuple[str, str], int], now: datetime
) -> StockWrite:
    """Set the stock of the offers keyed ``(sku, fulfiller id)`` (offers already at their
    level are not written) and say which products changed, and how."""
    skus = sorted({sku for sku, _ in levels})
    if not skus:
        return StockWrite()
    current = offer_stocks_of_skus(conn, skus)
    changed = [
        (o, levels[(o.sku, o.fulfiller_id)])
        for o in current
        if (o.sku, o.fulfiller_id) in levels and levels[(o.sku, o.fulfiller_id)] != o.stock
    ]
    if changed:
        conn.execute(
            _SET_STOCK, [{"offer_id": o.offer_id, "new_stock": n, "now": now} for o, n in changed]
        )
    return StockWrite(
        touched=sorted({o.product_id for o, _ in changed}),
        relisted=sorted({o.product_id for o, n in changed if (o.stock > 0) != (n > 0)}),
    )


def offer_stocks_of_skus(conn: Connection, skus: Iterable[str]) -> list[OfferStock]:
    rows = conn.execute(_OFFER_STOCKS_OF_SKUS, {"skus": sorted(set(skus))}).mappings()
    return [_offer_stock(row) for row in rows]
