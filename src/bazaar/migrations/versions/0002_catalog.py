"""catalog: categories with attribute declarations, brands, variants, fulfillers, offers

Replaces the foundation's single-table products. Existing products are carried over: each
slug path becomes a category chain, each product gets one variant with its SKU and a retailer
offer at its price (stock 0 until inventory is synced).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _id(prefix: str) -> str:
    # Frozen copy of the id format (migrations never import application code that may change).
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(reversed(chars))}"


def _tables() -> None:
    json = bazaar.infra.db.Json
    when = bazaar.infra.db.UtcDateTime
    op.create_table(
        "categories",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("path", sa.String(length=700), nullable=False),
        sa.Column("ancestor_ids", json, nullable=False),
        sa.Column("attributes", json, nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("path", name=op.f("uq_categories_path")),
    )
    op.create_index(op.f("ix_categories_parent_id"), "categories", ["parent_id"])
    op.create_table(
        "brands",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brands")),
        sa.UniqueConstraint("slug", name=op.f("uq_brands_slug")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=True),
        sa.Column("category_id", sa.String(length=40), nullable=False),
        sa.Column("attributes", json, nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("mpn", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')", name=op.f("ck_products_status_known")
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 0 AND 50", name=op.f("ck_products_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_products_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index(op.f("ix_products_category_id_id"), "products", ["category_id", "id"])
    op.create_index(op.f("ix_products_brand_id"), "products", ["brand_id"])
    op.create_index(op.f("ix_products_status_id"), "products", ["status", "id"])
    op.create_table(
        "variants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("options", json, nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("weight_g", sa.Integer(), nullable=True),
        sa.Column("length_mm", sa.Integer(), nullable=True),
        sa.Column("width_mm", sa.Integer(), nullable=True),
        sa.Column("height_mm", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_variants_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variants")),
        sa.UniqueConstraint("gtin", name=op.f("uq_variants_gtin")),
        sa.UniqueConstraint("sku", name=op.f("uq_variants_sku")),
    )
    op.create_index(op.f("ix_variants_product_id_position"), "variants", ["product_id", "position"])
    op.create_table(
        "fulfillers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 0 AND 50", name=op.f("ck_fulfillers_rating_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillers")),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("variant_id", sa.String(length=40), nullable=False),
        sa.Column("fulfiller_id", sa.String(length=40), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("shipping_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("delivery_days", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.CheckConstraint(
            "price_amount >= 0 AND shipping_amount >= 0",
            name=op.f("ck_offers_money_not_negative"),
        ),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_offers_stock_not_negative")),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_offers_status_known")),
        sa.ForeignKeyConstraint(
            ["fulfiller_id"], ["fulfillers.id"], name=op.f("fk_offers_fulfiller_id_fulfillers")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_offers_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_offers_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint(
            "variant_id", "fulfiller_id", name=op.f("uq_offers_variant_id_fulfiller_id")
        ),
    )
    op.create_index(op.f("ix_offers_product_id"), "offers", ["product_id"])
    op.create_index(op.f("ix_offers_fulfiller_id_id"), "offers", ["fulfiller_id", "id"])


def upgrade() -> None:
    bind = op.get_bind()
    old = (
        bind.execute(
            sa.text(
                "SELECT id, sku, title, price_amount, currency, category, status, created_at, "
                "updated_at FROM products ORDER BY id"
            )
        )
        .mappings()
        .all()
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_status_id"))
        batch_op.drop_index(batch_op.f("ix_products_category_id"))
    op.drop_table("products")
    _tables()
    now = datetime.now(UTC)
    fulfillers = sa.table(
        "fulfillers",
        sa.column("id"),
        sa.column("name"),
        sa.column("rating"),
        sa.column("updated_at", bazaar.infra.db.UtcDateTime()),
    )
    op.bulk_insert(
        fulfillers, [{"id": "retailer", "name": "Retailer", "rating": None, "updated_at": now}]
    )
    if old:
        _carry_over(bind, old, now)


def _carry_over(bind: sa.Connection, old: Sequence[sa.RowMapping], now: datetime) -> None:
    when = bazaar.infra.db.UtcDateTime()
    json = bazaar.infra.db.Json
    categories = sa.table(
        "categories",
        *(sa.column(c) for c in ("id", "slug", "name", "parent_id", "path")),
        sa.column("ancestor_ids", json),
        sa.column("attributes", json),
        sa.column("created_at", when),
        sa.column("updated_at", when),
    )
    products = sa.table(
        "products",
        *(sa.column(c) for c in ("id", "title", "description", "brand_id", "category_id")),
        sa.column("attributes", json),
        *(sa.column(c) for c in ("gtin", "mpn", "status", "rating", "rating_count")),
        sa.column("created_at", when),
        sa.column("updated_at", when),
    )
    variants = sa.table(
        "variants",
        *(sa.column(c) for c in ("id", "product_id", "sku", "gtin", "position")),
        sa.column("options", json),
    )
    offers = sa.table(
        "offers",
        *(
            sa.column(c)
            for c in (
                "id",
                "product_id",
                "variant_id",
                "fulfiller_id",
                "price_amount",
                "shipping_amount",
                "currency",
                "stock",
                "delivery_days",
                "status",
            )
        ),
        sa.column("created_at", when),
        sa.column("updated_at", when),
    )
    by_path: dict[str, tuple[str, list[str]]] = {}
    for row in old:
        parts = row["category"].split("/")
        for depth in range(len(parts)):
            path = "/".join(parts[: depth + 1])
            if path in by_path:
                continue
            parent = by_path.get("/".join(parts[:depth])) if depth else None
            cid = _id("cat")
            ancestors = [*parent[1], parent[0]] if parent else []
            by_path[path] = (cid, ancestors)
            slug = parts[depth]
            bind.execute(
                categories.insert().values(
                    id=cid,
                    slug=slug,
                    name=slug.replace("-", " ").capitalize(),
                    parent_id=parent[0] if parent else None,
                    path=path,
                    ancestor_ids=ancestors,
                    attributes=[],
                    created_at=now,
                    updated_at=now,
                )
            )
    for row in old:
        variant_id = _id("var")
        bind.execute(
            products.insert().values(
                id=row["id"],
                title=row["title"],
                description="",
                brand_id=None,
                category_id=by_path[row["category"]][0],
                attributes={},
                gtin=None,
                mpn=None,
                status=row["status"],
                rating=None,
                rating_count=0,
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
        bind.execute(
            variants.insert().values(
                id=variant_id,
                product_id=row["id"],
                sku=row["sku"],
                gtin=None,
                position=0,
                options={},
            )
        )
        bind.execute(
            offers.insert().values(
                id=_id("ofr"),
                product_id=row["id"],
                variant_id=variant_id,
                fulfiller_id="retailer",
                price_amount=row["price_amount"],
                shipping_amount=0,
                currency=row["currency"],
                stock=0,
                delivery_days=2,
                status="active",
                created_at=now,
                updated_at=now,
            )
        )


def downgrade() -> None:
    for table, indexes in (
        ("offers", ("ix_offers_fulfiller_id_id", "ix_offers_product_id")),
        ("fulfillers", ()),
        ("variants", ("ix_variants_product_id_position",)),
        (
            "products",
            ("ix_products_status_id", "ix_products_brand_id", "ix_products_category_id_id"),
        ),
        ("brands", ()),
        ("categories", ("ix_categories_parent_id",)),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
    # the foundation's single-table products (data is not carried back)
    op.create_table(
        "products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", bazaar.infra.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", bazaar.infra.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')", name=op.f("ck_products_status_known")
        ),
        sa.CheckConstraint("price_amount >= 0", name=op.f("ck_products_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_index(op.f("ix_products_category_id"), "products", ["category", "id"])
    op.create_index(op.f("ix_products_status_id"), "products", ["status", "id"])
