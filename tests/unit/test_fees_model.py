"""Fee rules: commission rates and basis, minimum per line, order fees, listing fees."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.fees.model import (
    ActiveInterval,
    CommissionBasis,
    CommissionSchedule,
    FeeSchedule,
    ListingActivity,
    SellerCommission,
    commission_for_line,
    listing_fees,
    listing_fees_by_seller,
    order_fee,
)
from bazaar.kernel.errors import CurrencyMismatch, ValidationFailed
from bazaar.kernel.money import Money, sum_money


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def schedule(**changes: object) -> CommissionSchedule:
    fields: dict[str, object] = {
        "currency": "EUR",
        "default_rate": Decimal("0.15"),
        "category_rates": {"cat_electronics": Decimal("0.08"), "cat_books": Decimal("0.10")},
        "seller_overrides": {
            "sel_big": SellerCommission(
                rate=Decimal("0.07"), category_rates={"cat_electronics": Decimal("0.05")}
            ),
            "sel_books": SellerCommission(category_rates={"cat_books": Decimal("0.06")}),
        },
    }
    fields.update(changes)
    return CommissionSchedule(**fields)  # type: ignore[arg-type]


def field_names(error: ValidationFailed) -> list[str]:
    return [e.field for e in error.errors]


# -- which rate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seller_id", "category_id", "ancestors", "expected"),
    [
        # the seller's own category rate, found on the nearest ancestor
        ("sel_big", "cat_phones", ("cat_electronics",), Decimal("0.05")),
        # the seller's overall rate beats the marketplace category rate
        ("sel_big", "cat_books", (), Decimal("0.07")),
        # no seller overall rate: the marketplace grid, nearest ancestor first
        ("sel_books", "cat_phones", ("cat_electronics", "cat_root"), Decimal("0.08")),
        ("sel_books", "cat_novels", ("cat_books",), Decimal("0.06")),
        # an unknown seller in an unrated category: the default
        ("sel_other", "cat_garden", ("cat_root",), Decimal("0.15")),
    ],
)
def test_rate_precedence(
    seller_id: str, category_id: str, ancestors: tuple[str, ...], expected: Decimal
) -> None:
    # given
    rules = schedule()
    # when
    rate = rules.rate_for(seller_id, category_id, ancestors)
    # then
    assert rate == expected


def test_nearest_ancestor_wins_over_a_farther_one() -> None:
    # given a rate on the parent and on the root
    rules = schedule(category_rates={"cat_parent": Decimal("0.2"), "cat_root": Decimal("0.1")})
    # when / then
    assert rules.rate_for("sel_x", "cat_leaf", ("cat_parent", "cat_root")) == Decimal("0.2")
    assert rules.rate_for("sel_x", "cat_parent", ("cat_root",)) == Decimal("0.2")


# -- how much -----------------------------------------------------------------------------


def test_commission_is_on_the_net_amount_after_discount() -> None:
    # given 100.00 paid with 21 % VAT included: 82.64 net + 17.36 VAT, 8 % electronics
    rules = schedule()
    # when
    commission = commission_for_line(
        rules, seller_id="sel_x", category_id="cat_electronics", net=eur(8264), tax=eur(1736)
    )
    # then 8264 x 0.08 = 661.12 -> 661
    assert commission.rate == Decimal("0.08")
    assert commission.base == eur(8264)
    assert commission.amount == eur(661)


def test_gross_basis_includes_vat() -> None:
    # given
    rules = schedule(basis=CommissionBasis.GROSS_AFTER_DISCOUNT)
    # when
    commission = commission_for_line(
        rules, seller_id="sel_x", category_id="cat_electronics", net=eur(8264), tax=eur(1736)
    )
    # then
    assert commission.base == eur(10000)
    assert commission.amount == eur(800)


def test_commission_rounds_half_up_once() -> None:
    # given 0.25 at 10 % is 0.025
    rules = schedule(default_rate=Decimal("0.1"))
    # when
    commission = commission_for_line(
        rules, seller_id="sel_x", category_id="cat_toys", net=eur(25), tax=eur(0)
    )
    # then
    assert commission.amount == eur(3)


def test_minimum_per_line_applies_and_is_capped_at_the_line() -> None:
    # given a 1.00 minimum and 15 %
    rules = schedule(minimum_per_line=eur(100))

    def on(net: int) -> Money:
        return commission_for_line(
            rules, seller_id="sel_x", category_id="cat_toys", net=eur(net), tax=eur(0)
        ).amount

    # then: rate above the minimum, minimum, capped at the line, free line
    assert on(10000) == eur(1500)
    assert on(500) == eur(100)
    assert on(60) == eur(60)
    assert on(0) == eur(0)


@given(
    net=st.integers(min_value=0, max_value=10**9),
    tax=st.integers(min_value=0, max_value=10**8),
    rate=st.decimals(min_value=0, max_value=1, places=4),
    minimum=st.integers(min_value=0, max_value=10**4),
    basis=st.sampled_from(CommissionBasis),
)
def test_commission_stays_between_the_minimum_and_the_base(
    net: int, tax: int, rate: Decimal, minimum: int, basis: CommissionBasis
) -> None:
    # given
    rules = schedule(default_rate=rate, minimum_per_line=eur(minimum), basis=basis)
    # when
    commission = commission_for_line(
        rules, seller_id="sel_x", category_id="cat_any", net=eur(net), tax=eur(tax)
    )
    # then
    assert commission.amount <= commission.base
    assert commission.amount >= min(eur(minimum), commission.base)
    assert commission.amount >= commission.base.percentage(rate) or commission.amount == (
        commission.base
    )


def test_commission_refuses_other_currencies_and_negative_amounts() -> None:
    # given
    rules = schedule()
    # when / then
    with pytest.raises(CurrencyMismatch) as mismatch:
        commission_for_line(
            rules, seller_id="s", category_id="c", net=Money(100, "USD"), tax=Money(0, "USD")
        )
    assert field_names(mismatch.value) == ["net.currency", "tax.currency"]
    with pytest.raises(ValidationFailed) as negative:
        commission_for_line(rules, seller_id="s", category_id="c", net=eur(-1), tax=eur(0))
    assert field_names(negative.value) == ["net"]


# -- validation ---------------------------------------------------------------------------


def test_invalid_schedule_names_every_bad_field() -> None:
    # when
    with pytest.raises(ValidationFailed) as failed:
        schedule(
            default_rate=Decimal("1.5"),
            category_rates={"cat_a": Decimal("-0.01"), "cat_b": 0.1},
            seller_overrides={
                "sel_a": SellerCommission(rate=Decimal("2"), category_rates={"cat_c": Decimal(3)})
            },
            minimum_per_line=eur(-5),
        )
    # then
    assert field_names(failed.value) == [
        "default_rate",
        "category_rates[cat_a]",
        "category_rates[cat_b]",
        "seller_overrides[sel_a].rate",
        "seller_overrides[sel_a].category_rates[cat_c]",
        "minimum_per_line",
    ]


def test_zero_and_hundred_percent_are_valid_rates() -> None:
    rules = schedule(default_rate=Decimal(0), category_rates={"cat_a": Decimal(1)})
    assert rules.rate_for("s", "cat_a") == Decimal(1)


def test_fee_schedule_refuses_negative_fees_and_other_currencies() -> None:
    # when
    with pytest.raises(ValidationFailed) as failed:
        FeeSchedule(
            commission=schedule(),
            order_fee=eur(-1),
            monthly_listing_fee=Money(100, "USD"),
            order_fee_overrides={"sel_a": eur(-2)},
        )
    # then
    assert field_names(failed.value) == [
        "order_fee",
        "monthly_listing_fee.currency",
        "order_fee_overrides[sel_a]",
    ]


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValidationFailed) as failed:
        schedule(currency="XXX")
    assert field_names(failed.value) == ["currency"]


def test_order_fee_per_seller_with_override() -> None:
    # given
    fees = FeeSchedule(
        commission=schedule(),
        order_fee=eur(50),
        monthly_listing_fee=eur(1000),
        order_fee_overrides={"sel_big": eur(20)},
    )
    # then
    assert order_fee(fees, "sel_small") == eur(50)
    assert order_fee(fees, "sel_big") == eur(20)
    assert fees.currency == "EUR"


# -- listing fees -------------------------------------------------------------------------

FEB = date(2025, 2, 1)


def listing(
    listing_id: str, *intervals: tuple[date, date | None], seller: str = "sel_a"
) -> ListingActivity:
    return ListingActivity(listing_id, seller, tuple(ActiveInterval(a, b) for a, b in intervals))


def test_full_month_pays_the_whole_fee_and_halves_add_up() -> None:
    # given 10.00 a month; February 2025 has 28 days: 20 days of 0.36 and 8 of 0.35
    listings = [
        listing("lst_all", (date(2025, 1, 10), None)),
        listing("lst_first", (date(2025, 2, 1), date(2025, 2, 14))),
        listing("lst_second", (date(2025, 2, 15), date(2025, 3, 20))),
        listing("lst_gone", (date(2025, 1, 1), date(2025, 1, 31))),
    ]
    # when
    fees = listing_fees(listings, FEB, eur(1000))
    # then
    by_id = {f.listing_id: (f.active_days, f.amount) for f in fees}
    assert by_id == {
        "lst_all": (28, eur(1000)),
        "lst_first": (14, eur(504)),
        "lst_second": (14, eur(496)),
    }
    assert listing_fees_by_seller(fees, "EUR") == {"sel_a": eur(2000)}


def test_overlapping_intervals_count_each_day_once() -> None:
    # given two overlapping intervals covering 1-10 February
    activity = listing(
        "lst_1", (date(2025, 2, 1), date(2025, 2, 7)), (date(2025, 2, 5), date(2025, 2, 10))
    )
    # when
    [fee] = listing_fees([activity], FEB, eur(2800))
    # then
    assert fee.active_days == 10
    assert fee.amount == eur(1000)


@given(
    cuts=st.lists(st.integers(min_value=1, max_value=30), max_size=8, unique=True),
    fee=st.integers(min_value=0, max_value=10**7),
    month=st.sampled_from([date(2024, 2, 1), date(2025, 2, 1), date(2025, 4, 1), date(2025, 7, 1)]),
)
def test_prorations_of_a_partition_of_the_month_sum_to_the_fee(
    cuts: list[int], fee: int, month: date
) -> None:
    # given the month's days cut into consecutive pieces, one listing per piece
    next_month = (month + timedelta(days=32)).replace(day=1)
    days = (next_month - month).days
    bounds = sorted({0, days, *(c for c in cuts if c < days)})
    listings = [
        listing(f"lst_{i}", (month + timedelta(a), month + timedelta(b - 1)))
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    ]
    # when
    fees = listing_fees(listings, month, eur(fee))
    # then
    assert sum(f.active_days for f in fees) == days
    assert sum_money((f.amount for f in fees), "EUR") == eur(fee)


def test_listing_fee_input_is_validated() -> None:
    # given
    bad = [
        listing("lst_1", (date(2025, 2, 10), date(2025, 2, 1))),
        listing("lst_1", (date(2025, 2, 1), None)),
    ]
    # when
    with pytest.raises(ValidationFailed) as failed:
        listing_fees(bad, date(2025, 2, 3), eur(-1))
    # then
    assert field_names(failed.value) == [
        "month",
        "monthly_fee",
        "listings[0].intervals[0].last_day",
        "listings[1].listing_id",
    ]
