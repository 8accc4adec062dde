"""Money: exact minor-unit arithmetic, one rounding rule, lossless allocation."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import CurrencyMismatch, ValidationFailed
from bazaar.kernel.money import CURRENCY_EXPONENTS, Money, exponent, round_half_up, sum_money

amounts = st.integers(min_value=-(10**15), max_value=10**15)
non_negative_amounts = st.integers(min_value=0, max_value=10**15)
weights_lists = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=12,
).filter(lambda ws: sum(ws) > 0)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def test_adding_and_subtracting_same_currency() -> None:
    # given
    a, b = eur(1299), eur(201)
    # when
    total, difference = a + b, a - b
    # then
    assert total == eur(1500)
    assert difference == eur(1098)
    assert -a == eur(-1299)


def test_multiplying_by_an_int_quantity_from_either_side() -> None:
    # given
    price = eur(250)
    # when / then
    assert price * 3 == eur(750)
    assert 3 * price == eur(750)


@pytest.mark.parametrize("quantity", [1.5, Decimal("2"), True])
def test_multiplying_by_a_non_int_is_refused(quantity: object) -> None:
    # given
    price = eur(250)
    # when / then
    with pytest.raises(TypeError):
        price * quantity  # type: ignore[operator]
    with pytest.raises(TypeError):
        quantity * price  # type: ignore[operator]


@pytest.mark.parametrize("amount", [12.99, True, Decimal("12"), "12"])
def test_non_int_amounts_are_refused(amount: object) -> None:
    # given a non-integer amount / when / then
    with pytest.raises(TypeError):
        Money(amount, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["eur", "EU", "EURO", "XXX", "", 978, ["EUR"], b"EUR"])
def test_malformed_or_unknown_currencies_are_refused(currency: object) -> None:
    # given a bad currency / when / then
    with pytest.raises(ValidationFailed) as caught:
        Money(100, currency)  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "currency"


def test_every_known_currency_is_a_well_formed_code() -> None:
    # Known codes skip the format check, so the table itself must hold only valid codes.
    assert all(re.fullmatch("[A-Z]{3}", code) for code in CURRENCY_EXPONENTS)
    assert all(type(digits) is int and 0 <= digits <= 4 for digits in CURRENCY_EXPONENTS.values())


def test_mixing_currencies_raises_currency_mismatch() -> None:
    # given
    a, b = eur(100), Money(100, "USD")
    # when / then
    for operation in (lambda: a + b, lambda: a - b, lambda: a < b, lambda: a >= b):
        with pytest.raises(CurrencyMismatch):
            operation()


def test_comparisons_within_one_currency() -> None:
    # given
    small, large = eur(1), eur(2)
    # when / then
    assert small < large
    assert small <= eur(1)
    assert large > small
    assert large >= eur(2)


def test_zero_and_sign_predicates() -> None:
    # given
    zero = Money.zero("JPY")
    # when / then
    assert zero.is_zero()
    assert not zero.is_negative()
    assert eur(-1).is_negative()
    assert not eur(1).is_zero()


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1299, "EUR", "12.99 EUR"),
        (5, "EUR", "0.05 EUR"),
        (-1299, "EUR", "-12.99 EUR"),
        (-5, "USD", "-0.05 USD"),
        (1500, "JPY", "1500 JPY"),
        (-7, "JPY", "-7 JPY"),
        (1234, "KWD", "1.234 KWD"),
        (5, "KWD", "0.005 KWD"),
    ],
)
def test_str_formats_with_the_currency_exponent(amount: int, currency: str, text: str) -> None:
    # given
    money = Money(amount, currency)
    # when
    rendered = str(money)
    # then
    assert rendered == text


def test_exponents_of_common_currencies() -> None:
    # when / then
    assert (exponent("EUR"), exponent("JPY"), exponent("KWD"), exponent("BHD")) == (2, 0, 3, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.5", 3),
        ("-2.5", -3),
        ("0.5", 1),
        ("-0.5", -1),
        ("2.4999", 2),
        ("-2.4999", -2),
        ("1E+40", 10**40),
        ("12345678901234567890123456789012.5", 12345678901234567890123456789013),
    ],
)
def test_round_half_up_rounds_halves_away_from_zero(value: str, expected: int) -> None:
    # when
    rounded = round_half_up(Decimal(value))
    # then
    assert rounded == expected


def test_round_half_up_refuses_floats_and_non_finite() -> None:
    # when / then
    with pytest.raises(TypeError):
        round_half_up(2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-finite"):
        round_half_up(Decimal("NaN"))


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (50, "0.21", 11),  # 10.5 -> 11
        (-50, "0.21", -11),  # -10.5 -> -11
        (1000, "0.21", 210),
        (150, "0.01", 2),  # 1.5 -> 2
        (-150, "0.01", -2),
        (149, "0.01", 1),
        (1, "0.5", 1),
        (-1, "0.5", -1),
    ],
)
def test_percentage_rounds_half_up(amount: int, rate: str, expected: int) -> None:
    # given
    money = eur(amount)
    # when
    share = money.percentage(Decimal(rate))
    # then
    assert share == eur(expected)


def test_percentage_is_exact_for_huge_amounts() -> None:
    # given an amount beyond the default 28-digit Decimal precision
    money = eur(10**40 + 1)
    # when
    share = money.percentage(Decimal("0.5"))
    # then
    assert share == eur(5 * 10**39 + 1)


def test_percentage_refuses_float_rates() -> None:
    # when / then
    with pytest.raises(TypeError):
        eur(100).percentage(0.21)  # type: ignore[arg-type]


def test_dict_round_trip() -> None:
    # given
    money = eur(1299)
    # when
    data = money.to_dict()
    # then
    assert data == {"amount": 1299, "currency": "EUR"}
    assert Money.from_dict(data) == money


@pytest.mark.parametrize(
    "data",
    [{}, {"amount": "12", "currency": "EUR"}, {"amount": 1.0, "currency": "EUR"}, {"amount": 1}],
)
def test_from_dict_rejects_malformed_input(data: dict[str, object]) -> None:
    # when / then
    with pytest.raises(ValidationFailed):
        Money.from_dict(data)


def test_sum_money() -> None:
    # given
    items = [eur(100), eur(250), eur(-50)]
    # when / then
    assert sum_money(items, "EUR") == eur(300)
    assert sum_money([], "JPY") == Money.zero("JPY")
    with pytest.raises(CurrencyMismatch):
        sum_money([eur(1), Money(1, "USD")], "EUR")


def test_allocate_known_example() -> None:
    # given 100 cents over three equal lines
    money = eur(100)
    # when
    shares = money.allocate([1, 1, 1])
    # then the leftover cent goes to the earliest line
    assert shares == [eur(34), eur(33), eur(33)]


def test_allocate_negative_total_is_symmetric() -> None:
    # given
    money = eur(-100)
    # when
    shares = money.allocate([1, 1, 1])
    # then
    assert shares == [eur(-34), eur(-33), eur(-33)]


def test_allocate_prefers_largest_remainder() -> None:
    # given exact shares 0.3, 0.7 -> the remainder 0.7 wins the unit
    money = eur(1)
    # when
    shares = money.allocate([3, 7])
    # then
    assert shares == [eur(0), eur(1)]


@pytest.mark.parametrize(
    ("weights", "error"),
    [
        ([], ValueError),
        ([0, 0], ValueError),
        ([1, -1], ValueError),
        ([Decimal("NaN")], ValueError),
        ([1.5], TypeError),
        ([True], TypeError),
    ],
)
def test_allocate_rejects_bad_weights(weights: list[object], error: type[Exception]) -> None:
    # when / then
    with pytest.raises(error):
        eur(100).allocate(weights)  # type: ignore[arg-type]


@given(amount=amounts, weights=weights_lists)
def test_allocate_preserves_the_total_and_length(amount: int, weights: list[int | Decimal]) -> None:
    # when
    shares = eur(amount).allocate(weights)
    # then
    assert len(shares) == len(weights)
    assert sum_money(shares, "EUR") == eur(amount)


@given(amount=non_negative_amounts, weights=weights_lists)
def test_allocate_never_goes_negative_and_stays_within_one_unit(
    amount: int, weights: list[int | Decimal]
) -> None:
    # given
    total_weight = sum(Fraction(w) for w in weights)
    # when
    shares = eur(amount).allocate(weights)
    # then
    for share, weight in zip(shares, weights, strict=True):
        exact = amount * Fraction(weight) / total_weight
        assert share.amount >= 0
        assert abs(share.amount - exact) < 1
        if weight == 0:
            assert share.is_zero()


@given(amount=amounts, weights=weights_lists)
def test_allocate_negative_mirrors_positive(amount: int, weights: list[int | Decimal]) -> None:
    # when
    positive = eur(abs(amount)).allocate(weights)
    negative = eur(-abs(amount)).allocate(weights)
    # then
    assert negative == [-share for share in positive]


@given(amount=amounts, parts=st.integers(min_value=1, max_value=50))
def test_split_is_even(amount: int, parts: int) -> None:
    # when
    shares = eur(amount).split(parts)
    # then
    values = [share.amount for share in shares]
    assert len(shares) == parts
    assert sum(values) == amount
    assert max(values) - min(values) <= 1


@given(amount=amounts, parts=st.integers(min_value=1, max_value=50))
def test_split_is_allocate_over_equal_weights(amount: int, parts: int) -> None:
    # when / then: the earlier shares get the leftover units, as allocate() gives them
    assert eur(amount).split(parts) == eur(amount).allocate([1] * parts)


@pytest.mark.parametrize("parts", [0, -1])
def test_split_into_no_parts_is_refused(parts: int) -> None:
    # when / then
    with pytest.raises(ValueError, match="fewer than one"):
        eur(100).split(parts)
