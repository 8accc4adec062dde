"""What every part of :class:`~bazaar.catalog.service.CatalogService` shares: its
dependencies, the ports it is given (units of work, product images, change listeners), and
the helpers that load a product and refresh its search documents.

Separate so that the write use cases (:mod:`~bazaar.catalog.product_writes`) and the reads
(:mod:`~bazaar.catalog.service`) can each live in a module of their own over one constructor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.engine import Connection

from bazaar.catalog import indexing, product_store
from bazaar.catalog.building import CategoryCache
from bazaar.catalog.model import ImageRef, Product
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import NotFound
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id
from bazaar.search.index import SearchIndex

UowFactory = Callable[[Actor], SqlUnitOfWork]
# product ids -> their images in display order; one query for any number of products
ImageSource = Callable[[Sequence[str]], Mapping[str, Sequence[ImageRef]]]
# called after each commit (cache invalidation): the listings always, and the pages of the
# products whose ids it is given
ChangeListener = Callable[[Sequence[str]], None]


class CatalogCore:
    """The dependencies every part of ``CatalogService`` is built with, and their helpers."""

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        index: SearchIndex,
        *,
        currency: str,
        images: ImageSource | None = None,
        on_change: ChangeListener | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._index = index
        self._currency = currency
        self._images = images
        self._on_change = on_change or (lambda ids: None)
        self._categories = CategoryCache()  # shared by create_products batches

    def _reindex(self, conn: Connection, product_ids: Sequence[str]) -> None:
        indexing.reindex(
            conn, self._index, product_ids, currency=self._currency, thumbnails=self._thumbnails
        )

    def _thumbnails(self, product_ids: Sequence[str]) -> Mapping[str, str]:
        if self._images is None:
            return {}
        return {pid: imgs[0].thumb_url for pid, imgs in self._images(product_ids).items() if imgs}

    def _load(self, conn: Connection, product_id: str) -> Product:
        product = (
            product_store.get_product(conn, product_id) if is_valid_id(product_id, "prd") else None
        )
        if product is None:
            raise NotFound("No such product")
        return product
