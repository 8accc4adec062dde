"""What every read of the index shares: the hit columns, the engine's part, SQL building and
assembling a page; and browsing, whose totals and facets are precomputed.

* **browse** (no text, no filter but the category): the total and the facet counts are read
  from ``search_facet_counts`` (precomputed, exact), then one statement fetches the page from
  a sort index: of the category's members (``search_doc_categories`` carries the sort keys),
  or of the documents for the whole catalogue.
* **filtered** (text or any other filter): see ``bazaar.search.filtered``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from bazaar.infra.db import UtcDateTime
from bazaar.search.model import (
    ROOT_SCOPE,
    TOTAL,
    FacetValue,
    SearchHit,
    SearchQuery,
    SearchResult,
    SortOrder,
)
from bazaar.search.offers import decode_offers
from bazaar.search.text import TextQuery

SORT_COLUMN = {
    SortOrder.NEWEST: "newest_key",
    SortOrder.PRICE_ASC: "price_asc_key",
    SortOrder.PRICE_DESC: "price_desc_key",
    SortOrder.RATING: "rating_key",
}
HIT_COLUMNS = (
    "product_id",
    "title",
    "brand_id",
    "brand_name",
    "category_id",
    "price",
    "currency",
    "in_stock",
    "rating",
    "image_url",
    "created_at",
)
OFFERS_COLUMN = "offers"  # read only for queries that ask (SearchQuery.with_offers)
TEXT = "text"  # the full-text engine drives: words and equality filters in one intersection
RESULT_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "created_at": UtcDateTime(),
    "in_stock": sa.Boolean(),
    "n": sa.BigInteger(),
}


class TextSearch(Protocol):
    """The engine-specific parts of a read."""

    forced_join: str  # a join keyword that keeps the written join order ("CROSS JOIN")

    def match_sql(
        self,
        text: TextQuery,
        tags: Sequence[Sequence[str]],
        params: dict[str, Any],
        *,
        scored: bool = True,
        name: str = "match",
    ) -> str:
        """A SELECT of (doc_id, score) of the documents matching every term and a tag of
        every group (model.query_tags); the score of model.FIELD_WEIGHTS, or only doc_id
        when not ``scored``. Its parameters' names start with ``name``."""
        ...

    def tier_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> list[tuple[int, str]] | None:
        """(score, SELECT doc_id) of the matches with each score, best first, when the engine
        can read them so without scoring every match (model.field_tiers); None otherwise."""
        ...

    def index_hint(self, index_name: str) -> str:
        """Text after ``FROM search_documents d`` that makes the engine scan ``index_name``."""
        ...


@dataclass
class Sql:
    """Bound parameters and expanding (IN-list) parameter names collected while building."""

    params: dict[str, Any] = field(default_factory=dict)
    lists: set[str] = field(default_factory=set)

    def bind(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f":{name}"

    def bind_list(self, name: str, values: Sequence[Any]) -> str:
        self.lists.add(name)
        return self.bind(name, list(values))

    def text(self, sql: str) -> sa.TextClause:
        clause = sa.text(sql)
        if self.lists:
            clause = clause.bindparams(*(sa.bindparam(n, expanding=True) for n in self.lists))
        return clause


def hit_columns(query: SearchQuery) -> tuple[str, ...]:
    """The search_documents columns a page of ``query``'s hits reads."""
    return (*HIT_COLUMNS, OFFERS_COLUMN) if query.with_offers else HIT_COLUMNS


def keyset(after: tuple[float | int, str] | None, key: str, sql: Sql) -> str:
    if after is None:
        return ""
    position = f"({sql.bind('after_key', after[0])}, {sql.bind('after_id', after[1])})"
    return f" WHERE ({key}, product_id) > {position}"


def search_browse(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    sort: SortOrder,
    after: tuple[float | int, str] | None,
) -> SearchResult:
    sql = Sql()
    scope = sql.bind("scope", query.category_id or ROOT_SCOPE)
    arms = [
        "SELECT scope, facet, value, count FROM search_facet_counts"
        f" WHERE scope = {scope} AND facet = '' AND value = ''"
    ]
    for i, name in enumerate(sorted(query.facets)):
        arms.append(
            "SELECT * FROM (SELECT scope, facet, value, count FROM search_facet_counts"
            f" WHERE scope = {scope} AND facet = {sql.bind(f'facet{i}', name)} AND count > 0"
            f" ORDER BY count DESC, value LIMIT {sql.bind('facet_size', query.facet_size)}) f{i}"
        )
    counts: Sequence[Any] = conn.execute(sql.text(" UNION ALL ".join(arms)), sql.params).all()
    totals = {s: int(n) for s, f, _, n in counts if f == TOTAL}
    total = totals.get(query.category_id or ROOT_SCOPE, 0)
    facets: dict[str, list[FacetValue]] = {name: [] for name in sorted(query.facets)}
    for _, facet, value, n in counts:
        if facet != TOTAL:
            facets[facet].append(FacetValue(value, int(n)))
    if total == 0:
        return SearchResult(hits=[], total=0, facets=facets, next_after=None)
    rows = _browse_page(conn, engine, query, sort, after)
    return page_result(rows, total, facets, query)


def _browse_page(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    sort: SortOrder,
    after: tuple[float | int, str] | None,
) -> Sequence[Row[Any]]:
    """The page of a browse: one range of a sort index, then the page's own rows.

    A category is read from its members' copy of the sort keys, in the index on (category,
    key, product_id): limit + 1 index entries whatever the category's size and however its
    prices or dates spread over the catalogue. The whole catalogue walks the documents' own
    sort index.
    """
    sql = Sql()
    column = SORT_COLUMN[sort]
    limit = sql.bind("limit", query.limit + 1)
    if query.category_id is None:
        members = (
            f"search_documents m {engine.index_hint(f'ix_search_documents_{column}_product_id')}"
        )
        where = []
    else:
        members = "search_doc_categories m"
        where = [f"m.category_id = {sql.bind('category', query.category_id)}"]
    if after is not None:
        key, product_id = sql.bind("after_key", after[0]), sql.bind("after_id", after[1])
        # The first condition seeks in the index; the row value then skips the tied keys
        # up to the position.
        where += [f"m.{column} >= {key}", f"(m.{column}, m.product_id) > ({key}, {product_id})"]
    page = (
        f"SELECT m.doc_id, m.{column} AS k FROM {members}"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY m.{column}, m.product_id LIMIT {limit}"
    )
    statement = (
        "SELECT 0 AS part, p.k, "
        + ", ".join(f"d.{c}" for c in hit_columns(query))
        + f" FROM ({page}) p {engine.forced_join} search_documents d WHERE d.doc_id = p.doc_id"
    )
    return conn.execute(sql.text(statement).columns(**RESULT_TYPES), sql.params).all()


def page_result(
    rows: Sequence[Row[Any]],
    total: int,
    facets: dict[str, list[FacetValue]],
    query: SearchQuery,
) -> SearchResult:
    ordered = sorted(rows, key=lambda r: (r.k, r.product_id))
    page = ordered[: query.limit]
    last = page[-1] if len(ordered) > query.limit else None
    for values in facets.values():
        values.sort(key=lambda v: (-v.count, v.value))
    if query.with_offers:
        offers = decode_offers([getattr(r, OFFERS_COLUMN) for r in page])
        hits = [
            SearchHit(**{c: getattr(r, c) for c in HIT_COLUMNS}, offers=o)
            for r, o in zip(page, offers, strict=True)
        ]
    else:
        hits = [SearchHit(**{c: getattr(r, c) for c in HIT_COLUMNS}) for r in page]
    return SearchResult(
        hits=hits,
        total=total,
        facets=facets,
        next_after=None if last is None else (_json_number(last.k), last.product_id),
    )


def _json_number(value: Any) -> int | float:
    # Keys come back as the driver's numeric types; a position must be a plain JSON scalar.
    return float(value) if isinstance(value, float) else int(value)
