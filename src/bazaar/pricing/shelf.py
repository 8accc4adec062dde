"""Effective prices on product and listing pages, for whoever is looking.

A page's prices depend on the caller: a guest sees the prices of no customer group and the
control price of every experiment; a signed-in customer sees their group's price lists and
the variant each running experiment assigns them. :class:`Audience` captures that, with the
compiled rules and their version taken once, so a page is priced with, and cached under,
one rules version. Its :attr:`Audience.cache_key` says who may share the page:

* ``""``: the caller sees what a guest sees; the page is public;
* ``"g:<group>"``: every member of the group sees the same page, nobody else may;
* ``None``: the caller is in a running experiment; the page is theirs alone, priced on
  every request so that each exposure is logged.

Prices come from the in-memory rules: pricing a page costs no SQL statement, and knowing a
signed-in customer's group costs one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.pricing import store
from bazaar.pricing.experiments import Exposure, assign_variants
from bazaar.pricing.model import (
    ListingPrices,
    OfferPrices,
    PricingContext,
    PricingRules,
    effective_prices,
)
from bazaar.pricing.price_lists import EffectivePrice
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.shelf_table import ShelfTable, shelf_table

MAX_TABLES = 64  # one per (currency, channel, group) in use

# unit id, exposures, when: logs the experiment variants a unit was shown
ExposureLog = Callable[[str | None, Sequence[Exposure], datetime], None]


@dataclass(frozen=True)
class Audience:
    """Who a page is priced for, with the rules (and their version) it is priced with."""

    context: PricingContext
    rules: PricingRules
    rules_version: int
    in_experiment: bool

    @property
    def cache_key(self) -> str | None:
        """Who may share a page priced for this audience (see the module docstring)."""
        if self.in_experiment:
            return None
        group = self.context.customer_group
        return "" if group is None else f"g:{group}"

    @property
    def changes_prices(self) -> bool:
        """False when every price this audience sees is the offer's base price."""
        return bool(self.rules.price_book) or self.in_experiment


class ShelfPricer:
    """Prices one page's offers for one audience (see :meth:`ShelfPricing.pricer`)."""

    def __init__(self, audience: Audience, table: ShelfTable | None, log: ExposureLog) -> None:
        self._audience = audience
        self._table = table
        self._log = log

    def named(self, offer_ids: Iterable[str]) -> AbstractSet[str]:
        """Those of ``offer_ids`` whose price some rule may change for the audience: every
        one for a customer in an experiment (showing a price counts an exposure)."""
        if self._table is None:
            return set(offer_ids)
        return self._table.named(offer_ids)

    def __call__(self, offers: Sequence[OfferPrices]) -> ListingPrices:
        """Effective prices of ``offers``; offers at their base price may be left out."""
        table = self._table
        if table is None:
            context = self._audience.context
            priced = effective_prices(offers, context, self._audience.rules)
            if priced.exposures:
                self._log(context.unit_id, priced.exposures, context.now)
            return priced
        prices: dict[str, EffectivePrice] = {}
        for offer in offers:
            if offer.base_prices:
                found = table.price(offer.offer_id, offer.base_prices[0])
                if found is not None:
                    prices[offer.offer_id] = found
        return ListingPrices(prices, (), table.valid_until)


class ShelfPricing:
    """Prices offers on product and listing pages; see the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        rules: RulesCache,
        *,
        currency: str,
        channel_id: str,
        log_exposures: ExposureLog,
    ) -> None:
        self._db = db
        self._clock = clock
        self._rules = rules
        self._currency = currency
        self._channel_id = channel_id
        self._log_exposures = log_exposures
        self._tables: dict[tuple[str, str, str | None], tuple[PricingRules, ShelfTable]] = {}

    @property
    def rules_loaded(self) -> bool:
        """True when :meth:`audience` of a guest needs no IO (the rules are compiled)."""
        return self._rules.version is not None

    def audience(self, customer_id: str | None) -> Audience:
        """The audience of a guest (``None``) or a signed-in customer.

        A guest costs no statement once the rules are compiled; a customer costs one (their
        group). Experiments assign customers by their id; guests see control prices.
        """
        rules, version = self._rules.snapshot()
        now = self._clock.now()
        group: str | None = None
        if customer_id is not None:
            with self._db.read() as conn:
                group = store.group_of(conn, customer_id)
        context = PricingContext(
            currency=self._currency,
            channel_id=self._channel_id,
            now=now,
            customer_id=customer_id,
            customer_group=group,
        )
        assigned = bool(assign_variants(rules.experiments, customer_id, now))
        return Audience(context, rules, version, assigned)

    def pricer(self, audience: Audience) -> ShelfPricer | None:
        """What prices a page's offers for ``audience``; None when no rule changes any price
        for it, so a page need not even load its offers to price them.

        A guest or a group is priced from a :class:`ShelfTable` kept per group until a list
        or sale starts or ends (a dictionary look-up per offer); a customer in an experiment
        through :func:`effective_prices`, and their exposures are logged (once per
        experiment and customer): showing a variant's price counts a visitor in.
        """
        if not audience.changes_prices:
            return None
        if audience.in_experiment:
            return ShelfPricer(audience, None, self._log_exposures)
        return ShelfPricer(audience, self._table(audience), self._log_exposures)

    def _table(self, audience: Audience) -> ShelfTable:
        context = audience.context
        key = (context.currency, context.channel_id, context.customer_group)
        kept = self._tables.get(key)
        if kept is not None and kept[0] is audience.rules and kept[1].holds_at(context.now):
            return kept[1]
        table = shelf_table(
            audience.rules.price_book,
            currency=context.currency,
            channel_id=context.channel_id,
            customer_group=context.customer_group,
            now=context.now,
        )
        # Racing requests may each build one; the last kept wins, all are correct.
        if len(self._tables) > MAX_TABLES:
            self._tables.clear()
        self._tables[key] = (audience.rules, table)
        return table
