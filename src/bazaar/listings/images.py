"""The "images reachable and valid" check's eyes: the media context's fetcher and decoder.

An image URL is fetched exactly as a product image import would fetch it (SSRF guard, size
and time limits, redirects checked hop by hop) and run through the same pipeline (format by
its bytes, pixel limit before decoding, no animation, a full decode), so an image that
passes here imports when the listing goes live. Only the renditions are left out: the probe
asks the pipeline for none, which makes it several times cheaper; they are made when the
listing goes live. What went wrong decides what happens:

* the host could not be reached, timed out, or answered 5xx or 429: ``unreachable``, a
  technical failure the workflow retries and, in the end, dead-letters;
* any other refusal (4xx, a private address, too many redirects): ``not_found``, the
  seller's link is wrong;
* the bytes are not an acceptable image (or too big): ``not_an_image``.

Feeds name the same image many times (a photo shared by a product's variants, a brand's
placeholder), so the prober remembers:

* a URL's verdict for a while: ``ok`` for ``OK_TTL_S``, a refusal for the shorter
  ``REFUSED_TTL_S`` (a seller who fixes the link and resubmits is not judged by the old
  answer for long); ``unreachable`` is never remembered, the retry must ask again;
* the verdict on a content hash for good: the same bytes decode the same way, so bytes seen
  before, at any URL, are not decoded again.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Generic, TypeVar

from bazaar.kernel.errors import ValidationFailed
from bazaar.listings.checks import ImageOutcome, ImageProbe
from bazaar.media.fetch import ImageFetcher
from bazaar.media.model import ImageRules
from bazaar.media.processing import check_image

_TRANSIENT_CODES = frozenset({"timeout", "fetch_failed"})
# The fetcher reports an upstream answer as "The server answered HTTP <status>".
_STATUS = re.compile(r"HTTP (\d{3})")

OK_TTL_S = 600.0
REFUSED_TTL_S = 60.0
MAX_REMEMBERED = 20_000  # per cache; the least recently used entry goes first

K = TypeVar("K")
V = TypeVar("V")


def outcome_of(error: ValidationFailed) -> ImageOutcome:
    """What a fetch refusal means for the listing (see the module docstring)."""
    codes = {e.code for e in error.errors}
    if codes & _TRANSIENT_CODES:
        return ImageOutcome.UNREACHABLE
    if "upstream_status" in codes:
        found = _STATUS.search(error.detail)
        status = int(found.group(1)) if found else 0
        return (
            ImageOutcome.UNREACHABLE if status >= 500 or status == 429 else ImageOutcome.NOT_FOUND
        )
    if "too_large" in codes:
        return ImageOutcome.NOT_AN_IMAGE
    return ImageOutcome.NOT_FOUND


class _Recent(Generic[K, V]):
    """A bounded, thread-safe least-recently-used map; entries may carry an expiry."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, tuple[float | None, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, now: float) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            until, value = entry
            if until is not None and until <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V, until: float | None = None) -> None:
        with self._lock:
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class MediaImageProber:
    def __init__(
        self,
        fetcher: ImageFetcher,
        rules: ImageRules,
        *,
        ok_ttl_s: float = OK_TTL_S,
        refused_ttl_s: float = REFUSED_TTL_S,
        max_remembered: int = MAX_REMEMBERED,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self._rules = replace(rules, variants={})  # accept or refuse; render nothing
        self._ttl = {ImageOutcome.OK: ok_ttl_s}
        self._refused_ttl = refused_ttl_s
        self._monotonic = monotonic
        self._by_url: _Recent[str, ImageOutcome] = _Recent(max_remembered)
        self._by_content: _Recent[str, ImageOutcome] = _Recent(max_remembered)

    def probe(self, url: str) -> ImageProbe:
        """Fetch and decode ``url`` (or recall a recent verdict on it, or on its bytes);
        never raises for a bad URL or image, only reports."""
        now = self._monotonic()
        known = self._by_url.get(url, now)
        if known is not None:
            return ImageProbe(url, known)
        try:
            data = self._fetcher.fetch(url, field="image_url")
        except ValidationFailed as exc:
            outcome = outcome_of(exc)
        else:
            outcome = self._judge(data)
        if outcome is not ImageOutcome.UNREACHABLE:
            ttl = self._ttl.get(outcome, self._refused_ttl)
            self._by_url.put(url, outcome, now + ttl)
        return ImageProbe(url, outcome)

    def _judge(self, data: bytes) -> ImageOutcome:
        digest = hashlib.sha256(data).hexdigest()
        known = self._by_content.get(digest, 0.0)
        if known is not None:
            return known
        try:
            check_image(data, self._rules, field="image_url")
            outcome = ImageOutcome.OK
        except ValidationFailed:
            outcome = ImageOutcome.NOT_AN_IMAGE
        self._by_content.put(digest, outcome)
        return outcome
