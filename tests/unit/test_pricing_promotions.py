"""Promotions, price lists and stacking: validation, each action alone, how they combine."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.price_lists import PriceList, PriceListEntry, SalePrice, Tier
from bazaar.pricing.promotion_actions import (
    AmountOff,
    BuyXGetY,
    FixedPrice,
    FreeShipping,
    PercentOff,
    SpendTier,
    Target,
    TieredSpend,
)
from bazaar.pricing.promotion_set import PromotionSet
from bazaar.pricing.promotions import (
    Conditions,
    Promotion,
    PromotionLine,
    PromotionOutcome,
    Scope,
    describe,
    evaluate,
    percent_of,
)
from bazaar.pricing.stacking import (
    SetAsideReason,
    allocate_minor_units,
    stack_promotions,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def pline(
    offer_id: str,
    unit_price: int,
    quantity: int = 1,
    *,
    seller: str = "retailer",
    brand: str | None = "brd_acme",
    categories: frozenset[str] = frozenset({"cat_shoes", "cat_fashion"}),
) -> PromotionLine:
    return PromotionLine(
        offer_id,
        f"prd_{offer_id}",
        seller,
        brand,
        categories,
        quantity,
        unit_price,
        unit_price * quantity,
    )


def promo(promotion_id: str = "pro_1", action: object = None, **kwargs: object) -> Promotion:
    chosen = action if action is not None else PercentOff(Decimal(10))
    return Promotion(promotion_id, f"Label {promotion_id}", chosen, **kwargs)  # type: ignore[arg-type]


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in exc.value.errors]


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": PercentOff(Decimal(101))}, "action.percent"),
        ({"action": PercentOff(Decimal(0))}, "action.percent"),
        ({"action": PercentOff(0.5)}, "action.percent"),  # type: ignore[arg-type]  # a float
        ({"action": AmountOff(eur(-100))}, "action.amount.amount"),
        ({"action": AmountOff(eur(0))}, "action.amount.amount"),
        ({"action": FixedPrice(eur(-1))}, "action.unit_price.amount"),
        ({"action": BuyXGetY(0, 1)}, "action.buy"),
        ({"action": BuyXGetY(2, 1, Decimal(150))}, "action.percent"),
        ({"action": TieredSpend(())}, "action.tiers"),
        (
            {
                "action": TieredSpend(
                    (SpendTier(eur(20000), eur(2500)), SpendTier(eur(10000), eur(1000)))
                )
            },
            "action.tiers[1].threshold",
        ),
        ({"starts_at": NOW, "ends_at": NOW - timedelta(days=1)}, "ends_at"),
        ({"starts_at": NOW, "ends_at": NOW}, "ends_at"),
        ({"starts_at": datetime(2026, 1, 1)}, "starts_at"),
        ({"budget": eur(-1)}, "budget.amount"),
        ({"max_discount": Money(500, "GBP"), "budget": eur(100)}, "budget.currency"),
        ({"conditions": Conditions(min_quantity=0)}, "conditions.min_quantity"),
        ({"conditions": Conditions(min_subtotal=eur(-5))}, "conditions.min_subtotal.amount"),
    ],
)
def test_an_invalid_promotion_names_the_field(kwargs: dict[str, object], field: str) -> None:
    # given / when
    with pytest.raises(ValidationFailed) as exc:
        promo(**kwargs)  # type: ignore[arg-type]
    # then
    assert field in fields_of(exc)


def test_a_promotion_with_amounts_has_their_currency_and_one_without_has_none() -> None:
    assert promo(action=AmountOff(eur(500))).currency == "EUR"
    assert promo(action=PercentOff(Decimal(10))).currency is None
    assert promo(action=PercentOff(Decimal(10)), budget=Money(100, "GBP")).currency == "GBP"


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ((Tier(1, eur(1000), 9), Tier(5, eur(900))), "tiers[1].min_quantity"),  # overlap
        ((Tier(1, eur(1000)), Tier(10, eur(900))), "tiers[1].min_quantity"),  # open end first
        ((Tier(10, eur(900), 49), Tier(1, eur(1000), 9)), "tiers[1].min_quantity"),  # order
        ((Tier(0, eur(1000)),), "tiers[0].min_quantity"),
        ((Tier(5, eur(1000), 4),), "tiers[0].max_quantity"),
        ((Tier(1, eur(-1)),), "tiers[0].unit_price.amount"),
        ((Tier(1, eur(100), 9), Tier(10, Money(90, "GBP"))), "tiers[1].unit_price.currency"),
        ((), "tiers"),
    ],
)
def test_bad_tiers_name_the_field(tiers: tuple[Tier, ...], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        PriceListEntry("off_1", tiers)
    assert field in fields_of(exc)


def test_tiers_with_a_gap_are_valid() -> None:
    # given 1-9 and 20+ (10-19 falls back to another list or the base price)
    entry = PriceListEntry("off_1", (Tier(1, eur(1000), 9), Tier(20, eur(800))))
    # then
    assert entry.tier_for(9) == Tier(1, eur(1000), 9)
    assert entry.tier_for(15) is None
    assert entry.tier_for(500) == Tier(20, eur(800))


def test_a_bad_price_list_names_every_field() -> None:
    entries = (
        PriceListEntry("off_1", (Tier(1, Money(900, "GBP")),)),
        PriceListEntry("off_1", (Tier(1, eur(900)),)),
    )
    with pytest.raises(ValidationFailed) as exc:
        PriceList("pl_1", "B2B", "EUR", entries, starts_at=NOW, ends_at=NOW - timedelta(hours=1))
    assert fields_of(exc) == [
        "ends_at",
        "entries[0].tiers[0].unit_price.currency",
        "entries[1].offer_id",
    ]


def test_a_bad_sale_price_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        SalePrice("off_1", eur(-1), starts_at=NOW, ends_at=NOW - timedelta(days=1))
    assert fields_of(exc) == ["price.amount", "ends_at"]


# --- each action alone ----------------------------------------------------------------------


def test_percent_off_each_line_rounds_half_up_per_line() -> None:
    # given 15 % off two lines of 33.33 and 10.00
    lines = [pline("a", 3333), pline("b", 1000)]
    # when
    outcome = evaluate(promo(action=PercentOff(Decimal(15))), lines, [0, 1])
    # then: 4.9995 -> 5.00 and 1.50
    assert outcome is not None
    assert outcome.line_amounts == ((0, 500), (1, 150))
    assert outcome.order_amount == 0
    assert describe(outcome, "EUR") == "15% off 2 units"


def test_percent_off_the_order_rounds_once() -> None:
    lines = [pline("a", 3333), pline("b", 3333)]
    outcome = evaluate(promo(action=PercentOff(Decimal(15), Target.ORDER)), lines, [0, 1])
    # 15 % of 66.66 is 9.999 -> 10.00 (per line it would be 5.00 + 5.00 too; here once)
    assert outcome is not None
    assert (outcome.line_amounts, outcome.order_amount) == ((), 1000)
    assert describe(outcome, "EUR") == "15% off a subtotal of 66.66 EUR"


def test_amount_off_each_unit_never_exceeds_the_unit_price() -> None:
    lines = [pline("a", 1500, 2), pline("b", 50, 3)]
    outcome = evaluate(promo(action=AmountOff(eur(100), Target.LINE)), lines, [0, 1])
    assert outcome is not None
    assert outcome.line_amounts == ((0, 200), (1, 150))
    assert describe(outcome, "EUR") == "1.00 EUR off each of 5 units"


def test_amount_off_the_order_is_one_amount() -> None:
    outcome = evaluate(promo(action=AmountOff(eur(500))), [pline("a", 1500)], [0])
    assert outcome is not None
    assert (outcome.line_amounts, outcome.order_amount) == ((), 500)


def test_a_fixed_price_lowers_dearer_lines_and_leaves_cheaper_ones() -> None:
    lines = [pline("a", 1200, 3), pline("b", 800)]
    outcome = evaluate(promo(action=FixedPrice(eur(1000))), lines, [0, 1])
    assert outcome is not None
    assert outcome.line_amounts == ((0, 600),)
    assert describe(outcome, "EUR") == "4 units at 10.00 EUR each"


def test_buy_two_get_the_cheapest_free() -> None:
    # given three units at 10, 20 and 30
    lines = [pline("a", 3000), pline("b", 1000), pline("c", 2000)]
    # when
    outcome = evaluate(promo(action=BuyXGetY(2, 1)), lines, [0, 1, 2])
    # then the 10.00 unit is free
    assert outcome is not None
    assert outcome.line_amounts == ((1, 1000),)
    assert describe(outcome, "EUR") == "Buy 2 get 1 free: 1 unit"


def test_buy_two_get_one_half_price_counts_every_group() -> None:
    # given seven units: 4 x 5.00 and 3 x 8.00 -> two groups, the two cheapest units at 50 %
    lines = [pline("a", 800, 3), pline("b", 500, 4)]
    outcome = evaluate(promo(action=BuyXGetY(2, 1, Decimal(50))), lines, [0, 1])
    assert outcome is not None
    assert outcome.line_amounts == ((1, 500),)
    # limited to one application: one unit
    limited = evaluate(promo(action=BuyXGetY(2, 1, max_applications=1)), lines, [0, 1])
    assert limited is not None
    assert limited.line_amounts == ((1, 500),)
    assert describe(limited, "EUR") == "Buy 2 get 1 free: 1 unit"


def test_buy_x_get_y_gives_nothing_below_a_full_group() -> None:
    assert evaluate(promo(action=BuyXGetY(2, 1)), [pline("a", 1000, 2)], [0]) is None


@pytest.mark.parametrize(
    ("subtotal", "expected"), [(9999, None), (10000, 1000), (19999, 1000), (25000, 2500)]
)
def test_tiered_spend_gives_the_highest_tier_reached(subtotal: int, expected: int | None) -> None:
    action = TieredSpend((SpendTier(eur(10000), eur(1000)), SpendTier(eur(20000), eur(2500))))
    outcome = evaluate(promo(action=action), [pline("a", subtotal)], [0])
    assert (outcome.order_amount if outcome else None) == expected


def test_free_shipping_names_the_fulfillers_in_scope() -> None:
    lines = [pline("a", 1000, seller="sel_a"), pline("b", 1000, seller="sel_b")]
    outcome = evaluate(promo(action=FreeShipping()), lines, [1])
    assert outcome is not None
    assert outcome.free_shipping_fulfillers == frozenset({"sel_b"})
    assert outcome.amount == 0
    assert describe(outcome, "EUR") == "Free shipping from sel_b"


def test_minimum_subtotal_and_quantity_count_only_the_lines_in_scope() -> None:
    lines = [pline("a", 3000), pline("b", 3000)]
    needs_50 = promo(conditions=Conditions(min_subtotal=eur(5000)))
    needs_2 = promo(conditions=Conditions(min_quantity=2))
    assert evaluate(needs_50, lines, [0]) is None
    assert evaluate(needs_50, lines, [0, 1]) is not None
    assert evaluate(needs_2, lines, [1]) is None
    assert evaluate(needs_2, lines, [0, 1]) is not None


@given(st.integers(0, 10**12), st.decimals(Decimal("0.01"), Decimal(100), places=2))
def test_percent_of_is_money_percentage(amount: int, percent: Decimal) -> None:
    assert percent_of(amount, percent) == eur(amount).percentage(percent / 100).amount


# --- scope and candidates -------------------------------------------------------------------


def test_a_scope_needs_every_include_and_no_exclude() -> None:
    shoes_by_acme = Scope(
        category_ids=frozenset({"cat_fashion"}), brand_ids=frozenset({"brd_acme"})
    )
    assert shoes_by_acme.matches(pline("a", 100))  # via the ancestor category
    assert not shoes_by_acme.matches(pline("a", 100, brand="brd_other"))
    not_sel_x = Scope(excluded_seller_ids=frozenset({"sel_x"}))
    assert not_sel_x.matches(pline("a", 100))
    assert not not_sel_x.matches(pline("a", 100, seller="sel_x"))


def candidates(
    promotions: list[Promotion], lines: list[PromotionLine], **kwargs: object
) -> list[str]:
    context: dict[str, object] = {
        "currency": "EUR",
        "channel_id": "web",
        "customer_group": "retail",
        "now": NOW,
        "is_first_order": False,
    }
    context.update(kwargs)
    found = PromotionSet(promotions).candidates(lines, **context)  # type: ignore[arg-type]
    return [p.id for p, _ in found]


def test_candidates_check_the_shopper_the_date_and_the_currency() -> None:
    promotions = [
        promo("app_only", conditions=Conditions(channel_ids=frozenset({"app"}))),
        promo("vip_only", conditions=Conditions(customer_groups=frozenset({"vip"}))),
        promo("first", conditions=Conditions(first_order_only=True)),
        promo("coupon", conditions=Conditions(coupon_required=True)),
        promo("later", starts_at=NOW + timedelta(days=1)),
        promo("ended", ends_at=NOW),  # half-open: over at its end
        promo("gbp", action=AmountOff(Money(500, "GBP"))),
        promo("always"),
    ]
    lines = [pline("a", 1000)]
    assert candidates(promotions, lines) == ["always"]
    assert candidates(promotions, lines, channel_id="app", customer_group="vip") == [
        "always",
        "app_only",
        "vip_only",
    ]
    assert candidates(promotions, lines, is_first_order=True, coupon_promotion_ids={"coupon"}) == [
        "always",
        "coupon",
        "first",
    ]
    assert candidates(promotions, lines, currency="GBP") == ["always", "gbp"]
    assert candidates(promotions, lines, disabled_promotion_ids={"always"}) == []


def test_candidates_come_in_rank_order_with_their_lines() -> None:
    promotions = [
        promo("b_low", priority=1, scope=Scope(brand_ids=frozenset({"brd_acme"}))),
        promo("a_high", priority=5, scope=Scope(category_ids=frozenset({"cat_shoes"}))),
        promo("c_high", priority=5, scope=Scope(product_ids=frozenset({"prd_b"}))),
    ]
    lines = [pline("a", 100), pline("b", 100, brand=None)]
    found = PromotionSet(promotions).candidates(
        lines, currency="EUR", channel_id="web", customer_group=None, now=NOW, is_first_order=False
    )
    assert [(p.id, scope) for p, scope in found] == [
        ("a_high", (0, 1)),
        ("c_high", (1,)),
        ("b_low", (0,)),
    ]


def test_two_promotions_with_one_id_are_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        PromotionSet([promo("x"), promo("x")])
    assert fields_of(exc) == ["promotions[1].id"]


IDS = ["p1", "p2", "p3"]
BRANDS = ["b1", "b2"]
CATEGORIES = ["c1", "c2", "c3"]
SELLERS = ["s1", "s2"]


def some(values: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=2)


scopes = st.builds(
    Scope,
    product_ids=some(IDS),
    category_ids=some(CATEGORIES),
    brand_ids=some(BRANDS),
    seller_ids=some(SELLERS),
    excluded_product_ids=some(IDS),
    excluded_category_ids=some(CATEGORIES),
    excluded_brand_ids=some(BRANDS),
    excluded_seller_ids=some(SELLERS),
)
promotion_lines = st.builds(
    lambda product, seller, brand, categories: PromotionLine(
        f"off_{product}", product, seller, brand, categories, 1, 100, 100
    ),
    st.sampled_from(IDS),
    st.sampled_from(SELLERS),
    st.none() | st.sampled_from(BRANDS),
    some(CATEGORIES),
)


@given(st.lists(scopes, max_size=12), st.lists(promotion_lines, min_size=1, max_size=5))
def test_the_index_finds_exactly_the_lines_each_scope_matches(
    scope_list: list[Scope], lines: list[PromotionLine]
) -> None:
    # given promotions indexed by scope
    promotions = [promo(f"p{n:02d}", scope=scope) for n, scope in enumerate(scope_list)]
    # when
    found = PromotionSet(promotions).candidates(
        lines, currency="EUR", channel_id="web", customer_group=None, now=NOW, is_first_order=False
    )
    # then it agrees with checking every promotion against every line
    brute_force = []
    for promotion in promotions:
        matched = tuple(i for i, line in enumerate(lines) if promotion.scope.matches(line))
        if matched:
            brute_force.append((promotion.id, matched))
    assert [(p.id, scope) for p, scope in found] == brute_force


# --- stacking -------------------------------------------------------------------------------


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=25))
def test_allocating_minor_units_matches_money_allocate(total: int, weights: list[int]) -> None:
    if not any(weights):
        weights[0] = 1
    expected = [m.amount for m in eur(total).allocate(weights)]
    assert allocate_minor_units(total, weights) == expected


def outcomes_for(promotions: list[Promotion], lines: list[PromotionLine]) -> list[PromotionOutcome]:
    outcomes = []
    for promotion in promotions:
        scope = [i for i, line in enumerate(lines) if promotion.scope.matches(line)]
        outcome = evaluate(promotion, lines, scope)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def stacked(
    promotions: list[Promotion],
    lines: list[PromotionLine],
    *,
    budgets: dict[str, int] | None = None,
    cap: int | None = None,
) -> tuple[dict[str, int], dict[str, SetAsideReason]]:
    result = stack_promotions(
        outcomes_for(promotions, lines),
        [line.subtotal for line in lines],
        remaining_budgets=budgets or {},
        max_order_discount=cap,
    )
    return (
        {a.promotion.id: a.amount for a in result.applied},
        {s.promotion_id: s.reason for s in result.set_aside},
    )


def test_combinable_promotions_add_up_against_the_original_subtotals() -> None:
    # given 10 % and 20 % off a 100.00 line
    lines = [pline("a", 10000)]
    promotions = [promo("ten", PercentOff(Decimal(10))), promo("twenty", PercentOff(Decimal(20)))]
    # then 10.00 + 20.00, not 10.00 + 18.00
    assert stacked(promotions, lines) == ({"ten": 1000, "twenty": 2000}, {})


def test_the_exclusive_promotion_wins_when_it_gives_at_least_as_much() -> None:
    lines = [pline("a", 10000)]
    exclusive = promo("staff", PercentOff(Decimal(30)), exclusive=True)
    combinable = [promo("ten", PercentOff(Decimal(10))), promo("twenty", PercentOff(Decimal(20)))]
    # 30.00 alone >= 10.00 + 20.00
    assert stacked([*combinable, exclusive], lines) == (
        {"staff": 3000},
        {
            "ten": SetAsideReason.EXCLUSIVE_PROMOTION_WON,
            "twenty": SetAsideReason.EXCLUSIVE_PROMOTION_WON,
        },
    )
    # a 25 % exclusive gives less than the 30.00 of the combinable pair
    weaker = promo("staff", PercentOff(Decimal(25)), exclusive=True)
    assert stacked([*combinable, weaker], lines) == (
        {"ten": 1000, "twenty": 2000},
        {"staff": SetAsideReason.COMBINED_PROMOTIONS_WON},
    )


def test_priority_picks_the_exclusive_candidate() -> None:
    lines = [pline("a", 10000)]
    promotions = [
        promo("big", PercentOff(Decimal(50)), exclusive=True, priority=1),
        promo("small", PercentOff(Decimal(5)), exclusive=True, priority=9),
    ]
    assert stacked(promotions, lines) == (
        {"small": 500},
        {"big": SetAsideReason.OUTRANKED_EXCLUSIVE},
    )


def test_a_budget_caps_the_promotion_and_a_missing_budget_counts_as_spent() -> None:
    lines = [pline("a", 6000), pline("b", 4000)]
    budgeted = promo("budget", PercentOff(Decimal(50)), budget=eur(100000))
    assert stacked([budgeted], lines, budgets={"budget": 1500}) == ({"budget": 1500}, {})
    assert stacked([budgeted], lines, budgets={"budget": 0}) == (
        {},
        {"budget": SetAsideReason.BUDGET_SPENT},
    )
    assert stacked([budgeted], lines) == ({}, {"budget": SetAsideReason.BUDGET_SPENT})


def test_a_capped_line_promotion_is_scaled_across_its_lines() -> None:
    # given 50 % off 60.00 and 40.00 (50.00) capped at 15.00 by its maximum
    lines = [pline("a", 6000), pline("b", 4000)]
    capped = promo("max", PercentOff(Decimal(50)), max_discount=eur(1500))
    result = stack_promotions(
        outcomes_for([capped], lines),
        [6000, 4000],
        remaining_budgets={},
    )
    (applied,) = result.applied
    assert applied.line_amounts == ((0, 900), (1, 600))
    assert describe(applied.outcome, "EUR") == "50% off 2 units; capped by the promotion's maximum"


def test_the_order_maximum_is_filled_in_rank_order() -> None:
    lines = [pline("a", 10000)]
    promotions = [
        promo("first", PercentOff(Decimal(20)), priority=2),
        promo("second", PercentOff(Decimal(20)), priority=1),
        promo("third", PercentOff(Decimal(20)), priority=0),
    ]
    assert stacked(promotions, lines, cap=3000) == (
        {"first": 2000, "second": 1000},
        {"third": SetAsideReason.ORDER_MAXIMUM_REACHED},
    )


def test_nothing_goes_below_zero_and_an_order_discount_uses_what_is_left() -> None:
    # given 80 % off line a (ranked first), and 30.00 off the order of a and b (10.00 each)
    lines = [pline("a", 1000), pline("b", 1000)]
    promotions = [
        promo(
            "eighty",
            PercentOff(Decimal(80)),
            priority=1,
            scope=Scope(product_ids=frozenset({"prd_a"})),
        ),
        promo("thirty", AmountOff(eur(3000))),
    ]
    result = stack_promotions(
        outcomes_for(promotions, lines),
        [1000, 1000],
        remaining_budgets={},
    )
    eighty, thirty = result.applied
    assert eighty.line_amounts == ((0, 800),)
    # only 12.00 was left: 2.00 of a and 10.00 of b
    assert (thirty.amount, thirty.line_amounts) == (1200, ((0, 200), (1, 1000)))
    assert describe(thirty.outcome, "EUR") == "30.00 EUR off; reduced to what the lines still cost"


def test_stacking_does_not_depend_on_the_order_of_the_outcomes() -> None:
    lines = [pline("a", 1999, 3), pline("b", 4999), pline("c", 700, 2)]
    promotions = [
        promo("p1", PercentOff(Decimal(15)), priority=3),
        promo("p2", AmountOff(eur(2500)), priority=3),
        promo("p3", BuyXGetY(1, 1)),
        promo("p4", FixedPrice(eur(1500)), priority=1),
        promo("p5", PercentOff(Decimal(40)), exclusive=True),
    ]
    outcomes = outcomes_for(promotions, lines)
    expected = stack_promotions(
        outcomes, [5997, 4999, 1400], remaining_budgets={}, max_order_discount=4000
    )
    for seed in range(10):
        shuffled = list(outcomes)
        random.Random(seed).shuffle(shuffled)
        again = stack_promotions(
            shuffled, [5997, 4999, 1400], remaining_budgets={}, max_order_discount=4000
        )
        assert again == expected
