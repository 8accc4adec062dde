"""The search index on SQLite: FTS5 for the words, plain tables for everything else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.search.model import TextQuery
from bazaar.search.sql_index import SqlSearchIndex
from bazaar.search.typos import scan_candidates
from bazaar.search.writes import TextRow, executemany

# Relevance: each word of the query scores by the most important field it is in: the title 8,
# the brand 4, the attributes 2, only the description 1 (it matched somewhere, so it is at least
# there). Read from the stored tokenised fields of the matching rows only; FTS5's bm25() would
# first count every document of every word of the query (its IDF), which for a word in 200,000
# documents costs tens of milliseconds however few documents the filters leave.
FIELD_WEIGHTS = (("title", 8), ("brand", 4), ("attributes", 2))
OTHER_FIELD_WEIGHT = 1

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


def relevance(text: TextQuery, params: dict[str, Any]) -> str:
    """An SQL expression of the score of a matching row of search_fts (higher is better).

    Fields hold space-separated tokens, so a word is found by its surrounding spaces, and the
    last word of search-as-you-type by a leading space only.
    """
    scores = []
    for i, term in enumerate(text.terms):
        last = i == len(text.terms) - 1
        params[f"w{i}"] = f" {term}" if last and text.prefix_last else f" {term} "
        cases = " ".join(
            f"WHEN instr(' ' || {field} || ' ', :w{i}) > 0 THEN {weight}"
            for field, weight in FIELD_WEIGHTS
        )
        scores.append(f"CASE {cases} ELSE {OTHER_FIELD_WEIGHT} END")
    return " + ".join(scores)


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
            f"SELECT rowid AS doc_id, -({relevance(text, params)}) AS score"
            " FROM search_fts WHERE search_fts MATCH :match"
        )

    def index_hint(self, index_name: str) -> str:
        return f"INDEXED BY {index_name}"

    def candidates(self, conn: Connection, terms: Sequence[str]) -> Mapping[str, Sequence[str]]:
        return scan_candidates(conn, terms)
