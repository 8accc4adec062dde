"""The typo-tolerant fallback: correct the words the index has never seen.

Runs only when a text search found nothing. A word is unknown when it is not in the vocabulary
(``search_terms``), or for the last word of a search-as-you-type query when no vocabulary word
starts with it. Each unknown word is replaced by the closest vocabulary word
(text.correct_term); the engine only supplies candidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.search.text import TextQuery, correct_term, max_typos, prefix_range


class Vocabulary(Protocol):
    def candidates(self, conn: Connection, terms: Sequence[str]) -> Mapping[str, Sequence[str]]:
        """Vocabulary words that may be within a few edits of each of ``terms``."""
        ...


def correct_query(conn: Connection, text: TextQuery, vocabulary: Vocabulary) -> TextQuery | None:
    """``text`` with its unknown words corrected, or None when nothing could be corrected."""
    unknown = [t for t in _unknown_terms(conn, text) if max_typos(t) > 0]
    if not unknown:
        return None
    candidates = vocabulary.candidates(conn, unknown)
    corrections = {t: correct_term(t, candidates.get(t, ())) for t in unknown}
    if not any(corrections.values()):
        return None
    terms = [corrections.get(t) or t for t in text.terms]
    return text.with_terms(tuple(dict.fromkeys(terms)))


def _unknown_terms(conn: Connection, text: TextQuery) -> list[str]:
    exact = list(text.terms[:-1] if text.prefix_last else text.terms)
    statement = "SELECT term FROM search_terms WHERE term IN :exact"
    params: dict[str, object] = {"exact": exact or [""]}
    prefix = text.terms[-1] if text.prefix_last else None
    if prefix is not None:
        # The smallest word at or after the prefix starts with it if any word does.
        _, end = prefix_range(prefix)
        statement += (
            " UNION ALL SELECT MIN(term) FROM search_terms WHERE term >= :prefix AND term < :end"
        )
        params.update(prefix=prefix, end=end)
    clause = sa.text(statement).bindparams(sa.bindparam("exact", expanding=True))
    words: Sequence[str | None] = conn.execute(clause, params).scalars().all()
    known = {t for t in words if t is not None}
    unknown = [t for t in exact if t not in known]
    if prefix is not None and not any(t.startswith(prefix) for t in known):
        unknown.append(prefix)
    return unknown


def scan_candidates(conn: Connection, terms: Sequence[str]) -> Mapping[str, Sequence[str]]:
    """Vocabulary words that could be a few edits away from the terms (the in-Python path).

    Only words of a length within reach, starting with one of the first two letters of a term
    or having one of them second: that keeps every single edit (a first letter dropped,
    doubled, swapped or mistyped included) and skips most of the vocabulary; what it misses
    is a word with both of its first two letters wrong.
    """
    low = min(len(t) - max_typos(t) for t in terms)
    high = max(len(t) + max_typos(t) for t in terms)
    heads = sorted({c for t in terms for c in t[:2]})
    statement = sa.text(
        "SELECT term FROM search_terms WHERE length(term) BETWEEN :low AND :high"
        " AND (substr(term, 1, 1) IN :heads OR substr(term, 2, 1) IN :heads)"
    ).bindparams(sa.bindparam("heads", expanding=True))
    words: Sequence[str] = (
        conn.execute(statement, {"low": low, "high": high, "heads": heads}).scalars().all()
    )
    return dict.fromkeys(terms, words)
