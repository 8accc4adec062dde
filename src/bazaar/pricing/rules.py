"""The compiled pricing rules of this process, and how they stay current.

:func:`load_rules` compiles every active rule row into one immutable ``PricingRules``
(experiments only while running). :class:`RulesCache` keeps that object and the
``pricing_rules_version`` it was compiled at:

* :meth:`RulesCache.get` returns it, compiling on first use;
* :meth:`RulesCache.invalidate` drops it: staff changes call it after their commit, so the
  process that made a change prices with it from the next quote on;
* :meth:`RulesCache.refresh_if_stale` reads the version (one indexed single-row read) and
  recompiles when another process changed a rule. A periodic job calls it every
  ``BAZAAR_PRICING_RULES_REFRESH_S`` seconds (2 by default) in every ``bazaar serve`` and
  ``bazaar worker`` process, so a rule change reaches every other process within that
  interval; cached catalog pages are keyed by :meth:`RulesCache.snapshot`'s version, so
  they follow at the same moment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pydantic import ValidationError
from sqlalchemy.engine import Connection

from bazaar.infra.db import Database
from bazaar.kernel.errors import ValidationFailed
from bazaar.pricing import admin_store, store
from bazaar.pricing.experiments import Experiment
from bazaar.pricing.model import PricingRules
from bazaar.pricing.price_lists import PriceList, SalePrice
from bazaar.pricing.promotions import Promotion
from bazaar.pricing.schemas import ExperimentIn, PriceListIn, PromotionIn, SalePriceIn

log = logging.getLogger("bazaar.pricing")


def load_rules(conn: Connection) -> PricingRules:
    """Compile every active rule (price lists, sale prices, promotions, running experiments).

    A row that no longer validates (a definition saved before its schema changed) is
    logged and left out rather than stopping every quote of the store.
    """
    price_lists: list[PriceList] = []
    sale_prices: list[SalePrice] = []
    promotions: list[Promotion] = []
    experiments: list[Experiment] = []
    for row in admin_store.active_rule_rows(conn):
        try:
            if row.kind == "price_list":
                price_lists.append(PriceListIn.model_validate(row.definition).to_model(row.id))
            elif row.kind == "sale_price":
                sale_prices.append(SalePriceIn.model_validate(row.definition).to_model(row.id))
            elif row.kind == "promotion":
                promotions.append(PromotionIn.model_validate(row.definition).to_model(row.id))
            elif row.kind == "experiment":
                experiments.append(ExperimentIn.model_validate(row.definition).to_model(row.id))
        except (ValidationError, ValidationFailed):
            log.exception("pricing rule %s (%s) is not valid; left out", row.id, row.kind)
    return PricingRules.compile(
        price_lists=price_lists,
        sale_prices=sale_prices,
        promotions=promotions,
        experiments=experiments,
    )


class RulesCache:
    """This process's compiled rules; thread-safe (one lock around every reload).

    The rules and the version they were compiled at are kept as one pair, so a reader never
    sees new rules labelled with an old version or the reverse.
    """

    def __init__(
        self, db: Database, load: Callable[[Connection], PricingRules] = load_rules
    ) -> None:
        self._db = db
        self._load = load
        self._lock = threading.Lock()
        self._loaded: tuple[PricingRules, int] | None = None

    @property
    def version(self) -> int | None:
        """The rules version the cached rules were compiled at; None before the first load."""
        loaded = self._loaded
        return None if loaded is None else loaded[1]

    def get(self) -> PricingRules:
        """The compiled rules, loading them on first use (or after :meth:`invalidate`)."""
        return self.snapshot()[0]

    def snapshot(self) -> tuple[PricingRules, int]:
        """The compiled rules with the version they were compiled at, loading them if needed.

        A page priced with these rules can be cached under this version: any later rule
        change moves the version.
        """
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._reload()
            return self._loaded

    def invalidate(self) -> None:
        """Forget the compiled rules; the next :meth:`get` reloads them.

        Taking the lock waits for a reload in progress, which may have read the rules
        before the change committed, so it cannot put stale rules back afterwards.
        """
        with self._lock:
            self._loaded = None

    def refresh_if_stale(self) -> bool:
        """Reload when the stored version moved since the rules were compiled; True when
        reloaded. Rules never asked for are not loaded here."""
        if self._loaded is None:
            return False
        with self._db.read() as conn:
            current = store.rules_version(conn)
        if current == self.version:
            return False
        with self._lock:
            if self._loaded is None or self._loaded[1] == current:
                return False  # invalidated or refreshed meanwhile: get() has it in hand
            self._loaded = self._reload()
        return True

    def _reload(self) -> tuple[PricingRules, int]:
        with self._db.read() as conn:
            # The version first: a change committing between the two reads is then loaded
            # with the older version, and reloaded once more on the next refresh, instead
            # of old rules being labelled with the new version and kept.
            version = store.rules_version(conn)
            rules = self._load(conn)
        return rules, version
