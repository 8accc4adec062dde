"""Unit prices at quantity 1 for one pricing context, resolved once for every named offer.

Pure Python. A listing page prices a hundred offers per request; resolving each through
:meth:`PriceBook.resolve` (which checks every list's channel, group and date window per
offer) costs more than the page can afford. But at quantity 1 and for one context
(currency, channel, customer group), the outcome for each offer changes only when a list or
sale starts or ends. :func:`shelf_table` therefore resolves every offer a rule names once,
and :meth:`ShelfTable.price` answers from a dictionary until :attr:`ShelfTable.valid_until`.

It gives exactly what :meth:`PriceBook.resolve` gives at quantity 1 (tested). Price
experiments depend on the shopper, not on the context: :class:`bazaar.pricing.shelf.ShelfPricer`
applies the shopper's variants to what the table gives, as
:func:`bazaar.pricing.model.effective_prices` applies them to what resolution gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from bazaar.kernel.money import Money
from bazaar.pricing.price_lists import EffectivePrice, PriceBook, on_sale


class ShelfMark(NamedTuple):
    """What the rules make of one offer's unit price, independently of its base price.

    ``fixed``: a price list sets the price (``amount``); otherwise a sale caps it: the offer
    costs the lower of ``amount`` and its base price. The search index keeps one per offer
    that a rule names for guests, so sorting, the price filter and the price facet use the
    price a guest sees (see :mod:`bazaar.catalog.shelf_index`).
    """

    fixed: bool
    amount: int

    def apply(self, base_amount: int) -> int:
        """The effective unit price of an offer whose base price is ``base_amount``."""
        return self.amount if self.fixed else min(self.amount, base_amount)


@dataclass(frozen=True, slots=True)
class _Resolved:
    listed: EffectivePrice | None  # a list price (a cheaper sale already applied), or None
    # without a list price: the sale to compare with the base price (which becomes its
    # regular price)
    sale_price: EffectivePrice | None


@dataclass(frozen=True)
class ShelfTable:
    """Prices at quantity 1 for one context, valid from ``built_at`` until ``valid_until``."""

    currency: str
    built_at: datetime
    valid_until: datetime | None
    _offers: Mapping[str, _Resolved]

    def holds_at(self, now: datetime) -> bool:
        """True when the table still gives the prices of ``now``."""
        return self.built_at <= now and (self.valid_until is None or now < self.valid_until)

    def price(self, offer_id: str, base_price: Money | None) -> EffectivePrice | None:
        """The effective price of one unit of ``offer_id``; None when it is ``base_price``
        (no rule changes it, or the base price is missing or in another currency)."""
        resolved = self._offers.get(offer_id)
        if resolved is None:
            return None
        if resolved.listed is not None:
            return resolved.listed
        sale = resolved.sale_price
        if sale is None or base_price is None or base_price.currency != self.currency:
            return None
        if not sale.unit_price.amount < base_price.amount:
            return None
        return EffectivePrice(
            sale.unit_price, base_price, sale.source, sale.rule_id, sale.explanation
        )

    def marks(self) -> dict[str, ShelfMark]:
        """What the table does to each offer it names (see :class:`ShelfMark`): exactly the
        effective price :meth:`price` gives for any base price in the table's currency."""
        marks: dict[str, ShelfMark] = {}
        for offer_id, resolved in self._offers.items():
            if resolved.listed is not None:
                marks[offer_id] = ShelfMark(True, resolved.listed.unit_price.amount)
            elif resolved.sale_price is not None:
                marks[offer_id] = ShelfMark(False, resolved.sale_price.unit_price.amount)
        return marks

    def names(self, offer_id: str) -> bool:
        """False when every price of ``offer_id`` is its base price."""
        return offer_id in self._offers

    def named(self, offer_ids: Iterable[str]) -> AbstractSet[str]:
        """Those of ``offer_ids`` whose price is not always their base price."""
        return self._offers.keys() & set(offer_ids)


def shelf_table(
    book: PriceBook, *, currency: str, channel_id: str, customer_group: str | None, now: datetime
) -> ShelfTable:
    """Resolve every offer ``book`` names, at quantity 1, for one context at ``now``."""
    offers: dict[str, _Resolved] = {}
    for offer_id in book.offer_ids():
        listed = book.resolve(
            offer_id,
            None,
            1,
            currency=currency,
            channel_id=channel_id,
            customer_group=customer_group,
            now=now,
        )
        sale = None if listed is not None else book.best_sale(offer_id, currency, now)
        if listed is not None or sale is not None:
            # the sentence is formatted once here, not once per offer shown
            shown = on_sale(sale, sale.price) if sale is not None else None
            offers[offer_id] = _Resolved(listed, shown)
    return ShelfTable(currency, now, book.next_change_of_any(now), offers)
