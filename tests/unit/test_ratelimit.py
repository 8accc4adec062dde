"""MemoryRateLimiter: sliding-window counter with a fake clock."""

from __future__ import annotations

import threading

import pytest

from bazaar.infra.ratelimit import MemoryRateLimiter, RateDecision


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 18_000.0  # a multiple of every window used below

    def __call__(self) -> float:
        return self.now


def test_allows_exactly_limit_then_denies_until_next_window() -> None:
    clock = FakeMonotonic()
    limiter = MemoryRateLimiter(monotonic=clock)

    decisions = [limiter.hit("k", limit=3, window_s=60) for _ in range(3)]
    clock.now += 15
    denied = limiter.hit("k", limit=3, window_s=60)

    assert [d.remaining for d in decisions] == [2, 1, 0]
    assert all(d.allowed and d.retry_after_s == 0 for d in decisions)
    assert denied == RateDecision(allowed=False, limit=3, remaining=0, retry_after_s=45)


def test_previous_window_fades_out_gradually() -> None:
    clock = FakeMonotonic()
    limiter = MemoryRateLimiter(monotonic=clock)
    for _ in range(4):
        limiter.hit("k", limit=4, window_s=60)

    clock.now += 60  # next window starts: estimate is still 4 * 1.0, fading from now on
    assert limiter.hit("k", limit=4, window_s=60).retry_after_s == 1

    clock.now += 15  # a quarter of the old window has slid out: 4 * 0.75 = 3
    first = limiter.hit("k", limit=4, window_s=60)
    second = limiter.hit("k", limit=4, window_s=60)

    assert first.allowed
    assert not second.allowed
    assert second.retry_after_s == 1  # 4 * (1 - f) + 1 < 4 as soon as f > 0.25

    clock.now += 15  # half slid out: 4 * 0.5 + 1 = 3, room for one more
    assert limiter.hit("k", limit=4, window_s=60).allowed
    assert not limiter.hit("k", limit=4, window_s=60).allowed


def test_counts_are_forgotten_after_two_windows() -> None:
    clock = FakeMonotonic()
    limiter = MemoryRateLimiter(monotonic=clock)
    for _ in range(2):
        limiter.hit("k", limit=2, window_s=10)

    clock.now += 20

    assert limiter.hit("k", limit=2, window_s=10).remaining == 1


def test_login_throttle_five_failures_per_fifteen_minutes() -> None:
    clock = FakeMonotonic()
    limiter = MemoryRateLimiter(monotonic=clock)
    key = "login:ada@example.com:203.0.113.9"

    failures = [limiter.hit(key, limit=5, window_s=900) for _ in range(6)]

    assert [d.allowed for d in failures] == [True] * 5 + [False]
    assert failures[-1].retry_after_s == 900
    assert limiter.hit("login:ada@example.com:198.51.100.1", 5, 900).allowed


def test_reset_forgets_the_key() -> None:
    limiter = MemoryRateLimiter(monotonic=FakeMonotonic())
    limiter.hit("k", limit=1, window_s=60)

    limiter.reset("k")

    assert limiter.hit("k", limit=1, window_s=60).allowed


def test_keys_are_independent() -> None:
    limiter = MemoryRateLimiter(monotonic=FakeMonotonic())
    limiter.hit("a", limit=1, window_s=60)

    assert not limiter.hit("a", limit=1, window_s=60).allowed
    assert limiter.hit("b", limit=1, window_s=60).allowed


def test_idle_keys_are_purged() -> None:
    clock = FakeMonotonic()
    limiter = MemoryRateLimiter(monotonic=clock)
    for n in range(100):
        limiter.hit(f"ip:{n}", limit=10, window_s=10)

    clock.now += 120
    limiter.hit("ip:new", limit=10, window_s=10)

    assert len(limiter) == 1


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60), (5, 0)])
def test_nonsense_limits_are_rejected(limit: int, window_s: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MemoryRateLimiter().hit("k", limit, window_s)


def test_concurrent_hits_never_exceed_the_limit() -> None:
    limiter = MemoryRateLimiter(monotonic=FakeMonotonic())
    allowed: list[bool] = []

    def hammer() -> None:
        for _ in range(50):
            allowed.append(limiter.hit("k", limit=100, window_s=60).allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 100
