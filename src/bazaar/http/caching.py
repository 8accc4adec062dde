"""Cache-aside JSON responses with ETag / If-None-Match and CDN-friendly headers.

Two halves share one key scheme (:func:`page_key`: the path plus the query parameters in a
canonical order, under a namespace version):

* :func:`cached_json`, called by a route, renders on a miss and stores the exact bytes;
* :class:`CachedPagesMiddleware`, a pure-ASGI layer in front of FastAPI's routing, answers
  hits without routing, dependency solving or validation. Only bytes a route produced for a
  valid request are ever cached, so an invalid request always reaches the route and its 422.

Cached reads run on the event loop when the cache is in-process (a hit costs microseconds, far
less than a hop to the thread pool); database queries and Redis lookups run in the thread pool.

A page whose content changes by itself at a known moment (prices when a sale ends) is stored
in an envelope with that moment (:func:`pack_page`), so a hit, wherever it is answered and
whichever cache holds it (memory or Redis), tells browsers and CDNs to keep it no longer.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from bazaar.infra.cache import NamespacedCache
from bazaar.kernel.clock import Clock, SystemClock

PUBLIC_MAX_AGE_S = 30
PUBLIC_CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE_S}, stale-while-revalidate=60"

# A NUL byte, which no JSON text (nor UTF-8 BOM) starts with, then the version and the
# moment the page expires (milliseconds since the epoch, unsigned big-endian).
_ENVELOPE = b"\x00p1"
_EXPIRY = struct.Struct(">Q")
_HEADER_SIZE = len(_ENVELOPE) + _EXPIRY.size


def pack_page(body: bytes, expires_at: datetime | None) -> bytes:
    """What to store for ``body``: itself, or an envelope with the moment it expires."""
    if expires_at is None:
        return body
    return _ENVELOPE + _EXPIRY.pack(max(0, round(expires_at.timestamp() * 1000))) + body


def unpack_page(stored: bytes) -> tuple[bytes, float | None]:
    """The page and its expiry (seconds since the epoch; None: none) from :func:`pack_page`'s
    bytes, or from bytes stored plainly (which are never an envelope: JSON never starts with
    a NUL byte)."""
    if not stored.startswith(_ENVELOPE):
        return stored, None
    (expires_ms,) = _EXPIRY.unpack_from(stored, len(_ENVELOPE))
    return stored[_HEADER_SIZE:], expires_ms / 1000


def public_cache_control(seconds_left: float | None) -> str:
    """``Cache-Control`` of a public page; with ``seconds_left`` until its content changes,
    no browser or CDN may keep (or serve stale) what would outlive it."""
    if seconds_left is None:
        return PUBLIC_CACHE_CONTROL
    return f"public, max-age={max(0, min(PUBLIC_MAX_AGE_S, math.floor(seconds_left)))}"


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


@lru_cache(maxsize=4096)
def page_key(path: str, query_string: bytes) -> str:
    """The cache key of a public page: path and query with parameters in a canonical order.

    Memoised: the same few thousand URLs make up nearly all of a store's traffic, and parsing
    and re-encoding the query cost a cache hit more than the rest of it.
    """
    pairs = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return path + "?" + urlencode(pairs)


@lru_cache(maxsize=256)
def _served(stored: bytes) -> tuple[bytes, float | None, str]:
    """A stored page's body, expiry and ETag, worked out once per stored entry: a hit finds
    the very bytes object it was given last time (bytes keep their hash, and equality checks
    identity first), so a popular page is not hashed again on every request."""
    body, expires_at = unpack_page(stored)
    return body, expires_at, etag_for(body)


def _public_headers(etag: str, seconds_left: float | None = None) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": public_cache_control(seconds_left),
        "Vary": "Accept-Encoding",
    }


def _if_none_match(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


async def cached_json(
    request: Request,
    pages: NamespacedCache,
    namespace: str,
    ttl_s: float,
    render: Callable[[], bytes],
) -> Response:
    """Serve ``render()``'s JSON from the cache when possible; answer 304 when unchanged.

    A cache entry becomes unreachable when its namespace is invalidated by a catalog event.
    """
    body: bytes | None = None
    key = ""
    if ttl_s > 0:
        raw_key = page_key(request.url.path, request.scope["query_string"])
        if pages.cache.in_process:
            key = pages.key(namespace, raw_key)
            body = pages.cache.get(key)
        else:
            key = await run_in_threadpool(pages.key, namespace, raw_key)
            body = await run_in_threadpool(pages.cache.get, key)
    if body is None:
        body = await run_in_threadpool(render)
        if ttl_s > 0:
            await run_in_threadpool(pages.cache.set, key, body, ttl_s)
    etag = etag_for(body)
    if etag in _if_none_match(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=_public_headers(etag))
    return Response(body, media_type="application/json", headers=_public_headers(etag))


@dataclass(frozen=True)
class CachedRoute:
    """A public GET route cached in a namespace; ``template`` names it in metrics.

    ``namespace`` is fixed, or derived from the path (one namespace per product, so a stock
    change drops that product's pages and not every product's).
    """

    pattern: re.Pattern[str]
    template: str
    namespace: str | Callable[[str], str]

    def namespace_for(self, path: str) -> str:
        return self.namespace if isinstance(self.namespace, str) else self.namespace(path)


class CachedPagesMiddleware:
    """Answer cache hits for public catalog pages before FastAPI routes the request.

    Only anonymous GET requests are served here (what a signed-in caller sees may differ
    later, e.g. staff views and customer prices); everything else, and every miss, goes on to
    the app. Only in-process caches are read here: a Redis lookup would block the event loop,
    so with Redis the route's own cache-aside (in the thread pool) does the work. A page
    stored with its expiry (:func:`pack_page`) is sent with ``max-age`` capped by it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        pages: NamespacedCache,
        routes: Sequence[CachedRoute],
        ttl_s: float,
        clock: Clock | None = None,
    ) -> None:
        self.app = app
        self.pages = pages
        self.routes = tuple(routes)
        self.enabled = ttl_s > 0 and pages.cache.in_process
        self.clock: Clock = clock or SystemClock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.enabled and scope["type"] == "http" and scope["method"] == "GET":
            route = self._match(scope["path"])
            if route is not None and await self._serve_hit(scope, route, send):
                return
        await self.app(scope, receive, send)

    def _match(self, path: str) -> CachedRoute | None:
        for route in self.routes:
            if route.pattern.fullmatch(path):
                return route
        return None

    async def _serve_hit(self, scope: Scope, route: CachedRoute, send: Send) -> bool:
        if_none_match = ""
        for name, value in scope["headers"]:
            if name == b"authorization" or name == b"x-api-key":
                return False
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        key = self.pages.key(
            route.namespace_for(scope["path"]), page_key(scope["path"], scope["query_string"])
        )
        stored = self.pages.cache.get(key)
        if stored is None:
            return False
        scope["bazaar.route_template"] = route.template
        body, expires_at, etag = _served(stored)
        left = None if expires_at is None else expires_at - self.clock.now().timestamp()
        headers = [(k.lower().encode(), v.encode()) for k, v in _public_headers(etag, left).items()]
        if etag in _if_none_match(if_none_match):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
