"""Catalog write use cases: products, their variants and their offers.

Every write runs in one unit of work that also records its events and updates the search
index, so the catalog, its audit trail and what shoppers can find never disagree. The rules
applied on the way in (patch merging, batch error numbering, constraint violations as 409s)
are in ``write_rules``. Separate from :mod:`~bazaar.catalog.service`, which serves pages
and search refreshes and what other contexts need of offers: these are the staff's use cases,
each with its own validation, conflicts and events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, replace

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bazaar.catalog import indexing, product_store
from bazaar.catalog.building import References, build_offers, product_fields
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
    Offer,
    Product,
    ProductStatus,
    Variant,
    VariantDraft,
    check_variant,
)
from bazaar.catalog.new_products import find_duplicates, insert_built, product_created
from bazaar.catalog.service_core import CatalogCore
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
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.ids import is_valid_id, new_id


class ProductWrites(CatalogCore):
    """Product, variant and offer writes of :class:`~bazaar.catalog.service.CatalogService`."""

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
