"""Cache-aside JSON responses with ETag / If-None-Match and CDN-friendly headers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import Request, Response

from bazaar.infra.cache import NamespacedCache

PUBLIC_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60"


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cached_json(
    request: Request,
    pages: NamespacedCache,
    namespace: str,
    key_parts: tuple[str, ...],
    ttl_s: float,
    render: Callable[[], bytes],
) -> Response:
    """Serve ``render()``'s JSON from the cache when possible; answer 304 when unchanged.

    The cache holds the exact bytes, so a hit costs a lookup and no serialisation. A cache
    entry becomes unreachable when its namespace is invalidated by a catalog event.
    """
    key = pages.key(namespace, *key_parts)
    body = pages.cache.get(key) if ttl_s > 0 else None
    if body is None:
        body = render()
        if ttl_s > 0:
            pages.cache.set(key, body, ttl_s)
    etag = etag_for(body)
    headers = {"ETag": etag, "Cache-Control": PUBLIC_CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if etag in _if_none_match(request):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _if_none_match(request: Request) -> set[str]:
    header = request.headers.get("if-none-match", "")
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
