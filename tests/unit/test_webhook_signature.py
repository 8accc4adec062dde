"""Webhook signatures, checked against an independent HMAC computation."""

from __future__ import annotations

import hashlib
import hmac
import time

from hypothesis import given
from hypothesis import strategies as st

from bazaar.webhooks.signature import generate_secret, sign, verify_signature

SECRET = "whsec_test-secret"
OTHER_SECRET = "whsec_other-secret"
BODY = b'{"type":"order.placed","data":{"order_id":"ord_1"}}'
NOW = 1_718_000_000


def independent_v1(secret: str, body: bytes, timestamp: int) -> str:
    """The scheme as documented, written without the module under test."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header_for(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={independent_v1(secret, body, timestamp)}"


def test_independently_signed_header_verifies() -> None:
    header = header_for(SECRET, BODY, NOW)

    assert verify_signature(SECRET, header, BODY, now=NOW)


def test_sign_matches_independent_implementation() -> None:
    assert sign(SECRET, BODY, NOW) == header_for(SECRET, BODY, NOW)


def test_sign_then_verify_round_trips_at_current_time() -> None:
    timestamp = int(time.time())

    assert verify_signature(SECRET, sign(SECRET, BODY, timestamp), BODY)


def test_tampered_body_is_rejected() -> None:
    header = header_for(SECRET, BODY, NOW)

    assert not verify_signature(SECRET, header, BODY.replace(b"ord_1", b"ord_2"), now=NOW)


def test_wrong_secret_is_rejected() -> None:
    header = header_for(OTHER_SECRET, BODY, NOW)

    assert not verify_signature(SECRET, header, BODY, now=NOW)


def test_timestamp_is_part_of_the_mac() -> None:
    signature = independent_v1(SECRET, BODY, NOW)

    assert not verify_signature(SECRET, f"t={NOW + 1},v1={signature}", BODY, now=NOW)


def test_old_timestamp_is_rejected() -> None:
    header = header_for(SECRET, BODY, NOW - 301)

    assert not verify_signature(SECRET, header, BODY, tolerance_s=300, now=NOW)


def test_future_timestamp_is_rejected() -> None:
    header = header_for(SECRET, BODY, NOW + 301)

    assert not verify_signature(SECRET, header, BODY, tolerance_s=300, now=NOW)


def test_timestamp_at_edge_of_tolerance_is_accepted() -> None:
    assert verify_signature(SECRET, header_for(SECRET, BODY, NOW - 300), BODY, now=NOW)
    assert verify_signature(SECRET, header_for(SECRET, BODY, NOW + 300), BODY, now=NOW)


def test_any_v1_entry_may_match_during_rotation() -> None:
    old = independent_v1(OTHER_SECRET, BODY, NOW)
    new = independent_v1(SECRET, BODY, NOW)
    header = f"t={NOW},v1={old},v1={new}"

    assert verify_signature(SECRET, header, BODY, now=NOW)
    assert verify_signature(OTHER_SECRET, header, BODY, now=NOW)
    assert not verify_signature("whsec_third", header, BODY, now=NOW)


def test_unknown_schemes_are_ignored() -> None:
    header = f"t={NOW},v0=deadbeef,v1={independent_v1(SECRET, BODY, NOW)}"

    assert verify_signature(SECRET, header, BODY, now=NOW)


def test_malformed_headers_are_rejected() -> None:
    good = independent_v1(SECRET, BODY, NOW)
    malformed = [
        "",
        "garbage",
        f"v1={good}",  # no t
        f"t={NOW}",  # no v1
        f"t=abc,v1={good}",  # non-numeric t
        f"t=-{NOW},v1={good}",
        f"t={NOW}.5,v1={good}",
        f"t=١٧١٨٠٠٠٠٠٠,v1={good}",  # non-ASCII digits
        f"t={'9' * 5000},v1={good}",  # too long for int()
        f"t={NOW},t={NOW},v1={good}",  # duplicate t
        f"t={NOW},v1={good},junk",
        f"t={NOW},v1=",
        f"t={NOW},v1=é{good}",
    ]
    for header in malformed:
        assert not verify_signature(SECRET, header, BODY, now=NOW), header


@given(header=st.text(), body=st.binary(max_size=64), now=st.floats(allow_nan=True))
def test_arbitrary_headers_never_raise(header: str, body: bytes, now: float) -> None:
    assert verify_signature(SECRET, header, body, now=now) in {True, False}


@given(
    parts=st.lists(
        st.tuples(st.sampled_from(["t", "v1", "v0", " t", "v1 "]), st.text(max_size=80)),
        max_size=5,
    )
)
def test_header_shaped_input_never_raises(parts: list[tuple[str, str]]) -> None:
    header = ",".join(f"{key}={value}" for key, value in parts)

    assert verify_signature(SECRET, header, BODY, now=NOW) in {True, False}


def test_generated_secrets_are_prefixed_and_unique() -> None:
    first, second = generate_secret(), generate_secret()

    assert first.startswith("whsec_")
    assert len(first) >= len("whsec_") + 43  # 32 bytes, base64url without padding
    assert first != second
