"""The precomputed facet counts: what documents add to them, and applying the net change.

Every document write takes back what the replaced documents contributed
(:func:`stored_contributions`), adds what the new ones do (:func:`add_contributions`) and
writes the sum once (:func:`apply_count_deltas`). Separate from the document writes in
:mod:`bazaar.search.writes` because the counters are a structure of their own, with their own
rules: one counter per category scope of a document's chain, rows locked in one global order,
counters dropped when they reach zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.search.batched_sql import executemany_rows, insert_many
from bazaar.search.model import (
    ATTRIBUTE_PREFIX,
    BRAND,
    CATEGORY,
    PRICE,
    ROOT_SCOPE,
    SELLER,
    TOTAL,
    SearchDocument,
    facet_contributions,
    price_bucket,
)


def stored_contributions(
    conn: Connection, doc_ids: Sequence[int]
) -> Iterable[tuple[str, str, str]]:
    """What the stored documents ``doc_ids`` add to the facet counts (to take it back)."""
    rows: Sequence[Any] = conn.execute(
        sa.text(
            "SELECT doc_id, 'd' AS kind, brand_id AS a, NULL AS b, price AS p"
            " FROM search_documents WHERE doc_id IN :ids"
            " UNION ALL SELECT doc_id, 'c', category_id, parent_id, NULL"
            " FROM search_doc_categories WHERE doc_id IN :ids"
            " UNION ALL SELECT doc_id, 's', seller_id, NULL, NULL"
            " FROM search_doc_sellers WHERE doc_id IN :ids"
            " UNION ALL SELECT doc_id, 'a', name, value, NULL"
            " FROM search_doc_attributes WHERE doc_id IN :ids"
        ).bindparams(sa.bindparam("ids", expanding=True)),
        {"ids": list(doc_ids)},
    ).all()
    brand: dict[int, str | None] = {}
    price: dict[int, int | None] = {}
    parents: dict[int, dict[str, str]] = defaultdict(dict)
    sellers: dict[int, list[str]] = defaultdict(list)
    attributes: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for doc_id, kind, a, b, p in rows:
        if kind == "d":
            brand[doc_id], price[doc_id] = a, p
        elif kind == "c":
            parents[doc_id][b] = a  # parent -> child: the chain is walked from the root ("")
        elif kind == "s":
            sellers[doc_id].append(a)
        else:
            attributes[doc_id][a].append(b)
    for doc_id in brand:
        chain, child = [], parents[doc_id].get("")
        while child is not None:
            chain.append(child)
            child = parents[doc_id].get(child)
        yield from facet_contributions(
            category_ids=chain,
            brand_id=brand[doc_id],
            seller_ids=sellers[doc_id],
            price=price[doc_id],
            attributes=attributes[doc_id],
        )


def add_contributions(
    deltas: Counter[tuple[str, str, str]], docs: Iterable[SearchDocument]
) -> None:
    """Add what ``docs`` contribute to the facet counts (model.facet_contributions) to ``deltas``.

    The same counters as summing ``document_contributions`` over the documents, counted a
    scope at a time: a document's (facet, value) pairs are the same in each scope of its
    category chain but the "category" one, so they are built once per document instead of
    once per scope, and counted by ``Counter.update`` in C.
    """
    by_scope: defaultdict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for doc in docs:
        pairs = [(TOTAL, "")]
        if doc.brand_id is not None:
            pairs.append((BRAND, doc.brand_id))
        pairs += [(SELLER, s) for s in dict.fromkeys(doc.seller_ids)]
        if doc.price is not None:
            pairs.append((PRICE, price_bucket(doc.price) or ""))
        for name, values in doc.attributes.items():
            facet = ATTRIBUTE_PREFIX + name
            if len(values) == 1:
                pairs.append((facet, values[0]))
            else:
                pairs += [(facet, v) for v in dict.fromkeys(values)]
        scope = ROOT_SCOPE
        for category_id in doc.category_ids:
            counts = by_scope[scope]
            counts.update(pairs)
            counts[CATEGORY, category_id] += 1
            scope = category_id
        by_scope[scope].update(pairs)
    for scope, counts in by_scope.items():
        for (facet, value), n in counts.items():
            deltas[scope, facet, value] += n


_ADD_COUNT = (
    " ON CONFLICT (scope, facet, value)"
    " DO UPDATE SET count = search_facet_counts.count + excluded.count"
)
_DROP_ZERO = (
    "DELETE FROM search_facet_counts WHERE scope = ? AND facet = ? AND value = ? AND count = 0"
)
_DROP_ZERO_PG = (
    "DELETE FROM search_facet_counts f"
    " USING unnest(CAST(%b AS text[]), CAST(%b AS text[]), CAST(%b AS text[])) AS u(s, k, v)"
    " WHERE f.scope = u.s AND f.facet = u.k AND f.value = u.v AND f.count = 0"
)


def apply_count_deltas(conn: Connection, deltas: Counter[tuple[str, str, str]]) -> None:
    """Add ``deltas`` to the precomputed counts, dropping counters that reach zero."""
    # Sorted, so concurrent writers (PostgreSQL) lock counter rows in one global order and
    # queue behind each other instead of deadlocking.
    changed = sorted((*key, n) for key, n in deltas.items() if n != 0)
    insert_many(
        conn, "search_facet_counts (scope, facet, value, count)", _COUNT_TYPES, changed, _ADD_COUNT
    )
    dropped = [(s, f, v) for s, f, v, n in changed if n < 0]
    if dropped and conn.dialect.name == "postgresql":
        columns = tuple(list(column) for column in zip(*dropped, strict=True))
        conn.exec_driver_sql(_DROP_ZERO_PG, columns)
    else:
        executemany_rows(conn, _DROP_ZERO, dropped)


_COUNT_TYPES = ("text", "text", "text", "bigint")
