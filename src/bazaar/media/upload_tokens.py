"""Signed, time-limited upload tokens: the credential of a direct-upload URL.

A token is ``<payload>.<signature>``, both unpadded base64url. The payload is compact JSON
naming the product, the expiry (Unix seconds), the byte limit, the alt text and who asked for
the URL (so the audit log shows the operator behind a direct upload). The signature is
HMAC-SHA256 under a key derived from ``secret_key`` for this one purpose, so a token can never
be confused with a cursor or any other value Bazaar signs with the same secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from bazaar.kernel.errors import PermissionDenied, Unauthenticated
from bazaar.kernel.events import Actor

PURPOSE = b"bazaar.media.upload-url.v1"
MAX_TOKEN_LENGTH = 2048


class UploadUrlExpired(PermissionDenied):
    code = "upload_url_expired"
    title = "Upload URL expired"


@dataclass(frozen=True)
class UploadClaims:
    """What a valid token allows: one upload to ``product_id`` until ``expires_at``."""

    product_id: str
    expires_at: datetime
    max_bytes: int
    alt: str
    actor: Actor
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UploadTokens:
    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(secret_key.encode("utf-8"), PURPOSE, hashlib.sha256).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def sign(
        self,
        product_id: str,
        *,
        expires_at: datetime,
        max_bytes: int,
        alt: str,
        actor: Actor,
    ) -> str:
        body = {
            "p": product_id,
            "e": int(expires_at.timestamp()),
            "m": max_bytes,
            "t": alt,
            "a": [actor.type, actor.id, actor.role],
            "n": secrets.token_urlsafe(9),
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str, now: datetime) -> UploadClaims:
        """Return the claims of an authentic, unexpired token.

        Raises ``Unauthenticated`` for a malformed or tampered token and ``UploadUrlExpired``
        (403) for one past its expiry. Signatures are compared in constant time.
        """
        invalid = Unauthenticated("The upload URL is invalid")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise invalid
        payload, signature = token.split(".")
        if not token.isascii() or not hmac.compare_digest(
            self._mac(payload).encode("ascii"), signature.encode("ascii")
        ):
            raise invalid
        try:
            body = json.loads(_unb64(payload))
            actor_type, actor_id, actor_role = body["a"]
            claims = UploadClaims(
                product_id=str(body["p"]),
                expires_at=datetime.fromtimestamp(int(body["e"]), UTC),
                max_bytes=int(body["m"]),
                alt=str(body["t"]),
                actor=Actor(str(actor_type), actor_id, actor_role),
                nonce=str(body["n"]),
            )
        except (binascii.Error, ValueError, KeyError, TypeError, OverflowError) as exc:
            raise invalid from exc  # signed by us yet unreadable: a bug or an old format
        if now >= claims.expires_at:
            raise UploadUrlExpired("The upload URL has expired; ask for a new one")
        return claims
