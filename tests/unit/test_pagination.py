"""Keyset cursors: opaque, signed, bound to one listing scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_CURSOR_LENGTH,
    MAX_PAGE_SIZE,
    CursorCodec,
    JSONScalar,
    Page,
    scope_for,
)

SECRET = "test-secret-0123456789abcdef"
SCOPE = scope_for("products", category="shoes")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
positions = st.dictionaries(st.text(max_size=12), scalars, max_size=4)


def make_codec() -> CursorCodec:
    return CursorCodec(SECRET)


def assert_invalid_cursor(codec: CursorCodec, token: object, scope: str = SCOPE) -> None:
    with pytest.raises(ValidationFailed) as caught:
        codec.decode(token, scope=scope)  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "cursor"
    assert caught.value.errors[0].code == "invalid_cursor"


@given(position=positions)
def test_round_trip(position: dict[str, JSONScalar]) -> None:
    # given
    codec = make_codec()
    # when
    token = codec.encode(position, scope=SCOPE)
    # then
    assert len(token) <= MAX_CURSOR_LENGTH
    assert codec.decode(token, scope=SCOPE) == position
    assert all(c.isalnum() or c in "-_." for c in token)


def test_round_trip_keeps_scalar_types() -> None:
    # given
    codec = make_codec()
    position: dict[str, JSONScalar] = {"created": "2024-01-01", "id": 7, "on": True, "x": None}
    # when
    decoded = codec.decode(codec.encode(position, scope=SCOPE), scope=SCOPE)
    # then
    assert decoded == position
    assert type(decoded["id"]) is int
    assert decoded["on"] is True


@given(data=st.data())
def test_changing_any_single_character_is_rejected(data: st.DataObject) -> None:
    # given
    codec = make_codec()
    token = codec.encode({"created": "2024-05-01T12:00:00Z", "id": "prd_01"}, scope=SCOPE)
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(
        st.sampled_from(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
        ).filter(lambda c: c != token[index])
    )
    # when
    tampered = token[:index] + replacement + token[index + 1 :]
    # then
    assert_invalid_cursor(codec, tampered)


def test_every_single_character_edit_is_rejected_exhaustively() -> None:
    # given
    codec = make_codec()
    token = codec.encode({"id": 42}, scope=SCOPE)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    # when / then
    for index, original in enumerate(token):
        for replacement in alphabet:
            if replacement != original:
                assert_invalid_cursor(codec, token[:index] + replacement + token[index + 1 :])


def test_truncated_or_extended_tokens_are_rejected() -> None:
    # given
    codec = make_codec()
    token = codec.encode({"id": 42}, scope=SCOPE)
    # when / then
    for bad in (token[:-1], token[1:], token + "A", token + "=", "." + token, token + ".x"):
        assert_invalid_cursor(codec, bad)


def test_wrong_scope_is_rejected() -> None:
    # given a cursor for shoes
    codec = make_codec()
    token = codec.encode({"id": 42}, scope=SCOPE)
    # when replayed with other filters or another listing / then
    assert_invalid_cursor(codec, token, scope=scope_for("products", category="hats"))
    assert_invalid_cursor(codec, token, scope=scope_for("orders", category="shoes"))


def test_cursor_from_another_secret_is_rejected() -> None:
    # given
    other = CursorCodec("another-secret-0123456789abcdef")
    token = other.encode({"id": 42}, scope=SCOPE)
    # when / then
    assert_invalid_cursor(make_codec(), token)


def test_over_long_tokens_are_rejected() -> None:
    # given
    codec = make_codec()
    # when / then
    assert_invalid_cursor(codec, "A" * (MAX_CURSOR_LENGTH + 1))
    with pytest.raises(ValueError, match="exceed"):
        codec.encode({"q": "x" * MAX_CURSOR_LENGTH}, scope=SCOPE)


@pytest.mark.parametrize("token", [None, 42, b"abc", "", ".", "abc", "abc.", ".abc", "a.b.c"])
def test_non_token_inputs_are_rejected(token: object) -> None:
    # when / then
    assert_invalid_cursor(make_codec(), token)


@given(garbage=st.text(max_size=MAX_CURSOR_LENGTH + 50))
def test_decode_of_arbitrary_text_only_ever_raises_validation_failed(garbage: str) -> None:
    # when / then
    assert_invalid_cursor(make_codec(), garbage)


@given(payload=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
def test_decode_of_base64_shaped_garbage_raises_validation_failed(payload: str) -> None:
    # when / then
    assert_invalid_cursor(make_codec(), f"{payload}.AAAAAAAAAAAAAAAAAAAAAA")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1], {"a": 1}, Decimal("1")])
def test_encode_refuses_non_scalar_positions(value: object) -> None:
    # when / then
    with pytest.raises((TypeError, ValueError)):
        make_codec().encode({"k": value}, scope=SCOPE)  # type: ignore[dict-item]


@pytest.mark.parametrize("secret", ["", b"short", "fifteen-chars!!"])
def test_short_secrets_are_refused(secret: str | bytes) -> None:
    # when / then
    with pytest.raises(ValueError, match="at least"):
        CursorCodec(secret)


def test_bytes_and_str_secrets_agree() -> None:
    # given
    token = CursorCodec(SECRET).encode({"id": 1}, scope=SCOPE)
    # when
    decoded = CursorCodec(SECRET.encode()).decode(token, scope=SCOPE)
    # then
    assert decoded == {"id": 1}


def test_scope_for_is_stable_and_sensitive_to_filters() -> None:
    # when
    base = scope_for("products", category="shoes", tags={"b", "a"}, min_price=Decimal("1.5"))
    reordered = scope_for("products", min_price=Decimal("1.5"), tags={"a", "b"}, category="shoes")
    changed = scope_for("products", category="shoes", tags={"a"}, min_price=Decimal("1.5"))
    # then
    assert base == reordered
    assert base != changed
    assert base.startswith("products:")
    assert len(base) == len("products:") + 16
    assert scope_for("products", q=None) == scope_for("products")
    assert scope_for("products", q="1") != scope_for("products", q=1)


def test_page_holds_items_and_cursor() -> None:
    # when
    page = Page(items=[1, 2], next_cursor=None)
    # then
    assert page.items == [1, 2]
    assert page.next_cursor is None
    assert 0 < DEFAULT_PAGE_SIZE <= MAX_PAGE_SIZE == 100
