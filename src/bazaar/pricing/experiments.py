"""A/B price experiments: variants, deterministic assignment, and the statistics of results.

Pure Python (``hashlib``, ``math`` and ``statistics.NormalDist``; no scipy).

* An :class:`Experiment` has two or more :class:`Variant` s; the first is the control. A
  variant can change the unit price of the products in the experiment's scope by a
  percentage (control price versus 5 % lower) and switch promotions off (a promotion on
  versus off). Variant weights are the traffic split.
* :func:`assign_variant` is deterministic: SHA-256 of the experiment id and the unit id
  (customer id, or cart id for guests) picks the variant, the same in every process and
  on every machine, with no stored assignment.
* :func:`experiment_results` turns per-variant counts into conversion rate, revenue per
  visitor, confidence intervals and tests against the control: a two-proportion z-test for
  conversion and Welch's t-test for revenue per visitor. These are statistical estimates
  (floats, in minor units for revenue), never amounts anyone is charged.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from statistics import NormalDist

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.price_lists import EffectivePrice, PriceSource, in_window, window_errors
from bazaar.pricing.promotions import percent_of

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Variant:
    """One arm: ``weight`` shares of traffic; ``price_change_percent`` of -5 is 5 % lower."""

    id: str
    weight: int = 1
    price_change_percent: Decimal = Decimal(0)
    promotions_off: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Experiment:
    """Variants (the first is the control) over ``product_ids`` (None: every product).

    Construction raises ``ValidationFailed`` naming the field: ``variants`` (fewer than
    two), ``variants[1].id`` (repeated), ``variants[0].weight`` (negative, or all zero),
    ``variants[1].price_change_percent`` (not above -100 and at most 100), ``ends_at``.
    """

    id: str
    variants: tuple[Variant, ...]
    product_ids: frozenset[str] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.id:
            errors.append(FieldError("id", "Required", "required"))
        if len(self.variants) < 2:
            errors.append(FieldError("variants", "At least a control and one variant", "too_few"))
        seen: set[str] = set()
        for i, variant in enumerate(self.variants):
            at = f"variants[{i}]."
            if not variant.id or variant.id in seen:
                errors.append(FieldError(f"{at}id", "Required and unique", "duplicate"))
            seen.add(variant.id)
            if type(variant.weight) is not int or variant.weight < 0:
                errors.append(FieldError(f"{at}weight", "A whole number from 0", "out_of_range"))
            change = variant.price_change_percent
            if not isinstance(change, Decimal) or not change.is_finite():
                errors.append(FieldError(f"{at}price_change_percent", "A decimal", "invalid"))
            elif not -HUNDRED < change <= HUNDRED:
                errors.append(
                    FieldError(
                        f"{at}price_change_percent", "Above -100, at most 100", "out_of_range"
                    )
                )
        weights = [v.weight for v in self.variants if type(v.weight) is int]
        if self.variants and not any(w > 0 for w in weights):
            errors.append(FieldError("variants[0].weight", "Some weight must be above 0", "zero"))
        errors += window_errors(self.starts_at, self.ends_at)
        if errors:
            raise ValidationFailed(f"Experiment {self.id!r} is not valid", errors=errors)

    def is_running(self, now: datetime) -> bool:
        """True when ``now`` is inside the experiment's date window."""
        return in_window(now, self.starts_at, self.ends_at)

    def covers(self, product_id: str) -> bool:
        """True when the experiment's price change applies to ``product_id``."""
        return self.product_ids is None or product_id in self.product_ids


@dataclass(frozen=True, slots=True)
class Exposure:
    """A unit saw ``variant_id`` of ``experiment_id``; the service records it once per unit."""

    experiment_id: str
    variant_id: str


def assign_variant(experiment: Experiment, unit_id: str) -> Variant:
    """The variant ``unit_id`` sees: always the same for the same experiment and unit.

    The first 8 bytes of SHA-256(``experiment id`` NUL ``unit id``) as an integer, modulo
    the total weight, fall into one variant's share; the modulo bias over 2**64 values is
    negligible. Different experiments split the same units independently.
    """
    digest = hashlib.sha256(f"{experiment.id}\x00{unit_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(v.weight for v in experiment.variants)
    for variant in experiment.variants:
        if point < variant.weight:
            return variant
        point -= variant.weight
    raise AssertionError("unreachable: the point is below the total weight")


def assign_variants(
    experiments: Sequence[Experiment], unit_id: str | None, now: datetime
) -> tuple[tuple[Experiment, Variant], ...]:
    """The variant ``unit_id`` sees in each experiment running at ``now``.

    Nobody to assign (no customer, no cart) sees every control price and is not counted:
    the result is empty.
    """
    if unit_id is None:
        return ()
    return tuple((e, assign_variant(e, unit_id)) for e in experiments if e.is_running(now))


def changed_price(unit_price: Money, variant: Variant) -> Money:
    """``unit_price`` changed by the variant's percentage, rounded half-up; never negative."""
    if not variant.price_change_percent:
        return unit_price
    changed = percent_of(unit_price.amount, HUNDRED + variant.price_change_percent)
    return Money(changed, unit_price.currency)


def apply_price_tests(
    price: EffectivePrice,
    product_id: str,
    assignments: Sequence[tuple[Experiment, Variant]],
) -> tuple[EffectivePrice, tuple[Exposure, ...]]:
    """``price`` as the unit's variants show it, and the experiments it was shown under.

    Every experiment covering ``product_id`` counts an exposure, control included. A price
    change moves the regular price too: a tested price is not a sale, and showing the
    control price struck through would both bias the test and mislead the shopper.
    """
    exposures: list[Exposure] = []
    for experiment, variant in assignments:
        if not experiment.covers(product_id):
            continue
        exposures.append(Exposure(experiment.id, variant.id))
        if variant.price_change_percent:
            change = f"{variant.price_change_percent.normalize():+f}%"
            price = EffectivePrice(
                changed_price(price.unit_price, variant),
                changed_price(price.regular_price, variant),
                PriceSource.EXPERIMENT,
                experiment.id,
                f"{price.explanation}; price test {experiment.id}, {variant.id} ({change})",
            )
    return price, tuple(exposures)


def promotions_switched_off(
    assignments: Sequence[tuple[Experiment, Variant]], exposures: Iterable[Exposure]
) -> frozenset[str]:
    """Promotions the unit's variants switch off, in the experiments it was exposed to."""
    shown = {e.experiment_id for e in exposures}
    return frozenset(
        promotion_id
        for experiment, variant in assignments
        if experiment.id in shown
        for promotion_id in variant.promotions_off
    )


# --- statistics -----------------------------------------------------------------------------


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
