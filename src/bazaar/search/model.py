"""Product search: documents, queries, results, and the rules both index engines share.

Pure Python: relevance keys, facet counting, filters as index terms, sorting and keyset
positions. What a word is (tokenising, text queries, typo tolerance) lives in ``text``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bazaar.kernel.errors import ValidationFailed
from bazaar.search.offers import IndexedOffer
from bazaar.search.text import MAX_QUERY_TERMS, TextQuery


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    RATING = "rating"


@dataclass(frozen=True)
class SearchDocument:
    """What the index knows about one product (built by the catalog from products and offers)."""

    product_id: str
    title: str
    description: str
    brand_id: str | None
    brand_name: str | None
    category_ids: tuple[str, ...]  # ancestors first, the product's own category last
    seller_ids: tuple[str, ...]  # fulfillers with an active offer ("retailer" or "sel_...")
    price: int | None  # minor units; None without offers
    currency: str
    in_stock: bool
    rating: int | None  # tenths of a star, 0..50
    attributes: Mapping[str, tuple[str, ...]]
    image_url: str | None
    created_at: datetime  # aware UTC
    offers: tuple[IndexedOffer, ...] = ()  # the active ones (search.offers)


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    category_id: str | None = None  # includes descendants
    brand_ids: tuple[str, ...] = ()  # OR-ed
    seller_ids: tuple[str, ...] = ()  # OR-ed
    price_min: int | None = None  # minor units, inclusive
    price_max: int | None = None  # inclusive
    in_stock: bool | None = None
    rating_min: int | None = None  # tenths
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: SortOrder = SortOrder.RELEVANCE  # relevance without q means newest
    limit: int = 24
    after: tuple[str | int | float | None, ...] | None = None  # from SearchResult.next_after
    facets: frozenset[str] = frozenset()  # "category", "brand", "seller", "price", "attr.<name>"
    facet_size: int = 20
    with_offers: bool = False  # read each hit's offers (SearchHit.offers) too


@dataclass(frozen=True)
class SearchHit:
    """Everything a listing card needs, so a listing page needs no other query."""

    product_id: str
    title: str
    brand_id: str | None
    brand_name: str | None
    category_id: str
    price: int | None
    currency: str
    in_stock: bool
    rating: int | None
    image_url: str | None
    created_at: datetime
    # the product's active offers, read when the query asks (SearchQuery.with_offers)
    offers: tuple[IndexedOffer, ...] = ()


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int  # exact unless total_approximate
    facets: Mapping[str, list[FacetValue]]
    next_after: tuple[str | int | float | None, ...] | None
    corrected_query: str | None = None
    # True when the facet counts were estimated from a sample of the matches (FACET_SAMPLE);
    # the hits are exact either way.
    facets_approximate: bool = False
    # True when the total was estimated (RANGE_CHECKS): a price or rating range over more
    # than that many matches of the words; the hits are exact either way.
    total_approximate: bool = False


# --- relevance ---------------------------------------------------------------------------------

# Each word of the query scores by the most important field it is in (title 8, brand 4,
# attributes 2, only the description 1); a document scores the sum over the words. Both engines
# compute exactly this, so they rank alike. Equal scores keep index order (the doc id, as search
# engines break ties): the first matches in index order are then the top of their score, which
# lets an engine read a page of a huge match set without scoring all of it.
FIELD_WEIGHTS = (("title", 8), ("brand", 4), ("attributes", 2), ("description", 1))
MAX_SCORE = FIELD_WEIGHTS[0][1] * MAX_QUERY_TERMS
DOC_ID_SPAN = 2**32  # doc ids stay below it (a 32-bit integer key)
# Up to this many matches a relevance search scores every match from its stored fields (one
# read per match); past it, an engine that can reads the page tier by tier instead.
SCORED_MATCHES = 100


def relevance_key(score: int, doc_id: int) -> int:
    """The ascending sort key of a match: the higher score first, then the lower doc id.

    One integer (below 2**39, exact in JSON), so a relevance position is a plain keyset.
    """
    return (MAX_SCORE - score) * DOC_ID_SPAN + doc_id


def relevance_position(key: float) -> tuple[int, int]:
    """(score, doc id) of a relevance key; the inverse of relevance_key."""
    rank, doc_id = divmod(int(key), DOC_ID_SPAN)
    return MAX_SCORE - rank, doc_id


def field_tiers() -> list[tuple[int, str, tuple[str, ...]]]:
    """(score, field, more important fields) of a one-word query, best first.

    A document matching the word is in exactly one tier: the most important field it has the
    word in. Reading the tiers in order, each in doc id order, reads matches in relevance order.
    """
    fields = [name for name, _ in FIELD_WEIGHTS]
    return [(weight, name, tuple(fields[:i])) for i, (name, weight) in enumerate(FIELD_WEIGHTS)]


# --- facet sampling ----------------------------------------------------------------------------

# Facet counts are exact up to this many matches. Above it they are counted over this many
# most recently indexed matches (the highest doc ids) and scaled to the total, as search engines
# do for large result sets (Elasticsearch's sampler aggregation, Algolia's non-exhaustive facet
# counts): counting every match of a common word costs a join per match and facet, while the
# sample reads a bounded run of neighbouring rows. The hits stay exact. 500 keeps each facet's
# leading values (a value in 1% of the matches is expected 5 times) at half the reads of 1,000,
# which took a fifth of a large search at 1,000,000 products.
FACET_SAMPLE = 500

# A range filter (price, rating) is checked on each match's row, one index lookup each. Past
# this many matches of the words and tags, only the most recently indexed this many are
# checked, and the total is the matches' count scaled by the share of them that passed (as
# Elasticsearch stops counting at track_total_hits, and Algolia reports non-exhaustive
# counts): a common word in a price range then costs a few milliseconds, not one lookup per
# match. ``SearchResult.total_approximate`` says so.
RANGE_CHECKS = 3000


def scale_count(count: int, sampled: int, total: int) -> int:
    """A facet count in a sample of ``sampled`` of ``total`` matches, scaled to the total."""
    if sampled >= total or sampled == 0:
        return count
    return max(1, min(total, round(count * total / sampled)))


# --- filters as index terms --------------------------------------------------------------------

# Equality filters are also indexed as words of a separate "tags" field, so a text search with
# filters is one intersection of posting lists inside the full-text engine (as search engines
# run filter queries) instead of a check per matching document. Tags are "x" + a kind letter
# + the hex of the value: alphanumeric, injective, and never produced by the user's words
# (which are only matched against the other fields).


def _tag(kind: str, value: str) -> str:
    return f"x{kind}{value.encode('utf-8').hex()}"


def document_tags(doc: SearchDocument) -> list[str]:
    tags = [_tag("c", c) for c in dict.fromkeys(doc.category_ids)]
    if doc.brand_id is not None:
        tags.append(_tag("b", doc.brand_id))
    tags += [_tag("s", s) for s in dict.fromkeys(doc.seller_ids)]
    for name, values in doc.attributes.items():
        tags += [_tag("a", f"{name}\x00{v}") for v in dict.fromkeys(values)]
    tags.append("xi1" if doc.in_stock else "xi0")
    return tags


def query_tags(query: SearchQuery, *, stock: bool = True) -> list[tuple[str, ...]]:
    """The equality filters of ``query`` as tags: every group must match, any tag of one.

    Without ``stock``, leaves out the in-stock filter: one of its two tags is in most
    documents, and intersecting a posting list of most of the index costs more than checking
    a few thousand matches' rows.
    """
    groups: list[tuple[str, ...]] = []
    if query.category_id is not None:
        groups.append((_tag("c", query.category_id),))
    if query.brand_ids:
        groups.append(tuple(_tag("b", b) for b in query.brand_ids))
    if query.seller_ids:
        groups.append(tuple(_tag("s", s) for s in query.seller_ids))
    for name, values in sorted(query.attributes.items()):
        if values:
            groups.append(tuple(_tag("a", f"{name}\x00{v}") for v in values))
    if query.in_stock is not None and stock:
        groups.append(("xi1" if query.in_stock else "xi0",))
    return groups


# --- facets and price buckets ------------------------------------------------------------------

CATEGORY = "category"
BRAND = "brand"
SELLER = "seller"
PRICE = "price"
ATTRIBUTE_PREFIX = "attr."
TOTAL = ""  # the facet key of a scope's document count in the counts table
ROOT_SCOPE = ""  # the scope of all documents (no category filter)
PRICE_BOUNDS = (0, 1000, 2500, 5000, 10000, 25000, 50000, 100000)  # minor units


def price_bucket(price: int | None) -> str | None:
    """The price facet label of ``price`` ("1000-2500", "100000-"), None without a price."""
    if price is None:
        return None
    lower = PRICE_BOUNDS[0]
    for bound in PRICE_BOUNDS[1:]:
        if price < bound:
            return f"{lower}-{bound}"
        lower = bound
    return f"{lower}-"


def check_facets(facets: Iterable[str]) -> None:
    for name in facets:
        known = name in (CATEGORY, BRAND, SELLER, PRICE)
        if not known and not (name.startswith(ATTRIBUTE_PREFIX) and len(name) > len("attr.")):
            raise ValidationFailed.on("facets", f"Unknown facet {name!r}", code="unknown_facet")


def facet_contributions(
    *,
    category_ids: Sequence[str],
    brand_id: str | None,
    seller_ids: Iterable[str],
    price: int | None,
    attributes: Mapping[str, Iterable[str]],
) -> Iterator[tuple[str, str, str]]:
    """The (scope, facet, value) counters one document adds one to.

    A scope is "all documents" or one category with its descendants: exactly the sets a
    category browse without other filters shows, whose totals and facet counts are therefore
    kept precomputed. In each scope the "category" facet counts the child on the document's
    category path.
    """
    sellers = tuple(dict.fromkeys(seller_ids))
    bucket = price_bucket(price)
    values = {name: tuple(dict.fromkeys(v)) for name, v in attributes.items()}
    for depth, scope in enumerate((ROOT_SCOPE, *category_ids)):
        yield scope, TOTAL, ""
        if depth < len(category_ids):
            yield scope, CATEGORY, category_ids[depth]
        if brand_id is not None:
            yield scope, BRAND, brand_id
        for seller in sellers:
            yield scope, SELLER, seller
        if bucket is not None:
            yield scope, PRICE, bucket
        for name, named_values in values.items():
            for value in named_values:
                yield scope, ATTRIBUTE_PREFIX + name, value


def document_contributions(doc: SearchDocument) -> Iterator[tuple[str, str, str]]:
    return facet_contributions(
        category_ids=doc.category_ids,
        brand_id=doc.brand_id,
        seller_ids=doc.seller_ids,
        price=doc.price,
        attributes=doc.attributes,
    )


def is_browse(query: SearchQuery) -> bool:
    """No text and no filter but the category: totals and facets are precomputed."""
    return (
        TextQuery.parse(query.q) is None
        and not query.brand_ids
        and not query.seller_ids
        and query.price_min is None
        and query.price_max is None
        and query.in_stock is None
        and query.rating_min is None
        and not any(query.attributes.values())
    )


# --- sorting and keyset positions ---------------------------------------------------------------

NO_VALUE_KEY = 2**62  # sorts documents without price or rating after every real value
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class SortKeys:
    """Every sort as one ascending integer, so each is a plain (key, product_id) keyset."""

    newest: int
    price_asc: int
    price_desc: int
    rating: int

    @classmethod
    def of(cls, doc: SearchDocument) -> SortKeys:
        micros = (doc.created_at - _EPOCH) // _MICROSECOND
        return cls(
            newest=-micros,
            price_asc=NO_VALUE_KEY if doc.price is None else doc.price,
            price_desc=NO_VALUE_KEY if doc.price is None else -doc.price,
            rating=NO_VALUE_KEY if doc.rating is None else -doc.rating,
        )


def effective_sort(query: SearchQuery, text: TextQuery | None) -> SortOrder:
    if query.sort is SortOrder.RELEVANCE and text is None:
        return SortOrder.NEWEST
    return query.sort


def check_after(after: Sequence[object] | None, sort: SortOrder) -> tuple[float | int, str] | None:
    """The keyset position ``after`` as (key, product_id), or a validation error."""
    if after is None:
        return None
    key_types: tuple[type, ...] = (int, float) if sort is SortOrder.RELEVANCE else (int,)
    if len(after) == 2:
        key, product_id = after
        valid_key = isinstance(key, key_types) and not isinstance(key, bool)
        if valid_key and isinstance(key, int | float) and isinstance(product_id, str):
            return key, product_id
    raise ValidationFailed.on("after", "Invalid position", code="invalid_cursor")


def check_query(query: SearchQuery) -> None:
    check_facets(query.facets)
    if not 1 <= query.limit <= 1000:
        raise ValidationFailed.on("limit", "limit must be between 1 and 1000")
    if not 1 <= query.facet_size <= 1000:
        raise ValidationFailed.on("facet_size", "facet_size must be between 1 and 1000")
