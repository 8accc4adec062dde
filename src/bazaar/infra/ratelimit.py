"""Rate limiting port: a sliding-window counter per key, in memory or shared through Redis.

The sliding-window counter keeps two integers per key, the hits in the current fixed window
and in the previous one, and estimates the rolling count as
``previous * (share of the previous window still inside the rolling window) + current``.
It smooths the burst a plain fixed window allows at a window boundary, in O(1) memory per key.

A denied hit is not counted, so a client that keeps retrying is let in again once its earlier
hits age out. Use one ``window_s`` per key: a hit with a different window restarts the count.
Typical keys: ``api:<key-id>`` for request limits, ``login:<email>:<ip>`` for failed logins
(``hit`` on each failure, ``reset`` after a success).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

import redis


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int  # 0 when allowed


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        """Count one hit against ``key`` unless that would exceed ``limit`` per ``window_s``."""
        ...

    def reset(self, key: str) -> None: ...


def _check_args(limit: int, window_s: int) -> None:
    if limit < 1 or window_s < 1:
        raise ValueError(f"limit and window_s must be at least 1, got {limit}, {window_s}")


def _decide(
    *, allowed: bool, limit: int, window_s: int, previous: int, current: int, elapsed_s: float
) -> RateDecision:
    """Turn the window counts (after this hit was counted, if allowed) into a decision."""
    used = previous * (1 - elapsed_s / window_s) + current
    # round() absorbs float noise so 5 - 4.0000000001 does not report 1 remaining.
    remaining = max(0, math.ceil(round(limit - used, 6)))
    if allowed:
        return RateDecision(True, limit, remaining, 0)
    if current >= limit:
        # Only the next window helps: there this window's hits become ``previous`` and fade.
        wait = window_s - elapsed_s + window_s * (1 - limit / current)
    else:
        # Wait until enough of the previous window has slid out of the rolling window.
        wait = window_s * (1 - (limit - current) / previous) - elapsed_s
    return RateDecision(False, limit, 0, max(1, math.ceil(round(wait, 6))))


@dataclass
class _Window:
    window_s: int
    index: int  # which fixed window ``current`` counts: floor(now / window_s)
    current: int
    previous: int


class MemoryRateLimiter:
    """Per-process limiter; thread-safe. Keys idle for two windows are purged periodically."""

    _PURGE_EVERY_S = 60.0

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._last_purge = monotonic()

    def __len__(self) -> int:
        """Number of keys currently tracked."""
        with self._lock:
            return len(self._windows)

    def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        _check_args(limit, window_s)
        with self._lock:
            now = self._monotonic()
            self._purge_if_due(now)
            index = math.floor(now / window_s)
            window = self._rolled(self._windows.get(key), window_s, index)
            elapsed_s = now - index * window_s
            used = window.previous * (1 - elapsed_s / window_s) + window.current
            allowed = used < limit
            if allowed:
                window.current += 1
                self._windows[key] = window
            return _decide(
                allowed=allowed,
                limit=limit,
                window_s=window_s,
                previous=window.previous,
                current=window.current,
                elapsed_s=elapsed_s,
            )

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    @staticmethod
    def _rolled(window: _Window | None, window_s: int, index: int) -> _Window:
        """The key's counts as seen from fixed window ``index``."""
        if window is None or window.window_s != window_s or window.index < index - 1:
            return _Window(window_s, index, 0, 0)
        if window.index == index - 1:
            return _Window(window_s, index, 0, window.current)
        return window

    def _purge_if_due(self, now: float) -> None:
        # A full sweep once a minute keeps memory bounded by the keys active in two windows.
        if now - self._last_purge < self._PURGE_EVERY_S:
            return
        self._last_purge = now
        stale = [
            key
            for key, window in self._windows.items()
            if math.floor(now / window.window_s) > window.index + 1
        ]
        for key in stale:
            del self._windows[key]


# One hash per key: w = window index, c = current count, p = previous count, s = window ms.
# Reading, deciding and counting happen in one script so concurrent processes cannot both take
# the last slot. One key per limiter key keeps the script valid under Redis Cluster.
_HIT_SCRIPT = """
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local now_ms = tonumber(ARGV[3])
if now_ms == nil then
  local t = redis.call('TIME')
  now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local index = math.floor(now_ms / window_ms)
local elapsed_ms = now_ms - index * window_ms
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p', 's')
local current, previous = 0, 0
if tonumber(state[4]) == window_ms then
  local w = tonumber(state[1])
  if w == index then
    current = tonumber(state[2])
    previous = tonumber(state[3])
  elseif w == index - 1 then
    previous = tonumber(state[2])
  end
end
local allowed = 0
if previous * (window_ms - elapsed_ms) / window_ms + current < limit then
  allowed = 1
  current = current + 1
  redis.call('HSET', KEYS[1], 'w', index, 'c', current, 'p', previous, 's', window_ms)
  redis.call('PEXPIRE', KEYS[1], window_ms * 2)
end
return {allowed, current, previous, elapsed_ms}
"""


class RedisRateLimiter:
    """Limiter shared by every API process through Redis.

    Time comes from the Redis server (``TIME``) so processes with skewed clocks agree; pass
    ``clock`` (wall-clock seconds) only to control time in tests.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "bazaar:rl:",
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._script = client.register_script(_HIT_SCRIPT)

    def hit(self, key: str, limit: int, window_s: int) -> RateDecision:
        _check_args(limit, window_s)
        now_ms = "" if self._clock is None else str(round(self._clock() * 1000))
        result = cast(
            "list[int]",
            self._script(keys=[self._prefix + key], args=[limit, window_s * 1000, now_ms]),
        )
        allowed, current, previous, elapsed_ms = (int(value) for value in result)
        return _decide(
            allowed=bool(allowed),
            limit=limit,
            window_s=window_s,
            previous=previous,
            current=current,
            elapsed_s=elapsed_ms / 1000,
        )

    def reset(self, key: str) -> None:
        self._client.delete(self._prefix + key)
