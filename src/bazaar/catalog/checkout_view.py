"""The catalog as checkout sees it: for offer ids, what is sold, by whom, at what price.

Carts and checkout read this through :meth:`CatalogService.checkout_offers`, never the
tables. One statement (offers joined to their variant, product and category) answers for
any number of offers, so a cart's cost in queries does not grow with its lines.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.catalog.model import CheckoutOffer, OfferStatus, ProductStatus
from bazaar.catalog.store import categories, offers, products, variants
from bazaar.kernel.money import Money

_CHECKOUT_OFFERS = (
    sa.select(
        offers.c.id,
        offers.c.product_id,
        offers.c.variant_id,
        offers.c.fulfiller_id,
        offers.c.price_amount,
        offers.c.currency,
        offers.c.stock,
        offers.c.status,
        products.c.title,
        products.c.status.label("product_status"),
        products.c.category_id,
        products.c.brand_id,
        categories.c.ancestor_ids,
        variants.c.sku,
        variants.c.weight_g,
    )
    .join(variants, variants.c.id == offers.c.variant_id)
    .join(products, products.c.id == offers.c.product_id)
    .join(categories, categories.c.id == products.c.category_id)
    # built whole, once: every cart change and every order asks it
    .where(offers.c.id.in_(sa.bindparam("ids", expanding=True)))
)


def load_checkout_offers(conn: Connection, offer_ids: Iterable[str]) -> dict[str, CheckoutOffer]:
    """The offers among ``offer_ids`` that exist, by id, in one query; unknown ids are absent."""
    wanted = sorted(set(offer_ids))
    if not wanted:
        return {}
    rows = conn.execute(_CHECKOUT_OFFERS, {"ids": wanted})
    return {
        row.id: CheckoutOffer(
            offer_id=row.id,
            product_id=row.product_id,
            variant_id=row.variant_id,
            title=row.title,
            product_status=ProductStatus(row.product_status),
            category_id=row.category_id,
            category_ancestor_ids=tuple(row.ancestor_ids),
            sku=row.sku,
            weight_g=row.weight_g,
            fulfiller_id=row.fulfiller_id,
            price=Money(row.price_amount, row.currency),
            stock=row.stock,
            status=OfferStatus(row.status),
            brand_id=row.brand_id,
        )
        for row in rows
    }
