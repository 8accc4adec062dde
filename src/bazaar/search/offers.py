"""The active offers a search document carries, and the compact JSON they are stored as.

Pure Python. A listing page prices its cards from its hits' offers, so it needs no statement
besides the search; the catalog writes them with the rest of the document, in the
transaction of every offer, price and stock change. Stored in the ``offers`` column of
``search_documents`` (never in the full-text structure) as a JSON array of arrays, one per
offer: ``[id, price, shipping, currency, fulfiller id, in stock]``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple


class IndexedOffer(NamedTuple):
    """What a listing card needs of one active offer to show its product's from price.

    A named tuple: a page decodes a hundred of them per request, straight from JSON arrays.
    """

    id: str
    price: int  # minor units, like shipping
    shipping: int
    currency: str
    fulfiller_id: str
    in_stock: bool


_COMPACT = json.JSONEncoder(separators=(",", ":"))
_DECODER = json.JSONDecoder()


def encode_offers(offers: Sequence[IndexedOffer]) -> str:
    """The stored form of ``offers`` (see the module docstring)."""
    return _COMPACT.encode([list(o) for o in offers])


def decode_offers(stored: Sequence[str | None]) -> list[tuple[IndexedOffer, ...]]:
    """The offers of each stored column value, in order; none for ``None``.

    One JSON parse for them all: a page's worth of small documents parses several times
    faster as one array than one by one.
    """
    if not stored:
        return []
    pages: list[list[list[Any]]] = _DECODER.decode(
        "[" + ",".join(value or "[]" for value in stored) + "]"
    )
    make = IndexedOffer._make
    return [tuple(map(make, rows)) for rows in pages]
