"""Catalog use cases: products, variants and offers; product pages and search.

Every write runs in one unit of work that also records its events and updates the search
index, so the catalog, its audit trail and what shoppers can find never disagree. The rules
applied on the way in (patch merging, batch error numbering, constraint violations as 409s)
are in ``write_rules``; the product page view is assembled in ``product_view``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bazaar.catalog import indexing, product_store, stock_view
from bazaar.catalog.building import (
    CategoryCache,
    References,
    build_offers,
    product_fields,
)
from bazaar.catalog.checkout_view import load_checkout_offers
from bazaar.catalog.drafts import OfferDraft, OfferPatch, ProductDraft, ProductPatch, VariantPatch
from bazaar.catalog.events import (
    OfferCreated,
    OfferUpdated,
    ProductArchived,
    ProductUpdated,
    VariantAdded,
    VariantUpdated,
)
from bazaar.catalog.model import (
    CheckoutOffer,
    ImageRef,
    Offer,
    OfferStock,
    Product,
    ProductStatus,
    Variant,
    VariantDraft,
    check_variant,
)
from bazaar.catalog.new_products import find_duplicates, insert_built, product_created
from bazaar.catalog.product_page import load_product_page
from bazaar.catalog.product_view import ProductView, assemble_product_view
from bazaar.catalog.write_rules import (
    build_batch,
    merged_product_draft,
    offer_conflict,
    offer_event,
    patched_offer,
    unprefix,
    variant_conflict,
)
from bazaar.identity.model import Principal, Role
from bazaar.infra import collector
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.search.index import SearchIndex

UowFactory = Callable[[Actor], SqlUnitOfWork]
# product ids -> their images in display order; one query for any number of products
ImageSource = Callable[[Sequence[str]], Mapping[str, Sequence[ImageRef]]]
# called after each commit (cache invalidation): the listings always, and the pages of the
# products whose ids it is given
ChangeListener = Callable[[Sequence[str]], None]


class CatalogService:
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

    # --- products ----------------------------------------------------------------------------

    def create_product(self, principal: Principal, draft: ProductDraft) -> Product:
        """Create a product with its variants and offers; a 422 names every bad field.

        A SKU or GTIN already in use is a 409 naming the variant's field.
        """
        return self.create_products(principal, [draft])[0]

    def create_products(
        self,
        principal: Principal,
        drafts: Sequence[ProductDraft],
        on_commit: Callable[[Connection], None] | None = None,
    ) -> list[Product]:
        """Create a batch all-or-nothing: one transaction, a fixed number of statements.

        Errors are reported per product as ``[i].field`` when the batch has more than one.
        ``on_commit`` runs in the transaction just before it commits (a bulk import records
        its checkpoint there); if it raises, nothing is written.
        """
        principal.require_role(Role.OPERATOR)
        # a batch's objects are freed by reference counting: no collector passes over them
        with collector.paused(), self._uow(principal.actor) as uow:
            # Batches reuse the categories parsed for earlier ones; a single product reads its
            # category directly (a cache miss costs a second query, more than parsing one row).
            cache = self._categories if len(drafts) > 1 else None
            refs = References(uow.conn, cache).preload(
                {d.category for d in drafts},
                {d.brand for d in drafts if d.brand is not None},
                {o.fulfiller_id for d in drafts for o in d.offers},
            )
            built = build_batch(uow.conn, drafts, refs, self._clock.now(), self._currency)
            products = [p for p, _ in built]
            try:
                insert_built(uow.conn, built)
            except IntegrityError as exc:
                # a concurrent writer took a SKU or GTIN between our check and insert
                conflict = variant_conflict(exc, single=len(drafts) == 1)
                if conflict is None:
                    raise
                raise conflict from exc
            # One event per product, its first offers included: a bulk import writes
            # one outbox row per product, not one per offer as well.
            for product, offers in built:
                uow.record(product_created(product, offers))
            indexing.index_new(
                uow.conn,
                self._index,
                built,
                currency=self._currency,
                category_chain=lambda cid: refs.category_chain(cid),
                brand=refs.brand,
            )
            if on_commit is not None:
                on_commit(uow.conn)
            uow.commit()
        # Only the listings: a product created just now has no cached page of its own yet, and
        # dropping a namespace per product would cost a cache round trip each.
        self._on_change([])
        return products

    def update_product(self, principal: Principal, product_id: str, patch: ProductPatch) -> Product:
        """Change a product's fields; attributes are re-validated against its category."""
        principal.require_role(Role.OPERATOR)
        with self._uow(principal.actor) as uow:
            current = self._load(uow.conn, product_id)
            draft = merged_product_draft(current, patch)
            fields = asdict(product_fields(draft, References(uow.conn)))
            product = replace(current, **fields, updated_at=self._clock.now())
            changed = tuple(sorted(k for k, v in fields.items() if getattr(current, k) != v))
            if not changed:
                return current
            product_store.update_product(uow.conn, product)
            if product.status is ProductStatus.ARCHIVED and current.status is not product.status:
                uow.record(ProductArchived(product_id=product.id))
            else:
                uow.record(
                    ProductUpdated(
                        product_id=product.id, changed=changed, status=product.status.value
                    )
                )
            self._reindex(uow.conn, [product.id])
            uow.commit()
        self._on_change([product.id])
        return product

    def archive_product(self, principal: Principal, product_id: str) -> Product:
        """Take a product off sale: it leaves search and public pages; its history stays."""
        patch = ProductPatch(provided=frozenset({"status"}), status=ProductStatus.ARCHIVED)
        return self.update_product(principal, product_id, patch)

    def add_variant(self, principal: Principal, product_id: str, draft: VariantDraft) -> Variant:
        principal.require_role(Role.OPERATOR)
        if errors := check_variant(draft, "variant"):
            raise ValidationFailed("The variant has invalid fields", errors=unprefix(errors))
        with self._uow(principal.actor) as uow:
            product = self._load(uow.conn, product_id)
            variant = Variant(
                id=new_id("var"),
                product_id=product.id,
                sku=draft.sku,
                options=dict(draft.options),
                gtin=draft.gtin,
                weight_g=draft.weight_g,
                dimensions=draft.dimensions,
                position=len(product.variants),
            )
            if dupes := find_duplicates(uow.conn, [[draft]], multi=False):
                raise Conflict("The SKU or GTIN is already in use", errors=unprefix(dupes))
            product_store.insert_variants(uow.conn, [variant])
            uow.record(VariantAdded(product_id=product.id, variant_id=variant.id, sku=variant.sku))
            self._reindex(uow.conn, [product.id])
            uow.commit()
        self._on_change([product.id])
        return variant

    def update_variant(
        self, principal: Principal, product_id: str, variant_id: str, patch: VariantPatch
    ) -> Variant:
        principal.require_role(Role.OPERATOR)
        with self._uow(principal.actor) as uow:
            product = self._load(uow.conn, product_id)
            current = next((v for v in product.variants if v.id == variant_id), None)
            if current is None:
                raise NotFound("No such variant")
            values = {k: getattr(patch, k) for k in patch.provided}
            variant = replace(current, **values)
            draft = VariantDraft(
                variant.sku, variant.options, variant.gtin, variant.weight_g, variant.dimensions
            )
            if errors := check_variant(draft, "variant"):
                raise ValidationFailed("The variant has invalid fields", errors=unprefix(errors))
            new_gtin = variant.gtin if variant.gtin != current.gtin else None
            if new_gtin is not None and product_store.existing_gtins(uow.conn, [new_gtin]):
                raise Conflict(
                    "The GTIN is already in use",
                    errors=[FieldError("gtin", "Already in use", "duplicate")],
                )
            product_store.update_variant(uow.conn, variant)
            uow.record(
                VariantUpdated(
                    product_id=product.id, variant_id=variant.id, changed=tuple(sorted(values))
                )
            )
            self._reindex(uow.conn, [product.id])
            uow.commit()
        self._on_change([product.id])
        return variant

    # --- offers ------------------------------------------------------------------------------

    def create_offer(self, principal: Principal, product_id: str, draft: OfferDraft) -> Offer:
        """A fulfiller's price and stock for one variant; one offer per fulfiller and variant."""
        principal.require_role(Role.OPERATOR)
        with self._uow(principal.actor) as uow:
            product = self._load(uow.conn, product_id)
            refs = References(uow.conn)
            now = self._clock.now()
            offer = build_offers(product, [draft], refs, now, self._currency)[0]
            try:
                product_store.insert_offers(uow.conn, [offer])
            except IntegrityError as exc:
                conflict = offer_conflict(exc)
                if conflict is None:
                    raise
                raise conflict from exc
            uow.record(offer_event(OfferCreated, offer))
            self._reindex(uow.conn, [product.id])
            uow.commit()
        self._on_change([product.id])
        return offer

    def update_offer(self, principal: Principal, offer_id: str, patch: OfferPatch) -> Offer:
        principal.require_role(Role.OPERATOR)
        with self._uow(principal.actor) as uow:
            current = (
                product_store.get_offer(uow.conn, offer_id)
                if is_valid_id(offer_id, "ofr")
                else None
            )
            if current is None:
                raise NotFound("No such offer")
            offer, changed = patched_offer(current, patch, self._clock.now(), self._currency)
            if not changed:
                return current
            product_store.update_offer(uow.conn, offer)
            uow.record(offer_event(OfferUpdated, offer, changed=changed))
            self._reindex(uow.conn, [offer.product_id])
            uow.commit()
        self._on_change([offer.product_id])
        return offer

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

    # --- internals ---------------------------------------------------------------------------

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
