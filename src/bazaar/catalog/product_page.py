"""The reads behind a product page, in three statements whatever its size.

A product page is the hottest read of the catalog, so it does not reuse the batch loaders of
``store`` (which take id lists and cost a query per kind of row): the product comes with its
category and brand in one join, its variants in a second statement and its offers with their
fulfillers in a third. Every statement compares one id with ``=``, so SQLAlchemy's compiled
cache serves them without expanding IN lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.catalog.model import Brand, Category, Fulfiller, Offer, Product
from bazaar.catalog.product_store import _offer, _product, _variant
from bazaar.catalog.store import (
    _brand,
    _category,
    _fulfiller,
    brands,
    categories,
    fulfillers,
    offers,
    products,
    variants,
)

_CATEGORY = "category__"
_BRAND = "brand__"
_FULFILLER = "fulfiller__"

_PRODUCT = (
    sa.select(
        products,
        *(c.label(_CATEGORY + c.name) for c in categories.c),
        *(c.label(_BRAND + c.name) for c in brands.c),
    )
    .join(categories, categories.c.id == products.c.category_id)
    .outerjoin(brands, brands.c.id == products.c.brand_id)
    .where(products.c.id == sa.bindparam("product_id"))
)
_VARIANTS = (
    sa.select(variants)
    .where(variants.c.product_id == sa.bindparam("product_id"))
    .order_by(variants.c.position)
)
_OFFERS = (
    sa.select(offers, *(c.label(_FULFILLER + c.name) for c in fulfillers.c))
    .join(fulfillers, fulfillers.c.id == offers.c.fulfiller_id)
    .where(offers.c.product_id == sa.bindparam("product_id"))
    .order_by(offers.c.id)
)


@dataclass(frozen=True)
class ProductPageRows:
    product: Product
    category: Category
    brand: Brand | None
    offers: list[Offer]
    fulfillers: dict[str, Fulfiller]


def _prefixed(row: Mapping[Any, Any], prefix: str) -> dict[str, Any]:
    return {key.removeprefix(prefix): value for key, value in row.items() if key.startswith(prefix)}


def load_product_page(conn: Connection, product_id: str) -> ProductPageRows | None:
    """The product with its category, brand, variants, offers and their fulfillers; or None."""
    params = {"product_id": product_id}
    row = conn.execute(_PRODUCT, params).mappings().first()
    if row is None:
        return None
    product_variants = [_variant(v) for v in conn.execute(_VARIANTS, params).mappings()]
    page_offers: list[Offer] = []
    page_fulfillers: dict[str, Fulfiller] = {}
    for offer_row in conn.execute(_OFFERS, params).mappings():
        page_offers.append(_offer(offer_row))
        fulfiller = _prefixed(offer_row, _FULFILLER)
        page_fulfillers.setdefault(fulfiller["id"], _fulfiller(fulfiller))
    brand = _prefixed(row, _BRAND)
    return ProductPageRows(
        product=_product(row, product_variants),
        category=_category(_prefixed(row, _CATEGORY)),
        brand=_brand(brand) if brand["id"] is not None else None,
        offers=page_offers,
        fulfillers=page_fulfillers,
    )
