"""How promotions combine: ranking, exclusivity and caps.

Pure Python. Which promotions are candidates for a cart is found beforehand by
:class:`bazaar.pricing.promotion_set.PromotionSet`. The rules, in the order a quote applies
them:

1. **Rank.** Promotions are ranked by ``priority`` (higher first), ties by id, so the
   result never depends on the order promotions were loaded in.
2. **Alone.** Each eligible promotion is computed on its own against the lines' effective
   subtotals before any promotion (:func:`bazaar.pricing.promotions.evaluate`), then capped
   by its ``max_discount`` and by its **remaining budget** (an input: the database holds the
   spend). A promotion with a budget and no remaining budget given is treated as spent, so
   a forgotten input can never overspend. The remaining budget is read before the quote and
   decremented atomically at order placement (``UPDATE ... WHERE remaining >= :spent``, then
   re-quote if no row matched): that, not this module, keeps concurrent checkouts within
   the budget. Free shipping draws on the same budget: what is left of it after the
   promotion's discount is the most its waivers may take off shipping
   (:attr:`AppliedPromotion.shipping_budget`), and a promotion with nothing left is set
   aside (``budget_spent``) like any other.
3. **Combinable promotions stack.** Their amounts add up. Taken in rank order, each line
   discount is capped by what is left of its line, each order discount is spread over its
   scope lines in proportion to what is left of them, and the running total is capped by
   the per-order maximum discount. Because every amount was computed against the original
   subtotals, the order of application only matters once a cap binds, and then rank (not
   input order) decides who keeps what.
4. **Exclusive promotions never stack.** The highest-ranked applicable exclusive promotion
   is the candidate; it wins alone when it takes off at least as much as all combinable
   promotions together (after caps); otherwise the combinable set wins. Free shipping is
   worth zero in that comparison, because its value is known only after shipping is priced.

Everything set aside is reported with a :class:`SetAsideReason`, so a quote explains both
what applied and what did not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from bazaar.pricing.promotions import Promotion, PromotionOutcome


def rank_key(promotion: Promotion) -> tuple[int, str]:
    """Sort key putting higher priority first, ties by id."""
    return (-promotion.priority, promotion.id)


def allocate_minor_units(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units over ``weights`` exactly as ``Money.allocate`` does.

    Same guarantees (shares sum to ``total``, each within one unit of its exact share, a
    zero weight gets nothing, leftovers to the largest remainders, ties to the earlier
    index) in integer arithmetic: ``Money.allocate`` works in Fractions and costs ~300 us
    for 20 lines, a sizeable part of the 2 ms quote budget. ``total`` and weights are
    non-negative and the weights not all zero.
    """
    whole = sum(weights)
    if total == whole:
        return list(weights)
    shares: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        share, remainder = divmod(total * weight, whole)
        shares.append(share)
        remainders.append(-remainder)
    leftover = total - sum(shares)
    if leftover:
        # sorted() is stable, so equal remainders keep the earlier index first.
        for i in sorted(range(len(weights)), key=remainders.__getitem__)[:leftover]:
            shares[i] += 1
    return shares


class SetAsideReason(StrEnum):
    EXCLUSIVE_PROMOTION_WON = "exclusive_promotion_won"
    COMBINED_PROMOTIONS_WON = "combined_promotions_won"
    OUTRANKED_EXCLUSIVE = "outranked_exclusive"  # a higher-ranked exclusive was the candidate
    BUDGET_SPENT = "budget_spent"
    NOTHING_LEFT_TO_DISCOUNT = "nothing_left_to_discount"
    ORDER_MAXIMUM_REACHED = "order_maximum_reached"


@dataclass(frozen=True)
class SetAside:
    """An eligible promotion that gave nothing, and why."""

    promotion_id: str
    label: str
    reason: SetAsideReason


class AppliedPromotion(NamedTuple):
    """A promotion as it landed: line shares (line index, minor units) summing to ``amount``.

    ``outcome`` is what it gave alone, with ``notes`` on how stacking reduced it.
    ``shipping_budget``: for a budgeted promotion that waives shipping, the most its waivers
    may take off (what is left of the budget after ``amount``); None when unlimited.
    """

    outcome: PromotionOutcome
    line_amounts: tuple[tuple[int, int], ...]
    amount: int
    shipping_budget: int | None = None

    @property
    def promotion(self) -> Promotion:
        return self.outcome.promotion


@dataclass(frozen=True)
class Stacking:
    applied: tuple[AppliedPromotion, ...]
    set_aside: tuple[SetAside, ...]

    @property
    def amount(self) -> int:
        """Everything taken off, in minor units."""
        return sum(a.amount for a in self.applied)


def _scaled(line_amounts: Sequence[tuple[int, int]], limit: int) -> tuple[tuple[int, int], ...]:
    shares = allocate_minor_units(limit, [amount for _, amount in line_amounts])
    return tuple((i, share) for (i, _), share in zip(line_amounts, shares, strict=True))


def _capped(outcome: PromotionOutcome, cap: int, why: str) -> PromotionOutcome:
    if outcome.amount <= cap:
        return outcome
    notes = (*outcome.notes, f"capped by {why}")
    if outcome.line_amounts:
        return outcome._replace(line_amounts=_scaled(outcome.line_amounts, cap), notes=notes)
    return outcome._replace(order_amount=cap, notes=notes)


def _apply(
    outcomes: Sequence[PromotionOutcome], subtotals: Sequence[int], order_cap: int | None
) -> Stacking:
    remaining = list(subtotals)
    room = order_cap
    applied: list[AppliedPromotion] = []
    set_aside: list[SetAside] = []
    for outcome in outcomes:
        notes: list[str] = []
        shares: list[tuple[int, int]] = []
        total = 0
        if outcome.line_amounts:
            for i, amount in outcome.line_amounts:
                take = min(amount, remaining[i])
                if take:
                    shares.append((i, take))
                    total += take
        else:
            scope = [i for i in outcome.scope if remaining[i]]
            left = [remaining[i] for i in scope]
            total = min(outcome.order_amount, sum(left))
            if total:
                split = allocate_minor_units(total, left)
                shares = [(i, share) for i, share in zip(scope, split, strict=True) if share]
        if total < outcome.amount:
            notes.append("reduced to what the lines still cost")
        if room is not None and total > room:
            shares = [(i, share) for i, share in _scaled(shares, room) if share]
            total = room
            notes.append("reduced to the maximum discount per order")
        if total == 0 and not outcome.free_shipping_fulfillers:
            reason = (
                SetAsideReason.ORDER_MAXIMUM_REACHED
                if room == 0
                else SetAsideReason.NOTHING_LEFT_TO_DISCOUNT
            )
            set_aside.append(SetAside(outcome.promotion.id, outcome.promotion.label, reason))
            continue
        for i, share in shares:
            remaining[i] -= share
        if room is not None:
            room -= total
        if notes:
            outcome = outcome._replace(notes=(*outcome.notes, *notes))
        applied.append(AppliedPromotion(outcome, tuple(shares), total))
    return Stacking(tuple(applied), tuple(set_aside))


def stack_promotions(
    outcomes: Sequence[PromotionOutcome],
    subtotals: Sequence[int],
    *,
    remaining_budgets: Mapping[str, int],
    max_order_discount: int | None = None,
) -> Stacking:
    """Combine ``outcomes`` (one per eligible promotion) by the rules of the module doc.

    ``subtotals`` are the lines' effective subtotals in minor units; ``remaining_budgets``
    maps a budgeted promotion's id to what is left of its budget. Guarantees: no line's
    discounts exceed its subtotal; the total never exceeds ``max_order_discount``; no
    promotion exceeds its ``max_discount`` or remaining budget; every applied promotion's
    line shares sum to its amount; the result does not depend on the order of
    ``outcomes``; a budgeted promotion's discount plus its ``shipping_budget`` never exceed
    its remaining budget. Every outcome is either applied or set aside with a reason.
    """
    ranked = sorted(outcomes, key=lambda o: rank_key(o.promotion))
    set_aside: list[SetAside] = []
    capped: list[PromotionOutcome] = []
    for outcome in ranked:
        promotion = outcome.promotion
        if promotion.budget is not None:
            budget_left = max(0, remaining_budgets.get(promotion.id, 0))
            if budget_left == 0:
                set_aside.append(
                    SetAside(promotion.id, promotion.label, SetAsideReason.BUDGET_SPENT)
                )
                continue
            outcome = _capped(outcome, budget_left, "the remaining budget")
        if promotion.max_discount is not None:
            outcome = _capped(outcome, promotion.max_discount.amount, "the promotion's maximum")
        capped.append(outcome)

    combinable = [o for o in capped if not o.promotion.exclusive]
    exclusives = [o for o in capped if o.promotion.exclusive]
    together = _apply(combinable, subtotals, max_order_discount)
    alone = _apply(exclusives[:1], subtotals, max_order_discount) if exclusives else None
    set_aside += [
        SetAside(o.promotion.id, o.promotion.label, SetAsideReason.OUTRANKED_EXCLUSIVE)
        for o in exclusives[1:]
    ]
    if alone is not None and alone.applied and alone.amount >= together.amount:
        set_aside += alone.set_aside
        set_aside += [
            SetAside(a.promotion.id, a.promotion.label, SetAsideReason.EXCLUSIVE_PROMOTION_WON)
            for a in together.applied
        ]
        set_aside += together.set_aside
        return _with_shipping_budgets(alone.applied, set_aside, remaining_budgets)
    if alone is not None:
        set_aside += alone.set_aside
        set_aside += [
            SetAside(a.promotion.id, a.promotion.label, SetAsideReason.COMBINED_PROMOTIONS_WON)
            for a in alone.applied
        ]
    set_aside += together.set_aside
    return _with_shipping_budgets(together.applied, set_aside, remaining_budgets)


def _with_shipping_budgets(
    applied: Sequence[AppliedPromotion],
    set_aside: list[SetAside],
    remaining_budgets: Mapping[str, int],
) -> Stacking:
    """The winners, each budgeted free shipping limited to what its discount left over.

    The shipping charge is priced after this (it depends on the destination), so the
    quote applies the limit and order placement draws what was actually waived. A
    promotion's amount never exceeds its remaining budget, so the limit is never negative.
    """
    kept = [
        a._replace(shipping_budget=max(0, remaining_budgets.get(a.promotion.id, 0)) - a.amount)
        if a.promotion.budget is not None and a.outcome.free_shipping_fulfillers
        else a
        for a in applied
    ]
    return Stacking(tuple(kept), tuple(set_aside))
