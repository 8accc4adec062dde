"""Cached catalog pages that show prices: keys by rules version and audience, TTL capped.

A page showing prices depends on three things besides the catalog rows:

* **the pricing rules.** Every key lives under :func:`priced_namespace`, which embeds the
  catalog namespace's version *and* the rules version the page was priced with, so a rule
  change anywhere (``pricing_rules_version``, followed by every process's ``RulesCache``)
  makes every page priced before it unreachable, exactly as a catalog change does;
* **who is looking** (:class:`bazaar.pricing.shelf.Audience`). A guest's page, and a
  signed-in customer's that shows nothing else, is public and keyed by the URL alone, so
  the edge middleware answers it. A customer group's page is keyed by the URL and the
  group, never under the guests' key, and is ``private``. A page priced for one customer in
  a running experiment is never stored;
* **the clock**. A sale or a price list that starts or ends changes prices with no rule
  edited, so an entry expires at the first such moment on the page (``valid_until``), and
  is stored with that moment (:func:`bazaar.http.caching.pack_page`) so that every answer,
  a hit at the edge or here as much as a fresh render, caps ``max-age`` by it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from bazaar.http.caching import (
    etag_for,
    pack_page,
    page_key,
    public_cache_control,
    unpack_page,
)
from bazaar.infra.cache import NamespacedCache
from bazaar.kernel.clock import Clock
from bazaar.pricing.shelf import Audience

PRIVATE_CACHE_CONTROL = "private, no-cache"

# the page's JSON for an audience, and when a price on it may change by itself (None: never)
PricedRender = Callable[[Audience], tuple[bytes, datetime | None]]
# a page's JSON, and the seconds until a price on it may change (None: no such moment)
Served = tuple[bytes, float | None]


def priced_namespace(pages: NamespacedCache, namespace: str, rules_version: int | None) -> str:
    """``namespace`` at its current version, under the pricing rules' ``rules_version``.

    Invalidating ``namespace`` or moving the rules version both change the result, so both
    make every page cached under an older one unreachable. ``None`` (rules not compiled yet
    in this process) names a namespace nothing is ever stored under.
    """
    return f"{pages.key(namespace)}:prices:r{rules_version}"


def _if_none_match(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _headers(etag: str, audience: Audience, seconds_left: float | None) -> dict[str, str]:
    if audience.cache_key != "":
        return {
            "ETag": etag,
            "Cache-Control": PRIVATE_CACHE_CONTROL,
            "Vary": "Authorization, Accept-Encoding",
        }
    # A page whose prices change soon must not outlive them in a browser or a CDN either.
    control = public_cache_control(seconds_left)
    return {"ETag": etag, "Cache-Control": control, "Vary": "Accept-Encoding"}


def _cache_key(
    pages: NamespacedCache, namespace: str, url_key: str | None, audience: Audience
) -> str | None:
    """Where ``audience``'s page is kept; None when it must not be (blocking with Redis)."""
    if url_key is None or audience.cache_key is None:
        return None
    raw_key = url_key + ("#" + audience.cache_key if audience.cache_key else "")
    return pages.key(priced_namespace(pages, namespace, audience.rules_version), raw_key)


def _cached(pages: NamespacedCache, key: str, clock: Clock) -> Served | None:
    stored = pages.cache.get(key)
    if stored is None:
        return None
    body, expires_at = unpack_page(stored)
    return body, None if expires_at is None else expires_at - clock.now().timestamp()


def _serve(
    pages: NamespacedCache,
    key: str | None,
    audience: Audience,
    *,
    ttl_s: float,
    clock: Clock,
    render: PricedRender,
    looked_up: bool = False,
) -> Served:
    """The page from the cache, else rendered and kept until its prices may change."""
    if key is not None and not looked_up:
        found = _cached(pages, key, clock)
        if found is not None:
            return found
    body, valid_until = render(audience)
    seconds_left = None if valid_until is None else (valid_until - clock.now()).total_seconds()
    ttl = ttl_s if seconds_left is None else min(ttl_s, seconds_left)
    # under a second left: the prices are about to change, so the page is not kept
    if key is not None and ttl >= 1:
        pages.cache.set(key, pack_page(body, valid_until), ttl)
    return body, seconds_left


async def priced_json(
    request: Request,
    pages: NamespacedCache,
    namespace: str,
    audience: Audience | Callable[[], Audience],
    *,
    ttl_s: float,
    clock: Clock,
    render: PricedRender,
    reading: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> Response:
    """Serve ``render(audience)``'s JSON from the cache when allowed; 304 when the caller's
    ETag matches.

    ``audience`` is resolved already (a guest: no IO), or resolved here when it needs the
    database (a customer's group): then resolving it, the cache look-up and a render on a
    miss share one thread-pool call and one read transaction (``reading``, the database's
    :meth:`~bazaar.infra.db.Database.reading`), so the group costs a statement, not a
    transaction of its own. Nothing about the audience is kept across requests.

    Guarantees: a page is only ever served to an audience with the same ``cache_key`` and
    the same rules version; no entry outlives the ``valid_until`` of its prices, and no
    answer tells a browser or CDN to keep it longer either.
    """
    url_key = page_key(request.url.path, request.scope["query_string"]) if ttl_s > 0 else None
    if isinstance(audience, Audience):
        resolved = audience
        key: str | None = None
        hit: Served | None = None
        looked_up = pages.cache.in_process  # a memory look-up costs less than a thread hop
        if looked_up:
            key = _cache_key(pages, namespace, url_key, resolved)
            hit = None if key is None else _cached(pages, key, clock)
        if hit is not None:
            served = hit
        else:

            def miss() -> Served:
                found = key if looked_up else _cache_key(pages, namespace, url_key, resolved)
                return _serve(
                    pages,
                    found,
                    resolved,
                    ttl_s=ttl_s,
                    clock=clock,
                    render=render,
                    looked_up=looked_up,
                )

            served = await run_in_threadpool(miss)
    else:
        resolve = audience

        def resolve_and_serve() -> tuple[Audience, Served]:
            with reading():
                found = resolve()
                key = _cache_key(pages, namespace, url_key, found)
                return found, _serve(pages, key, found, ttl_s=ttl_s, clock=clock, render=render)

        resolved, served = await run_in_threadpool(resolve_and_serve)
    body, seconds_left = served
    etag = etag_for(body)
    headers = _headers(etag, resolved, seconds_left)
    if etag in _if_none_match(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
