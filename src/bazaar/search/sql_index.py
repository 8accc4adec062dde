"""What the SQLite and PostgreSQL indexes share: everything but the full-text structure."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.search.filtered import ReadLimits, search_filtered
from bazaar.search.model import (
    SearchDocument,
    SearchQuery,
    SearchResult,
    check_after,
    check_query,
    effective_sort,
    is_browse,
)
from bazaar.search.reads import search_browse
from bazaar.search.text import TextQuery
from bazaar.search.typos import correct_query
from bazaar.search.writes import TextRow, remove_documents, upsert_documents


class SqlSearchIndex(ABC):
    """A SearchIndex over the search tables; subclasses supply the engine's full text."""

    forced_join = "CROSS JOIN"

    def __init__(self, limits: ReadLimits = ReadLimits()) -> None:
        self.limits = limits

    def upsert(self, conn: Connection, docs: Sequence[SearchDocument]) -> None:
        upsert_documents(conn, self, docs)

    def remove(self, conn: Connection, product_ids: Sequence[str]) -> None:
        remove_documents(conn, self, product_ids)

    def search(self, conn: Connection, query: SearchQuery) -> SearchResult:
        """The page after ``query.after``, the exact total and the requested facet counts.

        When the words found nothing, unknown words are corrected and the search runs once
        more; ``corrected_query`` then says what was searched.
        """
        check_query(query)
        text = TextQuery.parse(query.q)
        result = self._search(conn, query, text)
        if result.total == 0 and text is not None:
            corrected = correct_query(conn, text, self)
            if corrected is not None:
                retry = self._search(conn, query, corrected)
                if retry.total > 0:
                    return replace(retry, corrected_query=corrected.text())
        return result

    def _search(self, conn: Connection, query: SearchQuery, text: TextQuery | None) -> SearchResult:
        if text is not None:
            text = self.expand_prefix(conn, text)
        sort = effective_sort(query, text)
        after = check_after(query.after, sort)
        if text is None and is_browse(query):
            return search_browse(conn, self, query, sort, after)
        return search_filtered(conn, self, query, text, sort, after, self.limits)

    # --- the engine's part -------------------------------------------------------------------

    def expand_prefix(self, conn: Connection, text: TextQuery) -> TextQuery:
        """``text``, with text.TextQuery.prefix_words set where the engine gains by it."""
        return text

    @abstractmethod
    def insert_text(self, conn: Connection, rows: Sequence[TextRow]) -> None: ...

    @abstractmethod
    def delete_text(self, conn: Connection, doc_ids: Sequence[int]) -> None: ...

    @abstractmethod
    def match_sql(
        self,
        text: TextQuery,
        tags: Sequence[Sequence[str]],
        params: dict[str, Any],
        *,
        scored: bool = True,
        name: str = "match",
    ) -> str: ...

    @abstractmethod
    def tier_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> list[tuple[int, str]] | None: ...

    @abstractmethod
    def index_hint(self, index_name: str) -> str: ...

    @abstractmethod
    def candidates(self, conn: Connection, terms: Sequence[str]) -> Mapping[str, Sequence[str]]: ...
