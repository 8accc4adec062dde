"""The search index on SQLite: FTS5 for the words, plain tables for everything else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.search.model import TextQuery
from bazaar.search.sql_index import SqlSearchIndex
from bazaar.search.typos import scan_candidates
from bazaar.search.writes import TextRow, executemany

# Column weights of bm25 (title, brand, attributes, description, tags): a title word outranks
# the same word in a description by an order of magnitude; filter tags do not rank.
BM25 = "bm25(search_fts, 10.0, 4.0, 2.0, 1.0, 0.0)"

_INSERT = (
    "INSERT INTO search_fts (rowid, title, brand, attributes, description, tags)"
    " VALUES (:doc_id, :title, :brand, :attributes, :description, :tags)"
)
_DELETE = "DELETE FROM search_fts WHERE rowid = :doc_id"


def match_expression(text: TextQuery, tags: Sequence[Sequence[str]]) -> str:
    """The FTS5 MATCH string: every word quoted (never syntax), the last also as a prefix;
    the words are looked for in the text fields only, the filter tags in "tags" only."""
    phrases = [f'"{term}"' for term in text.terms]
    if text.prefix_last:
        phrases[-1] += "*"
    groups = [f"{{title brand attributes description}} : ({' '.join(phrases)})"]
    groups += ["tags : (" + " OR ".join(f'"{tag}"' for tag in group) + ")" for group in tags]
    return " AND ".join(groups)


class SqliteSearchIndex(SqlSearchIndex):
    def insert_text(self, conn: Connection, rows: Sequence[TextRow]) -> None:
        executemany(conn, _INSERT, [row.__dict__ for row in rows])

    def delete_text(self, conn: Connection, doc_ids: Sequence[int]) -> None:
        executemany(conn, _DELETE, [{"doc_id": doc_id} for doc_id in doc_ids])

    def match_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> str:
        params["match"] = match_expression(text, tags)
        return (
            f"SELECT rowid AS doc_id, {BM25} AS score FROM search_fts WHERE search_fts MATCH :match"
        )

    def index_hint(self, index_name: str) -> str:
        return f"INDEXED BY {index_name}"

    def candidates(self, conn: Connection, terms: Sequence[str]) -> Mapping[str, Sequence[str]]:
        return scan_candidates(conn, terms)
