"""Effective prices on catalog pages: offers, buy boxes and listing cards.

The pricing context decides each offer's unit price for the caller (price lists, sale prices,
price experiments); this module shows it. An offer keeps its base price beside the effective
one; the buy box and a product's "from" price compare effective landed prices (effective
unit price plus shipping), so the offer a shopper buys by default is the one that is cheapest
for them. No IO here: the offers come from the page's own reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from bazaar.catalog.model import Offer, OfferStatus, choose_buy_box, from_price
from bazaar.catalog.service import ProductView
from bazaar.kernel.money import Money
from bazaar.pricing.model import ListingPrices, OfferPrices
from bazaar.pricing.price_lists import EffectivePrice, PriceSource
from bazaar.search.offers import IndexedOffer


class OfferPricer(Protocol):
    """Prices a page's offers for the caller (:class:`bazaar.pricing.shelf.ShelfPricer`)."""

    def named(self, offer_ids: Iterable[str]) -> AbstractSet[str]:
        """Those of ``offer_ids`` whose price some rule may change for the caller."""
        ...

    def __call__(self, offers: Sequence[OfferPrices]) -> ListingPrices:
        """Effective prices of ``offers``; those at their base price may be left out."""
        ...


@dataclass(frozen=True)
class PricedProduct:
    """A product page with effective prices.

    ``view`` has its buy boxes and from price chosen on effective prices, but its offers
    as stored (base prices); ``prices`` has the effective price of each offer a rule
    priced. ``valid_until``: see :class:`bazaar.pricing.model.ListingPrices`.
    """

    view: ProductView
    prices: Mapping[str, EffectivePrice]
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CardPrice:
    """A listing card's from price: the lowest effective landed price of the product.

    ``compare_at`` is that offer's landed price before a sale, when higher; ``rule`` is
    the effective price behind it when a rule changed it (None: the base price).
    """

    price: Money
    compare_at: Money | None
    rule: EffectivePrice | None


def price_product(view: ProductView, pricer: OfferPricer | None) -> PricedProduct:
    """``view`` with its buy boxes and from price chosen on effective prices."""
    if pricer is None or not view.offers:
        return PricedProduct(view, {})
    priced = pricer([OfferPrices(o.id, o.product_id, (o.price,)) for o in view.offers])
    prices = {k: p for k, p in priced.prices.items() if p.source is not PriceSource.BASE}
    if not prices:
        return PricedProduct(view, {}, priced.valid_until)
    effective = [_repriced(o, prices.get(o.id)) for o in view.offers]
    ratings = {fid: f.rating for fid, f in view.fulfillers.items()}
    buy_boxes = {
        v.id: choose_buy_box([o for o in effective if o.variant_id == v.id], ratings)
        for v in view.product.variants
    }
    price, in_stock = from_price(effective)
    shown = replace(
        view,
        buy_boxes=buy_boxes,
        buy_box=next((b for b in buy_boxes.values() if b is not None), None),
        price=price,
        in_stock=in_stock,
    )
    return PricedProduct(shown, prices, priced.valid_until)


def card_prices(
    products: Mapping[str, Sequence[IndexedOffer]], pricer: OfferPricer
) -> tuple[dict[str, CardPrice], datetime | None]:
    """The from price of each product of ``products`` (its active offers) a rule may change,
    by product id.

    As :func:`bazaar.catalog.model.from_price`: the lowest landed price among offers in
    stock, else among all of them; here with effective unit prices. A product none of whose
    offers the pricer names is left out: its from price is the base one its card already
    shows, so the page neither prices nor re-renders it.
    """
    names = pricer.named(o.id for offers in products.values() for o in offers)
    named = [
        OfferPrices(o.id, product_id, (_money(o.price, o.currency),))
        for product_id, offers in products.items()
        for o in offers
        if o.id in names
    ]
    priced = pricer(named)
    prices = priced.prices
    cards: dict[str, CardPrice] = {}
    for product_id in dict.fromkeys(n.product_id for n in named):
        best: tuple[bool, int, IndexedOffer, EffectivePrice | None] | None = None
        for offer in products[product_id]:
            effective = prices.get(offer.id)
            unit = effective.unit_price.amount if effective is not None else offer.price
            rank = (not offer.in_stock, unit + offer.shipping)
            if best is None or rank < best[:2]:
                best = (*rank, offer, effective)
        if best is not None:
            cards[product_id] = _card(*best[1:])
    return cards, priced.valid_until


def _card(landed: int, offer: IndexedOffer, effective: EffectivePrice | None) -> CardPrice:
    currency = offer.currency
    rule = effective if effective and effective.source is not PriceSource.BASE else None
    compare_at: Money | None = None
    if rule is not None and rule.regular_price.amount + offer.shipping > landed:
        compare_at = _money(rule.regular_price.amount + offer.shipping, currency)
    return CardPrice(_money(landed, currency), compare_at, rule)


@lru_cache(maxsize=8192)
def _money(amount: int, currency: str) -> Money:
    # Money checks its currency on every construction, which a page of cards would pay a
    # few hundred times; it is immutable, and the same prices recur request after request.
    return Money(amount, currency)


def _repriced(offer: Offer, price: EffectivePrice | None) -> Offer:
    if price is None or offer.status is not OfferStatus.ACTIVE:
        return offer
    return replace(offer, price=price.unit_price)
