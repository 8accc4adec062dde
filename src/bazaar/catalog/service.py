"""Catalog use cases: products, variants and offers; product pages and search.

:class:`CatalogService` is the one object other contexts are given. The writes (products,
variants, offers, each in one unit of work with its events and search documents) are in
:mod:`~bazaar.catalog.product_writes`; this module holds the rest: product pages
(assembled in ``product_view``), search document refreshes, what carts and checkout read of
offers, and the offer stock inventory reads and sets. What both share (dependencies, loading
a product, reindexing) is in :mod:`~bazaar.catalog.service_core`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.engine import Connection

from bazaar.catalog import product_store, stock_view
from bazaar.catalog.checkout_view import load_checkout_offers
from bazaar.catalog.model import CheckoutOffer, OfferStock, Product, ProductStatus
from bazaar.catalog.product_page import load_product_page
from bazaar.catalog.product_view import ProductView, assemble_product_view
from bazaar.catalog.product_writes import ProductWrites
from bazaar.kernel.errors import NotFound
from bazaar.kernel.ids import is_valid_id


class CatalogService(ProductWrites):
    """Product, variant and offer writes, pages, search refreshes and offer views for other
    contexts (see :class:`~bazaar.catalog.service_core.CatalogCore` for the constructor)."""

    # --- reads -------------------------------------------------------------------------------

    def product_exists(self, product_id: str) -> bool:
        """Whether a product with this id exists, whatever its status."""
        if not is_valid_id(product_id, "prd"):
            return False
        with self._db.read() as conn:
            return product_store.product_exists(conn, product_id)

    def get_product(self, product_id: str, *, staff: bool = False) -> Product:
        with self._db.read() as conn:
            product = self._load(conn, product_id)
        if not staff and product.status is not ProductStatus.ACTIVE:
            raise NotFound("No such product")
        return product

    def product_view(self, product_id: str, *, staff: bool = False) -> ProductView:
        """A product page: product, variants, offers with their buy box, images.

        Drafts and archived products are visible to staff only. Three queries, and one for the
        images, whatever the number of variants, offers or images, in one read transaction:
        the images are read through the media context, which joins it (Database.reading), so
        the page is one snapshot and pays for one BEGIN.
        """
        with self._db.reading(), self._db.read() as conn:
            rows = load_product_page(conn, product_id) if is_valid_id(product_id, "prd") else None
            if rows is None or (not staff and rows.product.status is not ProductStatus.ACTIVE):
                raise NotFound("No such product")
            product = rows.product
            images = self._images([product.id]).get(product.id, ()) if self._images else ()
        return assemble_product_view(rows, images)

    def reindex(self, product_ids: Sequence[str]) -> None:
        """Refresh the search documents of these products (after image, stock or price events)."""
        with self._db.write() as conn:
            self._reindex(conn, product_ids)
        self._on_change(product_ids)

    def reindex_in(self, conn: Connection, product_ids: Sequence[str]) -> None:
        """As :meth:`reindex`, on the caller's write transaction; dropping cached pages is
        the caller's to do after it commits."""
        self._reindex(conn, product_ids)

    def reindex_brand(self, brand_id: str, batch_size: int = 1000) -> None:
        """Refresh the documents of every product of a brand (after a rename), in batches."""
        after: str | None = None
        while True:
            with self._db.read() as conn:
                ids = product_store.product_ids_of_brand(
                    conn, brand_id, after_id=after, limit=batch_size
                )
            if not ids:
                return
            self.reindex(ids)
            after = ids[-1]

    # --- checkout ----------------------------------------------------------------------------

    def checkout_offers(self, offer_ids: Sequence[str]) -> dict[str, CheckoutOffer]:
        """What carts and checkout need of these offers, by id, in one query.

        Unknown or malformed ids are absent from the answer; status and stock are returned
        as they are, so the caller decides what an inactive or sold-out offer means.
        """
        wanted = [i for i in offer_ids if is_valid_id(i, "ofr")]
        if not wanted:
            return {}
        with self._db.read() as conn:
            return load_checkout_offers(conn, wanted)

    # --- stock (inventory is its source) -------------------------------------------------------

    def offer_stocks(
        self,
        *,
        product_ids: Sequence[str] | None = None,
        after_offer_id: str | None = None,
        limit: int | None = None,
    ) -> list[OfferStock]:
        """Offers' stock by (variant SKU, fulfiller), in offer id order: those of
        ``product_ids``, or a page of all offers after ``after_offer_id``."""
        with self._db.read() as conn:
            return stock_view.offer_stocks(
                conn, product_ids=product_ids, after_id=after_offer_id, limit=limit
            )

    def set_offer_stock(self, levels: Mapping[tuple[str, str], int]) -> int:
        """Set offers' stock to inventory's available units, keyed ``(sku, fulfiller id)``,
        and drop the cached pages of the products that changed; return how many did. Offers
        without a key are left alone. Search documents are rebuilt, in the same transaction,
        only where an offer went in or out of stock: the index holds no counts.

        Records no event: inventory already recorded ``StockChanged``, and an
        ``OfferUpdated`` here would be read back by inventory as a staff edit of stock.
        """
        if not levels:
            return 0
        with self._db.write() as conn:
            written = stock_view.set_offer_stocks(conn, levels, self._clock.now())
            if written.relisted:
                self._reindex(conn, written.relisted)
        if written.touched:
            self._on_change(written.touched)
        return len(written.touched)
