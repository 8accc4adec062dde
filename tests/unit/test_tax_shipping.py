"""VAT tables, tax rounding, category rate classes and shipping rules."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.checkout.shipping import Parcel, ShippingRule, WeightBand, shipping_cost, shipping_costs
from bazaar.checkout.tax import (
    DEFAULT_TAX_TABLE,
    EU_VAT_RATES,
    ZERO_RATES,
    RateClass,
    TaxTable,
    category_rate_classes,
    country_rates,
    tax_on,
)
from bazaar.kernel.errors import CurrencyMismatch, ValidationFailed
from bazaar.kernel.money import Money

rates = st.decimals(min_value=0, max_value=Decimal("0.99"), places=4)
amounts = st.integers(min_value=0, max_value=10**12)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def exact_half_up(value: Fraction) -> int:
    """Reference rounding for the tests: halves away from zero, on an exact fraction."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = int(magnitude)
    return sign * (whole + (1 if magnitude - whole >= Fraction(1, 2) else 0))


# -- tax ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "standard", "reduced"),
    [
        ("NL", "0.21", "0.09"),
        ("DE", "0.19", "0.07"),
        ("FR", "0.20", "0.055"),
        ("BE", "0.21", "0.06"),
        ("AT", "0.20", "0.10"),
    ],
)
def test_default_table_has_eu_rates(country: str, standard: str, reduced: str) -> None:
    # given / when / then
    assert DEFAULT_TAX_TABLE.rate(country, RateClass.STANDARD) == Decimal(standard)
    assert DEFAULT_TAX_TABLE.rate(country, RateClass.REDUCED) == Decimal(reduced)
    assert DEFAULT_TAX_TABLE.rate(country, RateClass.ZERO) == 0


def test_default_table_covers_the_eu_27_only() -> None:
    # given / when / then
    assert len(EU_VAT_RATES) == 27
    assert not DEFAULT_TAX_TABLE.covers("US")
    with pytest.raises(ValidationFailed) as caught:
        DEFAULT_TAX_TABLE.rate("US")
    assert caught.value.errors[0].field == "shipping_address.country"
    assert caught.value.errors[0].code == "no_tax_rates"


def test_a_fallback_taxes_every_other_destination() -> None:
    # given an EU store that zero-rates exports
    table = TaxTable(EU_VAT_RATES, fallback=ZERO_RATES)
    # when / then
    assert table.covers("US")
    assert table.rate("US", RateClass.STANDARD) == 0
    assert table.rate("NL", RateClass.STANDARD) == Decimal("0.21")


@pytest.mark.parametrize(
    "rates_",
    [
        {"XX": country_rates("21", "9")},
        {"NL": {RateClass.STANDARD: Decimal("0.21")}},
        {"NL": country_rates("100", "9")},
        {"NL": {**country_rates("21", "9"), RateClass.ZERO: Decimal("0.01")}},
        {"NL": {**country_rates("21", "9"), RateClass.STANDARD: 0.21}},
    ],
)
def test_bad_tables_are_configuration_errors(rates_: dict[str, dict[RateClass, Decimal]]) -> None:
    # given / when / then
    with pytest.raises(ValueError, match="Tax table"):
        TaxTable(rates_)


def test_tax_on_a_net_amount_rounds_half_up() -> None:
    # given / when / then: 21 % of 0.50 = 0.105 -> 0.11; of 0.02 = 0.0042 -> 0.00
    assert tax_on(eur(50), Decimal("0.21"), included=False) == eur(11)
    assert tax_on(eur(2), Decimal("0.21"), included=False) == eur(0)
    assert tax_on(eur(1000), Decimal("0.055"), included=False) == eur(55)


def test_tax_inside_a_gross_amount() -> None:
    # given 12.10 including 21 % VAT / when / then: 2.10 of it is tax
    assert tax_on(eur(1210), Decimal("0.21"), included=True) == eur(210)
    # 9.99 incl. 9 %: 0.8248... -> 0.82
    assert tax_on(eur(999), Decimal("0.09"), included=True) == eur(82)
    # an exact half rounds up: 0.04 incl. 60 % holds 0.04 * 0.6 / 1.6 = 0.015 of tax
    assert tax_on(eur(4), Decimal("0.6"), included=True) == eur(2)
    assert tax_on(eur(0), Decimal("0.21"), included=True) == eur(0)


def test_tax_on_refuses_float_and_impossible_rates() -> None:
    # given / when / then
    with pytest.raises(TypeError):
        tax_on(eur(100), 0.21, included=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rate"):
        tax_on(eur(100), Decimal("1"), included=True)
    with pytest.raises(ValueError, match="rate"):
        tax_on(eur(100), Decimal("-0.1"), included=False)


@given(amounts, rates)
def test_included_tax_is_the_exact_share_rounded_half_up(amount: int, rate: Decimal) -> None:
    # given a gross amount / when
    tax = tax_on(eur(amount), rate, included=True)
    # then: it equals half-up rounding of the exact fraction, and never exceeds the amount
    exact = Fraction(amount) * Fraction(rate) / (1 + Fraction(rate))
    assert tax.amount == exact_half_up(exact)
    assert 0 <= tax.amount <= amount


@given(amounts, rates)
def test_excluded_tax_is_the_exact_product_rounded_half_up(amount: int, rate: Decimal) -> None:
    # given a net amount / when / then
    assert tax_on(eur(amount), rate, included=False).amount == exact_half_up(
        Fraction(amount) * Fraction(rate)
    )


def test_category_rate_classes_inherit_from_the_nearest_ancestor() -> None:
    # given food is reduced, baby food explicitly zero, everything else standard
    resolve = category_rate_classes(
        {"cat_food": RateClass.REDUCED, "cat_baby_food": RateClass.ZERO},
        ancestors={
            "cat_cheese": ("cat_food", "cat_dairy"),
            "cat_baby_food": ("cat_food",),
            "cat_organic_baby": ("cat_food", "cat_baby_food"),
        },
    )
    # when / then
    assert resolve("cat_food") is RateClass.REDUCED
    assert resolve("cat_cheese") is RateClass.REDUCED
    assert resolve("cat_baby_food") is RateClass.ZERO
    assert resolve("cat_organic_baby") is RateClass.ZERO
    assert resolve("cat_shoes") is RateClass.STANDARD


def test_category_rate_classes_default_can_be_changed() -> None:
    # given / when
    resolve = category_rate_classes({}, default=RateClass.REDUCED)
    # then
    assert resolve("cat_books") is RateClass.REDUCED


# -- shipping -------------------------------------------------------------------------------

FLAT = ShippingRule("std", "Standard", flat_rate=eur(495), free_over=eur(5000))
BY_WEIGHT = ShippingRule(
    "parcel",
    "Parcel",
    weight_bands=(WeightBand(1000, eur(595)), WeightBand(5000, eur(895))),
    countries=frozenset({"NL", "BE"}),
)


def parcel(subtotal: int = 2000, weight_g: int = 500, fulfiller: str = "sel_a") -> Parcel:
    return Parcel(fulfiller, eur(subtotal), weight_g)


def test_flat_rate_below_the_threshold() -> None:
    # given / when
    cost = shipping_cost(parcel(4999), "NL", [FLAT])
    # then
    assert cost.amount == eur(495)
    assert cost.rule_id == "std"
    assert "flat rate 4.95 EUR" in cost.explanation


def test_free_from_the_threshold_on() -> None:
    # given a subtotal exactly at the threshold / when
    cost = shipping_cost(parcel(5000), "NL", [FLAT])
    # then
    assert cost.amount == eur(0)
    assert "free" in cost.explanation
    assert "50.00 EUR" in cost.explanation


@pytest.mark.parametrize(("weight", "price"), [(0, 595), (1000, 595), (1001, 895), (5000, 895)])
def test_weight_bands_include_their_upper_bound(weight: int, price: int) -> None:
    # given / when / then
    assert shipping_cost(parcel(weight_g=weight), "BE", [BY_WEIGHT]).amount == eur(price)


def test_the_first_rule_that_can_carry_the_parcel_applies() -> None:
    # given a weight-banded domestic rule, then a flat fallback excluding one country
    fallback = ShippingRule(
        "heavy", "Freight", flat_rate=eur(2500), excluded_countries=frozenset({"BE"})
    )
    rules = [BY_WEIGHT, fallback]
    # when / then: light parcels use the bands, heavy ones fall through to freight
    assert shipping_cost(parcel(weight_g=800), "NL", rules).rule_id == "parcel"
    assert shipping_cost(parcel(weight_g=8000), "NL", rules).rule_id == "heavy"
    assert shipping_cost(parcel(weight_g=800), "DE", rules).rule_id == "heavy"


def test_unshippable_parcels_say_why_on_the_destination_field() -> None:
    # given / when / then: too heavy for every band
    with pytest.raises(ValidationFailed) as heavy:
        shipping_cost(parcel(weight_g=6000), "NL", [BY_WEIGHT])
    assert heavy.value.errors[0].field == "shipping_address.country"
    assert heavy.value.errors[0].code == "not_shippable"
    assert "too heavy" in heavy.value.detail
    # and a destination no rule covers
    with pytest.raises(ValidationFailed, match="cannot be shipped to DE"):
        shipping_cost(parcel(), "DE", [BY_WEIGHT])


def test_every_unshippable_fulfiller_is_reported() -> None:
    # given two fulfillers, one without rules / when / then
    with pytest.raises(ValidationFailed) as caught:
        shipping_costs(
            [parcel(fulfiller="sel_a"), parcel(fulfiller="sel_b"), parcel(fulfiller="sel_c")],
            "DE",
            {"sel_a": [BY_WEIGHT], "sel_c": [FLAT]},
        )
    assert [e.message for e in caught.value.errors] == [
        "The parcel from sel_a cannot be shipped to DE",
        "The parcel from sel_b cannot be shipped to DE",
    ]


def test_a_rule_in_another_currency_is_a_currency_mismatch() -> None:
    # given / when / then
    usd = ShippingRule("us", "US", flat_rate=Money(500, "USD"))
    with pytest.raises(CurrencyMismatch):
        shipping_cost(parcel(), "NL", [usd])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "flat_rate"),
        ({"flat_rate": eur(1), "weight_bands": (WeightBand(1, eur(1)),)}, "flat_rate"),
        ({"flat_rate": eur(-1)}, "flat_rate.amount"),
        ({"flat_rate": eur(1), "free_over": Money(1, "USD")}, "free_over.currency"),
        (
            {"weight_bands": (WeightBand(1000, eur(1)), WeightBand(1000, eur(2)))},
            "weight_bands[1].up_to_g",
        ),
        ({"weight_bands": (WeightBand(0, eur(1)),)}, "weight_bands[0].up_to_g"),
        ({"flat_rate": eur(1), "countries": frozenset({"UK"})}, "countries"),
        ({"flat_rate": eur(1), "excluded_countries": frozenset({"ZZ"})}, "excluded_countries"),
    ],
)
def test_bad_rules_name_the_field(kwargs: dict[str, object], field: str) -> None:
    # given / when / then
    with pytest.raises(ValidationFailed) as caught:
        ShippingRule("r", "Rule", **kwargs)  # type: ignore[arg-type]
    assert field in [e.field for e in caught.value.errors]


@given(
    subtotal=st.integers(min_value=0, max_value=10**7),
    weight=st.integers(min_value=0, max_value=5000),
)
def test_shipping_is_never_negative_and_free_exactly_over_the_threshold(
    subtotal: int, weight: int
) -> None:
    # given a weight-banded rule that is free over 50.00
    rule = ShippingRule(
        "r",
        "Rule",
        weight_bands=(WeightBand(1000, eur(595)), WeightBand(5000, eur(895))),
        free_over=eur(5000),
    )
    # when
    cost = shipping_cost(parcel(subtotal, weight), "FR", [rule])
    # then
    assert cost.amount.amount >= 0
    assert cost.amount.is_zero() == (subtotal >= 5000)
