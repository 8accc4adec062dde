"""How a search's filters become SQL over ``search_documents``, and which filter drives.

A filtered search starts from the rows of its most selective filter, judged by the
precomputed facet counts, and checks every other filter on each candidate; a text search lets
the full-text index apply the equality filters as tags and checks only stock and the ranges
on the row. Kept apart from the statement plans in ``filtered`` so the filter semantics can
be read in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.search.model import ATTRIBUTE_PREFIX, BRAND, CATEGORY, SELLER, SearchQuery
from bazaar.search.reads import TEXT, Sql


def _attribute_filters(query: SearchQuery) -> list[tuple[str, tuple[str, ...]]]:
    return [(name, values) for name, values in sorted(query.attributes.items()) if values]


def filters(query: SearchQuery, sql: Sql, driver: str) -> list[str]:
    """WHERE conditions on ``d`` for every filter the driving rows do not already apply.

    The text driver applies every equality filter but the in-stock one itself (as tags).
    """
    where: list[str] = []
    if driver == TEXT:
        return row_filters(query, sql)
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


def row_filters(query: SearchQuery, sql: Sql) -> list[str]:
    """The filters a text search checks on each match's row: stock (see model.query_tags) and
    the ranges."""
    where = []
    if query.in_stock is not None:
        where.append(f"d.in_stock = {sql.bind('in_stock', query.in_stock)}")
    return _range_filters(query, sql, where)


def has_ranges(query: SearchQuery) -> bool:
    return any(v is not None for v in (query.price_min, query.price_max, query.rating_min))


def _range_filters(query: SearchQuery, sql: Sql, where: list[str]) -> list[str]:
    for condition, name, value in (
        ("d.price >=", "price_min", query.price_min),
        ("d.price <=", "price_max", query.price_max),
        ("d.rating >=", "rating_min", query.rating_min),
    ):
        if value is not None:
            where.append(f"{condition} {sql.bind(name, value)}")
    return where


def driver_sizes(conn: Connection, query: SearchQuery) -> dict[str, int]:
    """How many documents each indexable filter selects on its own (from the counts)."""
    sql = Sql()
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


def driving_rows(query: SearchQuery, sql: Sql, driver: str, join: str) -> tuple[str, str]:
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
