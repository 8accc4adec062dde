"""Writing documents into the index tables, for both engines.

Every write is a fixed number of batched statements (``executemany``) per chunk of documents,
whatever the chunk size: look up existing doc ids, read the facet contributions of the
documents being replaced, delete their rows, write the new rows, and apply the net change to
the precomputed facet counts. The counters are kept by :mod:`bazaar.search.facet_counts`, and
the many-row statements are run by :mod:`bazaar.search.batched_sql`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.bulk_insert import insert_rows
from bazaar.search.batched_sql import insert_many
from bazaar.search.facet_counts import add_contributions, apply_count_deltas, stored_contributions
from bazaar.search.model import SearchDocument, SortKeys, document_tags, price_bucket
from bazaar.search.offers import encode_offers
from bazaar.search.store import CATEGORY_SORT_KEYS, search_documents
from bazaar.search.text import index_text

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
        deltas.subtract(stored_contributions(conn, doc_ids))
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
        deltas.subtract(stored_contributions(conn, old_ids))
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


def _delete_rows(conn: Connection, text: FullText, doc_ids: Sequence[int]) -> None:
    text.delete_text(conn, doc_ids)
    for table in ("search_doc_categories", "search_doc_sellers", "search_doc_attributes"):
        conn.execute(
            sa.text(f"DELETE FROM {table} WHERE doc_id IN :ids").bindparams(_ids("ids")),
            {"ids": list(doc_ids)},
        )
