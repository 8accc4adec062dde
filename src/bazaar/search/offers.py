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

    Equal stored values give the same tuple object, kept until the bounded cache is full: a
    column value is the document's offers at one version, and the same popular products come
    back page after page, so most of a page is decoded without parsing. Keeping the object
    also lets callers memoise what they derive from it cheaply (its strings' hashes are
    computed once). What is not kept is parsed in one go: a page's worth of small documents
    parses several times faster as one array than one by one.
    """
    kept = _DECODED
    decoded: list[tuple[IndexedOffer, ...]] = []
    missing: dict[str, None] = {}  # in order, once each
    for value in stored:
        if not value:
            decoded.append(())
            continue
        offers = kept.get(value)
        if offers is None:
            missing[value] = None
            offers = ()  # filled below
        decoded.append(offers)
    if missing:
        parsed: list[list[list[Any]]] = _DECODER.decode("[" + ",".join(missing) + "]")
        make = IndexedOffer._make
        fresh = {value: tuple(map(make, rows)) for value, rows in zip(missing, parsed, strict=True)}
        if len(kept) + len(fresh) > DECODED_CACHE_SIZE:
            kept.clear()  # single dictionary operations: safe across request threads
        kept.update(fresh)
        decoded = [
            fresh.get(value or "", offers) for value, offers in zip(stored, decoded, strict=True)
        ]
    return decoded


# A few hundred bytes each: some MB for the hottest products of any catalog size.
DECODED_CACHE_SIZE = 16_384
_DECODED: dict[str, tuple[IndexedOffer, ...]] = {}


def forget_decoded_offers() -> None:
    """Empty the cache :func:`decode_offers` keeps, as after a restart (for measurements)."""
    _DECODED.clear()
