"""Coupon codes: normalisation, bulk generation, and whether a coupon may be used now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import ValidationFailed
from bazaar.pricing.coupons import (
    SAFE_ALPHABET,
    Coupon,
    CouponProblem,
    EnteredCoupon,
    RejectedCoupon,
    accept_coupons,
    check_coupon,
    generate_codes,
    normalise_code,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("SAVE10", "SAVE10"),
        ("  save10 ", "SAVE10"),
        ("Save-10", "SAVE10"),
        ("save 10", "SAVE10"),
        ("\uff33\uff21\uff36\uff25\uff11\uff10", "SAVE10"),  # full-width, from a phone keyboard
        ("black_friday", "BLACK_FRIDAY"),
    ],
)
def test_codes_are_case_insensitive_and_forgiving(typed: str, code: str) -> None:
    assert normalise_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "error"),
    [("", "required"), (" - ", "required"), ("SAVE10!", "invalid"), ("X" * 65, "too_long")],
)
def test_a_code_that_cannot_be_one_is_refused(typed: str, error: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalise_code(typed)
    assert [(e.field, e.code) for e in exc.value.errors] == [("code", error)]


@given(st.text(alphabet=SAFE_ALPHABET + SAFE_ALPHABET.lower() + "- ", min_size=1, max_size=40))
def test_normalising_is_idempotent_and_ignores_case(typed: str) -> None:
    if not typed.replace("-", "").strip():
        return
    once = normalise_code(typed)
    assert normalise_code(once) == once
    assert normalise_code(typed.lower()) == normalise_code(typed.upper()) == once


def test_a_batch_is_unique_safe_and_prefixed() -> None:
    # given an existing code the batch must not repeat
    existing = {"XMAS" + "2" * 10}
    # when
    codes = generate_codes(500, prefix="xmas-", existing=existing, rng=Random(1))
    # then
    assert len(codes) == len(set(codes)) == 500
    assert not existing & set(codes)
    for code in codes:
        assert code.startswith("XMAS")
        assert len(code) == 14
        assert set(code[4:]) <= set(SAFE_ALPHABET)
        assert normalise_code(code) == code


def test_the_safe_alphabet_has_nothing_to_misread() -> None:
    assert not set("01OILU") & set(SAFE_ALPHABET)
    assert len(SAFE_ALPHABET) == len(set(SAFE_ALPHABET)) == 30


def test_a_seeded_batch_is_reproducible_and_the_default_is_not() -> None:
    assert generate_codes(3, rng=Random(7)) == generate_codes(3, rng=Random(7))
    assert generate_codes(3) != generate_codes(3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": 100_001}, "count"),
        ({"count": 1000, "length": 6}, "length"),  # 30**6 / 1000 < one in a million
        ({"count": 1, "prefix": "NO!"}, "prefix"),
        ({"count": 1, "prefix": "P" * 60}, "length"),
    ],
)
def test_a_batch_that_would_be_unsafe_is_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        generate_codes(**kwargs)  # type: ignore[arg-type]
    assert [e.field for e in exc.value.errors] == [field]


def test_a_short_code_is_fine_for_a_small_batch() -> None:
    assert len(generate_codes(1, length=6)[0]) == 6


def test_a_coupon_stores_its_code_normalised_and_checks_its_fields() -> None:
    assert Coupon("save-10", "pro_1").code == "SAVE10"
    with pytest.raises(ValidationFailed) as exc:
        Coupon(
            "!",
            "",
            starts_at=NOW,
            expires_at=NOW,
            usage_limit=0,
            usage_limit_per_customer=-1,
        )
    assert [e.field for e in exc.value.errors] == [
        "code",
        "promotion_id",
        "usage_limit",
        "usage_limit_per_customer",
        "expires_at",
    ]


COUPON = Coupon(
    "SAVE10",
    "pro_1",
    starts_at=NOW - timedelta(days=1),
    expires_at=NOW + timedelta(days=1),
    usage_limit=100,
    usage_limit_per_customer=1,
)


@pytest.mark.parametrize(
    ("now", "uses", "by_customer", "customer", "problem"),
    [
        (NOW, 0, 0, "cus_1", None),
        (NOW, 99, 0, "cus_1", None),
        (NOW - timedelta(days=2), 0, 0, "cus_1", CouponProblem.NOT_STARTED),
        (NOW + timedelta(days=1), 0, 0, "cus_1", CouponProblem.EXPIRED),  # expiry is exclusive
        (NOW, 100, 0, "cus_1", CouponProblem.USED_UP),
        (NOW, 5, 1, "cus_1", CouponProblem.USED_UP_BY_CUSTOMER),
        (NOW, 5, 0, None, CouponProblem.SIGN_IN_REQUIRED),
    ],
)
def test_checking_a_coupon(
    now: datetime, uses: int, by_customer: int, customer: str | None, problem: CouponProblem | None
) -> None:
    assert (
        check_coupon(COUPON, now=now, uses=uses, uses_by_customer=by_customer, customer_id=customer)
        == problem
    )


def test_a_coupon_without_limits_works_for_guests_forever() -> None:
    open_coupon = Coupon("WELCOME", "pro_2")
    assert (
        check_coupon(open_coupon, now=NOW, uses=10**6, uses_by_customer=0, customer_id=None) is None
    )


def test_accepting_coupons_keeps_the_first_usable_code_per_promotion() -> None:
    # given two usable codes of one promotion and a used-up one
    entered = [
        EnteredCoupon(Coupon("FIRST", "pro_1"), 0, 0),
        EnteredCoupon(Coupon("SECOND", "pro_1"), 0, 0),
        EnteredCoupon(Coupon("GONE", "pro_2", usage_limit=1), 1, 0),
    ]
    # when
    usable, rejected = accept_coupons(entered, now=NOW, customer_id="cus_1")
    # then
    assert usable == {"pro_1": "FIRST"}
    assert rejected == [RejectedCoupon("GONE", CouponProblem.USED_UP)]
