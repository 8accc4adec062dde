"""Cached pages stored with the moment they expire, and the max-age that follows from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bazaar.http.caching import (
    PUBLIC_CACHE_CONTROL,
    pack_page,
    public_cache_control,
    unpack_page,
)

BODY = json.dumps({"items": [], "price": {"amount": 700}}).encode()


def test_a_page_with_an_expiry_round_trips_through_its_envelope() -> None:
    expires = datetime(2026, 11, 21, 12, 0, 5, 250_000, tzinfo=UTC)
    stored = pack_page(BODY, expires)
    assert stored != BODY
    assert unpack_page(stored) == (BODY, expires.timestamp())


def test_a_page_without_an_expiry_is_stored_as_it_is_and_read_back_plainly() -> None:
    assert pack_page(BODY, None) == BODY
    assert unpack_page(BODY) == (BODY, None)
    # whatever JSON text a route renders (leading whitespace included) is never an envelope
    for text in (b" {}", b"[]", b'"x"', b"\xef\xbb\xbf{}", b""):
        assert unpack_page(text) == (text, None)


def test_max_age_is_capped_by_the_seconds_left_and_never_negative() -> None:
    assert public_cache_control(None) == PUBLIC_CACHE_CONTROL
    assert public_cache_control(4.9) == "public, max-age=4"
    assert public_cache_control(600) == "public, max-age=30"
    assert public_cache_control(-3) == "public, max-age=0"
