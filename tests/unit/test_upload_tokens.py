"""Signed upload tokens: round trip, expiry, tampering, purpose separation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bazaar.kernel.errors import Unauthenticated
from bazaar.kernel.events import Actor
from bazaar.media.upload_tokens import UploadTokens, UploadUrlExpired

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SECRET = "test-secret-key-0123456789abcdef"
OPERATOR = Actor("user", "usr_1", "operator")


def token(tokens: UploadTokens, expires_at: datetime = NOW + timedelta(minutes=15)) -> str:
    return tokens.sign("prd_1", expires_at=expires_at, max_bytes=1234, alt="A shoe", actor=OPERATOR)


def test_a_token_round_trips_its_claims() -> None:
    tokens = UploadTokens(SECRET)

    claims = tokens.verify(token(tokens), NOW)

    assert (claims.product_id, claims.max_bytes, claims.alt) == ("prd_1", 1234, "A shoe")
    assert claims.actor == OPERATOR
    assert claims.expires_at == NOW + timedelta(minutes=15)


def test_an_expired_token_is_refused() -> None:
    tokens = UploadTokens(SECRET)
    signed = token(tokens, NOW)

    with pytest.raises(UploadUrlExpired):
        tokens.verify(signed, NOW)


def test_another_secret_does_not_verify() -> None:
    with pytest.raises(Unauthenticated):
        UploadTokens("another-secret-0123456789abcdef").verify(token(UploadTokens(SECRET)), NOW)


@pytest.mark.parametrize("forged", ["", "abc", "a.b.c", "é.é", "x" * 5000])
def test_malformed_tokens_are_refused(forged: str) -> None:
    with pytest.raises(Unauthenticated):
        UploadTokens(SECRET).verify(forged, NOW)


def test_a_changed_payload_is_refused() -> None:
    tokens = UploadTokens(SECRET)
    payload, signature = token(tokens).split(".")
    changed = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")

    with pytest.raises(Unauthenticated):
        tokens.verify(f"{changed}.{signature}", NOW)
