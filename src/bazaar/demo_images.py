"""Product photos for the demo catalog, drawn locally so ``make run`` needs no network.

Each demo product gets one packshot-style picture: a soft two-tone backdrop in a colour taken
from the product, a rounded "product card" and the product's initials. The pictures are
deterministic, so loading the demo again finds the same content hash and adds nothing, and
they go through :meth:`MediaService.add_upload` like a staff upload: validated, EXIF-free,
resized into thumb/medium/large with WebP alongside, served with immutable cache headers.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from bazaar.catalog import store as catalog_store
from bazaar.catalog.service import CatalogService
from bazaar.identity.model import Principal
from bazaar.infra.db import Database
from bazaar.media.service import MediaService
from bazaar.media.shared import SharedPicture, SharedPictures

# The synthetic catalog's pictures, shared by reference: each product shows one of these.
_POOL_NAMES = (
    "Canvas tote",
    "Desk lamp",
    "Trail runner",
    "Wool beanie",
    "Chef knife",
    "Road bike",
    "Linen shirt",
    "Smart speaker",
    "Yoga mat",
    "Espresso cup",
    "Rain jacket",
    "Phone case",
    "Garden hose",
    "Board game",
    "Leather belt",
    "Table fan",
    "Water bottle",
    "Desk chair",
    "Sun hat",
    "Power bank",
    "Floor rug",
    "Dog lead",
    "Camp stove",
    "Picture frame",
)
SIZE = 1024  # big enough for the 1280-px "large" rendition to be a real downscale of 1024
# Muted backdrop colours a product photographer would use; picked by the product's title.
_PALETTE = (
    (233, 228, 218),
    (214, 226, 233),
    (226, 233, 220),
    (238, 222, 214),
    (224, 220, 236),
    (236, 232, 206),
    (218, 232, 230),
    (232, 216, 224),
)


@dataclass(frozen=True)
class DemoPicture:
    """What a demo product's picture shows: keyed by the product's first SKU."""

    sku: str
    title: str
    brand: str


def render_packshot(title: str, brand: str) -> bytes:
    """A JPEG of a product card for ``title``; the same inputs always give the same bytes."""
    digest = hashlib.sha256(title.encode()).digest()
    base = _PALETTE[digest[0] % len(_PALETTE)]
    accent = tuple(max(0, c - 70 - digest[1] % 40) for c in base)
    image = Image.new("RGB", (SIZE, SIZE), base)
    draw = ImageDraw.Draw(image)
    # a floor: the lower third a shade darker, like a studio sweep
    draw.rectangle((0, SIZE * 2 // 3, SIZE, SIZE), fill=tuple(c - 12 for c in base))
    margin = SIZE // 5
    draw.rounded_rectangle(
        (margin, margin, SIZE - margin, SIZE - margin), radius=SIZE // 12, fill=accent
    )
    initials = "".join(word[0] for word in title.split()[:2]).upper()
    draw.text(
        (SIZE // 2, SIZE // 2 - SIZE // 40),
        initials,
        fill=base,
        font=ImageFont.load_default(size=SIZE // 4),
        anchor="mm",
    )
    draw.text(
        (SIZE // 2, SIZE - margin // 2),
        brand,
        fill=accent,
        font=ImageFont.load_default(size=SIZE // 22),
        anchor="mm",
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def attach_demo_pictures(
    db: Database, media: MediaService, principal: Principal, pictures: Sequence[DemoPicture]
) -> int:
    """Give each product its picture; returns how many were added (0 on a second load)."""
    variants = catalog_store.variants
    with db.read() as conn:
        product_of: dict[str, str] = dict(
            conn.execute(
                sa.select(variants.c.sku, variants.c.product_id).where(
                    variants.c.sku.in_([p.sku for p in pictures])
                )
            ).all()
        )
    added = 0
    for picture in pictures:
        product_id = product_of.get(picture.sku)
        if product_id is None:
            continue
        result = media.add_upload(
            principal,
            product_id,
            render_packshot(picture.title, picture.brand),
            filename=f"{picture.sku.lower()}.jpg",
            content_type="image/jpeg",
            alt=picture.title,
        )
        added += result.created
    return added


def attach_synthetic_pictures(
    db: Database,
    catalog: CatalogService,
    shared: SharedPictures,
    *,
    batch_size: int = 1000,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Give every product without an image one of a pool of shared pictures.

    The pictures are drawn and processed once; each batch of products is one insert and one
    reindex of their search documents (so listings show the thumbnail). Returns how many
    products got a picture; a second run finds none without one and adds nothing.
    """
    pool = [shared.store(render_packshot(name, "Bazaar demo")) for name in _POOL_NAMES]
    products = catalog_store.products
    added, after = 0, ""
    while True:
        with db.read() as conn:
            rows: list[tuple[str, str]] = [
                (row.id, row.title)
                for row in conn.execute(
                    sa.select(products.c.id, products.c.title)
                    .where(products.c.id > after)
                    .order_by(products.c.id)
                    .limit(batch_size)
                )
            ]
            if not rows:
                return added
        after = rows[-1][0]
        # attach skips the products that already have an image
        got = shared.attach([(pid, _pick(pool, pid), title) for pid, title in rows])
        if got:
            catalog.reindex(got)
        added += len(got)
        if on_batch is not None:
            on_batch(len(rows))


def count_products(db: Database) -> int:
    """How many products the catalog holds (the pictures pass walks them all)."""
    with db.read() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(catalog_store.products)) or 0)


def _pick(pool: Sequence[SharedPicture], product_id: str) -> SharedPicture:
    return pool[int(hashlib.sha256(product_id.encode()).hexdigest()[:8], 16) % len(pool)]
