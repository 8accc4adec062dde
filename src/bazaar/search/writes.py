"""Writing documents into the index tables, for both engines.

Every write is a fixed number of batched statements (``executemany``) per chunk of documents,
whatever the chunk size: look up existing doc ids, read the facet contributions of the
documents being replaced, delete their rows, write the new rows, and apply the net change to
the precomputed facet counts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.bulk_insert import copy_rows, insert_rows
from bazaar.search.model import (
    ATTRIBUTE_PREFIX,
    BRAND,
    CATEGORY,
    PRICE,
    ROOT_SCOPE,
    SELLER,
    TOTAL,
    SearchDocument,
    SortKeys,
    document_tags,
    facet_contributions,
    price_bucket,
)
from bazaar.search.offers import encode_offers
from bazaar.search.store import CATEGORY_SORT_KEYS, search_documents
from bazaar.search.text import index_text

_NAMED = re.compile(r":(\w+)")
CHUNK = 2000  # documents per statement batch; keeps IN lists far below parameter limits


@dataclass(frozen=True)
class TextRow:
    """The searchable text of one document, already tokenised (see text.index_text)."""

    doc_id: int
    title: str
    brand: str
    attributes: str
    description: str
    tags: str  # the document's equality filters as words (see model.document_tags)


class FullText(Protocol):
    """The engine-specific full-text structure (FTS5 table, tsvector table)."""

    def insert_text(self, conn: Connection, rows: Sequence[TextRow]) -> None: ...

    def delete_text(self, conn: Connection, doc_ids: Sequence[int]) -> None: ...


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, expanding=True)


_EXISTING = sa.text(
    "SELECT product_id, doc_id FROM search_documents WHERE product_id IN :ids"
).bindparams(_ids("ids"))


def upsert_documents(conn: Connection, text: FullText, docs: Sequence[SearchDocument]) -> None:
    """Insert or replace ``docs`` (the last one wins when a product id repeats)."""
    # In product id order, so concurrent writers (PostgreSQL) lock documents in one global
    # order and queue instead of deadlocking.
    unique = sorted({doc.product_id: doc for doc in docs}.values(), key=lambda d: d.product_id)
    deltas = Counter[tuple[str, str, str]]()  # summed over the chunks: one counter write each
    for chunk in _chunks(unique):
        _upsert_chunk(conn, text, chunk, deltas)
    apply_count_deltas(conn, deltas)


def remove_documents(conn: Connection, text: FullText, product_ids: Sequence[str]) -> None:
    for chunk in _chunks(sorted(set(product_ids))):
        existing = _existing(conn, chunk)
        if not existing:
            continue
        doc_ids = sorted(existing.values())
        deltas = Counter[tuple[str, str, str]]()
        deltas.subtract(_stored_contributions(conn, doc_ids))
        _delete_rows(conn, text, doc_ids)
        conn.execute(
            sa.text("DELETE FROM search_documents WHERE doc_id IN :ids").bindparams(_ids("ids")),
            {"ids": doc_ids},
        )
        apply_count_deltas(conn, deltas)


def _existing(conn: Connection, product_ids: Sequence[str]) -> dict[str, int]:
    rows: Sequence[Any] = conn.execute(_EXISTING, {"ids": list(product_ids)}).all()
    return dict(rows)


def _upsert_chunk(
    conn: Connection,
    text: FullText,
    docs: Sequence[SearchDocument],
    deltas: Counter[tuple[str, str, str]],
) -> None:
    existing = _existing(conn, [d.product_id for d in docs])
    if existing:
        # Replaced documents keep their doc id; everything hanging off it is rewritten.
        old_ids = sorted(existing.values())
        deltas.subtract(_stored_contributions(conn, old_ids))
        _delete_rows(conn, text, old_ids)
        conn.execute(
            search_documents.update().where(
                search_documents.c.doc_id == sa.bindparam("old_doc_id")
            ),
            [
                {**_document_row(d), "old_doc_id": existing[d.product_id]}
                for d in docs
                if d.product_id in existing
            ],
        )
    new = [d for d in docs if d.product_id not in existing]
    if new:
        insert_rows(conn, search_documents, [_document_row(d) for d in new])
        # A second lookup rather than INSERT .. RETURNING: SQLite cannot promise RETURNING rows
        # in parameter order for a multi-row insert, so SQLAlchemy would go row by row.
        existing.update(_existing(conn, [d.product_id for d in new]))
    doc_ids = {d.product_id: existing[d.product_id] for d in docs}
    _insert_rows(conn, text, docs, doc_ids)
    add_contributions(deltas, docs)


def _document_row(doc: SearchDocument) -> dict[str, Any]:
    keys = SortKeys.of(doc)
    return {
        "product_id": doc.product_id,
        "title": doc.title,
        "brand_id": doc.brand_id,
        "brand_name": doc.brand_name,
        "category_id": doc.category_ids[-1] if doc.category_ids else "",
        "price": doc.price,
        "price_bucket": price_bucket(doc.price),
        "currency": doc.currency,
        "in_stock": doc.in_stock,
        "rating": doc.rating,
        "image_url": doc.image_url,
        "created_at": doc.created_at,
        "offers": encode_offers(doc.offers),
        "newest_key": keys.newest,
        "price_asc_key": keys.price_asc,
        "price_desc_key": keys.price_desc,
        "rating_key": keys.rating,
    }


def _insert_rows(
    conn: Connection, text: FullText, docs: Sequence[SearchDocument], doc_ids: Mapping[str, int]
) -> None:
    categories: list[tuple[int, str, str, str, int, int, int, int]] = []
    sellers: list[tuple[int, str]] = []
    attributes: list[tuple[int, str, str]] = []
    texts: list[TextRow] = []
    terms: set[str] = set()
    brand_texts: dict[str | None, str] = {}  # many documents share a brand
    for doc in docs:
        doc_id = doc_ids[doc.product_id]
        keys = SortKeys.of(doc)
        sorting = (doc.product_id, keys.newest, keys.price_asc, keys.price_desc, keys.rating)
        parent = ""
        for category_id in dict.fromkeys(doc.category_ids):
            categories.append((doc_id, category_id, parent, *sorting))
            parent = category_id
        sellers += [(doc_id, s) for s in dict.fromkeys(doc.seller_ids)]
        for name, values in doc.attributes.items():
            if len(values) == 1:  # the usual case, without building a comprehension
                attributes.append((doc_id, name, values[0]))
            else:
                attributes += [(doc_id, name, v) for v in dict.fromkeys(values)]
        brand = brand_texts.get(doc.brand_name)
        if brand is None:
            brand = brand_texts[doc.brand_name] = index_text(doc.brand_name or "")
        row = TextRow(
            doc_id=doc_id,
            title=index_text(doc.title),
            brand=brand,
            attributes=index_text(" ".join(v for vs in doc.attributes.values() for v in vs)),
            description=index_text(doc.description),
            tags=" ".join(document_tags(doc)),
        )
        texts.append(row)
        terms.update(f"{row.title} {row.brand} {row.attributes} {row.description}".split())
    insert_many(conn, _CATEGORY_ROWS, _CATEGORY_TYPES, categories)
    insert_many(conn, "search_doc_sellers (doc_id, seller_id)", _ITT[:2], sellers)
    insert_many(conn, "search_doc_attributes (doc_id, name, value)", _ITT, attributes)
    text.insert_text(conn, texts)
    # The vocabulary only grows: a word no document uses any more costs a wasted correction
    # at worst, while counting its uses would make every write contend on the counter.
    insert_many(
        conn,
        "search_terms (term)",
        ("text",),
        [(t,) for t in sorted(terms)],
        " ON CONFLICT DO NOTHING",
    )


_ITT = ("integer", "text", "text")  # PostgreSQL types of (doc_id, str, str) rows
_CATEGORY_ROWS = (
    "search_doc_categories (doc_id, category_id, parent_id, product_id, "
    + ", ".join(CATEGORY_SORT_KEYS)
    + ")"
)
_CATEGORY_TYPES = (*_ITT, "text", *("bigint" for _ in CATEGORY_SORT_KEYS))


def insert_many(
    conn: Connection,
    into: str,
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    suffix: str = "",
) -> None:
    """``INSERT INTO <into> VALUES ..`` for every row; ``types`` are the columns' PostgreSQL
    types, ``suffix`` an ON CONFLICT clause.

    SQLite runs the statement once per row (:func:`executemany_rows`): it is in-process and
    cheap per statement. PostgreSQL takes plain inserts by ``COPY`` (bulk_insert.copy_rows),
    and the rows of an ON CONFLICT insert as one array per column in one statement
    (``unnest``), in the order given: executed row by row, each costs a server round of
    parse, plan and execute, which on these narrow rows is most of the time of a bulk write.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" * len(types))
        executemany_rows(conn, f"INSERT INTO {into} VALUES ({marks}){suffix}", rows)
        return
    if not suffix and conn.dialect.driver == "psycopg":
        copy_rows(conn, into, rows)
        return
    names = [f"c{i}" for i in range(len(types))]
    # "%b": psycopg sends the arrays in the binary format, element by element in C; as text
    # ("%s") it quotes each element in Python, several times the client's CPU for the same values
    arrays = ", ".join(f"CAST(%b AS {t}[])" for t in types)
    conn.exec_driver_sql(
        f"INSERT INTO {into} SELECT {', '.join(names)}"
        f" FROM unnest({arrays}) WITH ORDINALITY AS u({', '.join(names)}, n)"
        f" ORDER BY n{suffix}",
        tuple(list(column) for column in zip(*rows, strict=True)),
    )


def executemany(conn: Connection, statement: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement`` (":name" parameters) once per row straight through the driver.

    The hot bulk path skips SQLAlchemy's per-row parameter processing, which costs more than
    the database's work for these narrow rows; values must be plain str/int/None.
    """
    if not rows:
        return
    if conn.dialect.paramstyle == "pyformat":
        statement = _NAMED.sub(r"%(\1)s", statement)
    conn.exec_driver_sql(statement, list(rows))


def executemany_rows(conn: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """:func:`executemany` for positional rows ("?" parameters): cheaper to build and bind."""
    if not rows:
        return
    if conn.dialect.paramstyle == "pyformat":
        statement = statement.replace("?", "%s")
    conn.exec_driver_sql(statement, list(rows))


def _delete_rows(conn: Connection, text: FullText, doc_ids: Sequence[int]) -> None:
    text.delete_text(conn, doc_ids)
    for table in ("search_doc_categories", "search_doc_sellers", "search_doc_attributes"):
        conn.execute(
            sa.text(f"DELETE FROM {table} WHERE doc_id IN :ids").bindparams(_ids("ids")),
            {"ids": list(doc_ids)},
        )


def _stored_contributions(
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
        ).bindparams(_ids("ids")),
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
