"""Price experiments: deterministic assignment, the variants' effect, and result statistics."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.experiment_stats import (
    Interval,
    VariantStats,
    experiment_results,
    student_t_critical,
    student_t_two_sided_p,
    two_proportion_z_test,
    welch_t_test,
    wilson_interval,
)
from bazaar.pricing.experiments import (
    Experiment,
    Exposure,
    Variant,
    apply_price_tests,
    assign_variant,
    assign_variants,
    changed_price,
    promotions_switched_off,
)
from bazaar.pricing.price_lists import EffectivePrice, PriceSource

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PRICE_TEST = Experiment(
    "exp_price", (Variant("control"), Variant("lower", price_change_percent=Decimal(-5)))
)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


# --- assignment -----------------------------------------------------------------------------


def test_assignment_is_pinned_across_processes_and_releases() -> None:
    # SHA-256 of "exp_price\0cus_<n>": these must never change, or running experiments
    # would silently reshuffle their visitors.
    assigned = [assign_variant(PRICE_TEST, f"cus_{n}").id for n in range(8)]
    assert assigned == [
        "control",
        "control",
        "control",
        "lower",
        "control",
        "lower",
        "control",
        "lower",
    ]


@given(st.text(min_size=1, max_size=40))
def test_the_same_unit_always_sees_the_same_variant(unit_id: str) -> None:
    first = assign_variant(PRICE_TEST, unit_id)
    assert all(assign_variant(PRICE_TEST, unit_id) == first for _ in range(3))


def test_the_split_follows_the_weights() -> None:
    # given a 90/10 split and a variant with no traffic
    experiment = Experiment("exp_split", (Variant("a", 9), Variant("b", 1), Variant("off", 0)))
    # when 20,000 units are assigned
    counts = Counter(assign_variant(experiment, f"cart_{n}").id for n in range(20_000))
    # then about 10 % see b (binomial sd 0.2 %), none sees the zero-weight variant
    assert 0.093 < counts["b"] / 20_000 < 0.107
    assert counts["off"] == 0


def test_experiments_split_the_same_units_independently() -> None:
    other = Experiment("exp_other", PRICE_TEST.variants)
    units = [f"cus_{n}" for n in range(4000)]
    same = sum(assign_variant(PRICE_TEST, u).id == assign_variant(other, u).id for u in units)
    assert 0.45 < same / len(units) < 0.55


def test_only_running_experiments_assign_and_nobody_means_nothing() -> None:
    ended = Experiment("exp_old", PRICE_TEST.variants, ends_at=NOW)
    assert [e.id for e, _ in assign_variants([PRICE_TEST, ended], "cus_1", NOW)] == ["exp_price"]
    assert assign_variants([PRICE_TEST], None, NOW) == ()


@pytest.mark.parametrize(
    ("variants", "field"),
    [
        ((Variant("only"),), "variants"),
        ((Variant("a"), Variant("a")), "variants[1].id"),
        ((Variant("a", -1), Variant("b")), "variants[0].weight"),
        ((Variant("a", 0), Variant("b", 0)), "variants[0].weight"),
        (
            (Variant("a"), Variant("b", price_change_percent=Decimal(-100))),
            "variants[1].price_change_percent",
        ),
        (
            (Variant("a"), Variant("b", price_change_percent=Decimal(101))),
            "variants[1].price_change_percent",
        ),
    ],
)
def test_a_bad_experiment_names_the_field(variants: tuple[Variant, ...], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        Experiment("exp_bad", variants)
    assert field in [e.field for e in exc.value.errors]


def test_an_experiment_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        Experiment("exp", PRICE_TEST.variants, starts_at=NOW, ends_at=NOW - timedelta(days=1))
    assert [e.field for e in exc.value.errors] == ["ends_at"]


# --- effect ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "change", "expected"),
    [
        (1000, Decimal(-5), 950),
        (999, Decimal(-5), 949),
        (1999, Decimal("7.5"), 2149),
        (1000, Decimal(0), 1000),
    ],
)
def test_a_price_change_rounds_half_up(price: int, change: Decimal, expected: int) -> None:
    assert changed_price(eur(price), Variant("v", price_change_percent=change)) == eur(expected)


def base_price(amount: int) -> EffectivePrice:
    return EffectivePrice(eur(amount), eur(amount), PriceSource.BASE, None, "Base price")


def test_a_price_test_moves_the_price_and_counts_control_exposures_too() -> None:
    lower = PRICE_TEST.variants[1]
    control = PRICE_TEST.variants[0]
    # when the lower variant prices a 20.00 product
    price, exposures = apply_price_tests(base_price(2000), "prd_1", [(PRICE_TEST, lower)])
    # then regular and unit price move together: a tested price is not a sale
    assert (price.unit_price, price.regular_price) == (eur(1900), eur(1900))
    assert (price.source, price.rule_id) == (PriceSource.EXPERIMENT, "exp_price")
    assert price.explanation == "Base price; price test exp_price, lower (-5%)"
    assert exposures == (Exposure("exp_price", "lower"),)
    # and the control price is unchanged but still counted
    same, seen = apply_price_tests(base_price(2000), "prd_1", [(PRICE_TEST, control)])
    assert same == base_price(2000)
    assert seen == (Exposure("exp_price", "control"),)


def test_a_price_test_leaves_products_outside_its_scope_alone() -> None:
    scoped = Experiment("exp_s", PRICE_TEST.variants, product_ids=frozenset({"prd_9"}))
    price, exposures = apply_price_tests(base_price(2000), "prd_1", [(scoped, scoped.variants[1])])
    assert (price, exposures) == (base_price(2000), ())


def test_a_variant_switches_promotions_off_only_where_it_was_shown() -> None:
    promo_test = Experiment(
        "exp_promo", (Variant("on"), Variant("off", promotions_off=frozenset({"pro_1"})))
    )
    assignments = [(promo_test, promo_test.variants[1])]
    assert promotions_switched_off(assignments, [Exposure("exp_promo", "off")]) == {"pro_1"}
    assert promotions_switched_off(assignments, []) == frozenset()


# --- statistics -----------------------------------------------------------------------------


def test_the_two_proportion_z_test_matches_the_textbook() -> None:
    # 20.0 % of 1,000 versus 25.0 % of 1,000: pooled z = 0.05 / sqrt(.225 * .775 * 2 / 1000)
    result = two_proportion_z_test(200, 1000, 250, 1000)
    assert result.statistic == pytest.approx(2.6774, abs=1e-4)
    assert result.p_value == pytest.approx(0.00742, abs=1e-5)
    assert result.significant
    assert (result.interval.low, result.interval.high) == pytest.approx(
        (0.01346, 0.08654), abs=1e-5
    )


def test_no_variation_is_no_evidence() -> None:
    result = two_proportion_z_test(0, 50, 0, 50)
    assert (result.statistic, result.p_value, result.significant) == (0.0, 1.0, False)


def test_the_wilson_interval_matches_the_textbook() -> None:
    interval = wilson_interval(50, 100)
    assert (interval.low, interval.high) == pytest.approx((0.40383, 0.59617), abs=1e-5)
    assert wilson_interval(0, 10).low == 0.0
    assert wilson_interval(10, 10).high == 1.0
    assert wilson_interval(0, 0) == Interval(0.0, 1.0)


@pytest.mark.parametrize(("df", "t"), [(1, 12.7062), (10, 2.2281), (30, 2.0423), (10**6, 1.9600)])
def test_t_critical_values_match_the_tables(df: float, t: float) -> None:
    assert student_t_critical(0.95, df) == pytest.approx(t, abs=1e-4)


def t_density(x: float, df: float) -> float:
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1) / 2 * math.log1p(x * x / df))


@pytest.mark.parametrize(("t", "df"), [(0.5, 3), (1.7, 7), (2.3, 25.4), (4.0, 2)])
def test_the_t_tail_agrees_with_integrating_the_density(t: float, df: float) -> None:
    # Simpson's rule on [0, t] is an independent check of the continued fraction
    steps = 2000
    h = t / steps
    area = t_density(0, df) + t_density(t, df)
    area += sum((4 if k % 2 else 2) * t_density(k * h, df) for k in range(1, steps))
    inside = 2 * area * h / 3
    assert student_t_two_sided_p(t, df) == pytest.approx(1 - inside, abs=1e-8)


def test_welch_matches_the_textbook_example() -> None:
    # the first example of the Welch's t-test article (unequal sample variances)
    a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    result = welch_t_test(
        statistics.mean(a), statistics.variance(a), len(a),
        statistics.mean(b), statistics.variance(b), len(b),
    )  # fmt: skip
    assert result.statistic == pytest.approx(2.46, abs=5e-3)
    assert result.p_value == pytest.approx(0.021, abs=1e-3)
    assert result.significant
    assert result.interval.low < result.difference < result.interval.high


def test_experiment_results_compare_every_variant_with_the_control() -> None:
    # given 1,000 visitors a side; revenue in cents, each buyer spending 50.00
    stats = [
        VariantStats("control", 1000, 200, eur(200 * 5000), 200 * 5000**2),
        VariantStats("lower", 1000, 250, eur(250 * 5000), 250 * 5000**2),
    ]
    # when
    control, lower = experiment_results(PRICE_TEST, stats)
    # then
    assert (control.conversion_rate, lower.conversion_rate) == (0.2, 0.25)
    assert (control.revenue_per_visitor, lower.revenue_per_visitor) == (1000.0, 1250.0)
    assert control.conversion_vs_control is None
    assert control.revenue_vs_control is None
    assert lower.conversion_vs_control is not None
    assert lower.revenue_vs_control is not None
    assert lower.conversion_vs_control.p_value == pytest.approx(0.00742, abs=1e-5)
    assert lower.revenue_vs_control.difference == 250.0
    # revenue per visitor: sd = 5000 * sqrt(p (1 - p) n / (n - 1)), normal interval
    sd = 5000 * math.sqrt(0.25 * 0.75 * 1000 / 999)
    half = 1.959964 * sd / math.sqrt(1000)
    interval = lower.revenue_per_visitor_interval
    assert (interval.low, interval.high) == pytest.approx((1250 - half, 1250 + half), rel=1e-6)


def test_results_without_enough_data_make_no_comparison() -> None:
    stats = [VariantStats("control", 1, 0, eur(0), 0)]
    control, lower = experiment_results(PRICE_TEST, stats)
    assert lower.exposures == 0
    assert lower.conversion_vs_control is None
    assert control.revenue_vs_control is None


def test_results_refuse_unknown_variants_and_bad_confidence() -> None:
    with pytest.raises(ValidationFailed) as exc:
        experiment_results(PRICE_TEST, [VariantStats("ghost", 1, 0, eur(0), 0)])
    assert [e.field for e in exc.value.errors] == ["stats[0].variant_id"]
    with pytest.raises(ValidationFailed) as exc:
        experiment_results(PRICE_TEST, [], confidence=1.0)
    assert [e.field for e in exc.value.errors] == ["confidence"]
