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
  edited, so an entry expires at the first such moment on the page (``valid_until``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from bazaar.http.caching import PUBLIC_CACHE_CONTROL, etag_for, page_key
from bazaar.infra.cache import NamespacedCache
from bazaar.kernel.clock import Clock
from bazaar.pricing.shelf import Audience

PRIVATE_CACHE_CONTROL = "private, no-cache"
PUBLIC_MAX_AGE_S = 30

# the page's JSON, and when a price on it may change by itself (None: never)
PricedRender = Callable[[], tuple[bytes, datetime | None]]


def priced_namespace(pages: NamespacedCache, namespace: str, rules_version: int | None) -> str:
    """``namespace`` at its current version, under the pricing rules' ``rules_version``.

    Invalidating ``namespace`` or moving the rules version both change the result, so both
    make every page cached under an older one unreachable. ``None`` (rules not compiled yet
    in this process) names a namespace nothing is ever stored under.
    """
    return f"{pages.key(namespace)}:prices:r{rules_version}"


def _if_none_match(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _ttl(ttl_s: float, valid_until: datetime | None, now: datetime) -> float:
    if valid_until is None:
        return ttl_s
    return min(ttl_s, (valid_until - now).total_seconds())


def _headers(etag: str, audience: Audience, ttl_s: float, capped: bool) -> dict[str, str]:
    if audience.cache_key != "":
        return {
            "ETag": etag,
            "Cache-Control": PRIVATE_CACHE_CONTROL,
            "Vary": "Authorization, Accept-Encoding",
        }
    # A page whose prices change soon must not outlive them in a browser or a CDN either.
    control = (
        f"public, max-age={max(0, min(PUBLIC_MAX_AGE_S, math.floor(ttl_s)))}"
        if capped
        else PUBLIC_CACHE_CONTROL
    )
    return {"ETag": etag, "Cache-Control": control, "Vary": "Accept-Encoding"}


async def priced_json(
    request: Request,
    pages: NamespacedCache,
    namespace: str,
    audience: Audience,
    *,
    ttl_s: float,
    clock: Clock,
    render: PricedRender,
) -> Response:
    """Serve ``render()``'s JSON for ``audience`` from the cache when allowed; 304 when the
    caller's ETag matches.

    Guarantees: a page is only ever served to an audience with the same ``cache_key`` and
    the same rules version; no entry outlives the ``valid_until`` of its prices.
    """
    key = ""
    body: bytes | None = None
    cacheable = ttl_s > 0 and audience.cache_key is not None
    if cacheable:
        raw_key = page_key(request.url.path, request.scope["query_string"])
        if audience.cache_key:
            raw_key += "#" + str(audience.cache_key)

        def lookup() -> tuple[str, bytes | None]:
            found = pages.key(priced_namespace(pages, namespace, audience.rules_version), raw_key)
            return found, pages.cache.get(found)

        key, body = lookup() if pages.cache.in_process else await run_in_threadpool(lookup)
    ttl, capped = ttl_s, False
    if body is None:
        rendered, valid_until = await run_in_threadpool(render)
        ttl = _ttl(ttl_s, valid_until, clock.now())
        capped = valid_until is not None
        # under a second left: the prices are about to change, so the page is not kept
        if cacheable and ttl >= 1:
            await run_in_threadpool(pages.cache.set, key, rendered, ttl)
        body = rendered
    etag = etag_for(body)
    headers = _headers(etag, audience, ttl, capped)
    if etag in _if_none_match(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
