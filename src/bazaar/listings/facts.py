"""What the validation steps read from the catalog, loaded a batch at a time.

Category declarations and price distributions change slowly and are read for every listing
of a category, so they are kept for a while: declarations for ``CATEGORY_TTL_S``, price
distributions for the ``listing_price_stats_ttl_s`` setting (computed from the category's
active offers, see ``OfferMatching.price_summary``). A change shows after at most that long;
a listing validated meanwhile is judged by the previous figures, which for a median over
at least :data:`~bazaar.listings.checks.MIN_PRICE_SAMPLE` prices barely moves. Everything
else (products to match, the seller's offers) is read fresh for each batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from bazaar.catalog.attributes import AttributeDef
from bazaar.catalog.offer_matching import OfferMatching, ProductKey
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import NotFound
from bazaar.listings.checks import ExistingOffer, PriceDistribution, ProductRef
from bazaar.listings.normalise import ListingDraft
from bazaar.listings.ports import CategoryInfo

CATEGORY_TTL_S = 60.0
MAX_ENTRIES = 10_000

K = TypeVar("K")
V = TypeVar("V")


class _Expiring(Generic[K, V]):
    """A small cache whose entries live ``ttl_s`` by the injected clock."""

    def __init__(self, clock: Clock, ttl_s: float) -> None:
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._entries: dict[K, tuple[datetime, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        now = self._clock.now()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self._ttl, value)
        return value


def _ref(key: ProductKey) -> ProductRef:
    return ProductRef(key.product_id, key.variant_id)


def _digits(gtin: str | None) -> str:
    return "".join(c for c in gtin or "" if c not in " -")


def _words(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


@dataclass(frozen=True)
class ProductLookups:
    """What one listing's ``schema`` and ``normalise`` steps read of the catalog."""

    by_gtin: dict[str, ProductRef]
    by_brand_mpn: dict[tuple[str, str], ProductRef]
    known_brands: tuple[str, ...]


class CatalogFacts:
    def __init__(
        self,
        matching: OfferMatching,
        taxonomy: TaxonomyService,
        clock: Clock,
        *,
        currency: str,
        price_ttl_s: float,
    ) -> None:
        self._matching = matching
        self._taxonomy = taxonomy
        self._currency = currency
        self._categories: _Expiring[str, CategoryInfo | None] = _Expiring(clock, CATEGORY_TTL_S)
        self._prices: _Expiring[str, PriceDistribution | None] = _Expiring(clock, price_ttl_s)

    def category(self, ref: str) -> CategoryInfo | None:
        """A category by id or slug path, with the attribute declarations in force."""

        def load() -> CategoryInfo | None:
            try:
                category = self._taxonomy.get_category(ref)
                return CategoryInfo(category.id, self._taxonomy.attributes_for(category.id))
            except NotFound:
                return None

        return self._categories.get(ref, load)

    def attributes(self, category_id: str) -> Mapping[str, AttributeDef]:
        info = self.category(category_id)
        return info.attributes if info is not None else {}

    def price_distribution(self, category_id: str) -> PriceDistribution | None:
        def load() -> PriceDistribution | None:
            summary = self._matching.price_summary(category_id, self._currency)
            if summary is None:
                return None
            return PriceDistribution(summary.median, summary.count, summary.p5, summary.p95)

        return self._prices.get(category_id, load)

    def product_lookups(self, drafts: Sequence[ListingDraft]) -> list[ProductLookups]:
        """For each draft, the catalog products it may offer: by GTIN and by (brand, MPN),
        and the catalog's spelling of its brand. Loaded for all drafts at once; each draft
        gets only its own candidates, so matching one listing does not scan the batch's."""
        gtins = [_digits(d.gtin) for d in drafts]
        pairs = [(d.brand, d.mpn) for d in drafts if d.brand and d.mpn]
        found_gtins = self._matching.products_by_gtins(g for g in gtins if g)
        by_number = {g.zfill(14): (g, _ref(k)) for g, k in found_gtins.items()}
        found_pairs = self._matching.products_by_brand_mpn(pairs)
        by_words = {(_words(b), _words(m)): ((b, m), _ref(k)) for (b, m), k in found_pairs.items()}
        brands = {
            _words(b): b for b in self._matching.brand_names(d.brand for d in drafts if d.brand)
        }
        lookups = []
        for draft, number in zip(drafts, gtins, strict=True):
            gtin_hit = by_number.get(number.zfill(14)) if number else None
            pair_hit = (
                by_words.get((_words(draft.brand), _words(draft.mpn)))
                if draft.brand and draft.mpn
                else None
            )
            brand = brands.get(_words(draft.brand)) if draft.brand else None
            lookups.append(
                ProductLookups(
                    dict([gtin_hit]) if gtin_hit else {},
                    dict([pair_hit]) if pair_hit else {},
                    (brand,) if brand else (),
                )
            )
        return lookups

    def existing_offers(
        self, seller_ids: Iterable[str], product_ids: Iterable[str]
    ) -> dict[str, list[ExistingOffer]]:
        """The sellers' offers on these products, by product id."""
        offers: dict[str, list[ExistingOffer]] = {}
        for o in self._matching.seller_offers(seller_ids, product_ids):
            offer = ExistingOffer(o.offer_id, o.fulfiller_id, o.product_id, o.variant_id)
            offers.setdefault(o.product_id, []).append(offer)
        return offers
