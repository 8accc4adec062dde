"""The product page as shoppers see it: the rows of one product turned into a view.

Separate from the catalog's write use cases because it is pure assembly over rows already
loaded (buy box per variant, from-price, stock), so it is the same for a fresh read and a
cached page and can be exercised without a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bazaar.catalog.model import (
    Brand,
    BuyBox,
    Category,
    Fulfiller,
    ImageRef,
    Offer,
    Product,
    choose_buy_box,
    from_price,
)
from bazaar.catalog.product_page import ProductPageRows
from bazaar.kernel.money import Money


@dataclass(frozen=True)
class ProductView:
    """Everything a product page shows, loaded in a fixed number of queries."""

    product: Product
    category: Category
    brand: Brand | None
    offers: Sequence[Offer]
    fulfillers: Mapping[str, Fulfiller]
    buy_boxes: Mapping[str, BuyBox | None]  # per variant id
    buy_box: BuyBox | None  # of the first variant that has one
    price: Money | None
    in_stock: bool
    images: Sequence[ImageRef]


def assemble_product_view(rows: ProductPageRows, images: Sequence[ImageRef]) -> ProductView:
    """Choose each variant's buy box among its offers, by price and fulfiller rating."""
    product, offers, fulfillers = rows.product, rows.offers, rows.fulfillers
    ratings = {fid: f.rating for fid, f in fulfillers.items()}
    buy_boxes = {
        v.id: choose_buy_box([o for o in offers if o.variant_id == v.id], ratings)
        for v in product.variants
    }
    price, in_stock = from_price(offers)
    return ProductView(
        product=product,
        category=rows.category,
        brand=rows.brand,
        offers=offers,
        fulfillers=fulfillers,
        buy_boxes=buy_boxes,
        buy_box=next((b for b in buy_boxes.values() if b is not None), None),
        price=price,
        in_stock=in_stock,
        images=images,
    )
