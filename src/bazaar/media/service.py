"""Product image use cases: add (upload, URL import, signed direct upload), list, remove.

The order of work is what keeps a failure from leaving anything half-written:

1. validate and render in memory (CPU-heavy, no transaction open, nothing written);
2. write the renditions to the blob store under content-hash keys: a retry of the same image
   writes the same keys, so repeating this step is harmless;
3. insert the row and record the event in one unit of work.

If step 3 fails, the blobs written by step 2 (and only those: a key that already existed may
belong to another image) are deleted again; if that clean-up fails too, a re-upload reuses
the keys. Adding an image a product already has (same pixels, whatever the metadata) is
idempotent: the existing image is returned and nothing is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bazaar.identity.model import Principal, Role
from bazaar.infra.blobs import BlobStore
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.media import store
from bazaar.media.fetch import ImageFetcher
from bazaar.media.model import (
    DECLARABLE_TYPES,
    MAX_IMAGES_PER_PRODUCT,
    SHARED_PREFIX,
    ImageRules,
    ProductImage,
    ProductImageAdded,
    ProductImageRemoved,
    ProductImagesReordered,
    Rendition,
    check_reorder,
    clean_alt,
    parse_media_key,
    rendition_key,
)
from bazaar.media.processing import ProcessedImage, process_image
from bazaar.media.upload_tokens import UploadTokens

log = logging.getLogger("bazaar.media")

UowFactory = Callable[[Actor], SqlUnitOfWork]


@dataclass(frozen=True)
class AddedImage:
    """The image a request ends with; ``created`` is False when the product already had it."""

    image: ProductImage
    created: bool


@dataclass(frozen=True)
class UploadUrl:
    url: str
    expires_at: datetime
    max_bytes: int


@dataclass(frozen=True)
class MediaFile:
    """A rendition to serve: its bytes, type and strong ETag (its content hash)."""

    data: bytes
    content_type: str
    etag: str


class MediaService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        blobs: BlobStore,
        rules: ImageRules,
        *,
        product_exists: Callable[[str], bool],
        fetcher: ImageFetcher,
        tokens: UploadTokens,
        upload_url_ttl_s: int,
        upload_path: str = "/api/v1/uploads/",
        serves_files: bool = True,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._blobs = blobs
        self.rules = rules
        self._product_exists = product_exists
        self._fetcher = fetcher
        self._tokens = tokens
        self._upload_url_ttl_s = upload_url_ttl_s
        self._upload_path = upload_path
        self._serves_files = serves_files

    # --- adding -------------------------------------------------------------------------------

    def add_upload(
        self,
        principal: Principal,
        product_id: str,
        data: bytes,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        alt: str = "",
    ) -> AddedImage:
        """Add an uploaded file (operators only). The bytes decide the format, not the name.

        ``filename`` and ``content_type`` are what the client declared; they are only logged.
        Errors name the field ``file`` (422), or ``alt``; an unknown product is a 404.
        """
        principal.require_role(Role.OPERATOR)
        self._require_product(product_id)
        alt = clean_alt(alt)
        log.debug("image upload %r (%s) for %s", filename, content_type, product_id)
        return self._add(principal.actor, product_id, process_image(data, self.rules), alt)

    def import_from_url(
        self, principal: Principal, product_id: str, url: str, *, alt: str = ""
    ) -> AddedImage:
        """Fetch an image from a public http(s) URL and add it (operators only).

        Fetching problems (a private address, a non-2xx answer, too big, too slow) are a 422 on
        ``url``; problems with the image itself too, since the URL is what the caller gave.
        """
        principal.require_role(Role.OPERATOR)
        self._require_product(product_id)
        alt = clean_alt(alt)
        data = self._fetcher.fetch(url, field="url")
        return self._add(
            principal.actor, product_id, process_image(data, self.rules, field="url"), alt
        )

    def issue_upload_url(
        self, principal: Principal, product_id: str, *, alt: str = ""
    ) -> UploadUrl:
        """A URL that accepts one raw image ``PUT`` for ``product_id`` without other credentials.

        It expires after ``upload_url_ttl_s``; until then it may be used again (the same bytes
        again are idempotent), like an S3 presigned URL. Operators only.
        """
        principal.require_role(Role.OPERATOR)
        self._require_product(product_id)
        alt = clean_alt(alt)
        expires_at = self._clock.now().replace(microsecond=0) + timedelta(
            seconds=self._upload_url_ttl_s
        )
        token = self._tokens.sign(
            product_id,
            expires_at=expires_at,
            max_bytes=self.rules.max_bytes,
            alt=alt,
            actor=principal.actor,
        )
        return UploadUrl(self._upload_path + token, expires_at, self.rules.max_bytes)

    def complete_upload(self, token: str, data: bytes, content_type: str | None) -> AddedImage:
        """Add the image PUT to a signed upload URL; the token is the only credential.

        A tampered or malformed token is a 401, an expired one a 403. The event is recorded
        under the operator who asked for the URL.
        """
        claims = self._tokens.verify(token, self._clock.now())
        declared = (content_type or "").split(";", 1)[0].strip().lower()
        if declared not in DECLARABLE_TYPES:
            raise ValidationFailed.on(
                "content_type",
                "Send the image with Content-Type image/jpeg, image/png or image/webp",
                "unsupported_media_type",
            )
        if len(data) > claims.max_bytes:
            raise ValidationFailed.on(
                "body", f"The file is larger than {claims.max_bytes} bytes", "too_large"
            )
        self._require_product(claims.product_id)
        processed = process_image(data, self.rules, field="body")
        return self._add(claims.actor, claims.product_id, processed, claims.alt)

    def _add(
        self, actor: Actor, product_id: str, processed: ProcessedImage, alt: str
    ) -> AddedImage:
        existing = self._find(product_id, processed.sha256)
        if existing is not None:
            return AddedImage(existing, created=False)
        renditions = {
            name: Rendition(
                key=rendition_key(product_id, encoded.sha256, encoded.format),
                width=encoded.width,
                height=encoded.height,
                content_type=encoded.content_type,
                bytes=len(encoded.data),
            )
            for name, encoded in processed.files.items()
        }
        written = self._write_blobs(processed, renditions)
        try:
            image = self._insert(actor, product_id, processed, renditions, alt)
        except IntegrityError:
            # A concurrent request added the same image first: answer with it, and keep the
            # blobs, which are its files too.
            existing = self._find(product_id, processed.sha256)
            if existing is None:
                self._delete_blobs(written)
                raise
            return AddedImage(existing, created=False)
        except BaseException:
            self._delete_blobs(written)  # compensation for step 2
            raise
        return AddedImage(image, created=True)

    def _insert(
        self,
        actor: Actor,
        product_id: str,
        processed: ProcessedImage,
        renditions: dict[str, Rendition],
        alt: str,
    ) -> ProductImage:
        with self._uow(actor) as uow:
            count, last = store.count_and_last_position(uow.conn, product_id)
            if count >= MAX_IMAGES_PER_PRODUCT:
                raise Conflict(f"A product has at most {MAX_IMAGES_PER_PRODUCT} images")
            image = ProductImage(
                id=new_id("img"),
                product_id=product_id,
                position=last + 1,
                alt=alt,
                sha256=processed.sha256,
                width=processed.width,
                height=processed.height,
                format=processed.format,
                renditions=renditions,
                created_at=self._clock.now(),
            )
            store.insert(uow.conn, image)
            uow.record(
                ProductImageAdded(
                    product_id=product_id,
                    image_id=image.id,
                    position=image.position,
                    alt=alt,
                    sha256=image.sha256,
                    width=image.width,
                    height=image.height,
                    format=image.format,
                )
            )
            uow.commit()
        return image

    def _write_blobs(
        self, processed: ProcessedImage, renditions: dict[str, Rendition]
    ) -> list[str]:
        """Write every rendition not stored yet; return the keys this call created."""
        written: list[str] = []
        try:
            for name, rendition in renditions.items():
                if rendition.key in written or self._blobs.exists(rendition.key):
                    continue  # content-addressed: an existing key already holds these bytes
                encoded = processed.files[name]
                self._blobs.put(rendition.key, encoded.data, encoded.content_type)
                written.append(rendition.key)
        except BaseException:
            self._delete_blobs(written)
            raise
        return written

    def _delete_blobs(self, keys: Sequence[str]) -> None:
        for key in keys:
            try:
                self._blobs.delete(key)
            except Exception:  # best effort: a leftover is reused by a retry of the upload
                log.warning("could not delete blob %s", key, exc_info=True)

    # --- reading ------------------------------------------------------------------------------

    def list_images(self, product_id: str) -> list[ProductImage]:
        """The images of an existing product, in display order (404 for an unknown product)."""
        self._require_product(product_id)
        return self.images_for([product_id]).get(product_id, [])

    def images_for(self, product_ids: Sequence[str]) -> dict[str, list[ProductImage]]:
        """Images of many products in one query, each list in display order.

        Products without images are missing from the result. No existence check: this is the
        catalog's bulk read for listing and detail pages.
        """
        with self._db.read() as conn:
            images = store.for_products(conn, product_ids)
        result: dict[str, list[ProductImage]] = {}
        for image in images:
            result.setdefault(image.product_id, []).append(image)
        return result

    def url(self, key: str) -> str:
        """The public URL of a rendition key (an absolute path for the local store)."""
        return self._blobs.url(key)

    def read_file(self, key: str) -> MediaFile:
        """A rendition's bytes for ``GET /media/…``; anything but a rendition key is a 404."""
        media_key = parse_media_key(key)
        if not self._serves_files or media_key is None:
            raise NotFound("No such file")
        data = self._blobs.get(media_key.key)
        return MediaFile(data, media_key.content_type, f'"{media_key.sha256}"')

    # --- changing -----------------------------------------------------------------------------

    def remove_image(self, principal: Principal, product_id: str, image_id: str) -> None:
        """Remove an image and then its files (operators only); an unknown image is a 404.

        Files still used by another image of the product are kept. A crash between the commit
        and the deletion leaves unreferenced files, never a row without its files.
        """
        principal.require_role(Role.OPERATOR)
        self._require_product(product_id)
        with self._uow(principal.actor) as uow:
            image = store.get(uow.conn, product_id, image_id) if is_valid_id(image_id) else None
            if image is None or not store.delete(uow.conn, image.id):
                raise NotFound("No such image")
            still_used = {
                key
                for other in store.for_products(uow.conn, [product_id])
                for key in other.blob_keys()
            }
            uow.record(ProductImageRemoved(product_id=product_id, image_id=image.id))
            uow.commit()
        # shared pictures belong to no product: other products may still show them
        owned = {k for k in image.blob_keys() - still_used if not k.startswith(SHARED_PREFIX)}
        self._delete_blobs(sorted(owned))

    def reorder(
        self, principal: Principal, product_id: str, image_ids: list[str]
    ) -> list[ProductImage]:
        """Put the product's images in the order given, which must name each exactly once."""
        principal.require_role(Role.OPERATOR)
        self._require_product(product_id)
        with self._uow(principal.actor) as uow:
            current = store.for_products(uow.conn, [product_id])
            check_reorder([image.id for image in current], image_ids)
            store.set_positions(uow.conn, product_id, image_ids)
            uow.record(ProductImagesReordered(product_id=product_id, image_ids=list(image_ids)))
            uow.commit()
        return self.images_for([product_id]).get(product_id, [])

    # --- helpers ------------------------------------------------------------------------------

    def _require_product(self, product_id: str) -> None:
        if not is_valid_id(product_id) or not self._product_exists(product_id):
            raise NotFound("No such product")

    def _find(self, product_id: str, sha256: str) -> ProductImage | None:
        with self._db.read() as conn:
            return store.find_by_sha256(conn, product_id, sha256)
