"""Promotions: which lines they look at, when they apply, what they give.

Pure Python. A :class:`Promotion` is a :class:`Scope` (the lines it looks at), some
:class:`Conditions` (when it applies) and one action (what it gives; the kinds and their
rules are in :mod:`bazaar.pricing.promotion_actions`):

* :class:`PercentOff` - a percentage off each line in scope, or off their subtotal once;
* :class:`AmountOff` - an amount off every unit in scope, or once off their subtotal;
* :class:`FixedPrice` - units in scope cost a fixed price (never raises a price);
* :class:`BuyXGetY` - of every ``buy + get`` units in scope, the ``get`` cheapest are free
  (or ``percent`` off);
* :class:`TieredSpend` - the highest tier whose threshold the scope's subtotal reaches
  (``subtotal >= threshold``) gives its amount off;
* :class:`FreeShipping` - the fulfillers of the lines in scope ship for free.

:func:`evaluate` computes one promotion *alone*, against the lines' effective unit prices
before any other promotion, so a promotion's amount never depends on which others apply;
:mod:`bazaar.pricing.stacking` decides how they combine. Minimum subtotal and quantity are
measured on the lines in scope. Percentages round half-up once per line (:func:`percent_of`,
which equals ``Money.percentage``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.date_windows import window_errors
from bazaar.pricing.promotion_actions import (
    HUNDRED,
    Action,
    AmountOff,
    BuyXGetY,
    FixedPrice,
    PercentOff,
    SpendTier,
    Target,
    TieredSpend,
    action_errors,
)


class PromotionLine(NamedTuple):
    """A cart line as a promotion sees it; amounts in minor units of the quote's currency.

    ``category_ids`` holds the line's category and all its ancestors, so a promotion on a
    parent category covers its subcategories. A named tuple, like :class:`PromotionOutcome`:
    both are built for every line and candidate of every quote, and a frozen dataclass
    costs three times as much to build.
    """

    offer_id: str
    product_id: str
    seller_id: str
    brand_id: str | None
    category_ids: frozenset[str]
    quantity: int
    unit_price: int
    subtotal: int


@dataclass(frozen=True)
class Scope:
    """The lines a promotion looks at.

    A line is in scope when it matches every non-empty include set (any member of each)
    and no exclude set. An empty scope covers every line.
    """

    product_ids: frozenset[str] = frozenset()
    category_ids: frozenset[str] = frozenset()
    brand_ids: frozenset[str] = frozenset()
    seller_ids: frozenset[str] = frozenset()
    excluded_product_ids: frozenset[str] = frozenset()
    excluded_category_ids: frozenset[str] = frozenset()
    excluded_brand_ids: frozenset[str] = frozenset()
    excluded_seller_ids: frozenset[str] = frozenset()

    def matches(self, line: PromotionLine) -> bool:
        """True when ``line`` is in this scope."""
        return (
            (not self.product_ids or line.product_id in self.product_ids)
            and (not self.brand_ids or line.brand_id in self.brand_ids)
            and (not self.seller_ids or line.seller_id in self.seller_ids)
            and (not self.category_ids or not self.category_ids.isdisjoint(line.category_ids))
            and line.product_id not in self.excluded_product_ids
            and line.brand_id not in self.excluded_brand_ids
            and line.seller_id not in self.excluded_seller_ids
            and self.excluded_category_ids.isdisjoint(line.category_ids)
        )


@dataclass(frozen=True)
class Conditions:
    """When a promotion applies. None / False means no such condition."""

    min_subtotal: Money | None = None  # of the lines in scope, before any promotion
    min_quantity: int | None = None  # units in scope
    customer_groups: frozenset[str] | None = None
    channel_ids: frozenset[str] | None = None
    first_order_only: bool = False
    coupon_required: bool = False


@dataclass(frozen=True)
class Promotion:
    """One promotion. Construction validates it.

    ``priority``: higher is considered first (see :mod:`bazaar.pricing.stacking`).
    ``exclusive``: never combined with another promotion. ``max_discount``: the most this
    promotion gives on one order. ``budget``: the most it gives over its lifetime; the
    remaining budget is an input of every quote. Money fields (action, conditions, caps)
    share one currency and limit the promotion to carts in it; a promotion without any is
    valid in every currency.

    Raises ``ValidationFailed`` naming each bad field, e.g. ``action.percent`` (over 100),
    ``action.tiers[1].threshold``, ``conditions.min_quantity``, ``ends_at`` (before
    ``starts_at``), ``budget.amount`` (negative), ``max_discount.currency``.
    """

    id: str
    label: str
    action: Action
    scope: Scope = field(default_factory=Scope)
    conditions: Conditions = field(default_factory=Conditions)
    priority: int = 0
    exclusive: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_discount: Money | None = None
    budget: Money | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.id:
            errors.append(FieldError("id", "Required", "required"))
        if not self.label:
            errors.append(FieldError("label", "Required", "required"))
        if type(self.priority) is not int:
            errors.append(FieldError("priority", "A whole number", "invalid"))
        errors += action_errors(self.action)
        min_quantity = self.conditions.min_quantity
        if min_quantity is not None and (type(min_quantity) is not int or min_quantity < 1):
            errors.append(
                FieldError("conditions.min_quantity", "A whole number from 1", "out_of_range")
            )
        errors += window_errors(self.starts_at, self.ends_at)
        money = _money_fields(self)
        for name, amount in money:
            if amount.is_negative():
                errors.append(FieldError(f"{name}.amount", "Must not be negative", "negative"))
        for name, amount in money[1:]:
            if amount.currency != money[0][1].currency:
                errors.append(
                    FieldError(
                        f"{name}.currency", "One currency per promotion", "currency_mismatch"
                    )
                )
        if errors:
            raise ValidationFailed(f"Promotion {self.id!r} is not valid", errors=errors)

    @property
    def currency(self) -> str | None:
        """The currency of the promotion's amounts, or None when it has none."""
        money = _money_fields(self)
        return money[0][1].currency if money else None


def _money_fields(promotion: Promotion) -> list[tuple[str, Money]]:
    action = promotion.action
    found: list[tuple[str, Money | None]] = []
    if isinstance(action, AmountOff):
        found.append(("action.amount", action.amount))
    elif isinstance(action, FixedPrice):
        found.append(("action.unit_price", action.unit_price))
    elif isinstance(action, TieredSpend):
        for i, tier in enumerate(action.tiers):
            found += [(f"action.tiers[{i}].threshold", tier.threshold)]
            found += [(f"action.tiers[{i}].amount", tier.amount)]
    found += [
        ("conditions.min_subtotal", promotion.conditions.min_subtotal),
        ("max_discount", promotion.max_discount),
        ("budget", promotion.budget),
    ]
    return [(name, amount) for name, amount in found if amount is not None]


# --- evaluation -----------------------------------------------------------------------------


def percent_of(amount: int, percent: Decimal) -> int:
    """``percent`` % of ``amount`` minor units (``amount >= 0``), rounded half-up.

    Equal to ``Money(amount, c).percentage(percent / 100).amount``, in integer arithmetic:
    this runs for every line of every candidate promotion, and building Money and Decimal
    values there cost more than the rest of the quote.
    """
    numerator, denominator = percent.as_integer_ratio()
    denominator *= 100
    return (2 * amount * numerator + denominator) // (2 * denominator)


class PromotionOutcome(NamedTuple):
    """What one promotion gives on its own, before stacking.

    ``line_amounts``: line discounts as (line index, minor units). ``order_amount``: one
    amount that stacking spreads over the ``scope`` lines in proportion to what is left of
    them. ``free_shipping_fulfillers``: fulfillers whose shipping this promotion waives.
    ``units`` and ``subtotal`` are the figures the action counted (for the explanation);
    ``notes`` say how stacking reduced the outcome.
    """

    promotion: Promotion
    line_amounts: tuple[tuple[int, int], ...]
    order_amount: int
    scope: tuple[int, ...]
    free_shipping_fulfillers: frozenset[str]
    units: int
    subtotal: int
    notes: tuple[str, ...] = ()

    @property
    def amount(self) -> int:
        """Everything this outcome takes off, in minor units."""
        return self.order_amount + sum(amount for _, amount in self.line_amounts)


def evaluate(
    promotion: Promotion, lines: Sequence[PromotionLine], scope: Sequence[int]
) -> PromotionOutcome | None:
    """What ``promotion`` alone gives on the ``scope`` lines (indexes into ``lines``).

    The caller has checked everything about the shopper and the date; this checks the
    minimum subtotal and quantity of the lines in scope and computes the action. Returns
    None when the promotion gives nothing (a condition is unmet, or the amount is zero and
    it waives no shipping). Guarantees: no line amount exceeds its line's subtotal; an order
    amount may exceed the scope's subtotal and is capped when stacked.
    """
    quantity = subtotal = 0
    for i in scope:
        quantity += lines[i].quantity
        subtotal += lines[i].subtotal
    conditions = promotion.conditions
    if quantity == 0 or (
        conditions.min_quantity is not None and quantity < conditions.min_quantity
    ):
        return None
    if conditions.min_subtotal is not None and subtotal < conditions.min_subtotal.amount:
        return None

    action = promotion.action
    line_amounts: list[tuple[int, int]] = []
    order_amount = 0
    units = quantity
    fulfillers: frozenset[str] = frozenset()
    if isinstance(action, PercentOff):
        if action.target == Target.LINE:
            line_amounts = [(i, percent_of(lines[i].subtotal, action.percent)) for i in scope]
        else:
            order_amount = percent_of(subtotal, action.percent)
    elif isinstance(action, AmountOff):
        if action.target == Target.LINE:
            each = action.amount.amount
            line_amounts = [(i, min(each, lines[i].unit_price) * lines[i].quantity) for i in scope]
        else:
            order_amount = action.amount.amount
    elif isinstance(action, FixedPrice):
        fixed = action.unit_price.amount
        line_amounts = [
            (i, (lines[i].unit_price - fixed) * lines[i].quantity)
            for i in scope
            if lines[i].unit_price > fixed
        ]
    elif isinstance(action, BuyXGetY):
        line_amounts, units = _buy_x_get_y(action, lines, scope, quantity)
    elif isinstance(action, TieredSpend):
        tier = reached_tier(action, subtotal)
        if tier is None:
            return None
        order_amount = tier.amount.amount
    else:
        fulfillers = frozenset(lines[i].seller_id for i in scope)

    line_amounts = [(i, amount) for i, amount in line_amounts if amount > 0]
    if not line_amounts and order_amount == 0 and not fulfillers:
        return None
    return PromotionOutcome(
        promotion, tuple(line_amounts), order_amount, tuple(scope), fulfillers, units, subtotal
    )


def reached_tier(action: TieredSpend, subtotal: int) -> SpendTier | None:
    """The highest tier whose threshold ``subtotal`` (minor units) reaches, if any."""
    reached = None
    for tier in action.tiers:
        if subtotal >= tier.threshold.amount:
            reached = tier
    return reached


def _buy_x_get_y(
    action: BuyXGetY, lines: Sequence[PromotionLine], scope: Sequence[int], units: int
) -> tuple[list[tuple[int, int]], int]:
    groups = units // (action.buy + action.get)
    if action.max_applications is not None:
        groups = min(groups, action.max_applications)
    discounted = left = groups * action.get
    amounts: list[tuple[int, int]] = []
    # The cheapest units get the discount; equal prices go to the earlier line.
    for i in sorted(scope, key=lambda i: (lines[i].unit_price, i)):
        if left == 0:
            break
        count = min(left, lines[i].quantity)
        left -= count
        amounts.append((i, percent_of(lines[i].unit_price * count, action.percent)))
    return amounts, discounted


# Memoised: the same few percentages and promotion amounts are formatted on every quote.
@lru_cache(maxsize=4096)
def _percent_label(percent: Decimal) -> str:
    return f"{percent.normalize():f}%"


@lru_cache(maxsize=4096)
def _money_text(money: Money) -> str:
    return str(money)


def _units(count: int) -> str:
    return f"{count} unit" if count == 1 else f"{count} units"


def describe(outcome: PromotionOutcome, currency: str) -> str:
    """A sentence saying what ``outcome`` gave and why, with the notes of stacking.

    Built only for applied promotions: formatting amounts costs more than computing them.
    """
    action = outcome.promotion.action
    if isinstance(action, PercentOff):
        percent = _percent_label(action.percent)
        text = (
            f"{percent} off {_units(outcome.units)}"
            if action.target == Target.LINE
            else f"{percent} off a subtotal of {Money(outcome.subtotal, currency)}"
        )
    elif isinstance(action, AmountOff):
        text = (
            f"{_money_text(action.amount)} off each of {_units(outcome.units)}"
            if action.target == Target.LINE
            else f"{_money_text(action.amount)} off"
        )
    elif isinstance(action, FixedPrice):
        text = f"{_units(outcome.units)} at {_money_text(action.unit_price)} each"
    elif isinstance(action, BuyXGetY):
        reward = "free" if action.percent == HUNDRED else f"{_percent_label(action.percent)} off"
        text = f"Buy {action.buy} get {action.get} {reward}: {_units(outcome.units)}"
    elif isinstance(action, TieredSpend):
        tier = reached_tier(action, outcome.subtotal)
        assert tier is not None  # an outcome exists only when a tier was reached
        spent = Money(outcome.subtotal, currency)
        text = (
            f"{_money_text(tier.amount)} off for spending {spent}"
            f" (from {_money_text(tier.threshold)})"
        )
    else:
        text = "Free shipping from " + ", ".join(sorted(outcome.free_shipping_fulfillers))
    return "; ".join([text, *outcome.notes])
