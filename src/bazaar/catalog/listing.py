"""Product listing: turn a shopper's filters into a search, and its results into a page.

Resolves category paths and brand slugs to ids, picks the facets worth showing (the
category's enum and boolean attributes), names facet values, and wraps the index's keyset
position in a signed cursor bound to the filters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection

from bazaar.catalog import store
from bazaar.catalog.attributes import ATTRIBUTE_NAME
from bazaar.catalog.page_prices import CardPrice, OfferPricer, card_prices
from bazaar.catalog.taxonomy import attributes_in_force, resolve_brand, resolve_category
from bazaar.infra.db import Database
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.pagination import CursorCodec, scope_for
from bazaar.search.index import SearchIndex
from bazaar.search.model import FacetValue, SearchHit, SearchQuery, SortOrder

BASE_FACETS = ("category", "brand", "seller", "price")
MAX_ATTRIBUTE_FILTERS = 20
MAX_VALUES_PER_FILTER = 50
MAX_Q = 200
LABELLED = ("category", "brand", "seller")


@dataclass(frozen=True)
class ListingParams:
    """A listing request as the API received it (already type-checked)."""

    q: str | None = None
    category: str | None = None  # id or slug path
    brands: tuple[str, ...] = ()  # ids or slugs
    sellers: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    in_stock: bool | None = None
    rating_min: int | None = None  # tenths
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: SortOrder = SortOrder.RELEVANCE
    facets: tuple[str, ...] | None = None  # None: the defaults
    limit: int = 24
    cursor: str | None = None


@dataclass(frozen=True)
class LabelledFacetValue:
    value: str
    count: int
    label: str | None


@dataclass(frozen=True)
class ListingPage:
    """A page of results; ``prices`` has the effective from price of each card a pricing
    rule changed, by product id (the others show the indexed base price), and
    ``valid_until`` when one of them may change by itself."""

    items: list[SearchHit]
    total: int
    facets: Mapping[str, list[LabelledFacetValue]]
    next_cursor: str | None
    corrected_query: str | None
    prices: Mapping[str, CardPrice] = field(default_factory=dict)
    valid_until: datetime | None = None
    facets_approximate: bool = False  # counted from a sample of the matches (search.model)
    total_approximate: bool = False  # estimated from a sample of the matches (search.model)


def check_params(params: ListingParams) -> list[FieldError]:
    errors: list[FieldError] = []
    if params.q is not None and len(params.q) > MAX_Q:
        errors.append(FieldError("q", f"At most {MAX_Q} characters", "too_long"))
    if (
        params.price_min is not None
        and params.price_max is not None
        and params.price_min > params.price_max
    ):
        errors.append(FieldError("price_max", "Must not be below price_min", "invalid_range"))
    if len(params.attributes) > MAX_ATTRIBUTE_FILTERS:
        errors.append(FieldError("attr", f"At most {MAX_ATTRIBUTE_FILTERS} attribute filters"))
    for name, values in params.attributes.items():
        if not ATTRIBUTE_NAME.match(name):
            errors.append(FieldError(f"attr.{name}", "Not an attribute name", "invalid_name"))
        elif len(values) > MAX_VALUES_PER_FILTER or any(len(v) > 100 for v in values):
            errors.append(FieldError(f"attr.{name}", "Too many or too long values"))
    for facet in params.facets or ():
        name = facet.removeprefix("attr.")
        if facet not in BASE_FACETS and not (
            facet.startswith("attr.") and ATTRIBUTE_NAME.match(name)
        ):
            errors.append(FieldError("facets", f"Unknown facet {facet[:50]!r}", "unknown_facet"))
    return errors


class ProductListing:
    def __init__(self, db: Database, index: SearchIndex, cursors: CursorCodec) -> None:
        self._db = db
        self._index = index
        self._cursors = cursors

    def search(self, params: ListingParams, pricer: OfferPricer | None = None) -> ListingPage:
        """One page of active products matching ``params``, with facet counts and a cursor.

        An unknown category or brand matches nothing rather than failing: shoppers follow
        stale links. A fixed number of queries whatever the page size, with or without a
        ``pricer`` (some rule may change a price for the caller): the hits carry their
        products' offers, so pricing the cards reads nothing more.
        """
        if errors := check_params(params):
            raise ValidationFailed("The search has invalid parameters", errors=errors)
        scope = scope_for(
            "products",
            q=params.q,
            category=params.category,
            brands=list(params.brands),
            sellers=list(params.sellers),
            price_min=params.price_min,
            price_max=params.price_max,
            in_stock=params.in_stock,
            rating_min=params.rating_min,
            attributes={k: list(v) for k, v in sorted(params.attributes.items())},
            sort=params.sort.value,
        )
        after = self._after(params.cursor, scope)
        with self._db.read() as conn:
            category_id: str | None = None
            facets = params.facets
            if params.category is not None:
                category = resolve_category(conn, params.category)
                # an unknown category or brand stays as given: it matches no document
                category_id = category.id if category else params.category
                if category is not None and facets is None:
                    facetable = attributes_in_force(conn, category).values()
                    facets = (*BASE_FACETS, *(f"attr.{d.name}" for d in facetable if d.facetable))
            brand_ids = tuple(
                b.id if (b := resolve_brand(conn, ref)) else ref for ref in params.brands
            )
            result = self._index.search(
                conn,
                SearchQuery(
                    q=params.q.strip() if params.q and params.q.strip() else None,
                    category_id=category_id,
                    brand_ids=brand_ids,
                    seller_ids=params.sellers,
                    price_min=params.price_min,
                    price_max=params.price_max,
                    in_stock=params.in_stock,
                    rating_min=params.rating_min,
                    attributes=dict(params.attributes),
                    sort=params.sort,
                    limit=params.limit,
                    after=after,
                    facets=frozenset(facets if facets is not None else BASE_FACETS),
                    with_offers=pricer is not None,
                ),
            )
            labels = self._labels(conn, result.facets)
        prices: Mapping[str, CardPrice] = {}
        valid_until: datetime | None = None
        if pricer is not None and result.hits:
            hits = {h.product_id: h.offers for h in result.hits}
            prices, valid_until = card_prices(hits, pricer)
        return ListingPage(
            items=result.hits,
            total=result.total,
            facets={
                name: [
                    LabelledFacetValue(v.value, v.count, labels.get((name, v.value)))
                    for v in values
                ]
                for name, values in result.facets.items()
            },
            next_cursor=self._cursor(result.next_after, scope),
            corrected_query=result.corrected_query,
            facets_approximate=result.facets_approximate,
            total_approximate=result.total_approximate,
            prices=prices,
            valid_until=valid_until,
        )

    def _after(self, cursor: str | None, scope: str) -> tuple[str | int | float | None, ...] | None:
        if cursor is None:
            return None
        position = self._cursors.decode(cursor, scope=scope)
        return tuple(position[k] for k in sorted(position, key=int))

    def _cursor(self, after: Sequence[str | int | float | None] | None, scope: str) -> str | None:
        if after is None:
            return None
        return self._cursors.encode({str(i): v for i, v in enumerate(after)}, scope=scope)

    @staticmethod
    def _labels(
        conn: Connection, facets: Mapping[str, list[FacetValue]]
    ) -> dict[tuple[str, str], str]:
        """Display names of category, brand and seller facet values: one query each."""
        labels: dict[tuple[str, str], str] = {}
        ids = {name: [v.value for v in facets.get(name, [])] for name in LABELLED}
        if ids["category"]:
            for c in store.categories_by_ids(conn, ids["category"]).values():
                labels["category", c.id] = c.name
        if ids["brand"]:
            for b in store.brands_by_ids(conn, ids["brand"]).values():
                labels["brand", b.id] = b.name
        if ids["seller"]:
            for f in store.fulfillers_by_ids(conn, ids["seller"]).values():
                labels["seller", f.id] = f.name
        return labels


_ATTR_PARAM = re.compile(r"^attr\.(.+)$")


def attribute_filters(pairs: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """``attr.color=red&attr.color=blue`` query pairs -> ``{"color": ("red", "blue")}``.

    Values may also be comma-separated (``attr.color=red,blue``).
    """
    out: dict[str, list[str]] = {}
    for key, raw in pairs:
        match = _ATTR_PARAM.match(key)
        if match is None:
            continue
        values = out.setdefault(match.group(1), [])
        for value in raw.split(","):
            value = value.strip()
            if value and value not in values:
                values.append(value)
    return {name: tuple(values) for name, values in out.items() if values}
