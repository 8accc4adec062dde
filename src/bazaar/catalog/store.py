"""Catalog tables, and the reference data around products: categories, brands, fulfillers.

Every catalog table is declared here. Product, variant and offer rows are read and written
through ``product_store``. Every loader takes a batch of ids and answers with one query, so
listing, detail and the search-document builder issue a fixed number of statements whatever
the page size (see tests/integration/test_catalog_queries.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.model import Brand, Category, Fulfiller
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata

categories = sa.Table(
    "categories",
    metadata,
    IdColumn(),
    sa.Column("slug", sa.String(80), nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("parent_id", sa.String(40), sa.ForeignKey("categories.id"), nullable=True),
    sa.Column("path", sa.String(700), nullable=False, unique=True),
    sa.Column("ancestor_ids", Json, nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "parent_id"),
)

brands = sa.Table(
    "brands",
    metadata,
    IdColumn(),
    sa.Column("slug", sa.String(80), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

products = sa.Table(
    "products",
    metadata,
    IdColumn(),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("brand_id", sa.String(40), sa.ForeignKey("brands.id"), nullable=True),
    sa.Column("category_id", sa.String(40), sa.ForeignKey("categories.id"), nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("gtin", sa.String(14), nullable=True),
    sa.Column("mpn", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rating", sa.SmallInteger, nullable=True),
    sa.Column("rating_count", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'active', 'archived')", name="status_known"),
    sa.CheckConstraint("rating IS NULL OR rating BETWEEN 0 AND 50", name="rating_range"),
    sa.Index(None, "category_id", "id"),
    sa.Index(None, "brand_id"),
    sa.Index(None, "status", "id"),
)

variants = sa.Table(
    "variants",
    metadata,
    IdColumn(),
    sa.Column("product_id", sa.String(40), sa.ForeignKey("products.id"), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False, unique=True),
    sa.Column("options", Json, nullable=False),
    sa.Column("gtin", sa.String(14), nullable=True, unique=True),
    sa.Column("weight_g", sa.Integer, nullable=True),
    sa.Column("length_mm", sa.Integer, nullable=True),
    sa.Column("width_mm", sa.Integer, nullable=True),
    sa.Column("height_mm", sa.Integer, nullable=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index(None, "product_id", "position"),
)

fulfillers = sa.Table(
    "fulfillers",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("rating", sa.SmallInteger, nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("rating IS NULL OR rating BETWEEN 0 AND 50", name="rating_range"),
)

offers = sa.Table(
    "offers",
    metadata,
    IdColumn(),
    sa.Column("product_id", sa.String(40), sa.ForeignKey("products.id"), nullable=False),
    sa.Column("variant_id", sa.String(40), sa.ForeignKey("variants.id"), nullable=False),
    sa.Column("fulfiller_id", sa.String(40), sa.ForeignKey("fulfillers.id"), nullable=False),
    sa.Column("price_amount", sa.BigInteger, nullable=False),
    sa.Column("shipping_amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("stock", sa.Integer, nullable=False),
    sa.Column("delivery_days", sa.SmallInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("variant_id", "fulfiller_id"),
    sa.CheckConstraint("price_amount >= 0 AND shipping_amount >= 0", name="money_not_negative"),
    sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
    sa.CheckConstraint("status IN ('active', 'inactive')", name="status_known"),
    sa.Index(None, "product_id"),
    sa.Index(None, "fulfiller_id", "id"),
)


# --- categories ------------------------------------------------------------------------------


def _attribute_json(d: AttributeDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": d.name, "type": d.type.value, "required": d.required}
    if d.values:
        out["values"] = list(d.values)
    if d.unit:
        out["unit"] = d.unit
    return out


def _attribute(raw: dict[str, Any]) -> AttributeDef:
    return AttributeDef(
        name=raw["name"],
        type=AttributeType(raw["type"]),
        required=raw.get("required", False),
        values=tuple(raw.get("values", ())),
        unit=raw.get("unit"),
    )


def _category(row: Mapping[Any, Any]) -> Category:
    return Category(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        parent_id=row["parent_id"],
        path=row["path"],
        ancestor_ids=tuple(row["ancestor_ids"]),
        attributes=tuple(_attribute(a) for a in row["attributes"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def category_values(c: Category) -> dict[str, Any]:
    return {
        "id": c.id,
        "slug": c.slug,
        "name": c.name,
        "parent_id": c.parent_id,
        "path": c.path,
        "ancestor_ids": list(c.ancestor_ids),
        "attributes": [_attribute_json(a) for a in c.attributes],
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def insert_categories(conn: Connection, items: Sequence[Category]) -> None:
    if items:
        conn.execute(categories.insert(), [category_values(c) for c in items])


def update_category(conn: Connection, c: Category) -> None:
    values = category_values(c)
    del values["id"], values["created_at"]
    conn.execute(categories.update().where(categories.c.id == c.id).values(**values))


def get_category(conn: Connection, category_id: str) -> Category | None:
    row = conn.execute(sa.select(categories).where(categories.c.id == category_id)).mappings()
    found = row.first()
    return _category(found) if found else None


def category_by_path(conn: Connection, path: str) -> Category | None:
    row = conn.execute(sa.select(categories).where(categories.c.path == path)).mappings().first()
    return _category(row) if row else None


def categories_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, Category]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(categories).where(categories.c.id.in_(wanted))).mappings()
    return {row["id"]: _category(row) for row in rows}


def categories_by_paths(conn: Connection, paths: Iterable[str]) -> dict[str, Category]:
    wanted = sorted(set(paths))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(categories).where(categories.c.path.in_(wanted))).mappings()
    return {row["path"]: _category(row) for row in rows}


def category_chains(conn: Connection, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each category's id with its ancestors', root first (``Category.chain_ids``), cheaply."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = sa.select(categories.c.id, categories.c.ancestor_ids).where(categories.c.id.in_(wanted))
    return {row.id: (*row.ancestor_ids, row.id) for row in conn.execute(query)}


def all_categories(conn: Connection) -> list[Category]:
    """The whole tree in path order (parents before children). Trees are thousands, not millions."""
    rows = conn.execute(sa.select(categories).order_by(categories.c.path)).mappings()
    return [_category(row) for row in rows]


# --- brands ----------------------------------------------------------------------------------


def _brand(row: Mapping[Any, Any]) -> Brand:
    return Brand(id=row["id"], slug=row["slug"], name=row["name"], created_at=row["created_at"])


def insert_brands(conn: Connection, items: Sequence[Brand]) -> None:
    if items:
        conn.execute(
            brands.insert(),
            [
                {
                    "id": b.id,
                    "slug": b.slug,
                    "name": b.name,
                    "created_at": b.created_at,
                    "updated_at": b.created_at,
                }
                for b in items
            ],
        )


def rename_brand(conn: Connection, brand_id: str, name: str, at: Any) -> int:
    result = conn.execute(
        brands.update().where(brands.c.id == brand_id).values(name=name, updated_at=at)
    )
    return result.rowcount


def brands_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, Brand]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(brands).where(brands.c.id.in_(wanted))).mappings()
    return {row["id"]: _brand(row) for row in rows}


def brand_by_slug(conn: Connection, slug: str) -> Brand | None:
    row = conn.execute(sa.select(brands).where(brands.c.slug == slug)).mappings().first()
    return _brand(row) if row else None


def brands_by_slugs(conn: Connection, slugs: Iterable[str]) -> dict[str, Brand]:
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(brands).where(brands.c.slug.in_(wanted))).mappings()
    return {row["slug"]: _brand(row) for row in rows}


def list_brands(conn: Connection, *, after_id: str | None, limit: int) -> list[Brand]:
    query = sa.select(brands).order_by(brands.c.id).limit(limit)
    if after_id is not None:
        query = query.where(brands.c.id > after_id)
    return [_brand(row) for row in conn.execute(query).mappings()]


# --- fulfillers ------------------------------------------------------------------------------


def _fulfiller(row: Mapping[Any, Any]) -> Fulfiller:
    return Fulfiller(
        id=row["id"], name=row["name"], rating=row["rating"], updated_at=row["updated_at"]
    )


def upsert_fulfiller(conn: Connection, f: Fulfiller) -> None:
    updated = conn.execute(
        fulfillers.update()
        .where(fulfillers.c.id == f.id)
        .values(name=f.name, rating=f.rating, updated_at=f.updated_at)
    ).rowcount
    if not updated:
        conn.execute(
            fulfillers.insert().values(
                id=f.id, name=f.name, rating=f.rating, updated_at=f.updated_at
            )
        )


def fulfillers_by_ids(conn: Connection, ids: Iterable[str]) -> dict[str, Fulfiller]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(fulfillers).where(fulfillers.c.id.in_(wanted))).mappings()
    return {row["id"]: _fulfiller(row) for row in rows}


def all_fulfillers(conn: Connection) -> list[Fulfiller]:
    rows = conn.execute(sa.select(fulfillers).order_by(fulfillers.c.id)).mappings()
    return [_fulfiller(row) for row in rows]
