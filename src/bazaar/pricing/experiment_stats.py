"""The statistics of a price experiment's results: rates, intervals and tests against control.

Pure Python (``math`` and ``statistics.NormalDist``; no scipy). :func:`experiment_results`
turns per-variant counts into conversion rate, revenue per visitor, confidence intervals and
tests against the control: a two-proportion z-test for conversion and Welch's t-test for
revenue per visitor. These are statistical estimates (floats, in minor units for revenue),
never amounts anyone is charged; they live apart from assignment because only the results
report reads them, never a quote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.experiments import Experiment


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """Variant minus control: the ``difference``, its interval, the test statistic, p-value."""

    difference: float
    interval: Interval
    statistic: float
    p_value: float
    significant: bool


@dataclass(frozen=True)
class VariantStats:
    """Counts per variant, as the service aggregates them from exposures and orders.

    ``revenue`` is the total over exposed units; ``revenue_squares`` is the sum over units of
    (their revenue in minor units) squared, which gives the variance of revenue per visitor.
    """

    variant_id: str
    exposures: int
    conversions: int
    revenue: Money
    revenue_squares: int


@dataclass(frozen=True)
class VariantResult:
    """One variant's figures; the comparisons are None for the control and for no data."""

    variant_id: str
    exposures: int
    conversions: int
    conversion_rate: float
    conversion_interval: Interval
    revenue: Money
    revenue_per_visitor: float  # minor units
    revenue_per_visitor_interval: Interval
    conversion_vs_control: Comparison | None
    revenue_vs_control: Comparison | None


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValidationFailed.on("confidence", "Between 0 and 1, e.g. 0.95", "out_of_range")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of a proportion; (0, 1) when there are no trials."""
    z = _z(confidence)
    if trials == 0:
        return Interval(0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 or all successes the bound is exactly 0 or 1; floats would leave a 1e-17 residue.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(low, high)


def two_proportion_z_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, confidence: float = 0.95
) -> Comparison:
    """Is B's rate different from A's? Pooled two-sided z-test; unpooled (Wald) interval.

    Needs at least one trial on each side. With no variation at all (every rate 0 or 1)
    the statistic is 0 and the p-value 1.
    """
    z_crit = _z(confidence)
    if trials_a < 1 or trials_b < 1:
        raise ValidationFailed.on("exposures", "Both sides need an exposure", "too_few")
    p_a, p_b = successes_a / trials_a, successes_b / trials_b
    difference = p_b - p_a
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    se = math.sqrt(p_a * (1 - p_a) / trials_a + p_b * (1 - p_b) / trials_b)
    interval = Interval(difference - z_crit * se, difference + z_crit * se)
    if se_pooled == 0:
        return Comparison(difference, interval, 0.0, 1.0, False)
    statistic = difference / se_pooled
    p_value = 2 * (1 - NormalDist().cdf(abs(statistic)))
    return Comparison(difference, interval, statistic, p_value, p_value < 1 - confidence)


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b), by Lentz's continued fraction."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only on this side
        return 1 - _incomplete_beta(b, a, 1 - x)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(log_front + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-14:
            break
    return front * result


def student_t_two_sided_p(statistic: float, df: float) -> float:
    """P(|T| >= |statistic|) for Student's t with ``df`` degrees of freedom."""
    return _incomplete_beta(df / 2, 0.5, df / (df + statistic * statistic))


def student_t_critical(confidence: float, df: float) -> float:
    """The t such that P(|T| <= t) = ``confidence``, by bisection (to 1e-10)."""
    alpha = 1 - confidence
    low, high = 0.0, 1.0
    while student_t_two_sided_p(high, df) > alpha:
        high *= 2
    while high - low > 1e-10:
        middle = (low + high) / 2
        if student_t_two_sided_p(middle, df) > alpha:
            low = middle
        else:
            high = middle
    return high


def welch_t_test(
    mean_a: float, variance_a: float, n_a: int, mean_b: float, variance_b: float, n_b: int,
    confidence: float = 0.95,
) -> Comparison:  # fmt: skip
    """Is B's mean different from A's? Welch's unequal-variance t-test, two-sided.

    The interval of ``mean_b - mean_a`` uses the t quantile at Welch-Satterthwaite degrees
    of freedom. Needs two or more observations a side. With zero variance on both sides the
    p-value is 1 when the means are equal and 0 otherwise.
    """
    _z(confidence)
    if n_a < 2 or n_b < 2:
        raise ValidationFailed.on("exposures", "Each side needs two exposures", "too_few")
    difference = mean_b - mean_a
    va, vb = variance_a / n_a, variance_b / n_b
    se = math.sqrt(va + vb)
    if se == 0:
        p_value = 1.0 if difference == 0 else 0.0
        statistic = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        interval = Interval(difference, difference)
        return Comparison(difference, interval, statistic, p_value, p_value < 1 - confidence)
    df = (va + vb) ** 2 / (va * va / (n_a - 1) + vb * vb / (n_b - 1))
    statistic = difference / se
    p_value = student_t_two_sided_p(statistic, df)
    half = student_t_critical(confidence, df) * se
    interval = Interval(difference - half, difference + half)
    return Comparison(difference, interval, statistic, p_value, p_value < 1 - confidence)


def _revenue_moments(stats: VariantStats) -> tuple[float, float]:
    """Mean and sample variance of revenue per visitor, in minor units."""
    n = stats.exposures
    mean = stats.revenue.amount / n
    if n < 2:
        return mean, 0.0
    # Exact integer numerator, so large sums do not lose precision before the division.
    variance = (stats.revenue_squares * n - stats.revenue.amount**2) / (n * (n - 1))
    return mean, max(0.0, variance)


def experiment_results(
    experiment: Experiment, stats: Sequence[VariantStats], confidence: float = 0.95
) -> tuple[VariantResult, ...]:
    """Per variant, in the experiment's order: rates, intervals and tests against control.

    ``stats`` holds one entry per variant (a missing variant counts as no exposures).
    Comparisons are None for the control and when either side has fewer than two
    exposures. Raises ``ValidationFailed`` on ``stats[i].variant_id`` for an unknown
    variant and on ``confidence`` outside (0, 1).
    """
    z = _z(confidence)
    known = {v.id for v in experiment.variants}
    by_variant: Mapping[str, VariantStats] = {s.variant_id: s for s in stats}
    for i, s in enumerate(stats):
        if s.variant_id not in known:
            raise ValidationFailed.on(f"stats[{i}].variant_id", "Not a variant", "unknown")
    currency = stats[0].revenue.currency if stats else "EUR"
    control = by_variant.get(experiment.variants[0].id)
    results: list[VariantResult] = []
    for index, variant in enumerate(experiment.variants):
        s = by_variant.get(variant.id) or VariantStats(variant.id, 0, 0, Money.zero(currency), 0)
        n = s.exposures
        mean, variance = _revenue_moments(s) if n else (0.0, 0.0)
        half = z * math.sqrt(variance / n) if n else math.inf
        conversion: Comparison | None = None
        revenue: Comparison | None = None
        if index and control is not None and control.exposures >= 2 and n >= 2:
            conversion = two_proportion_z_test(
                control.conversions, control.exposures, s.conversions, n, confidence
            )
            control_mean, control_variance = _revenue_moments(control)
            revenue = welch_t_test(
                control_mean, control_variance, control.exposures, mean, variance, n, confidence
            )
        results.append(
            VariantResult(
                variant.id,
                n,
                s.conversions,
                s.conversions / n if n else 0.0,
                wilson_interval(s.conversions, n, confidence),
                s.revenue,
                mean,
                Interval(mean - half, mean + half),
                conversion,
                revenue,
            )
        )
    return tuple(results)
