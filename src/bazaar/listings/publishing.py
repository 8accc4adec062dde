"""Putting approved listings on sale: the catalog offer (and product) a listing becomes.

Runs as the ``listings.publish`` handler of ``ListingApproved`` (see handlers.py), so it is
delivered at least once, after the approval committed, and retried with backoff when it
fails. Every part is repeatable:

* an offer on a catalog product: the seller's offer on the variant is created, or updated
  to the listing's price when the seller already has one (there is at most one per seller
  and variant), so a second delivery finds its own offer and changes nothing;
* a new product: its single variant's SKU is the listing id, so a second delivery finds the
  product it made. If another listing created a product with the same GTIN meanwhile, this
  one becomes an offer on that product instead of failing. Images are imported by URL; the
  media context keeps one copy of identical pixels, so importing twice adds nothing.

The revision that went live is recorded with ``ListingPublished``. A catalog refusal that
retrying cannot cure is recorded on the listing (``publish_error``) and raised, so the
delivery ends in the operators' dead-letter view, from where it can be replayed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal

from bazaar.catalog.drafts import OfferDraft, OfferPatch, ProductDraft
from bazaar.catalog.model import OfferStatus, VariantDraft, slugify
from bazaar.catalog.offer_matching import OfferMatching
from bazaar.catalog.service import CatalogService
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, DomainError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.money import Money
from bazaar.listings import store
from bazaar.listings.checks import ImageOutcome, ProductRef
from bazaar.listings.events import ListingPublished
from bazaar.listings.images import outcome_of
from bazaar.listings.records import APPROVED_STATES
from bazaar.listings.workflow import ListingValidation
from bazaar.media.service import MediaService

log = logging.getLogger("bazaar.listings")

UowFactory = Callable[[Actor], SqlUnitOfWork]
# The catalog writes as this system operator; the audit log names it for what it writes.
PUBLISHER = Principal(kind="system", id="listing-publisher", role=Role.OPERATOR)


class ImageHostDown(Exception):
    """An image host failed while a new product imported its images: try again later."""


def catalog_value(value: object) -> object:
    """An attribute value as the catalog stores it (numbers are int or float there)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class ListingPublisher:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        catalog: CatalogService,
        taxonomy: TaxonomyService,
        matching: OfferMatching,
        media: MediaService,
        *,
        fulfiller_name: Callable[[str], str | None] | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        self._taxonomy = taxonomy
        self._matching = matching
        self._media = media
        self._fulfiller_name = fulfiller_name or (lambda seller_id: None)

    def publish(self, listing_id: str, revision: int) -> None:
        """Put ``revision`` of the listing on sale, once; a later revision or a listing no
        longer approved is left alone (the event was superseded)."""
        with self._db.read() as conn:
            record = store.get_listing(conn, listing_id)
        if record is None or record.published_revision == revision:
            return
        v = record.validation
        if v.revision != revision or v.state not in APPROVED_STATES:
            return
        try:
            self._ensure_fulfiller(v.seller_id)
            if v.match is not None:
                product_id, offer_id = self._offer(v.seller_id, v.match.product, v.draft.price)
            else:
                product_id, offer_id = self._new_product(v)
        except DomainError as exc:
            with self._db.write() as conn:
                reason = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
                store.record_publish_error(conn, v.id, revision, reason, self._clock.now())
            raise
        with self._uow(PUBLISHER.actor) as uow:
            if store.mark_published(
                uow.conn,
                v.id,
                revision,
                product_id=product_id,
                offer_id=offer_id,
                now=self._clock.now(),
            ):
                uow.record(
                    ListingPublished(
                        listing_id=v.id,
                        seller_id=v.seller_id,
                        revision=revision,
                        product_id=product_id,
                        offer_id=offer_id,
                        new_product=v.match is None,
                    )
                )
            uow.commit()

    def _ensure_fulfiller(self, seller_id: str) -> None:
        # Seller onboarding creates the fulfiller when it approves a seller; one it has not
        # created yet is named after the seller's trading name, or its id.
        if not self._taxonomy.fulfillers([seller_id]):
            name = self._fulfiller_name(seller_id) or seller_id
            self._taxonomy.set_fulfiller(PUBLISHER, seller_id, name, None)

    def _offer(self, seller_id: str, product: ProductRef, price: Money) -> tuple[str, str]:
        variant_id = product.variant_id or self._matching.first_variant(product.product_id)
        if variant_id is None:
            raise NotFound(f"Product {product.product_id} has no variant to offer")
        for _attempt in (1, 2):
            existing = self._matching.offer_of(variant_id, seller_id)
            if existing is not None:
                patch = OfferPatch(price=price, status=OfferStatus.ACTIVE)
                offer = self._catalog.update_offer(PUBLISHER, existing, patch)
                return offer.product_id, offer.id
            try:
                draft = OfferDraft(variant=variant_id, price=price, fulfiller_id=seller_id)
                offer = self._catalog.create_offer(PUBLISHER, product.product_id, draft)
            except Conflict:
                continue  # the seller's offer appeared meanwhile: update it instead
            return offer.product_id, offer.id
        raise Conflict(f"Could not place the offer on {product.product_id}")

    def _new_product(self, v: ListingValidation) -> tuple[str, str]:
        d = v.draft
        made = self._matching.variant_by_sku(v.id)
        if made is None:
            draft = ProductDraft(
                title=d.title,
                category=d.category_id,
                variants=[VariantDraft(v.id, gtin=d.gtin or None)],
                description=d.description,
                brand=self._brand(d.brand) if d.brand else None,
                attributes=_catalog_attributes(d.attributes),
                mpn=d.mpn.strip() if d.mpn and d.mpn.strip() else None,
                offers=[OfferDraft(variant=v.id, price=d.price, fulfiller_id=v.seller_id)],
            )
            try:
                product = self._catalog.create_product(PUBLISHER, draft)
            except Conflict as exc:
                taken = d.gtin and any(e.field.endswith("gtin") for e in exc.errors)
                if not taken or d.gtin is None:
                    raise
                # another listing made this product first: offer on it instead
                key = self._matching.products_by_gtins([d.gtin]).get(d.gtin)
                if key is None:
                    raise
                return self._offer(v.seller_id, ProductRef(key.product_id, key.variant_id), d.price)
            made_id = product.id
        else:
            made_id = made.product_id
        self._import_images(made_id, d.image_urls)
        _, offer_id = self._offer(v.seller_id, ProductRef(made_id, None), d.price)
        return made_id, offer_id

    def _brand(self, name: str) -> str:
        """The catalog brand named ``name`` (by its slug), created when there is none."""
        slug = slugify(name)
        for _attempt in (1, 2):
            try:
                return self._taxonomy.get_brand(slug).id
            except NotFound:
                pass
            try:
                return self._taxonomy.create_brand(PUBLISHER, name, slug).id
            except Conflict:
                continue  # created meanwhile by another listing
        raise Conflict(f"Could not find or create the brand {name!r}")

    def _import_images(self, product_id: str, urls: tuple[str, ...]) -> None:
        for url in urls:
            try:
                self._media.import_from_url(PUBLISHER, product_id, url)
            except ValidationFailed as exc:
                if outcome_of(exc) is ImageOutcome.UNREACHABLE:
                    raise ImageHostDown(f"{url}: {exc.detail}") from exc
                # the image passed validation minutes ago; one that broke since is left out
                log.warning(
                    "listing image not imported",
                    extra={"product_id": product_id, "url": url, "error": exc.detail},
                )


def _catalog_attributes(values: Mapping[str, object]) -> dict[str, object]:
    return {name: catalog_value(v) for name, v in values.items() if v is not None}
