"""The search index on PostgreSQL: a GIN-indexed tsvector, pg_trgm for typo candidates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.search.model import FIELD_WEIGHTS
from bazaar.search.sql_index import SqlSearchIndex
from bazaar.search.store import TRIGRAM_INDEX
from bazaar.search.text import TextQuery
from bazaar.search.typos import scan_candidates
from bazaar.search.writes import TextRow

# Text arrives tokenised (text.index_text), so the "simple" configuration only has to split
# on spaces: no stemming and no stop words, the same words FTS5 sees on SQLite. Weights, for
# ranking only: A the title, B brand, C attributes, D the description. The filter tags
# (model.document_tags) have a tsvector of their own, so the words never match them.
_TSVECTOR = (
    "setweight(to_tsvector('simple', u.title), 'A')"
    " || setweight(to_tsvector('simple', u.brand), 'B')"
    " || setweight(to_tsvector('simple', u.attributes), 'C')"
    " || setweight(to_tsvector('simple', u.description), 'D')"
)
# One statement for a whole chunk: the rows arrive as one array per field, in the binary format
# (see batched_sql.insert_many for why not a statement per row, and why binary).
_INSERT = (
    "INSERT INTO search_fts (doc_id, tsv, tags)"
    f" SELECT u.doc_id, {_TSVECTOR}, to_tsvector('simple', u.tags)"
    " FROM unnest(CAST(%b AS integer[]), CAST(%b AS text[]), CAST(%b AS text[]),"
    " CAST(%b AS text[]), CAST(%b AS text[]), CAST(%b AS text[]))"
    " AS u(doc_id, title, brand, attributes, description, tags)"
)
_DELETE = sa.text("DELETE FROM search_fts WHERE doc_id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True)
)
# The tsvector weight label of each field, for the relevance of model.FIELD_WEIGHTS: a word is in
# a field when the tsvector has it with that field's label.
FIELD_LABELS = {"title": "A", "brand": "B", "attributes": "C", "description": "D"}
TRIGRAM_CANDIDATES = 50  # nearest words by trigram distance, then checked by edit distance


def tsquery(text: TextQuery) -> str:
    """The to_tsquery input: every word quoted (never syntax), the last also as a prefix."""
    lexemes = [f"'{term}'" for term in text.terms]
    if text.prefix_last:
        lexemes[-1] += ":*"
    return " & ".join(lexemes)


def relevance(text: TextQuery, params: dict[str, Any], name: str) -> str:
    """An SQL expression of the score of a matching row of search_fts (model.FIELD_WEIGHTS)."""
    *ranked, (_, other_weight) = FIELD_WEIGHTS
    scores = []
    for i, term in enumerate(text.terms):
        last = i == len(text.terms) - 1
        prefix = "*" if last and text.prefix_last else ""
        cases = []
        for field, weight in ranked:
            key = f"{name}_w{i}{FIELD_LABELS[field]}"
            params[key] = f"'{term}':{prefix}{FIELD_LABELS[field]}"
            cases.append(f"WHEN f.tsv @@ to_tsquery('simple', :{key}) THEN {weight}")
        scores.append(f"CASE {' '.join(cases)} ELSE {other_weight} END")
    return " + ".join(scores)


def tags_query(tags: Sequence[Sequence[str]]) -> str:
    """Every group of filter tags must match, any tag of a group."""
    return " & ".join("(" + " | ".join(f"'{tag}'" for tag in group) + ")" for group in tags)


class PostgresSearchIndex(SqlSearchIndex):
    def insert_text(self, conn: Connection, rows: Sequence[TextRow]) -> None:
        if rows:
            columns = [
                [getattr(row, name) for row in rows]
                for name in ("doc_id", "title", "brand", "attributes", "description", "tags")
            ]
            conn.exec_driver_sql(_INSERT, tuple(columns))

    def delete_text(self, conn: Connection, doc_ids: Sequence[int]) -> None:
        if doc_ids:
            conn.execute(_DELETE, {"ids": list(doc_ids)})

    def match_sql(
        self,
        text: TextQuery,
        tags: Sequence[Sequence[str]],
        params: dict[str, Any],
        *,
        scored: bool = True,
        name: str = "match",
    ) -> str:
        params[f"{name}_words"] = tsquery(text)
        score = f", {relevance(text, params, name)} AS score" if scored else ""
        sql = (
            f"SELECT f.doc_id{score} FROM search_fts f"
            f" WHERE f.tsv @@ to_tsquery('simple', :{name}_words)"
        )
        if tags:
            params[f"{name}_tags"] = tags_query(tags)
            sql += f" AND f.tags @@ to_tsquery('simple', :{name}_tags)"
        return sql

    def tier_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> list[tuple[int, str]] | None:
        # The GIN index knows no weights: a tier would recheck every match against its stored
        # tsvector, as scoring them all does, and a bitmap scan cannot stop early anyway.
        return None

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
