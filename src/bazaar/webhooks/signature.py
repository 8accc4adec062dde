"""Signing and verifying Bazaar webhook deliveries.

This module uses only the standard library so that receivers can copy it into their own code
unchanged.

Every webhook request Bazaar sends carries these headers::

    Bazaar-Signature: t=1718000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e1...
    Bazaar-Event-Id: evt_...          (stable across retries: use it to de-duplicate)
    Bazaar-Event-Type: order.placed
    Bazaar-Delivery-Id: dlv_...       (one per subscriber and event; the same on retries)

``v1`` is the hex HMAC-SHA256, keyed with the endpoint's secret, of ``"<t>.<raw body>"``. While
a secret is being rotated the header holds one ``v1=`` entry per active secret; a receiver
accepts the request if any one of them matches.

Why the timestamp is signed: a signature over the body alone stays valid forever, so anyone who
once captured a request (a proxy log, a leaked debug dump) could replay it at will. Binding the
send time into the MAC and refusing requests older (or newer) than a few minutes closes that
window; within it, de-duplicate on ``Bazaar-Event-Id``.

A receiver, whatever its web framework::

    from signature import SIGNATURE_HEADER, EVENT_ID_HEADER, verify_signature

    def handle_webhook(headers, raw_body: bytes) -> int:
        # Verify the exact bytes received: parsing and re-serialising JSON changes them.
        if not verify_signature(WEBHOOK_SECRET, headers.get(SIGNATURE_HEADER, ""), raw_body):
            return 400
        event_id = headers[EVENT_ID_HEADER]
        if already_processed(event_id):   # deliveries are at least once
            return 200
        process(json.loads(raw_body))
        return 200                        # any 2xx acknowledges; others are retried

With Flask, ``raw_body`` is ``request.get_data()``; with FastAPI/Starlette it is
``await request.body()``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Bazaar-Signature"
EVENT_ID_HEADER = "Bazaar-Event-Id"
EVENT_TYPE_HEADER = "Bazaar-Event-Type"
DELIVERY_ID_HEADER = "Bazaar-Delivery-Id"

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
DEFAULT_TOLERANCE_S = 300

# Bounds parsing work on hostile input; a real header is well under 1 KiB.
_MAX_HEADER_LENGTH = 8192
_MAX_TIMESTAMP_DIGITS = 12


def generate_secret() -> str:
    """Return a new random endpoint secret: ``whsec_`` followed by 32 random bytes, urlsafe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """Return the ``Bazaar-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Tell whether ``header`` is a valid signature of ``body`` made within ``tolerance_s``.

    Returns False, never raises, for a malformed header, a missing or non-numeric ``t``, no
    ``v1`` entry, a timestamp further than ``tolerance_s`` from ``now`` (either direction), or
    no matching ``v1``. Signatures are compared in constant time.
    """
    if not isinstance(header, str) or not header or len(header) > _MAX_HEADER_LENGTH:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return False
        key, value = key.strip(), value.strip()
        if key == "t":
            # isdecimal() alone admits non-ASCII digits; require plain ASCII.
            # Length cap: int() refuses huge digit strings, and no real timestamp is that long.
            if (
                timestamp is not None
                or len(value) > _MAX_TIMESTAMP_DIGITS
                or not (value.isascii() and value.isdecimal())
            ):
                return False
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
        # Unknown keys (future schemes such as v2) are ignored so they can be added later.
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if not abs(current - timestamp) <= tolerance_s:  # written so that a NaN clock rejects
        return False
    expected = _mac(secret, body, timestamp).encode("ascii")
    matched = False
    for candidate in candidates:
        # compare_digest requires ASCII for str; compare bytes so odd input cannot raise.
        # Every candidate is compared (no early exit) so timing does not reveal which matched.
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched
