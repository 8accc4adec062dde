"""The search index on PostgreSQL: a GIN-indexed tsvector, pg_trgm for typo candidates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.search.model import TextQuery
from bazaar.search.sql_index import SqlSearchIndex
from bazaar.search.store import TRIGRAM_INDEX
from bazaar.search.typos import scan_candidates
from bazaar.search.writes import TextRow, executemany

# Text arrives tokenised (model.index_text), so the "simple" configuration only has to split
# on spaces: no stemming and no stop words, the same words FTS5 sees on SQLite. Weights, for
# ranking only: A the title, B brand, C attributes, D the description. The filter tags
# (model.document_tags) have a tsvector of their own, so the words never match them.
_TSVECTOR = (
    "setweight(to_tsvector('simple', :title), 'A')"
    " || setweight(to_tsvector('simple', :brand), 'B')"
    " || setweight(to_tsvector('simple', :attributes), 'C')"
    " || setweight(to_tsvector('simple', :description), 'D')"
)
_INSERT = (
    "INSERT INTO search_fts (doc_id, tsv, tags)"
    f" VALUES (:doc_id, {_TSVECTOR}, to_tsvector('simple', :tags))"
)
_DELETE = sa.text("DELETE FROM search_fts WHERE doc_id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True)
)
# ts_rank weights are given for D, C, B, A: description, attributes, brand, title.
_RANK = "ts_rank('{0.1, 0.2, 0.4, 1.0}', f.tsv, to_tsquery('simple', :words))"
TRIGRAM_CANDIDATES = 50  # nearest words by trigram distance, then checked by edit distance


def tsquery(text: TextQuery) -> str:
    """The to_tsquery input: every word quoted (never syntax), the last also as a prefix."""
    lexemes = [f"'{term}'" for term in text.terms]
    if text.prefix_last:
        lexemes[-1] += ":*"
    return " & ".join(lexemes)


def tags_query(tags: Sequence[Sequence[str]]) -> str:
    """Every group of filter tags must match, any tag of a group."""
    return " & ".join("(" + " | ".join(f"'{tag}'" for tag in group) + ")" for group in tags)


class PostgresSearchIndex(SqlSearchIndex):
    def insert_text(self, conn: Connection, rows: Sequence[TextRow]) -> None:
        executemany(conn, _INSERT, [row.__dict__ for row in rows])

    def delete_text(self, conn: Connection, doc_ids: Sequence[int]) -> None:
        if doc_ids:
            conn.execute(_DELETE, {"ids": list(doc_ids)})

    def match_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> str:
        params["words"] = tsquery(text)
        sql = (
            # float8, whose text form round-trips exactly, so a position compares equal to it
            f"SELECT f.doc_id, CAST(-{_RANK} AS DOUBLE PRECISION) AS score FROM search_fts f"
            " WHERE f.tsv @@ to_tsquery('simple', :words)"
        )
        if tags:
            params["tags"] = tags_query(tags)
            sql += " AND f.tags @@ to_tsquery('simple', :tags)"
        return sql

    def index_hint(self, index_name: str) -> str:
        return ""  # the planner chooses

    def candidates(self, conn: Connection, terms: Sequence[str]) -> Mapping[str, Sequence[str]]:
        has_trigrams = conn.execute(
            sa.text("SELECT 1 FROM pg_indexes WHERE indexname = :name"), {"name": TRIGRAM_INDEX}
        ).first()
        if has_trigrams is None:
            return scan_candidates(conn, terms)
        rows: Sequence[Any] = conn.execute(
            sa.text(
                "SELECT q.term, t.term FROM unnest(CAST(:terms AS TEXT[])) AS q(term)"
                " CROSS JOIN LATERAL (SELECT s.term FROM search_terms s"
                " ORDER BY s.term <-> q.term LIMIT :n) t"
            ),
            {"terms": list(terms), "n": TRIGRAM_CANDIDATES},
        ).all()
        found: dict[str, list[str]] = defaultdict(list)
        for term, word in rows:
            found[term].append(word)
        return found
