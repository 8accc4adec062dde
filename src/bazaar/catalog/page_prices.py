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
from operator import itemgetter
from typing import Protocol

from bazaar.catalog.model import Offer, OfferStatus, choose_buy_box, from_price
from bazaar.catalog.product_view import ProductView
from bazaar.kernel.money import Money
from bazaar.pricing.experiments import Exposure
from bazaar.pricing.model import ListingPrices, OfferPrices
from bazaar.pricing.price_lists import EffectivePrice, PriceSource
from bazaar.pricing.shelf import PageMemo
from bazaar.search.offers import IndexedOffer


class OfferPricer(Protocol):
    """Prices a page's offers for the caller (:class:`bazaar.pricing.shelf.ShelfPricer`)."""

    # what pages derived from this pricer's prices, by product id; see PageMemo
    memo: PageMemo
    # the first moment a price this pricer gives may change by itself (None: never)
    valid_until: datetime | None

    def named(self, offer_ids: Iterable[str]) -> AbstractSet[str]:
        """Those of ``offer_ids`` whose price some rule may change for the caller."""
        ...

    def __call__(self, offers: Sequence[OfferPrices]) -> ListingPrices:
        """Effective prices of ``offers``, their exposures logged; those at their base price
        may be left out."""
        ...

    def price(self, offers: Sequence[OfferPrices]) -> ListingPrices:
        """As calling the pricer, without logging the exposures."""
        ...

    def shown(self, exposures: Sequence[Exposure]) -> None:
        """Log that the caller was shown prices under ``exposures``."""
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
    by product id, and when one may change by itself; the exposures shown are logged.

    As :func:`bazaar.catalog.model.from_price`: the lowest landed price among offers in
    stock, else among all of them; here with effective unit prices. A product none of whose
    offers the pricer names is left out: its from price is the base one its card already
    shows, so the page neither prices nor re-renders it.

    A product's card depends only on its offers and the pricer's prices, so it is kept in
    the pricer's memo with the offers it came from, and the next page showing the product
    with the same offers takes it from there.
    """
    memo = pricer.memo
    cards: dict[str, CardPrice] = {}
    exposures: dict[Exposure, None] = {}
    missing: dict[str, Sequence[IndexedOffer]] = {}
    gathered: set[int] = set()  # the memo shares equal exposure tuples (PageMemo.shared)
    for product_id, offers in products.items():
        kept = memo.get(product_id)
        if isinstance(kept, _KeptCard) and (kept.offers is offers or kept.offers == offers):
            if kept.card is not None:
                cards[product_id] = kept.card
            if kept.exposures and id(kept.exposures) not in gathered:
                gathered.add(id(kept.exposures))
                exposures.update(dict.fromkeys(kept.exposures))
        else:
            missing[product_id] = offers
    if missing:
        _price_missing(missing, pricer, cards, exposures, gathered)
    pricer.shown(tuple(exposures))
    return cards, pricer.valid_until


def _price_missing(
    products: Mapping[str, Sequence[IndexedOffer]],
    pricer: OfferPricer,
    cards: dict[str, CardPrice],
    exposures: dict[Exposure, None],
    gathered: set[int],
) -> None:
    names = pricer.named(o.id for offers in products.values() for o in offers)
    named = [
        OfferPrices(o.id, product_id, (_money(o.price, o.currency),))
        for product_id, offers in products.items()
        for o in offers
        if o.id in names
    ]
    priced = pricer.price(named)
    prices = priced.prices
    shown = priced.exposures_by_product
    priced_products = {n.product_id for n in named}
    for product_id, offers in products.items():
        card: CardPrice | None = None
        if product_id in priced_products:
            card = _best(offers, prices)
            cards[product_id] = card
        found = shown.get(product_id, ())
        if found and id(found) not in gathered:
            gathered.add(id(found))
            exposures.update(dict.fromkeys(found))
        pricer.memo.keep(product_id, _KeptCard(tuple(offers), card, found))


def _best(offers: Sequence[IndexedOffer], prices: Mapping[str, EffectivePrice]) -> CardPrice:
    def ranked(offer: IndexedOffer) -> tuple[bool, int, IndexedOffer, EffectivePrice | None]:
        effective = prices.get(offer.id)
        unit = effective.unit_price.amount if effective is not None else offer.price
        return (not offer.in_stock, unit + offer.shipping, offer, effective)

    # the first of equally ranked offers wins, whatever their prices' rules
    _, landed, offer, effective = min(map(ranked, offers), key=itemgetter(0, 1))
    return _card(landed, offer, effective)


@dataclass(frozen=True, slots=True)
class _KeptCard:
    """A product's card as priced from ``offers``, and the exposures showing it counts."""

    offers: tuple[IndexedOffer, ...]
    card: CardPrice | None  # None: no rule may change the product's price
    exposures: tuple[Exposure, ...]


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
