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
"""

from __future__ import annotations

import re
from dataclasses import replace

from bazaar.kernel.errors import ValidationFailed
from bazaar.listings.checks import ImageOutcome, ImageProbe
from bazaar.media.fetch import ImageFetcher
from bazaar.media.model import ImageRules
from bazaar.media.processing import process_image

_TRANSIENT_CODES = frozenset({"timeout", "fetch_failed"})
# The fetcher reports an upstream answer as "The server answered HTTP <status>".
_STATUS = re.compile(r"HTTP (\d{3})")


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


class MediaImageProber:
    def __init__(self, fetcher: ImageFetcher, rules: ImageRules) -> None:
        self._fetcher = fetcher
        self._rules = replace(rules, variants={})  # accept or refuse; render nothing

    def probe(self, url: str) -> ImageProbe:
        """Fetch and decode ``url``; never raises for a bad URL or image, only reports."""
        try:
            data = self._fetcher.fetch(url, field="image_url")
        except ValidationFailed as exc:
            return ImageProbe(url, outcome_of(exc))
        try:
            process_image(data, self._rules, field="image_url")
        except ValidationFailed:
            return ImageProbe(url, ImageOutcome.NOT_AN_IMAGE)
        return ImageProbe(url, ImageOutcome.OK)
