"""Product, variant and offer rows: what a product page, an export or a search document reads.

Kept apart from the reference data in ``store`` (categories, brands, fulfillers) because these
rows are the high-volume, frequently written side of the catalog. The tables themselves stay
in ``store`` so every table is declared once. Every loader takes a batch of ids and answers
with a fixed number of queries (see tests/integration/test_catalog_queries.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.catalog.model import Dimensions, Offer, OfferStatus, Product, ProductStatus, Variant
from bazaar.catalog.store import offers, products, variants
from bazaar.kernel.money import Money

# --- products and variants -------------------------------------------------------------------


def product_values(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "brand_id": p.brand_id,
        "category_id": p.category_id,
        "attributes": dict(p.attributes),
        "gtin": p.gtin,
        "mpn": p.mpn,
        "status": p.status.value,
        "rating": p.rating,
        "rating_count": p.rating_count,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def variant_values(v: Variant) -> dict[str, Any]:
    d = v.dimensions
    return {
        "id": v.id,
        "product_id": v.product_id,
        "sku": v.sku,
        "options": dict(v.options),
        "gtin": v.gtin,
        "weight_g": v.weight_g,
        "length_mm": d.length_mm if d else None,
        "width_mm": d.width_mm if d else None,
        "height_mm": d.height_mm if d else None,
        "position": v.position,
    }


def _variant(row: Mapping[Any, Any]) -> Variant:
    dims = (
        Dimensions(row["length_mm"], row["width_mm"], row["height_mm"])
        if row["length_mm"] is not None
        else None
    )
    return Variant(
        id=row["id"],
        product_id=row["product_id"],
        sku=row["sku"],
        options=row["options"],
        gtin=row["gtin"],
        weight_g=row["weight_g"],
        dimensions=dims,
        position=row["position"],
    )


def _product(row: Mapping[Any, Any], product_variants: Sequence[Variant]) -> Product:
    return Product(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        brand_id=row["brand_id"],
        category_id=row["category_id"],
        attributes=row["attributes"],
        gtin=row["gtin"],
        mpn=row["mpn"],
        status=ProductStatus(row["status"]),
        rating=row["rating"],
        rating_count=row["rating_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        variants=tuple(product_variants),
    )


def insert_products(conn: Connection, items: Sequence[Product]) -> None:
    """Insert products with their variants: two multi-row statements for any batch size."""
    if not items:
        return
    conn.execute(products.insert(), [product_values(p) for p in items])
    rows = [variant_values(v) for p in items for v in p.variants]
    if rows:
        conn.execute(variants.insert(), rows)


def update_product(conn: Connection, p: Product) -> None:
    values = product_values(p)
    del values["id"], values["created_at"]
    conn.execute(products.update().where(products.c.id == p.id).values(**values))


def insert_variants(conn: Connection, items: Sequence[Variant]) -> None:
    if items:
        conn.execute(variants.insert(), [variant_values(v) for v in items])


def update_variant(conn: Connection, v: Variant) -> None:
    values = variant_values(v)
    del values["id"], values["product_id"]
    conn.execute(variants.update().where(variants.c.id == v.id).values(**values))


def products_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, Product]:
    """Products with their variants, in two queries."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    by_product: dict[str, list[Variant]] = defaultdict(list)
    query = (
        sa.select(variants)
        .where(variants.c.product_id.in_(wanted))
        .order_by(variants.c.product_id, variants.c.position)
    )
    for row in conn.execute(query).mappings():
        by_product[row["product_id"]].append(_variant(row))
    rows = conn.execute(sa.select(products).where(products.c.id.in_(wanted))).mappings()
    return {row["id"]: _product(row, by_product[row["id"]]) for row in rows}


def get_product(conn: Connection, product_id: str) -> Product | None:
    return products_by_ids(conn, [product_id]).get(product_id)


def product_exists(conn: Connection, product_id: str) -> bool:
    query = sa.select(products.c.id).where(products.c.id == product_id)
    return conn.execute(query).first() is not None


def existing_skus(conn: Connection, skus: Iterable[str]) -> set[str]:
    wanted = sorted(set(skus))
    if not wanted:
        return set()
    return set(conn.scalars(sa.select(variants.c.sku).where(variants.c.sku.in_(wanted))))


def existing_gtins(conn: Connection, gtins: Iterable[str]) -> set[str]:
    wanted = sorted(set(gtins))
    if not wanted:
        return set()
    return set(conn.scalars(sa.select(variants.c.gtin).where(variants.c.gtin.in_(wanted))))


def product_ids_page(
    conn: Connection, *, statuses: Sequence[ProductStatus], after_id: str | None, limit: int
) -> list[str]:
    """Product ids in id order: staff listings and exports walk the table with this."""
    query = (
        sa.select(products.c.id)
        .where(products.c.status.in_([s.value for s in statuses]))
        .order_by(products.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(products.c.id > after_id)
    return list(conn.scalars(query))


def product_ids_of_brand(
    conn: Connection, brand_id: str, *, after_id: str | None, limit: int
) -> list[str]:
    query = (
        sa.select(products.c.id)
        .where(products.c.brand_id == brand_id)
        .order_by(products.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(products.c.id > after_id)
    return list(conn.scalars(query))


# --- offers ----------------------------------------------------------------------------------


def offer_values(o: Offer) -> dict[str, Any]:
    return {
        "id": o.id,
        "product_id": o.product_id,
        "variant_id": o.variant_id,
        "fulfiller_id": o.fulfiller_id,
        "price_amount": o.price.amount,
        "shipping_amount": o.shipping.amount,
        "currency": o.price.currency,
        "stock": o.stock,
        "delivery_days": o.delivery_days,
        "status": o.status.value,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    }


def _offer(row: Mapping[Any, Any]) -> Offer:
    return Offer(
        id=row["id"],
        product_id=row["product_id"],
        variant_id=row["variant_id"],
        fulfiller_id=row["fulfiller_id"],
        price=Money(row["price_amount"], row["currency"]),
        shipping=Money(row["shipping_amount"], row["currency"]),
        stock=row["stock"],
        delivery_days=row["delivery_days"],
        status=OfferStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def insert_offers(conn: Connection, items: Sequence[Offer]) -> None:
    if items:
        conn.execute(offers.insert(), [offer_values(o) for o in items])


def update_offer(conn: Connection, o: Offer) -> None:
    values = offer_values(o)
    for key in ("id", "product_id", "variant_id", "fulfiller_id", "created_at"):
        del values[key]
    conn.execute(offers.update().where(offers.c.id == o.id).values(**values))


def get_offer(conn: Connection, offer_id: str) -> Offer | None:
    row = conn.execute(sa.select(offers).where(offers.c.id == offer_id)).mappings().first()
    return _offer(row) if row else None


def offers_for_products(conn: Connection, product_ids: Iterable[str]) -> dict[str, list[Offer]]:
    """Every offer of each product, oldest first, in one query."""
    wanted = sorted(set(product_ids))
    by_product: dict[str, list[Offer]] = {pid: [] for pid in wanted}
    if not wanted:
        return by_product
    query = sa.select(offers).where(offers.c.product_id.in_(wanted)).order_by(offers.c.id)
    for row in conn.execute(query).mappings():
        by_product[row["product_id"]].append(_offer(row))
    return by_product
