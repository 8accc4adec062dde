"""MemoryCache and NamespacedCache: LRU, TTL with a fake clock, counters, invalidation."""

from __future__ import annotations

import threading

import pytest

from bazaar.infra.cache import MemoryCache, NamespacedCache


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_round_trip_counts_hits_and_misses() -> None:
    cache = MemoryCache()

    cache.set("a", b"1", ttl_s=60)

    assert cache.get("a") == b"1"
    assert cache.get("b") is None
    assert (cache.hits, cache.misses) == (1, 1)


def test_least_recently_used_entry_is_evicted_first() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set("a", b"1", ttl_s=60)
    cache.set("b", b"2", ttl_s=60)

    cache.get("a")  # "b" is now the least recently used
    cache.set("c", b"3", ttl_s=60)

    assert cache.get("b") is None
    assert cache.get("a") == b"1"
    assert cache.get("c") == b"3"


def test_entry_expires_after_its_ttl_and_is_removed() -> None:
    clock = FakeMonotonic()
    cache = MemoryCache(monotonic=clock)
    cache.set("a", b"1", ttl_s=10)

    clock.now += 9.9
    assert cache.get("a") == b"1"

    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_non_positive_ttl_is_rejected() -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        MemoryCache().set("a", b"1", ttl_s=0)


def test_delete_removes_several_keys_and_ignores_missing_ones() -> None:
    cache = MemoryCache()
    cache.set("a", b"1", ttl_s=60)
    cache.set("b", b"2", ttl_s=60)

    cache.delete("a", "b", "missing")
    cache.delete()

    assert cache.get("a") is None
    assert cache.get("b") is None


def test_incr_starts_at_one_and_keeps_an_existing_ttl() -> None:
    clock = FakeMonotonic()
    cache = MemoryCache(monotonic=clock)
    assert cache.incr("n") == 1
    assert cache.incr("n") == 2
    cache.set("t", b"41", ttl_s=5)

    assert cache.incr("t") == 42
    clock.now += 5
    assert cache.get("t") is None
    assert cache.get("n") == b"2"


def test_incr_from_many_threads_loses_no_update() -> None:
    cache = MemoryCache()

    def bump() -> None:
        for _ in range(500):
            cache.incr("n")

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.get("n") == b"4000"


def test_invalidating_a_namespace_changes_its_keys_only() -> None:
    namespaced = NamespacedCache(MemoryCache())
    listing_key = namespaced.key("listing", "42")
    seller_key = namespaced.key("seller", "7")
    namespaced.cache.set(listing_key, b"old", ttl_s=60)

    assert namespaced.key("listing", "42") == listing_key
    namespaced.invalidate("listing")

    assert namespaced.key("listing", "42") != listing_key
    assert namespaced.cache.get(namespaced.key("listing", "42")) is None
    assert namespaced.key("seller", "7") == seller_key


def test_evicted_version_is_reseeded_not_restarted() -> None:
    cache = MemoryCache()
    namespaced = NamespacedCache(cache)
    old_key = namespaced.key("listing", "42")
    cache.set(old_key, b"old", ttl_s=60)

    cache.delete("ns:listing")  # as if evicted

    assert namespaced.key("listing", "42") != old_key
