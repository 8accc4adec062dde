"""The checkout quote: discounts, VAT after discounts, shipping per fulfiller, explanations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.checkout.addresses import Address
from bazaar.checkout.model import quote
from bazaar.checkout.quote_parts import AdjustmentKind, CheckoutLine, Discount, Quote
from bazaar.checkout.shipping import ShippingRule, WeightBand
from bazaar.checkout.tax import DEFAULT_TAX_TABLE, RateClass, category_rate_classes, tax_on
from bazaar.kernel.errors import CurrencyMismatch, ValidationFailed
from bazaar.kernel.money import Money, sum_money

RETAILER_RULES = [
    ShippingRule("std", "Standard", flat_rate=Money(495, "EUR"), free_over=Money(5000, "EUR"))
]
SELLER_RULES = [
    ShippingRule(
        "parcel",
        "Parcel",
        weight_bands=(WeightBand(2000, Money(695, "EUR")), WeightBand(30000, Money(1295, "EUR"))),
    )
]
RULES = {"retailer": RETAILER_RULES, "sel_a": SELLER_RULES}


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def line(
    offer_id: str,
    price: int,
    quantity: int = 1,
    *,
    fulfiller: str = "retailer",
    category: str = "cat_shoes",
    weight_g: int = 500,
) -> CheckoutLine:
    return CheckoutLine(
        offer_id, f"SKU-{offer_id}", fulfiller, category, quantity, eur(price), weight_g
    )


def priced(
    lines: list[CheckoutLine],
    discounts: tuple[Discount, ...] = (),
    *,
    inclusive: bool = False,
    destination: Address | str = "NL",
    rate_classes: dict[str, RateClass] | None = None,
) -> Quote:
    return quote(
        lines,
        destination=destination,
        tax_table=DEFAULT_TAX_TABLE,
        shipping_rules=RULES,
        discounts=discounts,
        prices_include_tax=inclusive,
        rate_classes=rate_classes,
    )


def test_a_simple_tax_exclusive_quote() -> None:
    # given two lines from the retailer, shipped to the Netherlands
    lines = [line("off_1", 1000, 2), line("off_2", 1550)]
    # when
    q = priced(lines)
    # then: 21 % per line, shipping 4.95 + 21 % (1.04), grand total adds up
    first, second = q.lines
    assert (first.subtotal, first.tax, first.total) == (eur(2000), eur(420), eur(2420))
    assert (second.subtotal, second.tax, second.total) == (eur(1550), eur(326), eur(1876))
    (charge,) = q.shipping
    assert (charge.amount, charge.tax, charge.total) == (eur(495), eur(104), eur(599))
    assert q.totals.subtotal == eur(3550)
    assert q.totals.shipping == eur(495)
    assert q.totals.tax == eur(850)
    assert q.totals.grand_total == eur(2420 + 1876 + 599)
    assert q.currency == "EUR"
    assert q.country == "NL"


def test_a_tax_inclusive_quote_takes_the_tax_out_of_the_price() -> None:
    # given prices that include VAT
    lines = [line("off_1", 1210)]
    # when
    q = priced(lines, inclusive=True)
    # then: the line costs what it says, 2.10 of it VAT; shipping 4.95 holds 0.86 VAT
    assert q.lines[0].total == eur(1210)
    assert q.lines[0].tax == eur(210)
    assert q.shipping[0].total == eur(495)
    assert q.shipping[0].tax == eur(86)
    assert q.totals.grand_total == eur(1210 + 495)
    tax_labels = [a.label for a in q.adjustments if a.kind is AdjustmentKind.TAX]
    assert tax_labels == ["VAT 21% included (NL, standard)"]


def test_vat_is_computed_after_discounts() -> None:
    # given a 10.00 line with 2.50 off
    lines = [line("off_1", 1000)]
    discounts = (Discount("promo_1", "2.50 off shoes", eur(250), "off_1"),)
    # when
    q = priced(lines, discounts)
    # then: 21 % of 7.50 = 1.575 -> 1.58
    assert q.lines[0].discount == eur(250)
    assert q.lines[0].tax == eur(158)
    assert q.lines[0].total == eur(750 + 158)


def test_an_order_discount_is_spread_by_line_subtotal_without_losing_a_cent() -> None:
    # given three lines and a 10.00 order discount that does not divide evenly
    lines = [line("off_1", 1000), line("off_2", 1000), line("off_3", 1000)]
    discounts = (Discount("promo_10", "10.00 off your order", eur(1000)),)
    # when
    q = priced(lines, discounts)
    # then
    assert [x.discount for x in q.lines] == [eur(334), eur(333), eur(333)]
    assert q.totals.discount == eur(1000)
    (adjustment,) = [a for a in q.adjustments if a.kind is AdjustmentKind.DISCOUNT]
    assert adjustment.amount == eur(1000)
    assert adjustment.source == "promo_10"
    assert adjustment.target is None
    assert all(x.discounts[0].rule_id == "promo_10" for x in q.lines)


def test_order_discounts_apply_after_line_discounts_to_what_is_left() -> None:
    # given a line fully discounted by a line discount, and an order discount
    lines = [line("off_1", 1000), line("off_2", 3000)]
    discounts = (
        Discount("promo_order", "5.00 off", eur(500)),
        Discount("promo_free", "Free socks", eur(1000), "off_1"),
    )
    # when
    q = priced(lines, discounts)
    # then: the order discount lands entirely on the line that still costs something
    assert q.line("off_1").discount == eur(1000)
    assert q.line("off_2").discount == eur(500)
    assert q.line("off_1").tax == eur(0)
    sources = [a.source for a in q.adjustments if a.kind is AdjustmentKind.DISCOUNT]
    assert sources == ["promo_free", "promo_order"]


def test_discounts_are_capped_so_nothing_goes_negative() -> None:
    # given discounts worth more than the cart
    lines = [line("off_1", 1000)]
    discounts = (
        Discount("promo_line", "20.00 off", eur(2000), "off_1"),
        Discount("promo_order", "5.00 off", eur(500)),
    )
    # when
    q = priced(lines, discounts)
    # then: the applied amounts are what the cart could absorb
    assert q.lines[0].total == eur(0)
    applied = {a.source: a.amount for a in q.adjustments if a.kind is AdjustmentKind.DISCOUNT}
    assert applied == {"promo_line": eur(1000), "promo_order": eur(0)}


def test_reduced_rate_categories_use_the_destinations_reduced_rate() -> None:
    # given a book (reduced rate) and shoes, shipped to Germany and to France
    lines = [line("off_book", 1000, category="cat_books"), line("off_shoe", 1000)]
    classes = {"cat_books": RateClass.REDUCED}
    # when
    de = priced(lines, rate_classes=classes, destination="DE")
    fr = priced(lines, rate_classes=classes, destination="FR")
    # then
    assert [x.tax_rate for x in de.lines] == [Decimal("0.07"), Decimal("0.19")]
    assert [x.tax for x in de.lines] == [eur(70), eur(190)]
    assert [x.tax for x in fr.lines] == [eur(55), eur(200)]
    labels = [a.label for a in de.adjustments if a.kind is AdjustmentKind.TAX]
    assert labels == ["VAT 7% (DE, reduced)", "VAT 19% (DE, standard)"]


def test_a_resolver_with_inherited_categories_can_be_passed() -> None:
    # given / when
    resolve = category_rate_classes(
        {"cat_food": RateClass.REDUCED}, ancestors={"cat_cheese": ("cat_food",)}
    )
    q = quote(
        [line("off_1", 1000, category="cat_cheese")],
        destination="NL",
        tax_table=DEFAULT_TAX_TABLE,
        shipping_rules=RULES,
        prices_include_tax=False,
        rate_classes=resolve,
    )
    # then
    assert q.lines[0].rate_class is RateClass.REDUCED
    assert q.lines[0].tax == eur(90)


def test_shipping_is_charged_per_fulfiller_and_free_over_the_threshold_after_discounts() -> None:
    # given 60.00 from the retailer (free shipping over 50.00), 3 kg from a seller
    lines = [line("off_1", 6000), line("off_2", 1000, 3, fulfiller="sel_a", weight_g=1000)]
    # when
    full = priced(lines)
    discounted = priced(lines, (Discount("promo", "15.00 off", eur(1500), "off_1"),))
    # then: the discount pushes the retailer's subtotal below the threshold
    assert [(c.fulfiller_id, c.amount) for c in full.shipping] == [
        ("retailer", eur(0)),
        ("sel_a", eur(1295)),
    ]
    assert discounted.shipping[0].amount == eur(495)
    shipping = [a for a in full.adjustments if a.kind is AdjustmentKind.SHIPPING]
    assert [(a.source, a.target) for a in shipping] == [
        ("shipping:std", "retailer"),
        ("shipping:parcel", "sel_a"),
    ]
    assert "free" in shipping[0].label
    assert "3000 g" in shipping[1].label


def test_destination_may_be_an_address() -> None:
    # given
    address = Address("Anna", "Rue de Rivoli 1", "75001", "Paris", "FR")
    # when
    q = priced([line("off_1", 1000)], destination=address)
    # then
    assert q.country == "FR"
    assert q.lines[0].tax_rate == Decimal("0.20")


def test_mixed_currencies_are_refused() -> None:
    # given / when / then
    lines = [line("off_1", 1000), CheckoutLine("off_2", "S", "retailer", "c", 1, Money(1, "USD"))]
    with pytest.raises(CurrencyMismatch) as caught:
        priced(lines)
    assert caught.value.errors[0].field == "lines[1].unit_price.currency"
    with pytest.raises(CurrencyMismatch):
        priced([line("off_1", 1000)], (Discount("p", "p", Money(1, "GBP")),))


@pytest.mark.parametrize(
    ("lines", "discounts", "field"),
    [
        ([], (), "lines"),
        ([line("off_1", 100), line("off_1", 100)], (), "lines[1].offer_id"),
        ([line("off_1", 100, 0)], (), "lines[0].quantity"),
        ([line("off_1", -1)], (), "lines[0].unit_price"),
        ([line("off_1", 100, weight_g=-5)], (), "lines[0].weight_g"),
        ([line("off_1", 100)], (Discount("p", "p", eur(-1)),), "discounts[0].amount"),
        ([line("off_1", 100)], (Discount("p", "p", eur(1), "off_9"),), "discounts[0].offer_id"),
    ],
)
def test_bad_input_names_the_field(
    lines: list[CheckoutLine], discounts: tuple[Discount, ...], field: str
) -> None:
    # given / when / then
    with pytest.raises(ValidationFailed) as caught:
        priced(lines, discounts)
    assert field in [e.field for e in caught.value.errors]


@pytest.mark.parametrize(("destination", "code"), [("US", "no_tax_rates"), ("XX", "invalid")])
def test_destinations_that_cannot_be_taxed_are_refused(destination: str, code: str) -> None:
    # given / when / then
    with pytest.raises(ValidationFailed) as caught:
        priced([line("off_1", 1000)], destination=destination)
    assert caught.value.errors[0].field == "shipping_address.country"
    assert caught.value.errors[0].code == code


def test_unshippable_destinations_are_refused() -> None:
    # given a seller that only ships to the Netherlands
    rules = {
        "sel_a": [ShippingRule("nl", "NL only", flat_rate=eur(1), countries=frozenset({"NL"}))]
    }
    # when / then
    with pytest.raises(ValidationFailed) as caught:
        quote(
            [line("off_1", 1000, fulfiller="sel_a")],
            destination="BE",
            tax_table=DEFAULT_TAX_TABLE,
            shipping_rules=rules,
            prices_include_tax=False,
        )
    assert caught.value.errors[0].code == "not_shippable"


# -- properties -----------------------------------------------------------------------------

FULFILLERS = ("retailer", "sel_a")
CATEGORIES = ("cat_books", "cat_shoes", "cat_baby")
CLASSES = {"cat_books": RateClass.REDUCED, "cat_baby": RateClass.ZERO}


@st.composite
def carts(draw: st.DrawFn) -> tuple[list[CheckoutLine], tuple[Discount, ...], bool, str]:
    count = draw(st.integers(min_value=1, max_value=6))
    lines = [
        CheckoutLine(
            f"off_{i}",
            f"SKU-{i}",
            draw(st.sampled_from(FULFILLERS)),
            draw(st.sampled_from(CATEGORIES)),
            draw(st.integers(min_value=1, max_value=20)),
            eur(draw(st.integers(min_value=0, max_value=100_000))),
            draw(st.integers(min_value=0, max_value=200)),  # at most 24 kg in all
        )
        for i in range(count)
    ]
    discounts = tuple(
        Discount(
            f"rule_{i}",
            f"Discount {i}",
            eur(draw(st.integers(min_value=0, max_value=200_000))),
            draw(st.one_of(st.none(), st.sampled_from([x.offer_id for x in lines]))),
        )
        for i in range(draw(st.integers(min_value=0, max_value=4)))
    )
    inclusive = draw(st.booleans())
    country = draw(st.sampled_from(["NL", "DE", "FR", "BE", "DK", "SE"]))
    return lines, discounts, inclusive, country


def quoted(cart: tuple[list[CheckoutLine], tuple[Discount, ...], bool, str]) -> Quote:
    lines, discounts, inclusive, country = cart
    return quote(
        lines,
        destination=country,
        tax_table=DEFAULT_TAX_TABLE,
        shipping_rules=RULES,
        discounts=discounts,
        prices_include_tax=inclusive,
        rate_classes=CLASSES,
    )


@given(carts())
def test_grand_total_is_the_sum_of_line_and_shipping_totals(
    cart: tuple[list[CheckoutLine], tuple[Discount, ...], bool, str],
) -> None:
    # given / when
    q = quoted(cart)
    # then
    lines_total = sum_money((x.total for x in q.lines), "EUR")
    shipping_total = sum_money((c.total for c in q.shipping), "EUR")
    assert q.totals.grand_total == lines_total + shipping_total
    t = q.totals
    if q.prices_include_tax:
        assert t.grand_total == t.subtotal - t.discount + t.shipping
    else:
        assert t.grand_total == t.subtotal - t.discount + t.shipping + t.tax


@given(carts())
def test_nothing_is_negative(
    cart: tuple[list[CheckoutLine], tuple[Discount, ...], bool, str],
) -> None:
    # given / when
    q = quoted(cart)
    # then
    amounts = [a.amount for a in q.adjustments]
    for x in q.lines:
        amounts += [x.subtotal, x.discount, x.tax, x.total, *(d.amount for d in x.discounts)]
        assert x.discount <= x.subtotal
    for c in q.shipping:
        amounts += [c.amount, c.tax, c.total]
    t = q.totals
    amounts += [t.subtotal, t.discount, t.shipping, t.tax, t.grand_total]
    assert all(not m.is_negative() for m in amounts)


@given(carts())
def test_discount_shares_add_up_exactly_and_never_exceed_what_was_decided(
    cart: tuple[list[CheckoutLine], tuple[Discount, ...], bool, str],
) -> None:
    # given / when
    q = quoted(cart)
    # then: per rule, line shares sum to the applied adjustment, which is at most requested
    _, discounts, _, _ = cart
    applied = {a.source: a.amount for a in q.adjustments if a.kind is AdjustmentKind.DISCOUNT}
    assert len(applied) == len(discounts)
    for discount in discounts:
        shares = [d.amount for x in q.lines for d in x.discounts if d.rule_id == discount.rule_id]
        assert sum_money(shares, "EUR") == applied[discount.rule_id]
        assert applied[discount.rule_id] <= discount.amount
        if discount.offer_id is not None:
            assert all(
                x.offer_id == discount.offer_id
                for x in q.lines
                for d in x.discounts
                if d.rule_id == discount.rule_id
            )
    assert sum_money(applied.values(), "EUR") == q.totals.discount
    # a capped order discount means every line is fully discounted
    order_capped = any(d.offer_id is None and applied[d.rule_id] < d.amount for d in discounts)
    if order_capped:
        assert all(x.discount == x.subtotal for x in q.lines)


@given(carts())
def test_tax_is_computed_per_line_after_discounts_and_fully_explained(
    cart: tuple[list[CheckoutLine], tuple[Discount, ...], bool, str],
) -> None:
    # given / when
    q = quoted(cart)
    # then
    for x in q.lines:
        expected = tax_on(x.subtotal - x.discount, x.tax_rate, included=q.prices_include_tax)
        assert x.tax == expected
        assert x.tax_rate == DEFAULT_TAX_TABLE.rate(q.country, x.rate_class)
    for c in q.shipping:
        assert c.tax_rate == DEFAULT_TAX_TABLE.rate(q.country, RateClass.STANDARD)
    by_kind = {
        kind: sum_money((a.amount for a in q.adjustments if a.kind is kind), "EUR")
        for kind in AdjustmentKind
    }
    assert by_kind[AdjustmentKind.TAX] == q.totals.tax
    assert by_kind[AdjustmentKind.SHIPPING] == q.totals.shipping
    assert by_kind[AdjustmentKind.DISCOUNT] == q.totals.discount
    assert all(a.label and a.source for a in q.adjustments)
