"""The search index port, and the adapter for a database engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.engine import Connection

from bazaar.search.model import SearchDocument, SearchQuery, SearchResult
from bazaar.search.postgres import PostgresSearchIndex
from bazaar.search.sqlite import SqliteSearchIndex


class SearchIndex(Protocol):
    """Product search over the catalogue's database, inside the caller's transactions.

    ``upsert`` and ``remove`` write on the caller's connection and never commit: the catalog
    calls them in the transaction that changes the products, so the index is never behind.
    """

    def upsert(self, conn: Connection, docs: Sequence[SearchDocument]) -> None:
        """Insert or replace (everything about) each document, by product id."""
        ...

    def remove(self, conn: Connection, product_ids: Sequence[str]) -> None:
        """Delete the documents of ``product_ids``; unknown ids are ignored."""
        ...

    def search(self, conn: Connection, query: SearchQuery) -> SearchResult:
        """One page of hits, the exact total, and facet counts: over all matches, or past
        model.FACET_SAMPLE matches estimated from a sample (``facets_approximate``)."""
        ...


def search_index_for(dialect_name: str) -> SearchIndex:
    """The index implementation for a SQLAlchemy dialect name ("sqlite", "postgresql")."""
    if dialect_name == "sqlite":
        return SqliteSearchIndex()
    if dialect_name == "postgresql":
        return PostgresSearchIndex()
    raise ValueError(f"no search index for the {dialect_name!r} dialect")
