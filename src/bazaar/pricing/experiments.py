"""A/B price experiments: variants, deterministic assignment, and the prices they show.

Pure Python.

* An :class:`Experiment` has two or more :class:`Variant` s; the first is the control. A
  variant can change the unit price of the products in the experiment's scope by a
  percentage (control price versus 5 % lower) and switch promotions off (a promotion on
  versus off). Variant weights are the traffic split.
* :func:`assign_variant` is deterministic: SHA-256 of the experiment id and the unit id
  (customer id, or cart id for guests) picks the variant, the same in every process and
  on every machine, with no stored assignment.
* :func:`apply_price_tests` shows a unit its variants' prices and records which experiments
  it was exposed to; :mod:`bazaar.pricing.experiment_stats` turns the counts of exposures
  and orders into results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.date_windows import in_window, window_errors
from bazaar.pricing.price_lists import EffectivePrice, PriceSource
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
