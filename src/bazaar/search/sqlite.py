"""The search index on SQLite: FTS5 for the words, plain tables for everything else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.search.batched_sql import executemany
from bazaar.search.model import FIELD_WEIGHTS, field_tiers
from bazaar.search.sql_index import SqlSearchIndex
from bazaar.search.text import MAX_PREFIX_WORDS, TextQuery, prefix_range
from bazaar.search.typos import scan_candidates
from bazaar.search.writes import TextRow

# Relevance (model.FIELD_WEIGHTS) is read from the stored tokenised fields of the matching rows
# only; FTS5's bm25() would first count every document of every word of the query (its IDF),
# which for a word in 200,000 documents costs tens of milliseconds however few documents the
# filters leave. Reading a row's fields still costs a seek into the FTS5 content table per
# match, so one-word queries, the usual ones, are ranked without it (see tier_sql).
TEXT_FIELDS = tuple(name for name, _ in FIELD_WEIGHTS)

_INSERT = (
    "INSERT INTO search_fts (rowid, title, brand, attributes, description, tags)"
    " VALUES (:doc_id, :title, :brand, :attributes, :description, :tags)"
)
_DELETE = "DELETE FROM search_fts WHERE rowid = :doc_id"
_PREFIX_WORDS = sa.text(
    "SELECT term FROM search_terms WHERE term >= :start AND term < :end ORDER BY term LIMIT :n"
)
PREFIX_INDEX_LENGTH = 3  # migration 0003: prefix = '2 3'


def _phrases(text: TextQuery) -> str:
    """The words quoted (never syntax), the last also as a prefix: as the words it stands
    for when they are known (see expand_prefix)."""
    phrases = [f'"{term}"' for term in text.terms]
    if text.prefix_last and text.prefix_words:
        phrases[-1] = "(" + " OR ".join(f'"{word}"' for word in text.prefix_words) + ")"
    elif text.prefix_last:
        phrases[-1] += "*"
    return " AND ".join(phrases)


def _tag_groups(tags: Sequence[Sequence[str]]) -> list[str]:
    return ["tags : (" + " OR ".join(f'"{tag}"' for tag in group) + ")" for group in tags]


def match_expression(text: TextQuery, tags: Sequence[Sequence[str]]) -> str:
    """The FTS5 MATCH string: the words are looked for in the text fields only, the filter tags
    in "tags" only."""
    words = f"{{{' '.join(TEXT_FIELDS)}}} : ({_phrases(text)})"
    return " AND ".join([words, *_tag_groups(tags)])


def tier_expression(
    text: TextQuery, tags: Sequence[Sequence[str]], field: str, above: Sequence[str]
) -> str:
    """The MATCH string of the one-word matches whose most important field with the word is
    ``field`` (model.field_tiers): in it, and in none of the fields ``above``."""
    phrase = _phrases(text)
    tier = f"{{{field}}} : ({phrase})"
    if above:
        tier = f"({tier} NOT {{{' '.join(above)}}} : ({phrase}))"
    return " AND ".join([tier, *_tag_groups(tags)])


def relevance(text: TextQuery, params: dict[str, Any], name: str) -> str:
    """An SQL expression of the score of a matching row of search_fts (higher is better).

    Fields hold space-separated tokens, so a word is found by its surrounding spaces, and the
    last word of search-as-you-type by a leading space only.
    """
    *ranked, (_, other_weight) = FIELD_WEIGHTS
    scores = []
    for i, term in enumerate(text.terms):
        last = i == len(text.terms) - 1
        params[f"{name}_w{i}"] = f" {term}" if last and text.prefix_last else f" {term} "
        cases = " ".join(
            f"WHEN instr(' ' || {field} || ' ', :{name}_w{i}) > 0 THEN {weight}"
            for field, weight in ranked
        )
        scores.append(f"CASE {cases} ELSE {other_weight} END")
    return " + ".join(scores)


class SqliteSearchIndex(SqlSearchIndex):
    def insert_text(self, conn: Connection, rows: Sequence[TextRow]) -> None:
        executemany(conn, _INSERT, [row.__dict__ for row in rows])

    def delete_text(self, conn: Connection, doc_ids: Sequence[int]) -> None:
        executemany(conn, _DELETE, [{"doc_id": doc_id} for doc_id in doc_ids])

    def match_sql(
        self,
        text: TextQuery,
        tags: Sequence[Sequence[str]],
        params: dict[str, Any],
        *,
        scored: bool = True,
        name: str = "match",
    ) -> str:
        params[name] = match_expression(text, tags)
        score = f", {relevance(text, params, name)} AS score" if scored else ""
        return f"SELECT rowid AS doc_id{score} FROM search_fts WHERE search_fts MATCH :{name}"

    def tier_sql(
        self, text: TextQuery, tags: Sequence[Sequence[str]], params: dict[str, Any]
    ) -> list[tuple[int, str]] | None:
        """One-word queries: FTS5 knows from its postings which fields hold the word, so each
        tier is a MATCH of its own and reads no stored text; FTS5 returns rows in rowid (doc id)
        order, so a page stops after its first rows."""
        if len(text.terms) != 1:
            return None
        tiers = []
        for i, (score, field, above) in enumerate(field_tiers()):
            params[f"tier{i}"] = tier_expression(text, tags, field, above)
            tiers.append(
                (score, f"SELECT rowid AS doc_id FROM search_fts WHERE search_fts MATCH :tier{i}")
            )
        return tiers

    def expand_prefix(self, conn: Connection, text: TextQuery) -> TextQuery:
        """``text`` with the words its last term is a prefix of, when there are only a few.

        FTS5 answers a prefix by first merging the postings of every word with it into one
        list, the whole list, even when a page needs a few rows; a few words OR-ed are read
        lazily. Prefixes of up to PREFIX_INDEX_LENGTH letters have an index of their own.
        """
        prefix = text.terms[-1]
        if not text.prefix_last or len(prefix) <= PREFIX_INDEX_LENGTH:
            return text
        start, end = prefix_range(prefix)
        words: Sequence[str] = (
            conn.execute(_PREFIX_WORDS, {"start": start, "end": end, "n": MAX_PREFIX_WORDS + 1})
            .scalars()
            .all()
        )
        return text if len(words) > MAX_PREFIX_WORDS else text.with_prefix_words(words)

    def index_hint(self, index_name: str) -> str:
        return f"INDEXED BY {index_name}"

    def candidates(self, conn: Connection, terms: Sequence[str]) -> Mapping[str, Sequence[str]]:
        return scan_candidates(conn, terms)
