"""Cache-aside port with an in-process LRU and a Redis adapter.

Callers read with ``get``, fall back to the source of truth on a miss and ``set`` the result
with a TTL. A whole family of keys is invalidated at once with :class:`NamespacedCache`, which
embeds a per-namespace version number in every key and bumps it on ``invalidate``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, cast

import redis


class Cache(Protocol):
    # True when lookups never wait on a network: callers may then use the cache directly on
    # the event loop instead of from the thread pool.
    in_process: bool

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    def delete(self, *keys: str) -> None: ...

    def incr(self, key: str) -> int:
        """Atomically add one to the integer at ``key`` (a missing key counts as 0)."""
        ...

    def ping(self) -> bool: ...


def _check_ttl(ttl_s: float) -> None:
    if ttl_s <= 0:
        raise ValueError(f"ttl_s must be positive, got {ttl_s}")


class MemoryCache:
    """Thread-safe LRU cache with a TTL per entry, for one process (tests, single-node setups).

    Expired entries count as misses and are dropped when next touched; the LRU bound keeps
    memory in check for entries that are never read again.
    """

    in_process = True

    def __init__(
        self, max_entries: int = 10_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._live_value(key)
            if value is None:
                self.misses += 1
                return None
            self.hits += 1
            return value

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        _check_ttl(ttl_s)
        with self._lock:
            self._store(key, value, self._monotonic() + ttl_s)

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def incr(self, key: str) -> int:
        with self._lock:
            current = self._live_value(key)
            number = int(current) + 1 if current is not None else 1
            # Like Redis INCR: an existing TTL is kept, a new counter never expires.
            expires_at = self._entries[key][1] if current is not None else float("inf")
            self._store(key, str(number).encode(), expires_at)
            return number

    def ping(self) -> bool:
        return True

    def _live_value(self, key: str) -> bytes | None:
        """Return the value and mark it recently used; drop it if expired. Caller holds the lock."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if self._monotonic() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def _store(self, key: str, value: bytes, expires_at: float) -> None:
        self._entries[key] = (value, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


class RedisCache:
    """Cache shared by every process, stored in Redis under ``prefix``."""

    in_process = False

    def __init__(self, client: redis.Redis, prefix: str = "bazaar:") -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "bazaar:") -> RedisCache:
        # Values are bytes, so responses must not be decoded to str.
        return cls(redis.Redis.from_url(url, decode_responses=False), prefix)

    def get(self, key: str) -> bytes | None:
        return cast("bytes | None", self._client.get(self._prefix + key))

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        _check_ttl(ttl_s)
        self._client.set(self._prefix + key, value, px=max(1, round(ttl_s * 1000)))

    def delete(self, *keys: str) -> None:
        if keys:  # DEL with no keys is a Redis error.
            self._client.delete(*(self._prefix + key for key in keys))

    def incr(self, key: str) -> int:
        return cast(int, self._client.incr(self._prefix + key))

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False


class NamespacedCache:
    """Versioned keys so a whole namespace (e.g. one seller's listings) is dropped in O(1).

    ``key("listing", "42")`` gives ``"listing:v<version>:42"``; ``invalidate("listing")`` bumps
    the version so every older key is never read again and simply expires by its own TTL.

    A missing version (never set, evicted or expired) is seeded with a random 62-bit number,
    not 1, so a reseeded namespace cannot land on a version whose entries are still cached.
    """

    def __init__(self, cache: Cache, version_ttl_s: float = 7 * 86_400) -> None:
        self.cache = cache
        self._version_ttl_s = version_ttl_s

    def key(self, namespace: str, *parts: str) -> str:
        return ":".join((namespace, f"v{self._version(namespace)}", *parts))

    def invalidate(self, namespace: str) -> None:
        """Make every key built for ``namespace`` so far unreachable."""
        version_key = self._version_key(namespace)
        if self.cache.get(version_key) is None:
            self._seed(version_key)
        else:
            self.cache.incr(version_key)

    def _version(self, namespace: str) -> int:
        version_key = self._version_key(namespace)
        raw = self.cache.get(version_key)
        return int(raw) if raw is not None else self._seed(version_key)

    def _seed(self, version_key: str) -> int:
        # Two processes seeding at once each get their own version briefly; the last write
        # wins and the loser's entries are orphaned, which costs misses, never stale reads.
        version = secrets.randbits(62)
        self.cache.set(version_key, str(version).encode(), self._version_ttl_s)
        return version

    @staticmethod
    def _version_key(namespace: str) -> str:
        return f"ns:{namespace}"
