"""Turning catalog rows into search documents, and keeping the index in step with writes.

The catalog updates the search index inside the same transaction as the change itself, so a
committed product is always findable and an archived one never is. Changes made elsewhere
(images) arrive as events and go through :func:`reindex` too. A document carries the
product's active offers, so every offer, price and stock change that the catalog writes
reindexes its product in the same transaction.

A document's price (what sorting by price, the price filter and the price facet use) is the
from price a guest sees: each offer's base price with the guest price mark the pricing rules
give it (:mod:`bazaar.catalog.shelf_index` keeps the marks and reindexes the products whose
marks change). The offers it carries keep their base prices: a listing card prices them for
whoever is looking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.engine import Connection

from bazaar.catalog import product_store, shelf_store, store
from bazaar.catalog.attributes import index_value
from bazaar.catalog.model import (
    Brand,
    Offer,
    OfferStatus,
    Product,
    ProductStatus,
    from_price,
)
from bazaar.kernel.money import Money
from bazaar.pricing.shelf_table import ShelfMark
from bazaar.search.index import SearchIndex
from bazaar.search.model import SearchDocument
from bazaar.search.offers import IndexedOffer

# product ids -> the listing thumbnail URL of those that have one
Thumbnails = Callable[[Sequence[str]], Mapping[str, str]]


def document_for(
    product: Product,
    category_chain: tuple[str, ...],
    brand: Brand | None,
    offers: Sequence[Offer],
    currency: str,
    image_url: str | None,
    marks: Mapping[str, ShelfMark] | None = None,
) -> SearchDocument:
    """The search document of an active product: what listings filter, facet and show.

    ``category_chain`` is the product's category with its ancestors, root first. It carries
    the active offers (in id order) a listing card prices: whether an offer is in stock, not
    how many units it has, so a stock count that stays above zero changes no document.
    ``marks``: the guest price marks of the offers that have one; the document's price is
    the from price at those prices.
    """
    price, in_stock = from_price(guest_priced(offers, marks, currency) if marks else offers)
    active = sorted((o for o in offers if o.status is OfferStatus.ACTIVE), key=lambda o: o.id)
    sellers = sorted({o.fulfiller_id for o in active})
    attributes: dict[str, tuple[str, ...]] = {
        name: (index_value(value),) for name, value in product.attributes.items()
    }
    # Variant options (size, colour) are filterable like attributes: a product matches
    # "size=M" when any of its variants comes in M.
    for variant in product.variants:
        for name, value in variant.options.items():
            values = attributes.get(name, ())
            if value not in values:
                attributes[name] = (*values, value)
    return SearchDocument(
        product_id=product.id,
        title=product.title,
        description=product.description,
        brand_id=brand.id if brand else None,
        brand_name=brand.name if brand else None,
        category_ids=category_chain,
        seller_ids=tuple(sellers),
        price=price.amount if price else None,
        currency=price.currency if price else currency,
        in_stock=in_stock,
        rating=product.rating,
        attributes=attributes,
        image_url=image_url,
        created_at=product.created_at,
        offers=tuple(
            IndexedOffer(
                o.id,
                o.price.amount,
                o.shipping.amount,
                o.price.currency,
                o.fulfiller_id,
                o.stock > 0,
            )
            for o in active
        ),
    )


def guest_priced(
    offers: Sequence[Offer], marks: Mapping[str, ShelfMark], currency: str
) -> list[Offer]:
    """``offers`` at the unit price a guest sees: marks are in the store's ``currency``;
    offers without one, or priced in another currency, keep their base price."""
    priced: list[Offer] = []
    for offer in offers:
        mark = marks.get(offer.id)
        if mark is not None and offer.price.currency == currency:
            amount = mark.apply(offer.price.amount)
            if amount != offer.price.amount:
                offer = dataclasses.replace(offer, price=Money(amount, offer.price.currency))
        priced.append(offer)
    return priced


def index_new(
    conn: Connection,
    index: SearchIndex,
    built: Sequence[tuple[Product, Sequence[Offer]]],
    *,
    currency: str,
    category_chain: Callable[[str], tuple[str, ...]],
    brand: Callable[[str], Brand | None],
) -> None:
    """Index products just created from the objects in hand, without reading them back.

    New products have no images yet; :func:`reindex` picks the thumbnail up when one is added.
    Their offers are new too, so no pricing rule names them: they have no price marks.
    """
    docs = [
        document_for(
            product,
            category_chain(product.category_id),
            brand(product.brand_id) if product.brand_id else None,
            offers,
            currency,
            None,
        )
        for product, offers in built
        if product.status is ProductStatus.ACTIVE
    ]
    if docs:
        # taken by every transaction before it writes index rows, so none waits for the
        # marks lock while holding rows a sync needs (see bazaar.catalog.shelf_store)
        shelf_store.lock_marks(conn, exclusive=False)
        index.upsert(conn, docs)


def reindex(
    conn: Connection,
    index: SearchIndex,
    product_ids: Sequence[str],
    *,
    currency: str,
    thumbnails: Thumbnails | None,
) -> None:
    """Bring the index in line with the products' current rows, on ``conn``'s transaction.

    Active products are (re)indexed; drafts, archived and deleted ones are removed. A fixed
    number of statements whatever the batch size. The offers' guest price marks are read
    under the marks lock (:func:`bazaar.catalog.shelf_store.lock_marks`), so a document is
    never written from marks that a concurrent :class:`~bazaar.catalog.shelf_index.ShelfIndex`
    sync is replacing.
    """
    if not product_ids:
        return
    # before any index row is written: see bazaar.catalog.shelf_store.lock_marks
    shelf_store.lock_marks(conn, exclusive=False)
    products = product_store.products_by_ids(conn, product_ids)
    active = [p for p in products.values() if p.status is ProductStatus.ACTIVE]
    active_ids = {p.id for p in active}
    gone = [pid for pid in product_ids if pid not in active_ids]
    if gone:
        index.remove(conn, gone)
    if not active:
        return
    # only the chains: parsing every category's attribute declarations costs more than
    # the rest of the document together on large batches
    chains = store.category_chains(conn, {p.category_id for p in active})
    brands = store.brands_by_ids(conn, {p.brand_id for p in active if p.brand_id})
    offers = product_store.offers_for_products(conn, [p.id for p in active])
    marks = shelf_store.marks_of_products(conn, [p.id for p in active])
    thumbs = thumbnails([p.id for p in active]) if thumbnails else {}
    index.upsert(
        conn,
        [
            document_for(
                p,
                chains[p.category_id],
                brands.get(p.brand_id) if p.brand_id else None,
                offers.get(p.id, []),
                currency,
                thumbs.get(p.id),
                marks,
            )
            for p in active
        ],
    )
