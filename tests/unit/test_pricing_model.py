"""The pricing core end to end: effective prices, cart quotes, and the hand-over to checkout."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bazaar.checkout.model import quote
from bazaar.checkout.quote_parts import CheckoutLine, Quote
from bazaar.checkout.shipping import ShippingRule
from bazaar.checkout.tax import DEFAULT_TAX_TABLE
from bazaar.kernel.errors import CurrencyMismatch, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.coupons import Coupon, CouponProblem, EnteredCoupon, RejectedCoupon
from bazaar.pricing.experiments import Experiment, Exposure, Variant, assign_variant
from bazaar.pricing.model import (
    OfferPrices,
    PricedCart,
    PricingContext,
    PricingLine,
    PricingRules,
    effective_prices,
    price_cart,
    reprice_checkout_lines,
    to_discounts,
)
from bazaar.pricing.price_lists import PriceList, PriceListEntry, PriceSource, SalePrice, Tier
from bazaar.pricing.promotion_actions import (
    Action,
    AmountOff,
    BuyXGetY,
    FixedPrice,
    FreeShipping,
    PercentOff,
    SpendTier,
    Target,
    TieredSpend,
)
from bazaar.pricing.promotions import Conditions, Promotion, Scope
from bazaar.pricing.stacking import SetAsideReason

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def context(**kwargs: object) -> PricingContext:
    values: dict[str, object] = {
        "currency": "EUR",
        "channel_id": "web",
        "now": NOW,
        "customer_id": "cus_1",
        "customer_group": "retail",
    }
    values.update(kwargs)
    return PricingContext(**values)  # type: ignore[arg-type]


def line(
    offer_id: str,
    price: int,
    quantity: int = 1,
    *,
    seller: str = "retailer",
    categories: frozenset[str] = frozenset({"cat_shoes", "cat_fashion"}),
    brand: str | None = "brd_acme",
    prices: tuple[Money, ...] | None = None,
) -> PricingLine:
    return PricingLine(
        offer_id,
        f"prd_{offer_id}",
        seller,
        quantity,
        prices if prices is not None else (eur(price),),
        categories,
        brand,
    )


def promo(promotion_id: str, action: Action, **kwargs: object) -> Promotion:
    return Promotion(promotion_id, f"Label {promotion_id}", action, **kwargs)  # type: ignore[arg-type]


BUSINESS = PriceList(
    "pl_business",
    "Business",
    "EUR",
    (PriceListEntry("off_a", (Tier(1, eur(1000), 9), Tier(10, eur(900), 49), Tier(50, eur(800)))),),
    customer_groups=frozenset({"business"}),
)


def unit_price(rules: PricingRules, pricing_line: PricingLine, **kwargs: object) -> Money:
    cart = price_cart([pricing_line], context(**kwargs), rules)
    return cart.lines[0].price.unit_price


# --- effective unit prices ------------------------------------------------------------------


def test_without_rules_a_line_costs_its_base_price() -> None:
    cart = price_cart([line("off_a", 1250, 2)], context(), PricingRules())
    (priced,) = cart.lines
    assert (priced.price.unit_price, priced.price.source, priced.price.explanation) == (
        eur(1250),
        PriceSource.BASE,
        "Base price",
    )
    assert (priced.subtotal, priced.discount, priced.total) == (eur(2500), eur(0), eur(2500))


@pytest.mark.parametrize(
    ("quantity", "expected"), [(1, 1000), (9, 1000), (10, 900), (49, 900), (50, 800), (500, 800)]
)
def test_quantity_tiers_price_each_unit(quantity: int, expected: int) -> None:
    rules = PricingRules.compile(price_lists=[BUSINESS])
    assert unit_price(rules, line("off_a", 1100, quantity), customer_group="business") == eur(
        expected
    )


def test_a_price_list_explains_itself() -> None:
    rules = PricingRules.compile(price_lists=[BUSINESS])
    cart = price_cart([line("off_a", 1100, 12)], context(customer_group="business"), rules)
    price = cart.lines[0].price
    assert (price.source, price.rule_id) == (PriceSource.PRICE_LIST, "pl_business")
    assert price.explanation == "Business: 10-49 at 9.00 EUR"
    assert cart.lines[0].subtotal == eur(10800)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"customer_group": "business"}, 700),
        ({"customer_group": None}, 1100),  # a guest
        ({"customer_group": "business", "channel_id": "app"}, 1100),
        ({"customer_group": "business", "now": NOW - timedelta(days=2)}, 1100),  # not yet
        ({"customer_group": "business", "now": NOW + timedelta(days=7)}, 1100),  # ends_at: over
        ({"customer_group": "business", "currency": "GBP"}, 990),  # no GBP list: GBP base
    ],
)
def test_a_price_list_applies_to_its_group_channel_currency_and_dates(
    kwargs: dict[str, object], expected: int
) -> None:
    scoped = PriceList(
        "pl_web",
        "Web business week",
        "EUR",
        (PriceListEntry("off_a", (Tier(1, eur(700)),)),),
        channel_ids=frozenset({"web"}),
        customer_groups=frozenset({"business"}),
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW + timedelta(days=7),
    )
    rules = PricingRules.compile(price_lists=[scoped])
    pricing_line = line("off_a", 0, prices=(eur(1100), Money(990, "GBP")))
    currency = str(kwargs.get("currency", "EUR"))
    assert unit_price(rules, pricing_line, **kwargs) == Money(expected, currency)


def test_the_highest_priority_list_wins_even_when_dearer_and_ties_go_to_the_cheaper() -> None:
    def single(list_id: str, price: int, priority: int) -> PriceList:
        entry = PriceListEntry("off_a", (Tier(1, eur(price)),))
        return PriceList(list_id, list_id, "EUR", (entry,), priority=priority)

    market = PricingRules.compile(price_lists=[single("cheap", 800, 0), single("market", 1500, 5)])
    assert unit_price(market, line("off_a", 1000)) == eur(1500)
    tied = PricingRules.compile(price_lists=[single("b", 800, 1), single("a", 900, 1)])
    assert unit_price(tied, line("off_a", 1000)) == eur(800)


def test_a_quantity_in_a_tier_gap_falls_back_to_the_base_price() -> None:
    gap = PriceList("pl_gap", "Volume", "EUR", (PriceListEntry("off_a", (Tier(20, eur(700)),)),))
    rules = PricingRules.compile(price_lists=[gap])
    assert unit_price(rules, line("off_a", 1000, 19)) == eur(1000)
    assert unit_price(rules, line("off_a", 1000, 20)) == eur(700)


def test_a_sale_lowers_the_price_and_keeps_the_regular_one_to_strike_through() -> None:
    sale = SalePrice(
        "off_a",
        eur(850),
        NOW - timedelta(days=1),
        datetime(2026, 11, 30, tzinfo=UTC),
        "Black Friday",
    )
    rules = PricingRules.compile(price_lists=[BUSINESS], sale_prices=[sale])
    cart = price_cart([line("off_a", 1100, 12)], context(customer_group="business"), rules)
    price = cart.lines[0].price
    assert (price.unit_price, price.regular_price, price.source) == (
        eur(850),
        eur(900),
        PriceSource.SALE,
    )
    assert price.explanation == "Black Friday until 2026-11-30 00:00 UTC"


def test_a_sale_never_raises_a_price() -> None:
    sale = SalePrice("off_a", eur(950))
    rules = PricingRules.compile(price_lists=[BUSINESS], sale_prices=[sale])
    assert unit_price(rules, line("off_a", 1100, 12), customer_group="business") == eur(900)
    assert unit_price(rules, line("off_a", 1100, 12)) == eur(950)  # retail: 11.00 base


def test_effective_prices_price_a_listing_page_in_one_call() -> None:
    # given three offers, one of them without a EUR price, and a price test on product b
    experiment = Experiment(
        "exp_b",
        (Variant("control"), Variant("lower", price_change_percent=Decimal(-5))),
        product_ids=frozenset({"prd_b"}),
    )
    unit = next(
        f"cus_{n}" for n in range(100) if assign_variant(experiment, f"cus_{n}").id == "lower"
    )
    rules = PricingRules.compile(price_lists=[BUSINESS], experiments=[experiment])
    offers = [
        OfferPrices("off_a", "prd_a", (eur(1100),)),
        OfferPrices("off_b", "prd_b", (eur(2000),)),
        OfferPrices("off_c", "prd_c", (Money(500, "GBP"),)),
    ]
    # when
    listing = effective_prices(offers, context(customer_id=unit, customer_group="business"), rules)
    # then
    assert {k: v.unit_price for k, v in listing.prices.items()} == {
        "off_a": eur(1000),
        "off_b": eur(1900),
    }
    assert listing.exposures == (Exposure("exp_b", "lower"),)


# --- promotions on a cart -------------------------------------------------------------------


def test_a_quote_lists_every_adjustment_with_the_rule_that_made_it() -> None:
    # given 20 % off shoes, 10 off over 100 (25 over 200), free shipping from 50
    shoes = Scope(category_ids=frozenset({"cat_shoes"}))
    tiers = (SpendTier(eur(10000), eur(1000)), SpendTier(eur(20000), eur(2500)))
    rules = PricingRules.compile(
        price_lists=[BUSINESS],
        promotions=[
            promo("shoes20", PercentOff(Decimal(20)), scope=shoes),
            promo("spend", TieredSpend(tiers)),
            promo("ship", FreeShipping(), conditions=Conditions(min_subtotal=eur(5000))),
        ],
    )
    lines = [
        line("off_a", 1100, 12),  # 12 x 9.00 business = 108.00
        line("off_b", 5000, seller="sel_a", categories=frozenset({"cat_bags"})),
    ]
    # when
    cart = price_cart(lines, context(customer_group="business"), rules)
    # then: 20 % of 108.00 = 21.60 on a; 10.00 spread over what is left (86.40 and 50.00)
    assert [(a.promotion_id, a.amount, dict(a.shares)) for a in cart.adjustments] == [
        ("ship", eur(0), {}),
        ("shoes20", eur(2160), {"off_a": eur(2160)}),
        ("spend", eur(1000), {"off_a": eur(633), "off_b": eur(367)}),
    ]
    assert [a.explanation for a in cart.adjustments] == [
        "Free shipping from retailer, sel_a",
        "20% off 12 units",
        "10.00 EUR off for spending 158.00 EUR (from 100.00 EUR)",
    ]
    assert [(x.subtotal, x.discount, x.total) for x in cart.lines] == [
        (eur(10800), eur(2793), eur(8007)),
        (eur(5000), eur(367), eur(4633)),
    ]
    assert (cart.subtotal, cart.discount, cart.total) == (eur(15800), eur(3160), eur(12640))
    assert cart.free_shipping_fulfillers == {"retailer", "sel_a"}
    assert cart.discounts_on("off_a") == {"shoes20": eur(2160), "spend": eur(633)}
    assert cart.spend_by_promotion() == {"ship": eur(0), "shoes20": eur(2160), "spend": eur(1000)}


def test_an_order_discount_is_spread_without_losing_a_cent() -> None:
    rules = PricingRules.compile(promotions=[promo("ten", AmountOff(eur(1000)))])
    cart = price_cart([line("a", 1000), line("b", 1000), line("c", 1000)], context(), rules)
    (adjustment,) = cart.adjustments
    assert dict(adjustment.shares) == {"a": eur(334), "b": eur(333), "c": eur(333)}


def test_a_coupon_unlocks_its_promotion_and_is_named_in_the_explanation() -> None:
    rules = PricingRules.compile(
        promotions=[
            promo("pro_c", PercentOff(Decimal(10)), conditions=Conditions(coupon_required=True))
        ]
    )
    coupon = Coupon("save-10", "pro_c", expires_at=NOW + timedelta(days=1))
    without = price_cart([line("a", 5000)], context(), rules)
    assert without.adjustments == ()
    cart = price_cart([line("a", 5000)], context(coupons=(EnteredCoupon(coupon, 0, 0),)), rules)
    (adjustment,) = cart.adjustments
    assert (adjustment.amount, adjustment.coupon_code) == (eur(500), "SAVE10")
    assert adjustment.explanation == "10% off 1 unit; with coupon SAVE10"


def test_coupons_that_do_not_work_say_why() -> None:
    rules = PricingRules.compile(
        promotions=[
            promo(
                "pro_big",
                AmountOff(eur(1000)),
                conditions=Conditions(coupon_required=True, min_subtotal=eur(10000)),
            )
        ]
    )
    coupons = (
        EnteredCoupon(Coupon("OLD", "pro_big", expires_at=NOW), 0, 0),
        EnteredCoupon(Coupon("BIG", "pro_big"), 0, 0),
    )
    cart = price_cart([line("a", 5000)], context(coupons=coupons), rules)
    assert cart.adjustments == ()
    assert cart.rejected_coupons == (
        RejectedCoupon("OLD", CouponProblem.EXPIRED),
        RejectedCoupon("BIG", CouponProblem.CONDITIONS_NOT_MET),
    )


def test_free_shipping_from_one_seller_names_only_that_seller() -> None:
    rules = PricingRules.compile(
        promotions=[promo("ship_a", FreeShipping(), scope=Scope(seller_ids=frozenset({"sel_a"})))]
    )
    cart = price_cart([line("a", 1000, seller="sel_a"), line("b", 1000)], context(), rules)
    assert cart.free_shipping_fulfillers == {"sel_a"}
    assert cart.discount == eur(0)


def test_budget_and_order_maximum_limit_what_a_cart_gets() -> None:
    rules = PricingRules.compile(
        promotions=[
            promo("budgeted", PercentOff(Decimal(50)), budget=eur(100_000), priority=1),
            promo("other", PercentOff(Decimal(20))),
        ]
    )
    lines = [line("a", 10000)]
    # 50.00 wanted, 12.34 left in the budget; 20.00 from the other
    cart = price_cart(lines, context(), rules, remaining_budgets={"budgeted": eur(1234)})
    assert cart.spend_by_promotion() == {"budgeted": eur(1234), "other": eur(2000)}
    assert cart.adjustments[0].explanation == "50% off 1 unit; capped by the remaining budget"
    # with a 25.00 maximum per order, the higher-ranked promotion keeps its share first
    capped = price_cart(
        lines,
        context(),
        rules,
        remaining_budgets={"budgeted": eur(1234)},
        max_order_discount=eur(2500),
    )
    assert capped.spend_by_promotion() == {"budgeted": eur(1234), "other": eur(1266)}
    # no budget given: spent
    spent = price_cart(lines, context(), rules)
    assert [(s.promotion_id, s.reason) for s in spent.set_aside] == [
        ("budgeted", SetAsideReason.BUDGET_SPENT)
    ]


def test_budgeted_free_shipping_may_waive_only_what_is_left_of_the_budget() -> None:
    # Given free shipping with a budget, 7.00 of it left
    rules = PricingRules.compile(promotions=[promo("ship", FreeShipping(), budget=eur(100_000))])
    lines = [line("a", 1000)]

    # When a cart is priced
    cart = price_cart(lines, context(), rules, remaining_budgets={"ship": eur(700)})

    # Then the waiver may take at most 7.00 off shipping, and the explanation says so
    [adjustment] = cart.adjustments
    assert adjustment.shipping_budget == eur(700)
    assert adjustment.explanation == (
        "Free shipping from retailer; shipping waived is drawn from the budget, 7.00 EUR left"
    )
    # And what the quote waived is what order placement draws, never more than the limit
    assert cart.spend_by_promotion({"ship": eur(495)}) == {"ship": eur(495)}
    with pytest.raises(ValueError, match="more than"):
        cart.spend_by_promotion({"ship": eur(701)})
    with pytest.raises(ValueError, match="waives no shipping"):
        cart.spend_by_promotion({"other": eur(1)})

    # And with the budget spent the promotion waives nothing
    spent = price_cart(lines, context(), rules, remaining_budgets={"ship": eur(0)})
    assert spent.free_shipping_fulfillers == frozenset()
    assert [(s.promotion_id, s.reason) for s in spent.set_aside] == [
        ("ship", SetAsideReason.BUDGET_SPENT)
    ]


def test_free_shipping_without_a_budget_has_no_shipping_limit() -> None:
    rules = PricingRules.compile(promotions=[promo("ship", FreeShipping())])
    [adjustment] = price_cart([line("a", 1000)], context(), rules).adjustments
    assert adjustment.shipping_budget is None
    assert adjustment.explanation == "Free shipping from retailer"


def test_a_variant_can_switch_a_promotion_off() -> None:
    experiment = Experiment(
        "exp_promo", (Variant("on"), Variant("off", promotions_off=frozenset({"pro_1"})))
    )
    rules = PricingRules.compile(
        promotions=[promo("pro_1", PercentOff(Decimal(10)))], experiments=[experiment]
    )
    by_variant = {assign_variant(experiment, f"cart_{n}").id: f"cart_{n}" for n in range(50)}
    for variant, expected in (("on", eur(100)), ("off", eur(0))):
        cart = price_cart(
            [line("a", 1000)], context(customer_id=None, cart_id=by_variant[variant]), rules
        )
        assert cart.discount == expected
        assert cart.exposures == (Exposure("exp_promo", variant),)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([line("a", 100), line("a", 100)], "lines[1].offer_id"),
        ([line("a", 100, 0)], "lines[0].quantity"),
        ([line("a", -1)], "lines[0].base_prices[0].amount"),
        ([line("a", 0, prices=(Money(100, "GBP"),))], "lines[0].base_prices"),
    ],
)
def test_a_cart_that_cannot_be_priced_names_the_field(lines: list[PricingLine], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        price_cart(lines, context(), PricingRules())
    assert field in [e.field for e in exc.value.errors]


def test_budgets_in_another_currency_are_refused() -> None:
    with pytest.raises(CurrencyMismatch) as exc:
        price_cart(
            [line("a", 100)],
            context(),
            PricingRules(),
            remaining_budgets={"p": Money(5, "GBP")},
            max_order_discount=Money(5, "GBP"),
        )
    assert [e.field for e in exc.value.errors] == [
        "remaining_budgets[p].currency",
        "max_order_discount.currency",
    ]


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        context(now=datetime(2026, 1, 1))
    assert [e.field for e in exc.value.errors] == ["now"]


# --- the hand-over to checkout --------------------------------------------------------------

SHIPPING = {
    seller: [ShippingRule("std", "Standard", flat_rate=eur(495))]
    for seller in ("retailer", "sel_a", "sel_b")
}


def checkout_line(pricing_line: PricingLine, base: int) -> CheckoutLine:
    return CheckoutLine(
        pricing_line.offer_id,
        f"SKU-{pricing_line.offer_id}",
        pricing_line.seller_id,
        "cat_shoes",
        pricing_line.quantity,
        eur(base),
        300,
    )


def checkout_quote(cart: PricedCart, lines: list[PricingLine]) -> Quote:
    base = [checkout_line(x, x.base_prices[0].amount) for x in lines]
    return quote(
        reprice_checkout_lines(base, cart),
        destination="NL",
        tax_table=DEFAULT_TAX_TABLE,
        shipping_rules=SHIPPING,
        discounts=to_discounts(cart),
        prices_include_tax=False,
    )


def test_the_checkout_quote_applies_the_effective_prices_and_vat_after_discounts() -> None:
    # given a business customer (9.00 a unit from 10) and 20 % off
    rules = PricingRules.compile(
        price_lists=[BUSINESS], promotions=[promo("p20", PercentOff(Decimal(20)))]
    )
    lines = [line("off_a", 1100, 10)]
    cart = price_cart(lines, context(customer_group="business"), rules)
    # when
    q = checkout_quote(cart, lines)
    # then 90.00 - 18.00 = 72.00, VAT 21 % of 72.00 = 15.12
    (quoted,) = q.lines
    assert (quoted.unit_price, quoted.subtotal, quoted.discount) == (
        eur(900),
        eur(9000),
        eur(1800),
    )
    assert quoted.tax == eur(1512)
    assert q.totals.discount == cart.discount


def test_repricing_refuses_lines_the_cart_did_not_price() -> None:
    cart = price_cart([line("a", 100, 2)], context(), PricingRules())
    with pytest.raises(ValidationFailed) as exc:
        reprice_checkout_lines([checkout_line(line("b", 100), 100)], cart)
    assert [e.field for e in exc.value.errors] == ["lines[0].offer_id"]
    with pytest.raises(ValidationFailed) as exc:
        reprice_checkout_lines([checkout_line(line("a", 100, 3), 100)], cart)
    assert [e.field for e in exc.value.errors] == ["lines[0].quantity"]


# --- properties -----------------------------------------------------------------------------

SELLERS = ["retailer", "sel_a", "sel_b"]
CATEGORIES = ["cat_1", "cat_2", "cat_3"]
BRANDS = ["brd_1", "brd_2"]


@st.composite
def carts(draw: st.DrawFn) -> list[PricingLine]:
    count = draw(st.integers(1, 6))
    return [
        PricingLine(
            f"off_{n}",
            f"prd_{n}",
            draw(st.sampled_from(SELLERS)),
            draw(st.integers(1, 12)),
            (eur(draw(st.integers(0, 40_000))),),
            draw(st.frozensets(st.sampled_from(CATEGORIES), max_size=2)),
            draw(st.none() | st.sampled_from(BRANDS)),
        )
        for n in range(count)
    ]


def money(low: int, high: int) -> st.SearchStrategy[Money]:
    return st.integers(low, high).map(eur)


percents = st.decimals(Decimal(1), Decimal(100), places=1)
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(PercentOff, percents, st.sampled_from(Target)),
    st.builds(AmountOff, money(1, 20_000), st.sampled_from(Target)),
    st.builds(FixedPrice, money(0, 30_000)),
    st.builds(
        BuyXGetY,
        st.integers(1, 3),
        st.integers(1, 2),
        st.sampled_from([Decimal(50), Decimal(100)]),
        st.none() | st.integers(1, 3),
    ),
    st.builds(
        lambda low, step, a, b: TieredSpend(
            (SpendTier(eur(low), eur(a)), SpendTier(eur(low + step), eur(b)))
        ),
        st.integers(0, 50_000),
        st.integers(1, 50_000),
        st.integers(1, 5_000),
        st.integers(1, 10_000),
    ),
    st.just(FreeShipping()),
)
scopes = st.builds(
    Scope,
    category_ids=st.frozensets(st.sampled_from(CATEGORIES), max_size=1),
    brand_ids=st.frozensets(st.sampled_from(BRANDS), max_size=1),
    seller_ids=st.frozensets(st.sampled_from(SELLERS), max_size=1),
    excluded_seller_ids=st.frozensets(st.sampled_from(SELLERS), max_size=1),
)


@st.composite
def promotion_lists(draw: st.DrawFn, exclusive: bool = True) -> list[Promotion]:
    count = draw(st.integers(0, 8))
    return [
        Promotion(
            f"pro_{n}",
            f"Promotion {n}",
            draw(actions),
            draw(scopes),
            Conditions(min_quantity=draw(st.none() | st.integers(1, 5))),
            priority=draw(st.integers(0, 3)),
            exclusive=exclusive and draw(st.booleans()),
            max_discount=draw(st.none() | money(0, 10_000)),
        )
        for n in range(count)
    ]


def assert_adds_up(cart: PricedCart) -> None:
    assert cart.total == cart.subtotal - cart.discount
    assert cart.subtotal == sum((x.subtotal for x in cart.lines), eur(0))
    assert cart.total == sum((x.total for x in cart.lines), eur(0))
    assert cart.discount == sum((a.amount for a in cart.adjustments), eur(0))
    for adjustment in cart.adjustments:
        assert adjustment.amount == sum(adjustment.shares.values(), eur(0))
        assert all(not share.is_negative() for share in adjustment.shares.values())
    for priced in cart.lines:
        assert not priced.total.is_negative()
        assert priced.total == priced.subtotal - priced.discount
        assert priced.discount == sum(cart.discounts_on(priced.offer_id).values(), eur(0))


@settings(max_examples=150)
@given(carts(), promotion_lists(), st.none() | money(0, 20_000))
def test_totals_are_the_sum_of_lines_and_nothing_goes_negative(
    lines: list[PricingLine], promotions: list[Promotion], cap: Money | None
) -> None:
    cart = price_cart(
        lines, context(), PricingRules.compile(promotions=promotions), max_order_discount=cap
    )
    assert_adds_up(cart)
    if cap is not None:
        assert cart.discount <= cap
    for adjustment in cart.adjustments:
        promotion = next(p for p in promotions if p.id == adjustment.promotion_id)
        if promotion.max_discount is not None:
            assert adjustment.amount <= promotion.max_discount


@settings(max_examples=100)
@given(carts(), promotion_lists(), st.randoms(use_true_random=False))
def test_the_order_promotions_are_listed_in_changes_nothing(
    lines: list[PricingLine], promotions: list[Promotion], rng: random.Random
) -> None:
    shuffled = list(promotions)
    rng.shuffle(shuffled)
    first = price_cart(lines, context(), PricingRules.compile(promotions=promotions))
    again = price_cart(lines, context(), PricingRules.compile(promotions=shuffled))
    assert again == first


@settings(max_examples=100)
@given(
    carts(),
    st.lists(
        st.tuples(st.integers(1, 10), scopes), min_size=1, max_size=5
    ),  # percent off, within 50 % together
    st.lists(st.integers(1, 20), max_size=3),  # order amounts, in per mille of the subtotal
)
def test_combinable_promotions_add_up_when_no_cap_binds(
    lines: list[PricingLine], percent_offs: list[tuple[int, Scope]], per_mille: list[int]
) -> None:
    # given combinable promotions that together stay within what the lines cost
    subtotal = sum(x.base_prices[0].amount * x.quantity for x in lines)
    promotions = [
        promo(f"pct_{n}", PercentOff(Decimal(percent)), scope=scope)
        for n, (percent, scope) in enumerate(percent_offs)
    ]
    promotions += [
        promo(f"amt_{n}", AmountOff(eur(subtotal * share // 1000)))
        for n, share in enumerate(per_mille)
        if subtotal * share // 1000 > 0
    ]
    # when each is applied alone and all together
    together = price_cart(lines, context(), PricingRules.compile(promotions=promotions))
    alone = [
        price_cart(lines, context(), PricingRules.compile(promotions=[p])).discount
        for p in promotions
    ]
    # then the amounts add up, whatever the order they were applied in
    assert together.discount == sum(alone, eur(0))


@settings(max_examples=100)
@given(carts(), promotion_lists())
def test_the_checkout_quote_applies_exactly_the_pricing_discounts(
    lines: list[PricingLine], promotions: list[Promotion]
) -> None:
    # given a priced cart
    cart = price_cart(lines, context(), PricingRules.compile(promotions=promotions))
    # when the checkout quote applies its prices and discounts
    q = checkout_quote(cart, lines)
    # then it caps nothing and lands every cent where pricing put it
    assert q.totals.subtotal == cart.subtotal
    assert q.totals.discount == cart.discount
    for quoted, priced in zip(q.lines, cart.lines, strict=True):
        assert quoted.discount == priced.discount
        assert not (quoted.subtotal - quoted.discount).is_negative()
