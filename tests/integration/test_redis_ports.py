"""One behavioural contract for the Cache and RateLimiter ports, run against every adapter.

The memory adapters run everywhere; the Redis ones need the server (db 15 by default) and
only touch keys under a unique per-test prefix, which is deleted afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bazaar.infra.cache import Cache, MemoryCache, NamespacedCache, RedisCache
from bazaar.infra.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter

ADAPTERS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a multiple of every window used below

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    client = redis.Redis.from_url(redis_url)
    prefix = f"bazaar:test:{uuid.uuid4().hex}:"
    yield client, prefix
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=ADAPTERS)
def cache_and_advance(
    request: pytest.FixtureRequest,
) -> tuple[Cache, Callable[[float], None]]:
    if request.param == "memory":
        clock = FakeClock()
        return MemoryCache(monotonic=clock), clock.advance
    client, prefix = request.getfixturevalue("redis_prefix")
    # Redis expires keys by its own clock, so time has to really pass.
    return RedisCache(client, prefix), time.sleep


@pytest.fixture
def cache(cache_and_advance: tuple[Cache, Callable[[float], None]]) -> Cache:
    return cache_and_advance[0]


@pytest.fixture(params=ADAPTERS)
def limiter_and_clock(request: pytest.FixtureRequest) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    if request.param == "memory":
        return MemoryRateLimiter(monotonic=clock), clock
    client, prefix = request.getfixturevalue("redis_prefix")
    return RedisRateLimiter(client, prefix, clock=clock), clock


# --- Cache contract ---------------------------------------------------------------------


def test_cache_round_trip_and_miss(cache: Cache) -> None:
    cache.set("a", b"\x00bytes", ttl_s=60)

    assert cache.get("a") == b"\x00bytes"
    assert cache.get("missing") is None
    assert cache.ping()


def test_cache_entry_expires(cache_and_advance: tuple[Cache, Callable[[float], None]]) -> None:
    cache, advance = cache_and_advance
    cache.set("a", b"1", ttl_s=0.1)

    advance(0.25)

    assert cache.get("a") is None


def test_cache_delete_many(cache: Cache) -> None:
    cache.set("a", b"1", ttl_s=60)
    cache.set("b", b"2", ttl_s=60)

    cache.delete("a", "b", "missing")
    cache.delete()

    assert (cache.get("a"), cache.get("b")) == (None, None)


def test_cache_incr_is_atomic_across_threads(cache: Cache) -> None:
    def bump() -> None:
        for _ in range(100):
            cache.incr("n")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.incr("n") == 401
    assert cache.get("n") == b"401"


def test_namespace_invalidation(cache: Cache) -> None:
    namespaced = NamespacedCache(cache)
    key = namespaced.key("listing", "42")
    cache.set(key, b"cached", ttl_s=60)
    other = namespaced.key("seller", "7")

    namespaced.invalidate("listing")

    assert cache.get(namespaced.key("listing", "42")) is None
    assert namespaced.key("seller", "7") == other


# --- RateLimiter contract -----------------------------------------------------------------


def test_limit_allows_exactly_limit_then_denies(
    limiter_and_clock: tuple[RateLimiter, FakeClock],
) -> None:
    limiter, clock = limiter_and_clock

    allowed = [limiter.hit("k", limit=5, window_s=900) for _ in range(5)]
    clock.advance(100)
    denied = limiter.hit("k", limit=5, window_s=900)

    assert [d.remaining for d in allowed] == [4, 3, 2, 1, 0]
    assert all(d.allowed for d in allowed)
    assert (denied.allowed, denied.remaining, denied.retry_after_s) == (False, 0, 800)


def test_limit_rolls_over_to_the_next_window(
    limiter_and_clock: tuple[RateLimiter, FakeClock],
) -> None:
    limiter, clock = limiter_and_clock
    for _ in range(4):
        limiter.hit("k", limit=4, window_s=60)

    clock.advance(60 + 30)  # half of the full previous window still counts: 2

    assert [limiter.hit("k", limit=4, window_s=60).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    clock.advance(60 * 2)
    assert limiter.hit("k", limit=4, window_s=60).remaining == 3


def test_limit_reset_and_independent_keys(
    limiter_and_clock: tuple[RateLimiter, FakeClock],
) -> None:
    limiter, _ = limiter_and_clock
    limiter.hit("a", limit=1, window_s=60)

    assert not limiter.hit("a", limit=1, window_s=60).allowed
    assert limiter.hit("b", limit=1, window_s=60).allowed
    limiter.reset("a")
    assert limiter.hit("a", limit=1, window_s=60).allowed


def test_limit_holds_under_concurrent_hits(
    limiter_and_clock: tuple[RateLimiter, FakeClock],
) -> None:
    limiter, _ = limiter_and_clock
    results: list[bool] = []

    def hammer() -> None:
        for _ in range(25):
            results.append(limiter.hit("k", limit=50, window_s=60).allowed)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(True) == 50


# --- Redis specifics ------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_limiter_uses_server_time_by_default(
    redis_prefix: tuple[redis.Redis, str],
) -> None:
    client, prefix = redis_prefix
    limiter = RedisRateLimiter(client, prefix)

    decisions = [limiter.hit("k", limit=2, window_s=3600) for _ in range(3)]

    assert [d.allowed for d in decisions] == [True, True, False]
    assert 1 <= decisions[-1].retry_after_s <= 3600


@pytest.mark.redis
def test_redis_cache_from_url(redis_url: str) -> None:
    cache = RedisCache.from_url(redis_url, prefix=f"bazaar:test:{uuid.uuid4().hex}:")
    cache.set("a", b"1", ttl_s=5)

    assert cache.get("a") == b"1"
    cache.delete("a")


def test_redis_cache_ping_is_false_when_unreachable() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), retries=0))
    cache = RedisCache(client)

    assert not cache.ping()
