"""Pictures shared by reference: stored once, shown by many products.

A synthetic catalog of a million products cannot draw a million pictures, and a real one
often shows the same manufacturer packshot on many listings. A shared picture is processed
once (validated, EXIF-free, every rendition and WebP) and written under ``shared/`` keys;
each product that shows it gets its own image row pointing at those keys. Removing a
product's image never deletes a shared file (see ``MediaService.remove_image``).

Attaching is a bulk operation for seeding: one statement per batch, no per-product events.
The caller reindexes the batch's search documents itself (the thumbnail is in them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bazaar.infra.blobs import BlobStore
from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.kernel.ids import new_id
from bazaar.media import store
from bazaar.media.model import ImageRules, ProductImage, Rendition, shared_rendition_key
from bazaar.media.processing import process_image


@dataclass(frozen=True)
class SharedPicture:
    """A processed picture whose renditions are stored under ``shared/`` keys."""

    sha256: str
    width: int
    height: int
    format: str
    renditions: dict[str, Rendition]


class SharedPictures:
    def __init__(self, db: Database, blobs: BlobStore, rules: ImageRules, clock: Clock) -> None:
        self._db = db
        self._blobs = blobs
        self._rules = rules
        self._clock = clock

    def store(self, data: bytes) -> SharedPicture:
        """Validate and process ``data`` and write its renditions once (idempotent)."""
        processed = process_image(data, self._rules)
        renditions: dict[str, Rendition] = {}
        for name, encoded in processed.files.items():
            key = shared_rendition_key(encoded.sha256, encoded.format)
            if not self._blobs.exists(key):
                self._blobs.put(key, encoded.data, encoded.content_type)
            renditions[name] = Rendition(
                key=key,
                width=encoded.width,
                height=encoded.height,
                content_type=encoded.content_type,
                bytes=len(encoded.data),
            )
        return SharedPicture(
            processed.sha256, processed.width, processed.height, processed.format, renditions
        )

    def attach(self, assignments: Sequence[tuple[str, SharedPicture, str]]) -> list[str]:
        """Give each ``(product_id, picture, alt)`` its picture as first image, in one transaction.

        Products that already have an image are left alone, so a repeated load adds nothing.
        Returns the ids of the products that got a picture.
        """
        now = self._clock.now()
        with self._db.write() as conn:
            taken = store.products_with_images(conn, [pid for pid, _, _ in assignments])
            images = [
                ProductImage(
                    id=new_id("img"),
                    product_id=product_id,
                    position=0,
                    alt=alt,
                    sha256=picture.sha256,
                    width=picture.width,
                    height=picture.height,
                    format=picture.format,
                    renditions=picture.renditions,
                    created_at=now,
                )
                for product_id, picture, alt in assignments
                if product_id not in taken
            ]
            store.insert_many(conn, images)
        return [image.product_id for image in images]
