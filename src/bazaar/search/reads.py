"""Answering a search: plan, SQL, and assembling the result, for both engines.

Two paths, each a fixed number of statements whatever the page or facet size:

* **browse** (no text, no filter but the category): the total and the facet counts are read
  from ``search_facet_counts`` (precomputed, exact), then one statement fetches the page. A
  big category is paged by walking the sort index and checking membership (a document of the
  category turns up every ``N / total`` rows); a small one by sorting its members.
* **filtered** (text or any other filter): one statement materialises the matching documents
  once and reads the page, the exact total and every facet from them. Without text, the most
  selective filter drives it, judged by the precomputed counts (one small statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from bazaar.infra.db import UtcDateTime
from bazaar.search.model import (
    ATTRIBUTE_PREFIX,
    BRAND,
    CATEGORY,
    PRICE,
    ROOT_SCOPE,
    SELLER,
    TOTAL,
    FacetValue,
    SearchHit,
    SearchQuery,
    SearchResult,
    SortOrder,
    TextQuery,
    query_tags,
)

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
TEXT = "text"  # the full-text engine drives: words and equality filters in one intersection
_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "created_at": UtcDateTime(),
    "in_stock": sa.Boolean(),
    "n": sa.BigInteger(),
}


class TextSearch(Protocol):
    """The engine-specific parts of a read."""

    forced_join: str  # a join keyword that keeps the written join order ("CROSS JOIN")

    def match_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> str:
        """A SELECT of (doc_id, score) of the documents matching every term and a tag of
        every group (model.query_tags); low score first."""
        ...

    def index_hint(self, index_name: str) -> str:
        """Text after ``FROM search_documents d`` that makes the engine scan ``index_name``."""
        ...


@dataclass
class _Sql:
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


def _attribute_filters(query: SearchQuery) -> list[tuple[str, tuple[str, ...]]]:
    return [(name, values) for name, values in sorted(query.attributes.items()) if values]


def _filters(query: SearchQuery, sql: _Sql, driver: str) -> list[str]:
    """WHERE conditions on ``d`` for every filter the driving rows do not already apply.

    The text driver applies every equality filter itself (as tags), leaving the ranges.
    """
    where: list[str] = []
    if driver == TEXT:
        return _range_filters(query, sql, where)
    if query.category_id is not None and driver != CATEGORY:
        where.append(
            "EXISTS (SELECT 1 FROM search_doc_categories fc WHERE fc.doc_id = d.doc_id"
            f" AND fc.category_id = {sql.bind('category', query.category_id)})"
        )
    if query.brand_ids:
        where.append(f"d.brand_id IN {sql.bind_list('brands', query.brand_ids)}")
    if query.seller_ids and driver != SELLER:
        where.append(
            "EXISTS (SELECT 1 FROM search_doc_sellers fs WHERE fs.doc_id = d.doc_id"
            f" AND fs.seller_id IN {sql.bind_list('sellers', query.seller_ids)})"
        )
    for i, (name, values) in enumerate(_attribute_filters(query)):
        if driver != f"attr{i}":
            where.append(
                f"EXISTS (SELECT 1 FROM search_doc_attributes fa WHERE fa.doc_id = d.doc_id"
                f" AND fa.name = {sql.bind(f'attr_name{i}', name)}"
                f" AND fa.value IN {sql.bind_list(f'attr_values{i}', values)})"
            )
    if query.in_stock is not None:
        where.append(f"d.in_stock = {sql.bind('in_stock', query.in_stock)}")
    return _range_filters(query, sql, where)


def _range_filters(query: SearchQuery, sql: _Sql, where: list[str]) -> list[str]:
    for condition, name, value in (
        ("d.price >=", "price_min", query.price_min),
        ("d.price <=", "price_max", query.price_max),
        ("d.rating >=", "rating_min", query.rating_min),
    ):
        if value is not None:
            where.append(f"{condition} {sql.bind(name, value)}")
    return where


def _driver_sizes(conn: Connection, query: SearchQuery) -> dict[str, int]:
    """How many documents each indexable filter selects on its own (from the counts)."""
    sql = _Sql()
    arms = []
    if query.category_id is not None:
        arms.append((CATEGORY, sql.bind("scope", query.category_id), "''", "= ''"))
    if query.brand_ids:
        arms.append((BRAND, "''", f"'{BRAND}'", f"IN {sql.bind_list('b', query.brand_ids)}"))
    if query.seller_ids:
        arms.append((SELLER, "''", f"'{SELLER}'", f"IN {sql.bind_list('s', query.seller_ids)}"))
    for i, (name, values) in enumerate(_attribute_filters(query)):
        facet = sql.bind(f"an{i}", ATTRIBUTE_PREFIX + name)
        arms.append((f"attr{i}", "''", facet, f"IN {sql.bind_list(f'av{i}', values)}"))
    if len(arms) < 2:
        return {arms[0][0]: 0} if arms else {}
    statement = " UNION ALL ".join(
        f"SELECT '{key}' AS driver, COALESCE(SUM(count), 0) AS n FROM search_facet_counts"
        f" WHERE scope = {scope} AND facet = {facet} AND value {values}"
        for key, scope, facet, values in arms
    )
    rows: Sequence[Any] = conn.execute(sql.text(statement), sql.params).all()
    return {key: int(n) for key, n in rows}


def _driving_rows(query: SearchQuery, sql: _Sql, driver: str, join: str) -> tuple[str, str]:
    """FROM clause and join condition that start from the rows of the most selective filter.

    The brand filter needs nothing here: it is a column of ``d`` with an index of its own.
    """
    if driver == CATEGORY:
        category = sql.bind("category", query.category_id)
        rows = "search_doc_categories dc"
        condition = f"dc.category_id = {category} AND d.doc_id = dc.doc_id"
    elif driver == SELLER:
        sellers = sql.bind_list("sellers", query.seller_ids)
        rows = f"(SELECT DISTINCT doc_id FROM search_doc_sellers WHERE seller_id IN {sellers}) dc"
        condition = "d.doc_id = dc.doc_id"
    elif driver.startswith("attr"):
        i = int(driver.removeprefix("attr"))
        name, values = _attribute_filters(query)[i]
        rows = (
            "(SELECT DISTINCT doc_id FROM search_doc_attributes"
            f" WHERE name = {sql.bind(f'attr_name{i}', name)}"
            f" AND value IN {sql.bind_list(f'attr_values{i}', values)}) dc"
        )
        condition = "d.doc_id = dc.doc_id"
    else:
        return "search_documents d", ""
    return f"{rows} {join} search_documents d", condition


def _keyset(after: tuple[float | int, str] | None, key: str, sql: _Sql) -> str:
    if after is None:
        return ""
    position = f"({sql.bind('after_key', after[0])}, {sql.bind('after_id', after[1])})"
    return f" WHERE ({key}, product_id) > {position}"


def search_filtered(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    text: TextQuery | None,
    sort: SortOrder,
    after: tuple[float | int, str] | None,
) -> SearchResult:
    sql = _Sql()
    join = engine.forced_join
    if text is not None:
        matching = engine.match_sql(text, query_tags(query), sql.params)
        source = f"({matching}) x {join} search_documents d"
        where = ["d.doc_id = x.doc_id", *_filters(query, sql, driver=TEXT)]
    else:
        sizes = _driver_sizes(conn, query)
        driver = min(sizes, key=lambda k: sizes[k]) if sizes else ""
        source, condition = _driving_rows(query, sql, driver, join)
        where = _filters(query, sql, driver)
        if condition:
            where.insert(0, condition)
    key = "x.score" if sort is SortOrder.RELEVANCE else f"d.{SORT_COLUMN[sort]}"
    matched = (
        f"SELECT d.doc_id, d.product_id, d.brand_id, d.price_bucket, {key} AS k"
        f" FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
    )
    # One statement, one row shape: part 0 = a hit, 1 = the total, 2 + i = a count of facet i.
    padding = ", ".join(f"NULL AS {c}" for c in ("k", *HIT_COLUMNS))
    arms = [
        f"SELECT 1 AS part, NULL AS value, COUNT(*) AS n, {padding} FROM m",
        "SELECT 0, NULL, NULL, h.k, "
        + ", ".join(f"d.{c}" for c in HIT_COLUMNS)
        + " FROM (SELECT doc_id, k, product_id FROM m"
        + _keyset(after, "k", sql)
        + f" ORDER BY k, product_id LIMIT {sql.bind('limit', query.limit + 1)}) h"
        + " JOIN search_documents d ON d.doc_id = h.doc_id",
    ]
    names = sorted(query.facets)
    for i, name in enumerate(names):
        value, rows = _facet_rows(name, query, sql, i, join)
        # Padding outside the subquery: untyped NULLs inside it would become text on PostgreSQL.
        arms.append(
            f"SELECT {2 + i}, value, n, {padding} FROM (SELECT {value} AS value, COUNT(*) AS n"
            f" FROM m {rows} GROUP BY {value} ORDER BY n DESC, {value}"
            f" LIMIT {sql.bind('facet_size', query.facet_size)}) f{i}"
        )
    statement = f"WITH m AS MATERIALIZED ({matched}) " + " UNION ALL ".join(arms)
    result = conn.execute(sql.text(statement).columns(**_TYPES), sql.params).all()
    total = next(int(r.n) for r in result if r.part == 1)
    facets: dict[str, list[FacetValue]] = {name: [] for name in names}
    for r in result:
        if r.part >= 2:
            facets[names[r.part - 2]].append(FacetValue(r.value, int(r.n)))
    return _result([r for r in result if r.part == 0], total, facets, query)


def _facet_rows(name: str, query: SearchQuery, sql: _Sql, i: int, join: str) -> tuple[str, str]:
    """(value expression, what follows ``FROM m``) of one facet's counts.

    The matched documents drive (``join`` keeps that order on SQLite): each costs one seek
    into the clustered rows of the facet, whatever the size of the whole index.
    """
    if name == BRAND:
        return "m.brand_id", "WHERE m.brand_id IS NOT NULL"
    if name == PRICE:
        return "m.price_bucket", "WHERE m.price_bucket IS NOT NULL"
    if name == SELLER:
        return "r.seller_id", f"{join} search_doc_sellers r WHERE r.doc_id = m.doc_id"
    if name == CATEGORY:
        parent = sql.bind("parent", query.category_id or ROOT_SCOPE)
        return "r.category_id", (
            f"{join} search_doc_categories r WHERE r.doc_id = m.doc_id AND r.parent_id = {parent}"
        )
    attribute = sql.bind(f"facet_attr{i}", name.removeprefix(ATTRIBUTE_PREFIX))
    return "r.value", (
        f"{join} search_doc_attributes r WHERE r.doc_id = m.doc_id AND r.name = {attribute}"
    )


def search_browse(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    sort: SortOrder,
    after: tuple[float | int, str] | None,
) -> SearchResult:
    sql = _Sql()
    scope = sql.bind("scope", query.category_id or ROOT_SCOPE)
    arms = [
        "SELECT scope, facet, value, count FROM search_facet_counts"
        f" WHERE scope IN ({scope}, '') AND facet = '' AND value = ''"
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
    rows = _browse_page(conn, engine, query, sort, after, total, totals.get(ROOT_SCOPE, 0))
    return _result(rows, total, facets, query)


def _browse_page(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    sort: SortOrder,
    after: tuple[float | int, str] | None,
    total: int,
    everything: int,
) -> Sequence[Row[Any]]:
    sql = _Sql()
    column = SORT_COLUMN[sort]
    where = []
    prefix = ""
    if query.category_id is None:
        source = "search_documents d"
    elif total * total >= (query.limit + 1) * everything:
        # Walking the sort order finds one member every everything/total rows: cheaper than
        # sorting all ``total`` members once that is below ``total`` itself.
        hint = engine.index_hint(f"ix_search_documents_{column}_product_id")
        source = f"search_documents d {hint}"
        where.append(
            "EXISTS (SELECT 1 FROM search_doc_categories c WHERE c.doc_id = d.doc_id"
            f" AND c.category_id = {sql.bind('category', query.category_id)})"
        )
    else:
        # Materialised first, so no planner walks the sort index hoping for early members.
        category = sql.bind("category", query.category_id)
        members = f"SELECT doc_id FROM search_doc_categories WHERE category_id = {category}"
        prefix = f"WITH c AS MATERIALIZED ({members}) "
        source = f"c {engine.forced_join} search_documents d"
        where.append("d.doc_id = c.doc_id")
    if after is not None:
        position = f"({sql.bind('after_key', after[0])}, {sql.bind('after_id', after[1])})"
        where.append(f"(d.{column}, d.product_id) > {position}")
    statement = (
        f"{prefix}SELECT 0 AS part, d.{column} AS k, "
        + ", ".join(f"d.{c}" for c in HIT_COLUMNS)
        + f" FROM {source}"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY d.{column}, d.product_id LIMIT {sql.bind('limit', query.limit + 1)}"
    )
    return conn.execute(sql.text(statement).columns(**_TYPES), sql.params).all()


def _result(
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
    return SearchResult(
        hits=[SearchHit(**{c: getattr(r, c) for c in HIT_COLUMNS}) for r in page],
        total=total,
        facets=facets,
        next_after=None if last is None else (_json_number(last.k), last.product_id),
    )


def _json_number(value: Any) -> int | float:
    # Keys come back as the driver's numeric types; a position must be a plain JSON scalar.
    return float(value) if isinstance(value, float) else int(value)
