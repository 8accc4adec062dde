"""What a word is, for both search engines: normalising, tokenising, text queries, typos.

Pure Python. Text is tokenised here, once, for both engines: the SQLite FTS5 table and the
PostgreSQL tsvector only ever see lowercase, accent-free alphanumeric words separated by single
spaces, so the two engines agree on what a word is and no user input reaches a query parser
as syntax. Typo correction is decided here too, so both engines correct the same way; an
engine only supplies the candidate words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

# --- words --------------------------------------------------------------------------------------

MAX_TOKEN_LENGTH = 64  # longer "words" are noise (hashes, pasted blobs); they are cut here
MAX_QUERY_TERMS = 8  # bounds the cost of one search whatever the user pastes into the box
MIN_PREFIX_LENGTH = 2  # a one-letter prefix would expand to a large part of the vocabulary
MIN_CORRECTABLE_LENGTH = 3
MAX_PREFIX_WORDS = 8  # a prefix standing for more words stays a prefix match
_WORD = re.compile(r"[^\W_]+")
_MAX_CODE_POINT = 0x10FFFF


def normalise(text: str) -> str:
    """Lowercase, accent-free, compatibility-folded text ("Crème ﬁne" -> "creme fine")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped.casefold())


def tokenize(text: str) -> list[str]:
    """The words of ``text`` as the index stores them; punctuation only ever separates."""
    return [w[:MAX_TOKEN_LENGTH] for w in _WORD.findall(normalise(text))]


def index_text(text: str) -> str:
    """``text`` as fed to the engines: normalised words joined by single spaces."""
    return " ".join(tokenize(text))


@dataclass(frozen=True)
class TextQuery:
    """The words of ``q``: all must match; the last one also as a prefix (search as you type)."""

    terms: tuple[str, ...]
    prefix_last: bool
    # When known (looked up in the vocabulary): every indexed word the last term is a prefix
    # of, so an engine may match those words instead of the prefix. Only set for a few.
    prefix_words: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, q: str | None) -> TextQuery | None:
        terms = tuple(dict.fromkeys(tokenize(q or "")))[:MAX_QUERY_TERMS]
        if not terms:
            return None
        return cls(terms, prefix_last=len(terms[-1]) >= MIN_PREFIX_LENGTH)

    def text(self) -> str:
        return " ".join(self.terms)

    def with_terms(self, terms: Sequence[str]) -> TextQuery:
        return TextQuery(tuple(terms), self.prefix_last)

    def with_prefix_words(self, words: Sequence[str]) -> TextQuery:
        return replace(self, prefix_words=tuple(words))


def prefix_range(prefix: str) -> tuple[str, str]:
    """[start, end): the strings starting with ``prefix`` sort in it (for a range scan)."""
    return prefix, prefix[:-1] + chr(min(ord(prefix[-1]) + 1, _MAX_CODE_POINT))


# --- typo tolerance ----------------------------------------------------------------------------


def max_typos(term: str) -> int:
    """Edits tolerated in ``term``: none below 3 letters, 1 up to 5, 2 from 6."""
    if len(term) < MIN_CORRECTABLE_LENGTH:
        return 0
    return 1 if len(term) < 6 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (an adjacent swap is one edit), capped at limit + 1."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def correct_term(term: str, vocabulary: Iterable[str]) -> str | None:
    """The closest vocabulary word within ``max_typos(term)`` edits, or None.

    Ties go to the word of the most similar length, then the alphabetically first, so the
    choice does not depend on the order the engine returned candidates in.
    """
    limit = max_typos(term)
    if limit == 0:
        return None
    letters = set(term)
    best: tuple[int, int, str] | None = None
    for word in vocabulary:
        if word == term or abs(len(word) - len(term)) > limit:
            continue
        # One edit changes the set of letters by at most two: a cheap filter before the DP.
        if len(letters.symmetric_difference(word)) > 2 * limit:
            continue
        distance = edit_distance(term, word, limit)
        if distance <= limit:
            rank = (distance, abs(len(word) - len(term)), word)
            best = rank if best is None or rank < best else best
    return best[2] if best else None
