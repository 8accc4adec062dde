"""The product image table and its queries.

No foreign key to ``products``: contexts refer to each other by id, and the media context
asks the catalog whether a product exists through an injected function instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.media.model import ProductImage, Rendition

product_images = sa.Table(
    "product_images",
    metadata,
    IdColumn(),
    sa.Column("product_id", sa.String(40), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("alt", sa.String(300), nullable=False, server_default=""),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("renditions", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # The same picture twice on one product is the same image (the service answers with it).
    sa.UniqueConstraint("product_id", "sha256"),
    sa.Index(None, "product_id", "position"),
)


def _image(row: RowMapping) -> ProductImage:
    return ProductImage(
        id=row["id"],
        product_id=row["product_id"],
        position=row["position"],
        alt=row["alt"],
        sha256=row["sha256"],
        width=row["width"],
        height=row["height"],
        format=row["format"],
        renditions={name: Rendition.from_dict(raw) for name, raw in row["renditions"].items()},
        created_at=row["created_at"],
    )


def _ordered() -> sa.Select[tuple[object, ...]]:
    return sa.select(product_images).order_by(
        product_images.c.product_id, product_images.c.position, product_images.c.id
    )


def _values(image: ProductImage) -> dict[str, object]:
    return {
        "id": image.id,
        "product_id": image.product_id,
        "position": image.position,
        "alt": image.alt,
        "sha256": image.sha256,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "renditions": {name: r.to_dict() for name, r in image.renditions.items()},
        "created_at": image.created_at,
    }


def insert(conn: Connection, image: ProductImage) -> None:
    conn.execute(product_images.insert().values(**_values(image)))


def insert_many(conn: Connection, images: Sequence[ProductImage]) -> None:
    """One executemany for a batch of images (shared pictures attached in bulk)."""
    if images:
        conn.execute(product_images.insert(), [_values(i) for i in images])


def products_with_images(conn: Connection, product_ids: Sequence[str]) -> set[str]:
    """Which of ``product_ids`` have at least one image."""
    if not product_ids:
        return set()
    query = sa.select(product_images.c.product_id).where(
        product_images.c.product_id.in_(sorted(set(product_ids)))
    )
    return set(conn.scalars(query.distinct()))


def get(conn: Connection, product_id: str, image_id: str) -> ProductImage | None:
    row = (
        conn.execute(
            sa.select(product_images).where(
                product_images.c.id == image_id, product_images.c.product_id == product_id
            )
        )
        .mappings()
        .first()
    )
    return _image(row) if row else None


def find_by_sha256(conn: Connection, product_id: str, sha256: str) -> ProductImage | None:
    row = (
        conn.execute(
            sa.select(product_images).where(
                product_images.c.product_id == product_id, product_images.c.sha256 == sha256
            )
        )
        .mappings()
        .first()
    )
    return _image(row) if row else None


def for_products(conn: Connection, product_ids: Sequence[str]) -> list[ProductImage]:
    """Images of every product in ``product_ids``, in one query, by product then position."""
    if not product_ids:
        return []
    wanted = sorted(set(product_ids))
    # One product (a product page) compares with "=": a cached statement, no expanded IN list.
    condition = (
        product_images.c.product_id == wanted[0]
        if len(wanted) == 1
        else product_images.c.product_id.in_(wanted)
    )
    query = _ordered().where(condition)
    return [_image(row) for row in conn.execute(query).mappings()]


def count_and_last_position(conn: Connection, product_id: str) -> tuple[int, int]:
    row = conn.execute(
        sa.select(
            sa.func.count(product_images.c.id),
            sa.func.coalesce(sa.func.max(product_images.c.position), -1),
        ).where(product_images.c.product_id == product_id)
    ).one()
    return int(row[0]), int(row[1])


def delete(conn: Connection, image_id: str) -> bool:
    result = conn.execute(product_images.delete().where(product_images.c.id == image_id))
    return result.rowcount == 1


def set_positions(conn: Connection, product_id: str, image_ids: Sequence[str]) -> None:
    for position, image_id in enumerate(image_ids):
        conn.execute(
            product_images.update()
            .where(product_images.c.id == image_id, product_images.c.product_id == product_id)
            .values(position=position)
        )
