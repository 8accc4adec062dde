"""Promotion actions: what a promotion gives, and the rules each kind must satisfy.

Pure Python. One frozen dataclass per kind of action; :func:`action_errors` checks an
action's own fields and names them as a promotion's body does (``action.percent``,
``action.tiers[1].threshold``). What an action is worth on a cart is computed by
:func:`bazaar.pricing.promotions.evaluate`, which sees the lines in scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bazaar.kernel.errors import FieldError
from bazaar.kernel.money import Money

HUNDRED = Decimal(100)


class Target(StrEnum):
    LINE = "line"  # a discount on each line in scope
    ORDER = "order"  # one discount on the scope's subtotal, spread over its lines


@dataclass(frozen=True)
class PercentOff:
    percent: Decimal
    target: Target = Target.LINE


@dataclass(frozen=True)
class AmountOff:
    """``Target.LINE``: ``amount`` off every unit in scope; ``Target.ORDER``: once."""

    amount: Money
    target: Target = Target.ORDER


@dataclass(frozen=True)
class FixedPrice:
    unit_price: Money


@dataclass(frozen=True)
class BuyXGetY:
    buy: int
    get: int
    percent: Decimal = HUNDRED  # off the cheapest ``get`` units of each group
    max_applications: int | None = None  # groups per order; None: no limit


@dataclass(frozen=True)
class SpendTier:
    threshold: Money
    amount: Money


@dataclass(frozen=True)
class TieredSpend:
    tiers: tuple[SpendTier, ...]


@dataclass(frozen=True)
class FreeShipping:
    pass


Action = PercentOff | AmountOff | FixedPrice | BuyXGetY | TieredSpend | FreeShipping


def _percent_errors(value: object, name: str) -> list[FieldError]:
    if not isinstance(value, Decimal) or not value.is_finite():
        return [FieldError(name, "A decimal percentage", "invalid")]
    if not 0 < value <= HUNDRED:
        return [FieldError(name, "Above 0 and at most 100", "out_of_range")]
    return []


def _positive_errors(value: object, name: str) -> list[FieldError]:
    if type(value) is not int or value < 1:
        return [FieldError(name, "A whole number from 1", "out_of_range")]
    return []


def action_errors(action: Action) -> list[FieldError]:
    """What is wrong with ``action`` on its own; empty when it is a valid action."""
    errors: list[FieldError] = []
    if isinstance(action, PercentOff):
        errors += _percent_errors(action.percent, "action.percent")
    elif isinstance(action, AmountOff):
        if action.amount.is_zero():
            errors.append(FieldError("action.amount.amount", "Must be above zero", "zero"))
    elif isinstance(action, BuyXGetY):
        errors += _positive_errors(action.buy, "action.buy")
        errors += _positive_errors(action.get, "action.get")
        errors += _percent_errors(action.percent, "action.percent")
        if action.max_applications is not None:
            errors += _positive_errors(action.max_applications, "action.max_applications")
    elif isinstance(action, TieredSpend):
        if not action.tiers:
            errors.append(FieldError("action.tiers", "At least one tier", "required"))
        for i, tier in enumerate(action.tiers):
            if tier.amount.is_zero():
                errors.append(FieldError(f"action.tiers[{i}].amount", "Above zero", "zero"))
            if i and tier.threshold.amount <= action.tiers[i - 1].threshold.amount:
                errors.append(
                    FieldError(
                        f"action.tiers[{i}].threshold",
                        "Thresholds strictly increase",
                        "out_of_order",
                    )
                )
    elif not isinstance(action, FixedPrice | FreeShipping):
        errors.append(FieldError("action", "Not a known action", "invalid"))
    return errors
