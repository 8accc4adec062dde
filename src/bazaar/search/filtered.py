"""Searches with text or any filter but the category: the page, the exact total and facets.

One statement materialises the matches once and reads the page, the total and every facet
from them (without text, the most selective filter drives, judged by the precomputed counts in
one small statement; the filters' SQL and that choice are in ``filter_sql``). Past a few
limits (ReadLimits) it reads less than every match:

* **facets** are counted over the ``facet_sample`` most recently indexed matches and scaled to
  the total (``SearchResult.facets_approximate``); the hits stay exact.
* **relevance**, when the engine can read it tier by tier (``TextSearch.tier_sql``): a first
  statement scores at most ``scored_matches`` matches from their stored fields; past that, a
  second one reads each tier in doc id order and stops when the page is full, so a page of a
  word in 300,000 documents reads a few dozen rows. Only the total walks every posting.
* **stock** is checked on each match's row with the range filters, in a narrow covering
  index, rather than intersected in the full-text index as a tag: the in-stock tag is in most
  documents, and walking its posting list costs more than checking up to ``row_checks``
  rows; past that many, a total is counted with the tag.
* **ranges** (price, rating) over more than ``range_checks`` matches of the words, in a
  relevance search read by tiers: only the most recently indexed ``range_checks`` matches
  are checked; the total is every match counted in the full-text index, scaled by the share
  of the checked ones that passed (``SearchResult.total_approximate``). The page's tiers
  still check each row they read, so the hits stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.engine import Connection

from bazaar.search.filter_sql import driver_sizes, driving_rows, filters, has_ranges, row_filters
from bazaar.search.model import (
    ATTRIBUTE_PREFIX,
    BRAND,
    CATEGORY,
    DOC_ID_SPAN,
    FACET_SAMPLE,
    MAX_SCORE,
    PRICE,
    RANGE_CHECKS,
    ROOT_SCOPE,
    SCORED_MATCHES,
    SELLER,
    FacetValue,
    SearchQuery,
    SearchResult,
    SortOrder,
    query_tags,
    relevance_key,
    relevance_position,
    scale_count,
)
from bazaar.search.reads import (
    RESULT_TYPES,
    SORT_COLUMN,
    TEXT,
    Sql,
    TextSearch,
    hit_columns,
    keyset,
    page_result,
)
from bazaar.search.store import ROW_FILTER_INDEX
from bazaar.search.text import TextQuery

# Checking the stock of each match costs a lookup in a narrow index; intersecting the in-stock
# tag (in most documents) costs a walk of most of its posting list: about the same at this
# many matches (measured at 1,000,000 documents).
ROW_CHECK_LIMIT = 20_000


@dataclass(frozen=True)
class ReadLimits:
    """Where a filtered search switches strategy (see search_filtered); tests lower them."""

    facet_sample: int = FACET_SAMPLE
    scored_matches: int = SCORED_MATCHES
    row_checks: int = ROW_CHECK_LIMIT
    range_checks: int = RANGE_CHECKS


_LATEST_OF_M = (
    "SELECT doc_id, brand_id, price_bucket FROM m ORDER BY doc_id DESC LIMIT :facet_sample"
)


@dataclass(frozen=True)
class _Matches:
    """How a filtered search reads its matches, as the parts of one statement."""

    ctes: list[str]  # common table expressions the parts below use
    total: str  # SELECT of one row: the total, as "n"
    sample: str  # SELECT doc_id, brand_id, price_bucket of the latest :facet_sample matches
    page: str  # SELECT doc_id, k of the page: limit + 1 rows in (k, product_id) order
    seen: str | None = None  # a CTE with a count "n" of the words' matches (_scored_matches)
    approximate: str | None = None  # SELECT of one row: "n" is 1 when the total is estimated


def search_filtered(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    text: TextQuery | None,
    sort: SortOrder,
    after: tuple[float | int, str] | None,
    limits: ReadLimits,
) -> SearchResult:
    """The page, the exact total and the facets of a search with text or filters.

    Facets are counted over every match up to ``limits.facet_sample`` matches, and over that
    many of the most recently indexed ones above (model.FACET_SAMPLE).

    One statement; but when the engine can rank by tiers (TextSearch.tier_sql), a relevance
    search first scores its matches one by one only if there are at most
    ``limits.scored_matches`` of them (reading no more), and otherwise reads the page tier by
    tier in a second one.
    """
    sql = Sql()
    tiers_sql = Sql()
    tiers = None
    if text is not None and sort is SortOrder.RELEVANCE:
        tiers = engine.tier_sql(text, query_tags(query, stock=False), tiers_sql.params)
    if text is None or tiers is None:
        matches = _scored_matches(conn, engine, query, text, sort, after, sql, None, limits)
        return _run(conn, engine, query, matches, sql, limits)[0]
    cap = limits.scored_matches
    scored = _scored_matches(conn, engine, query, text, sort, after, sql, cap, limits)
    result, seen = _run(conn, engine, query, scored, sql, limits)
    if seen is None or seen <= cap:
        return result
    tiered = _tiered_matches(engine, query, text, tiers, after, tiers_sql, seen, limits)
    return _run(conn, engine, query, tiered, tiers_sql, limits)[0]


def _run(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    matches: _Matches,
    sql: Sql,
    limits: ReadLimits,
) -> tuple[SearchResult, int | None]:
    """The result read with ``matches``, and how many rows its ``seen`` item has."""
    sql.bind("facet_sample", limits.facet_sample)
    ctes = [
        *matches.ctes,
        f"t AS MATERIALIZED ({matches.total})",
        f"s AS MATERIALIZED ({matches.sample})",
    ]
    # One statement, one row shape: part 0 = a hit, 1 = the total, 2 = the number of sampled
    # matches, 3 = the rows ``seen``, 4 = whether the total is estimated, 5 + i = a count of
    # facet i. The hits come first:
    # PostgreSQL types each column of a UNION from its first typed arm.
    columns = hit_columns(query)
    padding = ", ".join(f"NULL AS {c}" for c in ("k", *columns))
    arms = [
        "SELECT 0 AS part, NULL AS value, NULL AS n, p.k, "
        + ", ".join(f"d.{c}" for c in columns)
        + f" FROM ({matches.page}) p JOIN search_documents d ON d.doc_id = p.doc_id",
        f"SELECT 1, NULL, n, {padding} FROM t",
        f"SELECT 2, NULL, COUNT(*), {padding} FROM s",
    ]
    if matches.seen is not None:
        arms.append(f"SELECT 3, NULL, n, {padding} FROM {matches.seen}")
    if matches.approximate is not None:
        arms.append(f"SELECT 4, NULL, n, {padding} FROM ({matches.approximate}) e")
    names = sorted(query.facets)
    for i, name in enumerate(names):
        value, rows = _facet_rows(name, query, sql, i)
        # Padding outside the subquery: untyped NULLs inside it would become text on PostgreSQL.
        arms.append(
            f"SELECT {5 + i}, value, n, {padding} FROM (SELECT {value} AS value, COUNT(*) AS n"
            f" FROM {rows} GROUP BY {value} ORDER BY n DESC, {value}"
            f" LIMIT {sql.bind('facet_size', query.facet_size)}) f{i}"
        )
    statement = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(arms)
    rows_ = conn.execute(sql.text(statement).columns(**RESULT_TYPES), sql.params).all()
    counts = {r.part: int(r.n) for r in rows_ if 1 <= r.part <= 4}
    total, sampled = counts[1], counts[2]
    facets: dict[str, list[FacetValue]] = {name: [] for name in names}
    for r in rows_:
        if r.part >= 5:
            count = scale_count(int(r.n), sampled, total)
            facets[names[r.part - 5]].append(FacetValue(r.value, count))
    result = page_result([r for r in rows_ if r.part == 0], total, facets, query)
    estimated = bool(counts.get(4))
    return replace(
        result, facets_approximate=estimated or sampled < total, total_approximate=estimated
    ), counts.get(3)


def _scored_matches(
    conn: Connection,
    engine: TextSearch,
    query: SearchQuery,
    text: TextQuery | None,
    sort: SortOrder,
    after: tuple[float | int, str] | None,
    sql: Sql,
    cap: int | None,
    limits: ReadLimits,
) -> _Matches:
    """Every match materialised once with its sort key (``m``).

    With a ``cap``, no more than cap + 1 matches of the words and tags are read (``x``), so
    the result is only complete if there are at most ``cap``; ``seen`` counts them, past the
    cap up to ``limits.row_checks``, to tell the tiered read that follows how to check rows.
    """
    join = engine.forced_join
    ctes = []
    seen = None
    if text is not None:
        tags = query_tags(query, stock=False)
        matching = engine.match_sql(text, tags, sql.params)
        if cap is not None:
            ctes.append(f"x AS MATERIALIZED ({matching} LIMIT {sql.bind('cap_1', cap + 1)})")
            # Counted further only past the cap (a CASE runs its subquery only when taken),
            # and only when the tiered read has a use for the count (no range filters).
            further = "c"
            if not has_ranges(query):
                unscored = engine.match_sql(text, tags, sql.params, scored=False)
                limit = sql.bind("seen_limit", max(cap + 1, limits.row_checks))
                further = (
                    f"(SELECT COUNT(*) FROM (SELECT doc_id FROM ({unscored}) y LIMIT {limit}) z)"
                )
            ctes.append(
                f"seen AS MATERIALIZED (SELECT CASE WHEN c <= {sql.bind('cap', cap)} THEN c"
                f" ELSE {further} END AS n FROM (SELECT COUNT(*) AS c FROM x) xc)"
            )
            source, seen = f"x {join} search_documents d", "seen"
        else:
            source = f"({matching}) x {join} search_documents d"
        where = ["d.doc_id = x.doc_id", *filters(query, sql, driver=TEXT)]
    else:
        sizes = driver_sizes(conn, query)
        driver = min(sizes, key=lambda k: sizes[k]) if sizes else ""
        source, condition = driving_rows(query, sql, driver, join)
        where = filters(query, sql, driver)
        if condition:
            where.insert(0, condition)
    if sort is SortOrder.RELEVANCE:
        key = f"({sql.bind('max_score', MAX_SCORE)} - x.score) * {DOC_ID_SPAN} + d.doc_id"
    else:
        key = f"d.{SORT_COLUMN[sort]}"
    matched = (
        f"SELECT d.doc_id, d.product_id, d.brand_id, d.price_bucket, {key} AS k"
        f" FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
    )
    return _Matches(
        ctes=[*ctes, f"m AS MATERIALIZED ({matched})"],
        total="SELECT COUNT(*) AS n FROM m",
        sample=_LATEST_OF_M,
        page=(
            "SELECT doc_id, k, product_id FROM m"
            + keyset(after, "k", sql)
            + f" ORDER BY k, product_id LIMIT {sql.bind('limit', query.limit + 1)}"
        ),
        seen=seen,
    )


def _tiered_matches(
    engine: TextSearch,
    query: SearchQuery,
    text: TextQuery,
    tiers: Sequence[tuple[int, str]],
    after: tuple[float | int, str] | None,
    sql: Sql,
    seen: int,
    limits: ReadLimits,
) -> _Matches:
    """Relevance by tiers (TextSearch.tier_sql): no match is scored, and each tier stops after
    the rows the page needs, so a page of a huge match set reads a few rows per tier.

    The filters on the rows (stock, ranges) are checked once per match (``m``, in a narrow
    index), except the stock filter alone over ``limits.row_checks`` or more matches (``seen``
    of the words and tags): the total is then counted in the full-text index alone, with the
    in-stock tag, and only the sampled matches are fetched; without filters on the rows,
    ``seen`` is the total when below that. The tiers and the sample check the rows they fetch
    anyway.
    """
    join = engine.forced_join
    checks = row_filters(query, sql)
    checked_too = "".join(f" AND {check}" for check in checks)
    # Only the checked and sampled columns: the engine may read them from the narrow index.
    narrow = f"search_documents d {engine.index_hint(ROW_FILTER_INDEX)}"
    matching = engine.match_sql(text, query_tags(query, stock=False), sql.params, scored=False)
    approximate = None
    if has_ranges(query):
        # The latest range_checks matches are checked (w, then m); past that many, the total
        # is the count of every match scaled by the share of w that passed, rounded.
        window = sql.bind("range_checks", limits.range_checks)
        ctes = [
            f"w AS MATERIALIZED (SELECT doc_id FROM ({matching}) x"
            f" ORDER BY doc_id DESC LIMIT {window})",
            # an IN list, not a join: SQLite would build a Bloom filter over the whole index
            f"m AS MATERIALIZED (SELECT d.doc_id, d.brand_id, d.price_bucket FROM {narrow}"
            f" WHERE d.doc_id IN (SELECT doc_id FROM w){checked_too})",
            # every match, counted in the full-text index only when the window is full
            f"f AS MATERIALIZED (SELECT CASE WHEN n < {window} THEN n"
            f" ELSE (SELECT COUNT(*) FROM ({matching}) c) END AS n"
            " FROM (SELECT COUNT(*) AS n FROM w) wn)",
        ]
        passed = "(SELECT COUNT(*) FROM m)"
        total = (
            f"SELECT CASE WHEN f.n <= {window} THEN {passed}"
            f" ELSE (f.n * {passed} + {window} / 2) / {window} END AS n FROM f"
        )
        approximate = f"SELECT CASE WHEN f.n <= {window} THEN 0 ELSE 1 END AS n FROM f"
        sample = _LATEST_OF_M
    elif checks and seen < limits.row_checks:
        checked = f"SELECT x.doc_id FROM ({matching}) x {join} {narrow} WHERE d.doc_id = x.doc_id"
        ctes = [f"m AS MATERIALIZED ({checked}{checked_too})"]
        total = "SELECT COUNT(*) AS n FROM m"
        sample = (
            "SELECT d.doc_id, d.brand_id, d.price_bucket FROM (SELECT doc_id FROM m"
            f" ORDER BY doc_id DESC LIMIT :facet_sample) y {join} {narrow}"
            " WHERE d.doc_id = y.doc_id"
        )
    else:
        ctes = []
        if not checks and seen < limits.row_checks:  # then seen counted them all
            total = f"SELECT CAST({sql.bind('seen', seen)} AS BIGINT) AS n"
        else:
            every_tag = engine.match_sql(
                text, query_tags(query), sql.params, scored=False, name="counted"
            )
            total = f"SELECT COUNT(*) AS n FROM ({every_tag}) x"
        sample = (
            "SELECT d.doc_id, d.brand_id, d.price_bucket"
            f" FROM ({matching}) x {join} {narrow}"
            f" WHERE d.doc_id = x.doc_id{checked_too}"
            " ORDER BY x.doc_id DESC LIMIT :facet_sample"
        )
    position = None if after is None else relevance_position(after[0])
    limit = sql.bind("limit", query.limit + 1)
    arms = []
    for i, (score, tier) in enumerate(tiers):
        if position is not None and score > position[0]:
            continue  # the whole tier ranks before the position
        where = list(checks)
        rows = f"({tier}) x"
        if checks:
            rows += f" {join} {narrow}"
            where.insert(0, "d.doc_id = x.doc_id")
        if position is not None and score == position[0]:
            where.append(f"x.doc_id > {sql.bind(f'after_doc{i}', position[1])}")
        arms.append(
            f"SELECT * FROM (SELECT x.doc_id, {relevance_key(score, 0)} + x.doc_id AS k"
            f" FROM {rows}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY x.doc_id LIMIT {limit}) r{i}"
        )
    if not arms:  # a position past every tier
        arms.append("SELECT doc_id, 0 AS k FROM search_documents WHERE 1 = 0")
    # No ORDER BY over the arms: the tiers are listed best first, each in key order, and a
    # compound SELECT runs its arms in order, so the LIMIT stops before a tier the page does
    # not reach (an empty or sparse tier would otherwise be scanned to its end).
    page = " UNION ALL ".join(arms) + f" LIMIT {limit}"
    return _Matches(ctes=ctes, total=total, sample=sample, page=page, approximate=approximate)


def _facet_rows(name: str, query: SearchQuery, sql: Sql, i: int) -> tuple[str, str]:
    """(value expression, FROM and WHERE) of one facet's counts over the sample ``s``.

    A multi-valued facet reads its rows by doc id, the sampled documents as an IN list: a join
    would let SQLite 3.40's planner add a Bloom filter built by scanning the whole facet table
    (~35 ms at 200,000 documents) before the first lookup.
    """
    if name == BRAND:
        return "s.brand_id", "s WHERE s.brand_id IS NOT NULL"
    if name == PRICE:
        return "s.price_bucket", "s WHERE s.price_bucket IS NOT NULL"
    sampled = "r.doc_id IN (SELECT doc_id FROM s)"
    if name == SELLER:
        return "r.seller_id", f"search_doc_sellers r WHERE {sampled}"
    if name == CATEGORY:
        parent = sql.bind("parent", query.category_id or ROOT_SCOPE)
        return (
            "r.category_id",
            f"search_doc_categories r WHERE {sampled} AND r.parent_id = {parent}",
        )
    attribute = sql.bind(f"facet_attr{i}", name.removeprefix(ATTRIBUTE_PREFIX))
    return "r.value", f"search_doc_attributes r WHERE {sampled} AND r.name = {attribute}"
