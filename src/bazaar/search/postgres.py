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
# on spaces: no stemming and no stop words, the same words FTS5 sees on SQLite. Weights: A the
# title, B brand and attributes, C the description, D the filter tags (model.document_tags).
_TSVECTOR = (
    "setweight(to_tsvector('simple', :title), 'A')"
    " || setweight(to_tsvector('simple', :brand || ' ' || :attributes), 'B')"
    " || setweight(to_tsvector('simple', :description), 'C')"
    " || setweight(to_tsvector('simple', :tags), 'D')"
)
_INSERT = f"INSERT INTO search_fts (doc_id, tsv) VALUES (:doc_id, {_TSVECTOR})"
_DELETE = sa.text("DELETE FROM search_fts WHERE doc_id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True)
)
# ts_rank weights are given for D, C, B, A: tags (never rank), description, brand, title.
_RANK = "ts_rank('{0, 0.1, 0.4, 1.0}', f.tsv, to_tsquery('simple', :rank_query))"
TRIGRAM_CANDIDATES = 50  # nearest words by trigram distance, then checked by edit distance


def tsquery(text: TextQuery, tags: Sequence[Sequence[str]] = ()) -> str:
    """The to_tsquery input: every word quoted (never syntax), the last also as a prefix,
    looked for in the text weights only; filter tags in weight D only."""
    lexemes = [f"'{term}':ABC" for term in text.terms]
    if text.prefix_last:
        lexemes[-1] = f"'{text.terms[-1]}':*ABC"
    groups = [" & ".join(lexemes)]
    groups += ["(" + " | ".join(f"'{tag}':D" for tag in group) + ")" for group in tags]
    return " & ".join(groups)


class PostgresSearchIndex(SqlSearchIndex):
    def insert_text(self, conn: Connection, rows: Sequence[TextRow]) -> None:
        executemany(conn, _INSERT, [row.__dict__ for row in rows])

    def delete_text(self, conn: Connection, doc_ids: Sequence[int]) -> None:
        if doc_ids:
            conn.execute(_DELETE, {"ids": list(doc_ids)})

    def match_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> str:
        params["tsquery"] = tsquery(text, tags)
        params["rank_query"] = tsquery(text)
        return (
            # float8, whose text form round-trips exactly, so a position compares equal to it
            f"SELECT f.doc_id, CAST(-{_RANK} AS DOUBLE PRECISION) AS score FROM search_fts f"
            " WHERE f.tsv @@ to_tsquery('simple', :tsquery)"
        )

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
