"""Catalog tables and queries."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.catalog.model import Product, ProductStatus
from bazaar.infra.db import IdColumn, UtcDateTime, metadata
from bazaar.kernel.money import Money

products = sa.Table(
    "products",
    metadata,
    IdColumn(),
    sa.Column("sku", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("price_amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("category", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("price_amount >= 0", name="price_not_negative"),
    sa.CheckConstraint("status IN ('draft', 'active', 'archived')", name="status_known"),
    sa.Index(None, "category", "id"),
    sa.Index(None, "status", "id"),
)


def _product(row: RowMapping) -> Product:
    return Product(
        id=row["id"],
        title=row["title"],
        sku=row["sku"],
        price=Money(row["price_amount"], row["currency"]),
        category=row["category"],
        status=ProductStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def insert_product(conn: Connection, product: Product) -> None:
    conn.execute(
        products.insert().values(
            id=product.id,
            sku=product.sku,
            title=product.title,
            price_amount=product.price.amount,
            currency=product.price.currency,
            category=product.category,
            status=product.status.value,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )
    )


def get_product(conn: Connection, product_id: str) -> Product | None:
    row = conn.execute(sa.select(products).where(products.c.id == product_id)).mappings().first()
    return _product(row) if row else None


def list_products(
    conn: Connection,
    *,
    statuses: tuple[ProductStatus, ...],
    category: str | None,
    after_id: str | None,
    limit: int,
) -> list[Product]:
    """Products in id (creation) order after ``after_id``: one query whatever the page size."""
    query = (
        sa.select(products)
        .where(products.c.status.in_([s.value for s in statuses]))
        .order_by(products.c.id)
        .limit(limit)
    )
    if category is not None:
        # the category and its descendants
        query = query.where(
            sa.or_(products.c.category == category, products.c.category.startswith(category + "/"))
        )
    if after_id is not None:
        query = query.where(products.c.id > after_id)
    return [_product(row) for row in conn.execute(query).mappings()]
