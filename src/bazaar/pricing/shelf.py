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
signed-in customer's group costs one, read afresh on every page (a group change applies to
the customer's next page) and inside the page's own read transaction when the caller opened
one (``Database.reading``), so it costs no connection or transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.pricing import store
from bazaar.pricing.experiments import (
    Experiment,
    Exposure,
    Variant,
    apply_price_tests,
    assign_variants,
)
from bazaar.pricing.model import ListingPrices, OfferPrices, PricingContext, PricingRules
from bazaar.pricing.price_lists import EffectivePrice, PriceSource
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.shelf_table import ShelfTable, shelf_table

MAX_TABLES = 64  # one per (currency, channel, group) in use
MAX_MEMOS = 64  # per table: one per combination of experiment variants in use
MEMO_SIZE = 8192  # products a memo keeps; emptied when full (pages refill it)

# unit id, exposures, when: logs the experiment variants a unit was shown
ExposureLog = Callable[[str | None, Sequence[Exposure], datetime], None]
Assignments = tuple[tuple[Experiment, Variant], ...]


@dataclass(frozen=True)
class Audience:
    """Who a page is priced for, with the rules (and their version) it is priced with.

    ``assignments``: the variant the caller sees in each running experiment (none for a
    guest); ``in_experiment`` is true when there is one.
    """

    context: PricingContext
    rules: PricingRules
    rules_version: int
    in_experiment: bool
    assignments: Assignments = ()

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


class PageMemo(dict[str, object]):
    """What pages derived from one pricer's prices, by product id, for pages to reuse.

    Its entries stay right as long as the prices they came from: one memo belongs to one
    :class:`ShelfTable` (one rules object, context and time window) and one combination of
    experiment variants, and is dropped with the table. Entries must carry what they were
    derived from (the product's offers) so a reader can check them. Bounded: emptied when
    full. Reads and writes are single dictionary operations, safe across request threads.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shared: dict[tuple[Exposure, ...], tuple[Exposure, ...]] = {}

    def shared(self, exposures: tuple[Exposure, ...]) -> tuple[Exposure, ...]:
        """One tuple for equal ``exposures`` (few: one per set of experiments covering a
        product), so a page gathers its products' exposures by identity, not by hashing."""
        return self._shared.setdefault(exposures, exposures)

    def keep(self, product_id: str, entry: object) -> None:
        """Keep ``entry`` for ``product_id``, first emptying the memo when it is full."""
        if len(self) >= MEMO_SIZE:
            self.clear()
        self[product_id] = entry


class ShelfPricer:
    """Prices one page's offers for one audience (see :meth:`ShelfPricing.pricer`).

    A shopper in experiments is priced from their group's table, then their variants are
    applied with :func:`bazaar.pricing.experiments.apply_price_tests`, as
    :func:`bazaar.pricing.model.effective_prices` applies them to a full resolution: the
    same prices and exposures (tested) at a dictionary look-up per offer.
    """

    def __init__(
        self, audience: Audience, table: ShelfTable, memo: PageMemo, log: ExposureLog
    ) -> None:
        self._audience = audience
        self._table = table
        self._log = log
        self.memo = memo
        ends = [e.ends_at for e, _ in audience.assignments if e.ends_at is not None]
        if table.valid_until is not None:
            ends.append(table.valid_until)
        self.valid_until: datetime | None = min(ends, default=None)

    def named(self, offer_ids: Iterable[str]) -> AbstractSet[str]:
        """Those of ``offer_ids`` whose price some rule may change for the audience: every
        one for a customer in an experiment (showing a price counts an exposure)."""
        if self._audience.assignments:
            return set(offer_ids)
        return self._table.named(offer_ids)

    def __call__(self, offers: Sequence[OfferPrices]) -> ListingPrices:
        """Effective prices of ``offers``, their exposures logged; offers at their base price
        may be left out."""
        priced = self.price(offers)
        self.shown(priced.exposures)
        return priced

    def shown(self, exposures: Sequence[Exposure]) -> None:
        """Log that the audience was shown prices under ``exposures`` (when there are any)."""
        if exposures:
            context = self._audience.context
            self._log(context.unit_id, exposures, context.now)

    def price(self, offers: Sequence[OfferPrices]) -> ListingPrices:
        """As calling the pricer, without logging the exposures (see :meth:`shown`)."""
        table = self._table
        prices: dict[str, EffectivePrice] = {}
        assignments = self._audience.assignments
        if not assignments:
            for offer in offers:
                if offer.base_prices:
                    found = table.price(offer.offer_id, offer.base_prices[0])
                    if found is not None:
                        prices[offer.offer_id] = found
            return ListingPrices(prices, (), self.valid_until)
        currency = table.currency
        # Which experiments a price was shown under depends on its product only (coverage),
        # so each product's exposures are those of its first priced offer.
        by_product: dict[str, tuple[Exposure, ...]] = {}
        changed: dict[str, bool] = {}  # by product: does a variant change its prices
        for offer in offers:
            bases = offer.base_prices
            base = (
                bases[0]
                if bases and bases[0].currency == currency
                else next((p for p in bases if p.currency == currency), None)
            )
            resolved = table.price(offer.offer_id, base)
            if resolved is None:
                if base is None:
                    continue  # no price in the currency: left out, as by effective_prices
                resolved = EffectivePrice(base, base, PriceSource.BASE, None, "Base price")
            product_id = offer.product_id
            tested = changed.get(product_id)
            if tested is None:  # the product's first priced offer
                price, shown = apply_price_tests(resolved, product_id, assignments)
                tested = changed[product_id] = any(
                    v.price_change_percent and e.covers(product_id) for e, v in assignments
                )
                if shown:
                    by_product[product_id] = self.memo.shared(shown)
            elif tested:
                price = apply_price_tests(resolved, product_id, assignments)[0]
            else:
                price = resolved  # no variant of the shopper's changes this product's prices
            prices[offer.offer_id] = price
        exposures: dict[Exposure, None] = {}
        for shown in {id(t): t for t in by_product.values()}.values():
            exposures.update(dict.fromkeys(shown))
        return ListingPrices(prices, tuple(exposures), self.valid_until, by_product)


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
        self._tables: dict[tuple[str, str, str | None], _Kept] = {}

    @property
    def rules_loaded(self) -> bool:
        """True when :meth:`audience` of a guest needs no IO (the rules are compiled)."""
        return self._rules.version is not None

    def audience(self, customer_id: str | None) -> Audience:
        """The audience of a guest (``None``) or a signed-in customer.

        A guest costs no statement once the rules are compiled; a customer costs one (their
        group), in the caller's read transaction inside ``Database.reading``. Experiments
        assign customers by their id; guests see control prices.
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
        assigned = assign_variants(rules.experiments, customer_id, now)
        return Audience(context, rules, version, bool(assigned), assigned)

    def pricer(self, audience: Audience) -> ShelfPricer | None:
        """What prices a page's offers for ``audience``; None when no rule changes any price
        for it, so a page need not even load its offers to price them.

        Prices come from a :class:`ShelfTable` kept per group until a list or sale starts or
        ends (a dictionary look-up per offer), with a customer's experiment variants applied
        on top; their exposures are logged (once per experiment and customer) whenever a
        page shows them: showing a variant's price counts a visitor in.
        """
        if not audience.changes_prices:
            return None
        kept = self._kept(audience)
        variants = tuple((e.id, v.id) for e, v in audience.assignments)
        memo = kept.memos.get(variants)
        if memo is None:
            # Racing requests may each make one; the last kept wins, all are correct.
            if len(kept.memos) >= MAX_MEMOS:
                kept.memos.clear()
            memo = kept.memos[variants] = PageMemo()
        return ShelfPricer(audience, kept.table, memo, self._log_exposures)

    def _kept(self, audience: Audience) -> _Kept:
        context = audience.context
        key = (context.currency, context.channel_id, context.customer_group)
        kept = self._tables.get(key)
        if kept is not None and kept.rules is audience.rules and kept.table.holds_at(context.now):
            return kept
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
        kept = self._tables[key] = _Kept(audience.rules, table, {})
        return kept


@dataclass(frozen=True)
class _Kept:
    rules: PricingRules
    table: ShelfTable
    memos: dict[tuple[tuple[str, str], ...], PageMemo]  # by experiment and variant ids
